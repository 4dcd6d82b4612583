#!/usr/bin/env bash
# Pictures of the desktop app's main screens, taken of the real app in a
# virtual X display (Xvfb) with ImageMagick's import, into docs/screenshots/.
# The data is a small deployment made here with the lifeline command: an HQ
# and a Cayo laptop, 300 damage assessments of the benchmark workload, and
# one record both edited while apart (a conflict). The main screens are
# taken twice: in a 1100×760 display, and in a 1024×600 one, the screen of
# many rugged laptops (NAME-1024x600.png).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"
work=$(mktemp -d)
cleanup() {
	kill $(jobs -p) 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

L=bin/lifeline
q() { "$@" >/dev/null; }
# ca init seals the CA's key with it, and enroll opens it.
export LIFELINE_CA_PASSPHRASE="screenshots of the app"
q $L init --data "$work/hq" --role hq --district Belize --name hq-belmopan
q $L ca init --data "$work/hq"
q $L init --data "$work/cayo" --role field --district Cayo --name cayo-laptop-07
q $L enroll --data "$work/cayo" --ca "$work/hq"
# (sed reads the whole stream: head would stop zcat with SIGPIPE, which
# pipefail turns into a failure)
zcat fieldkits/testdata/workload.ndjson.gz | sed -n '1,300p' >"$work/damage.ndjson"
q $L record import --data "$work/cayo" --type damage-assessment --author vol-193 "$work/damage.ndjson"
# exchange FROM TO READER: a bundle from FROM's folder read at TO's, whose
# node READER names (a bundle is sealed for who may read it).
exchange() {
	q $L bundle export --data "$work/$1" --out "$work/b.bundle" --to "$3"
	q $L bundle import --data "$work/$2" "$work/b.bundle"
	rm -f "$work/b.bundle"
}
# The laptop meets HQ once over the network (a sync session on loopback),
# so that its Sync screen has a peer to show.
port=${SCREENSHOT_PORT:-17420}
$L run --data "$work/hq" --sync-addr "127.0.0.1:$port" >/dev/null 2>&1 &
hqpid=$!
for _ in $(seq 50); do
	$L sync --data "$work/cayo" --peer "127.0.0.1:$port" >/dev/null 2>&1 && break
	sleep 0.2
done
kill "$hqpid"
wait "$hqpid" 2>/dev/null || true
id=$(sed -n '1s/.*"id":"\([^"]*\)".*/\1/p' "$work/damage.ndjson")
echo '{"village":"San Ignacio","damage_level":3}' | q $L record update --data "$work/cayo" --id "$id" --author vol-193
echo '{"village":"Santa Elena","damage_level":4}' | q $L record update --data "$work/hq" --id "$id" --author analyst-02
exchange cayo hq hq
exchange hq cayo cayo-laptop-07
# The New record screen opens on the kind of record picked last.
mkdir -p "$work/cayo/drafts"
printf 'damage-assessment' >"$work/cayo/drafts/open"

# display SIZE starts a virtual display of SIZE (WIDTHxHEIGHT) on a display
# number Xvfb picks free, in place of the one before, and points DISPLAY at
# it.
xvfb=
display() {
	if [ -n "$xvfb" ]; then
		kill "$xvfb"
		wait "$xvfb" 2>/dev/null || true
	fi
	rm -f "$work/display"
	Xvfb -displayfd 3 -screen 0 "$1x24" -nolisten tcp 3>"$work/display" >/dev/null 2>&1 &
	xvfb=$!
	for _ in $(seq 100); do
		[ -s "$work/display" ] && break
		sleep 0.1
	done
	[ -s "$work/display" ] || { echo "Xvfb did not start" >&2; exit 1; }
	export DISPLAY=:$(head -n1 "$work/display")
}
# shot NAME ARGS...: start the app with ARGS, wait for its window to draw,
# take the whole screen, stop the app.
shot() {
	local name=$1
	shift
	bin/lifeline-desktop --gossip-addr "" --lang en "$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "${SCREENSHOT_WAIT:-6}"
	import -window root "$out/$name.png"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	echo "$out/$name.png"
}
display 1100x760
shot setup --data "$work/new"
shot new-record --data "$work/cayo" --tab new
shot new-record-es --data "$work/cayo" --tab new --lang es
shot records --data "$work/cayo" --tab records
shot conflict --data "$work/hq" --open "$id"
shot sync --data "$work/cayo" --tab sync
shot hq --data "$work/hq" --tab hq
# The Map tab of the Headquarters screen, the 300 assessments on Belize's
# districts: the app opens on that screen, and a click where the tab bar puts
# the Map tab at this size shows the map.
bin/lifeline-desktop --gossip-addr "" --lang en --data "$work/hq" --tab hq >/dev/null 2>&1 &
mappid=$!
sleep "${SCREENSHOT_WAIT:-6}"
xdotool mousemove 610 141 click 1
sleep 3
import -window root "$out/map.png"
kill "$mappid"
wait "$mappid" 2>/dev/null || true
echo "$out/map.png"
# The Charts tab of the Headquarters screen: a click where the tab bar puts
# it at this size, after the Map tab, shows the four charts.
bin/lifeline-desktop --gossip-addr "" --lang en --data "$work/hq" --tab hq >/dev/null 2>&1 &
chartspid=$!
sleep "${SCREENSHOT_WAIT:-6}"
xdotool mousemove 668 141 click 1
sleep 3
import -window root "$out/charts.png"
kill "$chartspid"
wait "$chartspid" 2>/dev/null || true
echo "$out/charts.png"
# A 1024×600 screen: the window opens within it, and the tabs scroll.
display 1024x600
shot setup-1024x600 --data "$work/new"
shot new-record-1024x600 --data "$work/cayo" --tab new
shot records-1024x600 --data "$work/cayo" --tab records
shot sync-1024x600 --data "$work/cayo" --tab sync
shot hq-1024x600 --data "$work/hq" --tab hq
