#!/usr/bin/env bash
# Makes node/store/testdata/schema-vN.db, a store written by the lifeline
# command of the commit that released schema version N, and beside it what
# that same binary said of it (schema-vN.json) and the rest of the data
# folder the node needs to open it (schema-vN/: its key and certificates,
# never a CA key). TestStoresOfEveryReleasedSchemaVersionUpgrade, in
# package node, opens each one with today's code.
#
#   scripts/olddbs.sh        every version the schema folder holds
#   scripts/olddbs.sh 9 10   just these
#
# The version N commit is the one that added migration N, unless a
# migration up to N was still edited after it: then that commit's database
# is not version N as it was released, and the commit is the one named in
# the table below. Either way the script checks that migrations 1 to N are,
# at that commit, byte for byte what they are today, and that N+1 is not
# there yet.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
GO=${GO:-go}
schema=node/store/sql/schema
out=node/store/testdata

declare -A chosen=(
	# 51a0061 added 0001 with no command line yet, and 0001 was rewritten
	# until 7dbb060, before any release; the last commit before 0002 has
	# 0001 as released and the command's enrollment and bundles.
	[1]=d710360
	# 0002 gained the node_state and peers tables in 5eedd3a.
	[2]=5eedd3a
	# 0010 came with digest definition 1, which eec600e replaced before
	# any store of version 10 was kept; the next commit after it encrypts
	# bundles for readers a laptop must already know, which this scenario's
	# laptops do not.
	[10]=ac2b10d
	# 0011 gained the kit notices table in 347c604, which does not build;
	# the next commit does.
	[11]=6854759
	# 0017 gained its refused column in d1b225e, the same day.
	[17]=d1b225e
)

migration() { git ls-tree --name-only HEAD "$schema/" | grep "/$(printf %04d "$1")_" || true; }

# commit N prints the commit whose lifeline makes schema version N.
commit() {
	local n=$1 file c
	file=$(migration "$n")
	[ -n "$file" ] || { echo "no migration $n in $schema" >&2; return 1; }
	c=${chosen[$n]:-$(git log --diff-filter=A --format=%H -- "$file" | tail -1)}
	git rev-parse "$c^{commit}"
}

# check_commit N C fails unless C holds migrations 1..N as HEAD does, and
# no migration N+1.
check_commit() {
	local n=$1 c=$2 i f
	for ((i = 1; i <= n; i++)); do
		f=$(migration "$i")
		if ! git diff --quiet "$c" HEAD -- "$f"; then
			echo "version $n: $f at $c is not the migration as released" >&2
			return 1
		fi
	done
	if [ -n "$(git ls-tree --name-only "$c" "$schema/" | grep "/$(printf %04d $((n + 1)))_" || true)" ]; then
		echo "version $n: $c already has migration $((n + 1))" >&2
		return 1
	fi
}

# user_version reads PRAGMA user_version from the database header (offset
# 60, big-endian), which SQLite keeps exact once no write-ahead log is left.
user_version() { od -An -tu4 --endian=big -j60 -N4 "$1" | tr -d ' '; }

