#!/usr/bin/env bash
# Pictures of the desktop app's main screens, taken of the real app in a
# virtual X display (Xvfb) with ImageMagick's import, into docs/screenshots/.
# The data is a small deployment made here with the lifeline command: an HQ
# and a Cayo laptop, 300 damage assessments of the benchmark workload, a
# shelter in each district and ten people reported missing over the last
# week (three found since), and one record both edited while apart (a
# conflict). The main screens are
# taken twice: in a 1100×760 display, and in a 1024×600 one, the screen of
# many rugged laptops (NAME-1024x600.png); the Map and Charts tabs of the
# Headquarters screen in a 1100×1000 one.
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
# Shelters and people reported missing, written at HQ, for the map and the
# charts to show more than damage: a shelter in each district's main town,
# and people reported missing on the days before today, three of them
# found since (today, for the chart of missing and found per day).
towns=("Belize:Belize City:17.504:-88.196" "Cayo:Belmopan:17.251:-88.767" "Corozal:Corozal Town:18.394:-88.389"
	"Orange Walk:Orange Walk Town:18.081:-88.563" "Stann Creek:Dangriga:16.970:-88.221" "Toledo:Punta Gorda:16.098:-88.806")
i=0
for town in "${towns[@]}"; do
	IFS=: read -r district place lat lon <<<"$town"
	status=open occupancy=$((40 + 35 * i)) capacity=$((120 + 20 * i))
	[ "$i" = 2 ] && status=full occupancy=$capacity
	printf '{"shelter_name":"%s Community Centre","district":"%s","village":"%s","location":{"lat":%s,"lon":%s},"status":"%s","occupancy":%d,"capacity":%d}\n' \
		"$place" "$district" "$place" "$lat" "$lon" "$status" "$occupancy" "$capacity"
	i=$((i + 1))
done >"$work/shelters.ndjson"
q $L record import --data "$work/hq" --type shelter --author analyst-02 "$work/shelters.ndjson"
names=("Maria Pop" "José Cal" "Rosa Tzul" "Luis Coc" "Ana Bol" "Pedro Sho" "Elena Teck" "Juan Choc" "Sofía Ical" "Tomás Cus")
found=()
: >"$work/missing.ndjson"
for i in "${!names[@]}"; do
	IFS=: read -r district place lat lon <<<"${towns[i % 6]}"
	mid=$(cat /proc/sys/kernel/random/uuid)
	[ $((i % 3)) = 1 ] && found+=("$mid")
	# the second of a town's people a little inland, not on the first
	lon=$(awk -v lon="$lon" -v i="$i" 'BEGIN { printf "%.3f", lon - 0.03 * int(i / 6) }')
	reported=$(date -u -d "-$((1 + i % 6)) days" +%Y-%m-%dT%H:%M:%SZ)
	printf '{"id":"%s","full_name":"%s","district":"%s","last_seen_place":"%s","last_seen_location":{"lat":%s,"lon":%s},"status":"missing","reporter_name":"Ana Cho","reported_at":"%s"}\n' \
		"$mid" "${names[i]}" "$district" "$place" "$lat" "$lon" "$reported" >>"$work/missing.ndjson"
done
q $L record import --data "$work/hq" --type missing-person --author analyst-02 "$work/missing.ndjson"
for mid in "${found[@]}"; do
	echo '{"status":"found-safe","found_at_place":"Ladyville shelter"}' | q $L record update --data "$work/hq" --id "$mid" --author analyst-02
done
# exchange FROM TO READER: a bundle from FROM's folder read at TO's, whose
# node READER names (a bundle is sealed for who may read it).
exchange() {
	q $L bundle export --data "$work/$1" --out "$work/b.bundle" --to "$3"
	q $L bundle import --data "$work/$2" "$work/b.bundle"
	rm -f "$work/b.bundle"
}
# The laptop meets HQ once over the network (a sync session on loopback),
# so that its Sync screen has a peer to show; it brings the laptop HQ's
# shelters and people missing.
port=${SCREENSHOT_PORT:-17420}
$L run --data "$work/hq" --sync-addr "127.0.0.1:$port" >/dev/null 2>&1 &
hqpid=$!
for _ in $(seq 50); do
	$L sync --data "$work/cayo" --peer "127.0.0.1:$port" >/dev/null 2>&1 && break
	sleep 0.2
