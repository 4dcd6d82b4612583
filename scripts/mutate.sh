#!/usr/bin/env bash
# Mutation testing of the core packages with gremlins: each package's
# source is changed one mutant at a time (a < made <=, a + made -, a
# condition negated...) and its tests run; a mutant the tests still pass
# on "lived", and shows a behaviour no test pins down. Ends with a table
# per package (scripts/mutants) and fails when a package's efficacy is
# under MUTATE_GOAL percent.
#
# Environment: GREMLINS (the binary), MUTATE_WORKERS (mutants tested at
# once, default 1), MUTATE_NICE (niceness, default 15), MUTATE_ONLY (run
# only the packages whose name contains it), MUTATE_OUT (keep the JSON
# results there), MUTATE_GOAL (default 90).
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
GREMLINS=${GREMLINS:-gremlins}
WORKERS=${MUTATE_WORKERS:-1}
NICE=${MUTATE_NICE:-15}
ONLY=${MUTATE_ONLY:-}
GOAL=${MUTATE_GOAL:-90}
out=${MUTATE_OUT:-}
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

# Each line: a package directory, then the files of it to mutate (none:
# every file of the package itself, not of the packages under it). The
# store is restricted to the merge rule and the path a change takes into
# it, so that a run stays within hours: its tests take half a minute.
packages=(
	"syncproto"
	"schemas"
	"node/identity"
	"node/peersync bundle.go snapshot.go"
	"node/store merge.go apply.go admit.go"
	"node admission.go"
)

# excludes prints gremlins' -E arguments, one a line, that leave only the
# named files of the package in dir (every file directly in dir when none
# is named): gremlins walks dir and everything under it, and takes only
# patterns to leave files out.
excludes() {
	local dir=$1
	shift
	local f keep k
	while IFS= read -r f; do
		keep=0
		if [ $# -eq 0 ]; then
			case $f in */*) ;; *) keep=1 ;; esac
		else
			for k in "$@"; do [ "$f" = "$k" ] && keep=1; done
		fi
		if [ $keep = 0 ]; then
			printf -- '-E\n^%s$\n' "${f//./\\.}"
		fi
	done < <(cd "$dir" && find . -name '*.go' ! -name '*_test.go' | sed 's|^\./||' | sort)
}

results=()
failed=0
for line in "${packages[@]}"; do
	read -r -a words <<<"$line"
	dir=${words[0]}
	files=("${words[@]:1}")
	case $dir in *"$ONLY"*) ;; *) continue ;; esac
	json="$out/${dir//\//-}.json"
	mapfile -t args < <(excludes "$dir" "${files[@]}")
	echo "== $dir ${files[*]:-(every file)}"
	# -count=1: the coverage run must not come from the test cache, since
	# gremlins times each mutant's tests against how long it took. The
	# mutate tag, which gremlins gives both the coverage run and every
	# mutant's, leaves out the tests of what no mutated file decides
	# (kills, power cuts, Raft and gossip clusters, timing) and runs the
	# random properties over fewer cases (docs/testing.md).
	if ! GOFLAGS=-count=1 nice -n "$NICE" "$GREMLINS" unleash --tags mutate --workers "$WORKERS" \
		--timeout-coefficient 5 --output "$json" "${args[@]}" "$dir"; then
		echo "gremlins failed on $dir"
		failed=1
		continue
	fi
	results+=("$dir=$json")
done
echo
$GO run ./scripts/mutants -goal "$GOAL" "${results[@]}" || failed=1
exit $failed
