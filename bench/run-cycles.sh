#!/usr/bin/env bash
# cmlkit benchmark (issue 13): a database that stays the size of the catalog.
#
#   bench/run-cycles.sh [SIZE] [--cycles 10] [--percent 1] [--keep N]
#                       [--build DIR] [--work DIR]
#
# SIZE products (default 1000000; 10000 for a quick check): a catalog
# (gen-catalog.py, seed 1) and its 1%-changed state (--change-percent).
# Then, from a fresh database, --cycles nightly cycles: full-export of one
# state and its acknowledgement (delta-export --ack G, what catalog-push
# does after a push), then delta-export of the other state (a 1% change)
# and its acknowledgement. The two states take turns, so every delta
# changes 1% and every full generation follows a delta.
# Prints the database's size after the first and after the last cycle and
# their ratio, the CPU time (user + system) of every acknowledgement with
# the medians, the peak RSS, and PASS/FAIL against the issue's targets at
# 1M. Exits 0 whatever the figures; 1 when it cannot run.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
size=1000000
cycles=10
percent=1
keep=""
build=${BUILD:-$top/build}
work=/tmp/cmlkit-bench

while [ $# -gt 0 ]; do
	case $1 in
	--cycles) cycles=$2; shift 2 ;;
	--percent) percent=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	-*) echo "run-cycles.sh: unknown option $1" >&2; exit 2 ;;
	*) size=$1; shift ;;
	esac
done
case $size in ''|*[!0-9]*) echo "run-cycles.sh: SIZE must be a number of products" >&2; exit 2 ;; esac

full=$build/cmd/full-export
delta=$build/cmd/delta-export
for p in "$full" "$delta"; do
	[ -x "$p" ] || { echo "run-cycles.sh: $p missing: build first (cmake --build build)" >&2; exit 1; }
done
me=run-cycles.sh
# shellcheck source=common.sh
. "$here/common.sh"

a=$work/cat-$size-s1
b=$work/chg-$size-s1-p$percent
if [ ! -f "$a/offers.xml" ]; then
	python3 "$here/gen-catalog.py" -q --products "$size" --seed 1 --out "$a" || exit 1
fi
if [ ! -f "$b/offers.xml" ]; then
	python3 "$here/gen-catalog.py" -q --products "$size" --seed 1 --change-percent "$percent" \
		--out "$b" || exit 1
fi
db=$work/cycles-$size.db
pkg=$work/cycles-pkg
rm -f "$db" "$db"-* "$db.lock"
rm -rf "$pkg"
keepopt=()
[ -n "$keep" ] && keepopt=(--keep "$keep")

# the database's bytes: the file and a WAL left beside it
dbsize() { local n=0 f; for f in "$db" "$db-wal"; do [ -f "$f" ] && n=$((n + $(stat -c %s "$f"))); done; echo "$n"; }
mib() { awk -v b="$1" 'BEGIN {printf "%.0f", b / 1048576}'; }

# ack G: times delta-export --ack G; sets ack_cpu and ack_rss
ack() {
	timed "$delta" -q --db "$db" "${keepopt[@]}" --ack "$1"
	[ "$t_status" -eq 0 ] || exit 1
	ack_cpu=$t_cpu ack_rss=$t_rss
}

echo "cmlkit cycle benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:  $(uname -srm), $(nproc) CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "build: $build ($("$delta" --version | head -n 1)); $size products; $cycles cycles; $percent% changed between; keep ${keep:-default}"
echo
printf '%5s %12s %12s %10s %12s %12s %10s\n' cycle "full-export" "full ack" "parts" "delta-export" "delta ack" "db MiB"
fulls="" deltas="" rss="" first=0 last=0
for ((k = 1; k <= cycles; k++)); do
	if [ $((k % 2)) -eq 1 ]; then now=$a other=$b; else now=$b other=$a; fi
	rm -rf "$pkg"
	timed "$full" -v --db "$db" -o "$pkg" "$now/import.xml" "$now/offers.xml"
	[ "$t_status" -eq 0 ] || exit 1
	fx=$t_wall rss="$rss $t_rss"
	g=$(sed -n 's/.*recorded as generation \([0-9]*\).*/\1/p' "$work/.err.$$" | head -n 1)
	[ -n "$g" ] || { echo "$me: full-export did not say its generation" >&2; exit 1; }
	ack "$g"
	fa=$ack_cpu fulls="$fulls $ack_cpu" rss="$rss $ack_rss"
	rm -rf "$pkg"
	timed "$delta" -q --summary --db "$db" -o "$pkg" "$other/import.xml" "$other/offers.xml"
	[ "$t_status" -eq 0 ] || exit 1
	dx=$t_wall rss="$rss $t_rss"
	g=$(sed -n 's/^generation \([0-9]*\).*/\1/p' "$work/.out.$$" | head -n 1)
	[ -n "$g" ] || { echo "$me: delta-export wrote no generation" >&2; exit 1; }
	# the summary's table: part new changed deleted same
	parts=$(awk '$1 == "part" {t = 1; next} t && NF == 5 {s += $2 + $3 + $4} END {print s + 0}' "$work/.out.$$")
	ack "$g"
	da=$ack_cpu deltas="$deltas $ack_cpu" rss="$rss $ack_rss"
	last=$(dbsize)
	[ "$k" -eq 1 ] && first=$last
	printf '%5s %11ss %11ss %10s %11ss %11ss %10s\n' "$k" "$fx" "$fa" "${parts:--}" "$dx" "$da" "$(mib "$last")"
done
rm -rf "$pkg"
mf=$(echo "$fulls" | median); md=$(echo "$deltas" | median)
ratio=$(awk -v a="$last" -v b="$first" 'BEGIN {printf "%.2f", a / b}')
pk=$(( $(echo "$rss" | maxof) / 1024 ))
echo
echo "database: $(mib "$first") MiB after cycle 1, $(mib "$last") MiB after cycle $cycles: ${ratio}x"
echo "full acknowledgement CPU s: median $mf (each:$fulls)"
echo "1% delta acknowledgement CPU s: median $md (each:$deltas)"
echo "peak RSS: $pk MiB (any program of the cycle)"
timed_cleanup
if [ "$size" -ge 1000000 ]; then
	awk -v r="$ratio" 'BEGIN {print ((r <= 1.3) ? "pass" : "FAIL") "  database " r "x after the last cycle <= 1.3x"}'
	awk -v m="$mf" 'BEGIN {print ((m <= 3) ? "pass" : "FAIL") "  full acknowledgement " m " s CPU <= 3 s"}'
	awk -v m="$md" 'BEGIN {print ((m < 1) ? "pass" : "FAIL") "  1% delta acknowledgement " m " s CPU < 1 s"}'
fi