done
kill "$hqpid"
wait "$hqpid" 2>/dev/null || true
# The laptop's damage assessments, written after that session (the Records
# screen shows first what came last), reach HQ in a bundle.
# (sed reads the whole stream: head would stop zcat with SIGPIPE, which
# pipefail turns into a failure)
zcat fieldkits/testdata/workload.ndjson.gz | sed -n '1,300p' >"$work/damage.ndjson"
q $L record import --data "$work/cayo" --type damage-assessment --author vol-193 "$work/damage.ndjson"
exchange cayo hq hq
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
# it. -noreset: by default Xvfb resets when its last client leaves (each
# app stopped, each picture taken), and an app that connects meanwhile
# fails to open the display and exits.
xvfb=
display() {
	if [ -n "$xvfb" ]; then
		kill "$xvfb"
		wait "$xvfb" 2>/dev/null || true
	fi
	rm -f "$work/display"
	Xvfb -displayfd 3 -screen 0 "$1x24" -nolisten tcp -noreset 3>"$work/display" >/dev/null 2>&1 &
	xvfb=$!
	for _ in $(seq 100); do
		[ -s "$work/display" ] && break
		sleep 0.1
	done
	[ -s "$work/display" ] || { echo "Xvfb did not start" >&2; exit 1; }
	export DISPLAY=:$(head -n1 "$work/display")
	size=$1
}
# fill makes the app's window as large as the display: it opens no taller
# than it needs to.
fill() {
	local window
	window=$(xdotool search --onlyvisible --pid "$app")
	xdotool windowsize "$window" "${size%x*}" "${size#*x}"
	sleep 2
}
# start NAME ARGS...: start the app with ARGS, its output in $work/NAME.log,
# and wait for its window to draw.
app= applog=
start() {
	applog=$work/$1.log
	shift
	bin/lifeline-desktop --gossip-addr "" --lang en "$@" >"$applog" 2>&1 &
	app=$!
	sleep "${SCREENSHOT_WAIT:-6}"
	alive
}
# alive fails, showing what the app said, if it exited: a picture now would
# be of an empty screen.
alive() {
	kill -0 "$app" 2>/dev/null && return
	wait "$app" || true
	echo "the app exited before its picture was taken; it said:" >&2
	cat "$applog" >&2
	exit 1
}
# take NAME: a picture of the whole screen.
take() {
	alive
	import -window root "$out/$1.png"
	echo "$out/$1.png"
}
# stop stops the app.
stop() {
	kill "$app" 2>/dev/null || true
	wait "$app" 2>/dev/null || true
}
# shot NAME ARGS...: the app started with ARGS, its picture, the app stopped.
shot() {
	start "$@"
	take "$1"
	stop
}
# hqtab N clicks the Nth tab (from 1) of the Headquarters screen's own tab
# bar (Situation, To review, Possible matches, Conflict queue, Kept aside,
# Map, Charts). Fyne's tabs take no keyboard focus, and where each falls
# depends on the font and on the counts in their names, so it is found on
# the screen: the tab selected in a bar is underlined in the theme's blue,
# the window's bar first and the Headquarters screen's second. Above that
# underline, the tabs' names are the columns of light text, a name's words
# closer together (a space) than two names are (twice the theme's padding).
hqtab() {
	local screen=$work/tabs.png bar at
	# (each awk reads to the end: one that exited first would stop convert
	# with SIGPIPE, which pipefail turns into a failure)
	import -window root "$screen"
	bar=$(convert "$screen" -fuzz 10% -fill white -opaque '#296ff6' -fill black +opaque white -depth 8 txt:- |
		awk -F'[,: ]+' 'NR > 1 && bars < 2 {
			if ($2 != y) { y = $2; run = 0 }
			run = $NF == "white" ? run + 1 : 0
			if (run == 30 && !(y in seen)) { seen[y] = 1; if (y != last + 1 && ++bars == 2) print y; last = y }
		}')
	[ -n "$bar" ] || { echo "no second tab bar on the screen (see $screen)" >&2; exit 1; }
	at=$(convert "$screen" -crop "x20+0+$((bar - 26))" +repage -colorspace Gray -threshold 30% -scale 'x1!' -depth 8 txt:- |
		awk -F'[,: ]+' -v n="$1" -v y="$((bar - 16))" 'NR > 1 && $NF != "gray(0)" && $NF != "black" {
			if (start == "" || $1 - end > 12) { runs++; start = $1 }
			end = $1
			if (runs == n) at = int((start + end) / 2) " " y
		}
		END { if (at != "") print at }')
	[ -n "$at" ] || { echo "no tab $1 in the Headquarters screen's bar (see $screen)" >&2; exit 1; }
	xdotool mousemove $at click 1
	sleep 3
}
display 1100x760
shot setup --data "$work/new"
shot new-record --data "$work/cayo" --tab new
shot new-record-es --data "$work/cayo" --tab new --lang es
shot records --data "$work/cayo" --tab records
shot conflict --data "$work/hq" --open "$id"
shot sync --data "$work/cayo" --tab sync
shot hq --data "$work/hq" --tab hq
# The Headquarters screen's Map tab (its records on Belize's districts), and
# its Charts tab (the four charts, two a row), in a taller window: the map
# needs the height, Belize being taller than wide, and the charts' second
# row would not show.
display 1100x1000
start map --data "$work/hq" --tab hq
fill
hqtab 6
take map
hqtab 7
take charts
stop
# A 1024×600 screen: the window opens within it, and the tabs scroll.
display 1024x600
shot setup-1024x600 --data "$work/new"
shot new-record-1024x600 --data "$work/cayo" --tab new
shot records-1024x600 --data "$work/cayo" --tab records
shot sync-1024x600 --data "$work/cayo" --tab sync
shot hq-1024x600 --data "$work/hq" --tab hq
