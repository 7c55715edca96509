#!/bin/bash
# run-compare.sh: does a change slow reading down? Times `cml-check -q` of
# two builds (before and after) and `xmllint --stream --noout` on the same
# generated catalog, interleaved run by run so machine noise hits all three
# alike, and prints medians, ratios to xmllint and peak RSS.
#
#   bench/run-compare.sh OLD_BUILD NEW_BUILD [--size N] [--repeat K] [--work DIR]
#
# OLD_BUILD and NEW_BUILD are build trees (cmd/cml-check inside). The
# catalog is made by gen-catalog.py like run.sh's (reused when present).
set -u
me=run-compare.sh
here=$(cd "$(dirname "$0")" && pwd)
size=100000 repeat=5 work=/tmp/cmlkit-bench
[ $# -ge 2 ] || { echo "usage: $me OLD_BUILD NEW_BUILD [--size N] [--repeat K] [--work DIR]" >&2; exit 2; }
old=$1 new=$2
shift 2
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	*) echo "$me: unknown option $1" >&2; exit 2 ;;
	esac
done
for b in "$old" "$new"; do
	[ -x "$b/cmd/cml-check" ] || { echo "$me: no $b/cmd/cml-check" >&2; exit 1; }
done
. "$here/common.sh"

cat=$work/cat-$size-s1
if [ ! -s "$cat/offers.xml" ] || [ ! -e "$cat/.complete" ]; then
	echo "$me: generating $size products in $cat" >&2
	mkdir -p "$cat"
	python3 "$here/gen-catalog.py" --products "$size" --seed 1 --out "$cat" >&2 ||
		{ echo "$me: generation failed" >&2; exit 1; }
	: >"$cat/.complete"
fi
cat "$cat/import.xml" "$cat/offers.xml" >/dev/null

x_t="" o_t="" n_t="" o_m="" n_m=""
for k in $(seq "$repeat"); do
	timed xmllint --stream --noout "$cat/import.xml" "$cat/offers.xml"
	x_t="$x_t $t_wall"
	timed "$old/cmd/cml-check" -q "$cat/import.xml" "$cat/offers.xml"
	o_t="$o_t $t_wall" o_m="$o_m $t_rss"
	timed "$new/cmd/cml-check" -q "$cat/import.xml" "$cat/offers.xml"
	n_t="$n_t $t_wall" n_m="$n_m $t_rss"
	echo "run $k: xmllint $(echo "$x_t" | lastof) s, old $(echo "$o_t" | lastof) s, new $(echo "$n_t" | lastof) s" >&2
done
timed_cleanup
xm=$(echo "$x_t" | median) om=$(echo "$o_t" | median) nm=$(echo "$n_t" | median)
printf '%-10s %9s %10s %13s\n' tool "median s" "x xmllint" "peak RSS MiB"
printf '%-10s %9s %10s %13s\n' xmllint "$xm" 1.00 -
printf '%-10s %9s %10.2f %13.1f\n' old "$om" "$(awk -v a="$om" -v b="$xm" 'BEGIN {print a / b}')" \
	"$(awk -v m="$(echo "$o_m" | maxof)" 'BEGIN {print m / 1024}')"
printf '%-10s %9s %10.2f %13.1f\n' new "$nm" "$(awk -v a="$nm" -v b="$xm" 'BEGIN {print a / b}')" \
	"$(awk -v m="$(echo "$n_m" | maxof)" 'BEGIN {print m / 1024}')"
printf 'new / old: %.3f\n' "$(awk -v a="$nm" -v b="$om" 'BEGIN {print a / b}')"
