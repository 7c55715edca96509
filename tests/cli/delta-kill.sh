#!/bin/bash
# delta-kill.sh BINDIR [ROUNDS]: kill -9 delta-export at random moments and
# check that the next, uninterrupted run gives exactly the package an
# uninterrupted run gives from the same database: nothing half-recorded,
# no stale lock, no lost change.
set -u
bin=$1
rounds=${2:-12}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-kill.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
command -v python3 >/dev/null || { echo "SKIP: no python3 to generate catalogs"; exit 77; }

python3 "$top/bench/gen-catalog.py" -q --products 20000 --seed 7 --out "$tmp/base" || exit 1
python3 "$top/bench/gen-catalog.py" -q --products 20000 --seed 7 --change-percent 2 \
	--out "$tmp/changed" || exit 1

"$bin/delta-export" -q --db "$tmp/base.db" --ack-on-write -o "$tmp/full" \
	"$tmp/base/import.xml" "$tmp/base/offers.xml" >/dev/null || exit 1
dump() { "$bin/cml-check" --dump "$1" 2>/dev/null | sort; }

# the reference: one uninterrupted run from the baseline
cp "$tmp/base.db" "$tmp/ref.db"
start=$(date +%s%N)
"$bin/delta-export" -q --db "$tmp/ref.db" -o "$tmp/ref" \
	"$tmp/changed/import.xml" "$tmp/changed/offers.xml" >/dev/null || exit 1
ms=$((($(date +%s%N) - start) / 1000000))
dump "$tmp/ref" >"$tmp/ref.jsonl"
n=$(wc -l <"$tmp/ref.jsonl")
echo "reference run: ${ms} ms, $n items in the delta"
[ "$n" -gt 10 ] || { echo "FAILED: the reference delta is too small to mean anything"; exit 1; }

fails=0 killed=0
for i in $(seq 1 "$rounds"); do
	rm -rf "$tmp/run" "$tmp/out"
	cp "$tmp/base.db" "$tmp/run.db"
	delay=$(( (RANDOM * 32768 + RANDOM) % (ms + 20) ))
	"$bin/delta-export" -q --db "$tmp/run.db" -o "$tmp/run" \
		"$tmp/changed/import.xml" "$tmp/changed/offers.xml" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")" 2>/dev/null || sleep 0.1
	if kill -9 "$pid" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait "$pid" 2>/dev/null
	# after the kill: the same run again, to the end
	"$bin/delta-export" -q --db "$tmp/run.db" -o "$tmp/out" \
		"$tmp/changed/import.xml" "$tmp/changed/offers.xml" >/dev/null 2>"$tmp/err"
	st=$?
	# the killed run may have committed before the kill: then the rerun
	# finds no change and the killed run's package is the one to compare
	if [ $st -eq 0 ] && [ ! -e "$tmp/out/import.xml" ]; then
		got=$(dump "$tmp/run")
	else
		got=$(dump "$tmp/out")
	fi
	if [ $st -ne 0 ] || [ "$got" != "$(cat "$tmp/ref.jsonl")" ]; then
		echo "FAILED: round $i (killed after ${delay} ms): exit $st $(cat "$tmp/err")"
		fails=$((fails + 1))
	else
		echo "ok: round $i, killed after ${delay} ms: the next run gives the reference delta"
	fi
	if ls -A "$tmp/out" "$tmp/run" 2>/dev/null | grep -q '^\.'; then
		echo "note: round $i left temporary files of the killed run (they are ignored)"
	fi
done
echo "$killed of $rounds runs were killed before they ended"
echo "$((rounds - fails)) passed, $fails failed"
[ $fails -eq 0 ]
