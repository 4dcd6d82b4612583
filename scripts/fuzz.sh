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
		if $GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log" | grep -v '^fuzz: elapsed'; then :; fi
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		if grep -q '^--- FAIL\|^FAIL' "$log"; then
			verdict="CRASH (see $pkg testdata/fuzz/$target)"
			failed=1
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