# scenario L DIR runs, with the lifeline binary L, what a user of it would:
# a CA at HQ, a Cayo laptop (the node kept) and a second one, records of
# two kits, an update, a delete, bundles both ways and a conflict. It
# prints the ids of the records made.
scenario() {
	local L=$1 dir=$2 d1 m1 d2 b1
	cd "$dir"
	export LIFELINE_CA_PASSPHRASE="correct horse battery staple"
	$L init --data hq --role hq --district Belize --name hq-belmopan >&2
	$L ca init --data hq >&2
	$L init --data a --role field --district Cayo --name cayo-laptop-07 >&2
	$L init --data b --role field --district Cayo --name cayo-laptop-12 >&2
	$L enroll --data a --ca hq >&2
	$L enroll --data b --ca hq >&2

	d1=$($L record add --data a --type damage-assessment --author "Marisol Chan" <<-'EOF'
		{"district": "Cayo", "village": "San Ignacio", "address": "14 Burns Avenue",
		 "lat": 17.1561, "lon": -89.0714, "structure_type": "timber frame",
		 "structure_use": "residential", "damage_level": 3, "household_size": 5,
		 "displaced": true, "needs": ["water", "tarpaulin"],
		 "head_of_household": "Andrés Cocom", "phone": "+501 624-1187",
		 "reported_by": "Marisol Chan", "reported_at": "2026-11-20T14:30:00Z"}
	EOF
	)
	m1=$($L record add --data a --type missing-person --author "Rosa Tzul" <<-'EOF'
		{"full_name": "Elena Sho", "also_known_as": "Nena", "sex": "female", "age": 67,
		 "description": "Short, grey hair in a bun, blue cotton dress, walks with a cane",
		 "medical_conditions": "Diabetes; needs insulin daily",
		 "district": "Cayo", "last_seen_place": "Market square, San Ignacio",
		 "last_seen_village": "San Ignacio", "last_seen_at": "2026-11-19T17:00:00Z",
		 "status": "missing", "reporter_name": "Luis Sho",
		 "reporter_phone": "+501 610-5523", "reporter_relationship": "son",
		 "reported_at": "2026-11-20T09:15:00Z"}
	EOF
	)
	d2=$($L record add --data a --type damage-assessment --author "Marisol Chan" <<-'EOF'
		{"district": "Cayo", "village": "Benque Viejo del Carmen", "lat": 17.0747,
		 "lon": -89.1392, "structure_type": "concrete block", "damage_level": 1,
		 "household_size": 3, "reported_by": "Marisol Chan",
		 "reported_at": "2026-11-20T15:05:00Z"}
	EOF
	)
	$L record update --data a --id "$d1" --author "Marisol Chan" >&2 <<-'EOF'
		{"damage_level": 4, "injured": 1, "notes": "Roof gone after the second night of rain"}
	EOF
	$L record delete --data a --id "$d2" --author "Marisol Chan" >&2

	# The second laptop gets a's records on a stick, edits the missing
	# person while a does too, and sends its own changes back. From the
	# version that encrypts a bundle for its readers (--to), a laptop
	# writes for nodes whose certificates it holds, learnt from bundles it
	# received: HQ, which both laptops write for, carries a's records to b,
	# and b then writes for a.
	local help to_a=""
	help=$($L bundle export -h 2>&1 || true)
	if [[ $help == *"--to"* ]]; then
		to_a="--to cayo-laptop-07"
		$L bundle export --data b --out b0.bundle >&2
		$L bundle import --data hq b0.bundle >&2
		$L bundle export --data a --out a0.bundle >&2
		$L bundle import --data hq a0.bundle >&2
		$L bundle export --data hq --to cayo-laptop-12 --out a.bundle >&2
	else
		$L bundle export --data a --out a.bundle >&2
	fi
	$L bundle import --data b a.bundle >&2
	$L record update --data b --id "$m1" --author "Carlos Pop" >&2 <<-'EOF'
		{"last_seen_place": "Hawkesworth Bridge, Santa Elena", "status": "found-safe",
		 "found_at_place": "Santa Elena community shelter"}
	EOF
	b1=$($L record add --data b --type damage-assessment --author "Carlos Pop" <<-'EOF'
		{"district": "Cayo", "village": "San José Succotz", "lat": 17.0886,
		 "lon": -89.1151, "structure_type": "stilted timber", "structure_use": "school",
		 "damage_level": 2, "household_size": 0, "needs": ["roofing"],
		 "reported_by": "Carlos Pop", "reported_at": "2026-11-21T10:00:00Z"}
	EOF
	)
	$L record update --data a --id "$m1" --author "Rosa Tzul" >&2 <<-'EOF'
		{"last_seen_place": "Bus terminal, San Ignacio"}
	EOF
	# shellcheck disable=SC2086 # to_a is two words or none
	$L bundle export --data b $to_a --out b.bundle >&2
	$L bundle import --data a b.bundle >&2
	echo "$d1 $m1 $d2 $b1"
}

# expected L DIR IDS writes what L says of the node in DIR: its digest,
# its list of records (deleted ones too) and each record shown.
expected() {
	local L=$1 dir=$2 ids=$3 id sep=""
	printf '{\n"digest": "%s",\n' "$($L digest --data "$dir")"
	printf '"list": '
	$L record list --data "$dir" --deleted --json
	printf ',\n"show": {\n'
	for id in $ids; do
		printf '%s"%s": ' "$sep" "$id"
		$L record show --data "$dir" --id "$id" --json
		sep=','
	done
	printf '}\n}\n'
}

make_version() {
	local n=$1 c pkg ids db
	c=$(commit "$n")
	check_commit "$n" "$c"
	echo "== schema version $n: $(git log -1 --format='%h %s' "$c" | cut -c1-100)"
	tree=/tmp/old-$n
	work=$(mktemp -d /tmp/olddbs.XXXXXX)
	git worktree add --detach "$tree" "$c" >/dev/null
	pkg=./cmd/lifeline
	[ -d "$tree/cmd/lifeline" ] || pkg=./node/cmd/lifeline
	(cd "$tree" && $GO build -o "$work/lifeline" "$pkg")
	ids=$(scenario "$work/lifeline" "$work")
	expected "$work/lifeline" "$work/a" "$ids" >"$work/expected.json"

	db=$work/a/lifeline.db
	if [ -s "$db-wal" ]; then
		echo "version $n: $db-wal is left after the last command closed the store" >&2
		return 1
	fi
	if [ "$(user_version "$db")" != "$n" ]; then
		echo "version $n: the store's user_version is $(user_version "$db"), not $n" >&2
		return 1
	fi
	mkdir -p "$root/$out/schema-v$n"
	rm -f "$root/$out/schema-v$n"/*
	cp "$db" "$root/$out/schema-v$n.db"
	for f in "$work"/a/*; do
		case $(basename "$f") in
		lifeline.db*) ;;
		*)
			# From version 12, a photos folder, empty here: git keeps
			# no empty folder, so neither does this.
			if [ -d "$f" ] && [ -z "$(ls -A "$f")" ]; then continue; fi
			cp -r "$f" "$root/$out/schema-v$n/"
			;;
		esac
	done
	{
		printf '{\n"schema": %d,\n"commit": "%s",\n"expected": ' "$n" "$c"
		cat "$work/expected.json"
		printf '}\n'
	} >"$root/$out/schema-v$n.json"
	echo "   $(wc -c <"$db") bytes, records $ids"
	cleanup
}

tree= work=
cleanup() {
	[ -z "$tree" ] || git -C "$root" worktree remove --force "$tree"
	[ -z "$work" ] || rm -rf "$work"
	tree= work=
}
trap cleanup EXIT

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
	last=$(git ls-tree --name-only HEAD "$schema/" | grep -c '\.sql$')
	versions=($(seq 1 "$last"))
fi
for n in "${versions[@]}"; do
	make_version "$n"
done
