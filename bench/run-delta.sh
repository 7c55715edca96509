#!/usr/bin/env bash
# cmlkit benchmark (issue 3): delta-export against the xmllint --stream floor.
#
#   bench/run-delta.sh [--sizes "100000 1000000"] [--repeat 3] [--build DIR]
#                      [--work DIR] [--percent 1]
#
# Per size: a catalog (gen-catalog.py, seed 1) and its changed state
# (--change-percent P: price, stock and card changes, new and deleted
# products); a baseline database built once from the first (delta-export
# --ack-on-write, timed as "baseline"); then, --repeat times, interleaved:
#   xmllint --stream --noout on the changed files (the floor),
#   delta-export of the changed files against a fresh copy of the baseline,
#   the same delta-export again after acknowledging it (no change: the
#   "second run").
# Prints medians, ratios to xmllint, peak RSS and the package size as a
# share of the input, and PASS/FAIL against the issue's targets. Exits 0
# whatever the figures; 1 when it cannot run.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
sizes="100000 1000000"
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
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "run-delta.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

delta=$build/cmd/delta-export
[ -x "$delta" ] || { echo "run-delta.sh: $delta missing: build first (cmake --build build)" >&2; exit 1; }
me=run-delta.sh
# shellcheck source=common.sh
. "$here/common.sh"

echo "cmlkit delta benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:  $(uname -srm), $(nproc) CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "build: $build ($("$delta" --version | head -n 1)); sizes: $sizes; $repeat runs; $percent% changed"
echo
verdicts=()
for n in $sizes; do
	base=$work/cat-$n-s1
	chg=$work/chg-$n-s1-p$percent
	if [ ! -f "$base/.complete" ] && [ ! -f "$base/offers.xml" ]; then
		python3 "$here/gen-catalog.py" -q --products "$n" --seed 1 --out "$base" || exit 1
	fi
	if [ ! -f "$chg/offers.xml" ]; then
		python3 "$here/gen-catalog.py" -q --products "$n" --seed 1 --change-percent "$percent" \
			--out "$chg" || exit 1
	fi
	in_bytes=$(( $(stat -c %s "$chg/import.xml") + $(stat -c %s "$chg/offers.xml") ))
	db=$work/delta-$n.db
	rm -f "$db" "$db"-* "$db.lock"
	rm -rf "$work/dbase-$n"
	timed "$delta" -q --db "$db" --ack-on-write -o "$work/dbase-$n" "$base/import.xml" "$base/offers.xml"
	echo "== $n products: input $((in_bytes / 1048576)) MiB; baseline built in ${t_wall}s (peak $((t_rss / 1024)) MiB), database $(( $(stat -c %s "$db") / 1048576 )) MiB"
	rm -rf "$work/dbase-$n"
	xs="" ds="" drss="" ns="" nrss="" size=0
	for ((r = 1; r <= repeat; r++)); do
		timed xmllint --stream --noout "$chg/import.xml" "$chg/offers.xml"
		xs="$xs $t_wall"
		rm -f "$work/run.db" "$work/run.db"-* "$work/run.db.lock"
		cp "$db" "$work/run.db"
		rm -rf "$work/dout"
		timed "$delta" -q --summary --db "$work/run.db" -o "$work/dout" "$chg/import.xml" "$chg/offers.xml"
		ds="$ds $t_wall"; drss="$drss $t_rss"
		g=$(sed -n 's/^generation \([0-9]*\).*/\1/p' "$work/.out.$$")
		size=$(du -sb "$work/dout" | cut -f1)
		[ $r -eq 1 ] && sed 's/^/    /' "$work/.out.$$"
		"$delta" -q --db "$work/run.db" --ack "$g"
		rm -rf "$work/dout2"
		timed "$delta" -q --db "$work/run.db" -o "$work/dout2" "$chg/import.xml" "$chg/offers.xml"
		ns="$ns $t_wall"; nrss="$nrss $t_rss"
		[ -e "$work/dout2/import.xml" ] && echo "run-delta.sh: the second run found changes" >&2
		echo "  run $r: xmllint ${t_wall:+}$(echo "$xs" | awk '{print $NF}')s, delta $(echo "$ds" | awk '{print $NF}')s, no-change $(echo "$ns" | awk '{print $NF}')s"
	done
	mx=$(echo "$xs" | median); md=$(echo "$ds" | median); mn=$(echo "$ns" | median)
	rd=$(awk -v a="$md" -v b="$mx" 'BEGIN {printf "%.2f", a / b}')
	rn=$(awk -v a="$mn" -v b="$mx" 'BEGIN {printf "%.2f", a / b}')
	pk=$(( $(echo "$drss $nrss" | maxof) / 1024 ))
	share=$(awk -v a="$size" -v b="$in_bytes" 'BEGIN {printf "%.3f", 100 * a / b}')
	printf '%-22s %9s %9s %12s\n' "" "median s" "x xmllint" "peak RSS MiB"
	printf '%-22s %9s %9s %12s\n' "xmllint --stream" "$mx" "1.00" "-"
	printf '%-22s %9s %9s %12s\n' "delta-export" "$md" "$rd" "$pk"
	printf '%-22s %9s %9s %12s\n' "  again, no change" "$mn" "$rn" "$pk"
	echo "package: $size bytes = $share% of the input"
	echo
	if [ "$n" -ge 1000000 ]; then
		verdicts+=("$(awk -v r="$rd" 'BEGIN {print (r <= 2) ? "pass" : "FAIL"}')  delta-export ${rd}x xmllint <= 2x at $n")
		verdicts+=("$(awk -v r="$rn" 'BEGIN {print (r <= 1.5) ? "pass" : "FAIL"}')  no-change run ${rn}x xmllint <= 1.5x at $n")
		verdicts+=("$( [ "$pk" -le 256 ] && echo pass || echo FAIL)  peak RSS ${pk} MiB <= 256 MiB at $n")
	fi
	verdicts+=("$(awk -v s="$share" 'BEGIN {print (s <= 2) ? "pass" : "FAIL"}')  package ${share}% of the input <= 2% at $n")
done
timed_cleanup
rm -f "$work/run.db" "$work/run.db"-* "$work/run.db.lock"
rm -rf "$work/dout" "$work/dout2"
printf '%s\n' "${verdicts[@]}"
