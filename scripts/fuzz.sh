#!/usr/bin/env bash
# Runs every go test -fuzz target of the module for FUZZTIME each, then
# prints how many inputs each one ran and whether it found a crash (a
# crasher is saved under the package's testdata/fuzz/ by go test).
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-2m}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
summary=()
failed=0
for pkg in $($GO list ./...); do
	for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "== $pkg $target ($FUZZTIME)"
		log="$logs/$target.log"
		corpus="$($GO list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$target"
		before=$(ls "$corpus" 2>/dev/null | wc -l)
		if $GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log" | grep -v '^fuzz: elapsed'; then :; fi
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		after=$(ls "$corpus" 2>/dev/null | wc -l)
		if grep -q '^--- FAIL\|^FAIL' "$log"; then
			if [ "$after" -eq "$before" ] && grep -q 'context deadline exceeded' "$log"; then
				# Go's fuzzing coordinator may fail a target as -fuzztime
				# ends, with no input written (golang/go#75804, fixed in
				# Go 1.27): not a crash of ours.
				verdict="no crash (Go's fuzztime deadline race, golang/go#75804: no input written)"
			else
				verdict="CRASH (see $pkg testdata/fuzz/$target)"
				failed=1
			fi
		else
			verdict="no crash"
		fi
		summary+=("$(printf '%-45s %-22s %12s  %s' "${pkg#lifeline/}" "$target" "${execs:-0}" "$verdict")")
	done
done
echo
printf '%-45s %-22s %12s  %s\n' package target executions result
printf '%s\n' "${summary[@]}"
exit $failed
