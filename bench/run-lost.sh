#!/usr/bin/env bash
# cmlkit benchmark (issue 13 part 3): what the parts that disappear cost.
#
#   bench/run-lost.sh [--sizes "100000"] [--repeat 3] [--build DIR]
#                     [--work DIR] [--percent 1]
#
# Per size: a catalog (gen-catalog.py, seed 1) made the baseline once
# (delta-export --ack-on-write); its copy with the Цены of every
# (100/P)-th offer removed (the offers stay: their prices disappeared).
# Then, --repeat times, interleaved, each against a fresh copy of the
# baseline: delta-export of the unchanged catalog (nothing to send: the
# reference) and of the copy (P% of the offers lose their prices, found
# by a scan of the baseline's prices). Prints medians, the ratio of the
# two, peak RSS and how many offers the delta carried; PASS/FAIL: the
# delta costs at most 1.5x the no-change run, the same memory (+16 MiB).
# Exits 0 whatever the figures; 1 when it cannot run.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
sizes="100000"
repeat=3
build=${BUILD:-$top/build}
work=/tmp/cmlkit-bench
percent=1

while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--percent) percent=$2; shift 2 ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "run-lost.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

delta=$build/cmd/delta-export
[ -x "$delta" ] || { echo "run-lost.sh: $delta missing: build first (cmake --build build)" >&2; exit 1; }
me=run-lost.sh
mkdir -p "$work"
# shellcheck source=common.sh
. "$here/common.sh"

echo "cmlkit lost-parts benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:  $(uname -srm), $(nproc) CPUs"
echo "build: $build; sizes: $sizes; $repeat runs; $percent% of the offers lose their prices"
echo
verdicts=()
every=$(awk -v p="$percent" 'BEGIN {printf "%d", 100 / p}')
for n in $sizes; do
	base=$work/cat-$n-s1
	lost=$work/lost-$n-s1-p$percent
	if [ ! -f "$base/offers.xml" ]; then
		python3 "$here/gen-catalog.py" -q --products "$n" --seed 1 --out "$base" || exit 1
	fi
	if [ ! -f "$lost/.complete" ]; then
		mkdir -p "$lost"
		cp "$base/import.xml" "$lost/import.xml"
		awk -v every="$every" '
			/<Предложение>/ { k++ }
			/<Цены>/ && k % every == 0 { skip = 1 }
			!skip { print }
			/<\/Цены>/ { skip = 0 }' "$base/offers.xml" >"$lost/offers.xml" || exit 1
		touch "$lost/.complete"
	fi
	db=$work/lost-$n.db
	rm -f "$db" "$db"-* "$db.lock"
	rm -rf "$work/lbase-$n"
	timed "$delta" -q --db "$db" --ack-on-write -o "$work/lbase-$n" "$base/import.xml" "$base/offers.xml"
	echo "== $n products: baseline built in ${t_wall}s (peak $((t_rss / 1024)) MiB)"
	rm -rf "$work/lbase-$n"
	ss="" srss="" ls="" lrss="" sent=0
	for ((r = 1; r <= repeat; r++)); do
		rm -f "$work/run.db" "$work/run.db"-* "$work/run.db.lock"
		cp "$db" "$work/run.db"
		rm -rf "$work/lout"
		timed "$delta" -q --db "$work/run.db" -o "$work/lout" "$base/import.xml" "$base/offers.xml"
		ss="$ss $t_wall"; srss="$srss $t_rss"
		rm -f "$work/run.db" "$work/run.db"-* "$work/run.db.lock"
		cp "$db" "$work/run.db"
		rm -rf "$work/lout"
		timed "$delta" -q --db "$work/run.db" -o "$work/lout" "$lost/import.xml" "$lost/offers.xml"
		ls="$ls $t_wall"; lrss="$lrss $t_rss"
		sent=$(grep -c '<Цены/>' "$work/lout/offers.xml" 2>/dev/null)
		echo "  run $r: no change $(echo "$ss" | lastof)s, lost prices $(echo "$ls" | lastof)s ($sent offers sent with <Цены/>)"
	done
	ms=$(echo "$ss" | median); ml=$(echo "$ls" | median)
	ratio=$(awk -v a="$ml" -v b="$ms" 'BEGIN {printf "%.2f", a / b}')
	ps=$(( $(echo "$srss" | maxof) / 1024 )); pl=$(( $(echo "$lrss" | maxof) / 1024 ))
	printf '%-26s %9s %9s %12s\n' "" "median s" "ratio" "peak RSS MiB"
	printf '%-26s %9s %9s %12s\n' "delta-export, no change" "$ms" "1.00" "$ps"
	printf '%-26s %9s %9s %12s\n' "delta-export, lost prices" "$ml" "$ratio" "$pl"
	echo
	verdicts+=("$(awk -v r="$ratio" 'BEGIN {print (r <= 1.5) ? "pass" : "FAIL"}')  lost prices ${ratio}x the no-change run <= 1.5x at $n")
	verdicts+=("$( [ "$pl" -le $((ps + 16)) ] && echo pass || echo FAIL)  peak RSS ${pl} MiB <= ${ps} + 16 MiB at $n")
	verdicts+=("$( [ "$sent" = $((n / every)) ] && echo pass || echo FAIL)  $sent offers sent with <Цены/>, $((n / every)) lost at $n")
done
timed_cleanup
rm -f "$work/run.db" "$work/run.db"-* "$work/run.db.lock"
rm -rf "$work/lout"
printf '%s\n' "${verdicts[@]}"
