#!/usr/bin/env bash
# cmlkit benchmark (issue 13 part 4): split offers joined, by full-export
# and by delta-export, from the same split input.
#
#   bench/run-join.sh [--sizes "100000"] [--repeat 3] [--build DIR]
#                     [--work DIR]
#
# Per size: a catalog (gen-catalog.py, seed 1) written in 1C's split layout
# by full-export --schema 2.08 --split (import___classifier, import___goods,
# offers___offers with the cards, prices___prices, rests___rests: each offer
# in three parts). Then, --repeat times, interleaved: xmllint --stream
# --noout on the split files (the floor), full-export of them, and a first
# delta-export of them (a fresh database each time). Prints median wall
# seconds, ratios to xmllint, peak RSS, and the Предложение each package
# holds (one per offer from both). Exits 0 whatever the figures; 1 when it
# cannot run.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
sizes="100000"
repeat=3
build=${BUILD:-$top/build}
work=/tmp/cmlkit-bench

while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "run-join.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

full=$build/cmd/full-export
delta=$build/cmd/delta-export
[ -x "$full" ] && [ -x "$delta" ] ||
	{ echo "run-join.sh: $full or $delta missing: build first" >&2; exit 1; }
me=run-join.sh
# shellcheck source=common.sh
. "$here/common.sh"

# Предложение elements in a package's offers files
offers_in() { cat "$1"/offers*.xml | grep -c '<Предложение>' || true; }

echo "cmlkit join benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:  $(uname -srm), $(nproc) CPUs"
echo "build: $build; sizes: $sizes; $repeat runs"
echo
for n in $sizes; do
	base=$work/cat-$n-s1
	split=$work/split-$n-s1
	if [ ! -f "$base/.complete" ] && [ ! -f "$base/offers.xml" ]; then
		python3 "$here/gen-catalog.py" -q --products "$n" --seed 1 --out "$base" || exit 1
	fi
	if [ ! -f "$split/rests___rests.xml" ]; then
		rm -rf "$split"
		"$full" -q --no-record --schema 2.08 --split -o "$split" "$base/import.xml" \
			"$base/offers.xml" >/dev/null || exit 1
	fi
	files=$(ls "$split"/*.xml)
	mib=$(cat $files | wc -c | awk '{printf "%.1f", $1 / 1048576}')
	xw="" fw="" dw="" fr="" dr=""
	for _ in $(seq "$repeat"); do
		# shellcheck disable=SC2086
		timed xmllint --stream --noout $files
		xw="$xw $t_wall"
		rm -rf "$work/join-full"
		# shellcheck disable=SC2086
		timed "$full" -q --no-record -o "$work/join-full" $files
		fw="$fw $t_wall" fr="$fr $t_rss"
		rm -rf "$work/join-delta" "$work/join.db"*
		# shellcheck disable=SC2086
		timed "$delta" -q --db "$work/join.db" -o "$work/join-delta" $files
		dw="$dw $t_wall" dr="$dr $t_rss"
	done
	xm=$(echo "$xw" | median) fm=$(echo "$fw" | median) dm=$(echo "$dw" | median)
	printf '%s products, split input %s MiB (%s)\n' "$n" "$mib" "$(cd "$split" && echo *.xml)"
	printf '  %-14s %8s %7s %10s %s\n' program "median s" ratio "peak MiB" Предложение
	printf '  %-14s %8s %7s %10s\n' xmllint "$xm" 1.00 -
	printf '  %-14s %8s %7s %10s %s\n' full-export "$fm" "$(awk -v a="$fm" -v b="$xm" 'BEGIN {printf "%.2f", a / b}')" \
		"$(echo "$fr" | maxof | awk '{printf "%.1f", $1 / 1024}')" "$(offers_in "$work/join-full")"
	printf '  %-14s %8s %7s %10s %s\n' delta-export "$dm" "$(awk -v a="$dm" -v b="$xm" 'BEGIN {printf "%.2f", a / b}')" \
		"$(echo "$dr" | maxof | awk '{printf "%.1f", $1 / 1024}')" "$(offers_in "$work/join-delta")"
	echo
done
rm -rf "$work/join-full" "$work/join-delta" "$work/join.db"*
timed_cleanup
