#!/usr/bin/env bash
# cmlkit benchmark (issue 2): cml-check and full-export against the xmllint --stream floor.
#
#   bench/run.sh [--sizes "10000 100000 1000000"] [--repeat 3] [--build DIR]
#                [--work DIR] [--seed S] [--keep-output]
#
# See bench/README.md.  Prints a report and exits 0 whatever the figures are;
# exits 1 only when it cannot run at all (missing programs, generation failure),
# 2 on a usage error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

sizes="10000 100000 1000000"
repeat=3
build=${BUILD:-$top/build}
work=/tmp/cmlkit-bench
seed=1
keep_output=0

# targets
TARGET_SIZE=1000000
TARGET_CHECK_RATIO=1.5
TARGET_EXPORT_RATIO=3
TARGET_RSS_MIB=64

usage() {
	sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'
	cat <<EOF
  --sizes "N..."   catalog sizes in products (default "$sizes")
  --repeat K       timed runs of each program per size, interleaved (default $repeat)
  --build DIR      cmlkit build tree with cmd/cml-check and cmd/full-export
                   (default \$BUILD or $top/build)
  --work DIR       where catalogs and outputs go (default $work); catalogs are
                   reused when already generated for that size and seed
  --seed S         generator seed (default $seed)
  --keep-output    leave the last full-export output in WORK/out-N
EOF
}

die_usage() { echo "run.sh: $*" >&2; echo "Try 'bench/run.sh --help'." >&2; exit 2; }
die() { echo "run.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--sizes) [ $# -ge 2 ] || die_usage "--sizes needs a value"; sizes=$2; shift 2 ;;
	--sizes=*) sizes=${1#*=}; shift ;;
	--repeat) [ $# -ge 2 ] || die_usage "--repeat needs a value"; repeat=$2; shift 2 ;;
	--repeat=*) repeat=${1#*=}; shift ;;
	--build) [ $# -ge 2 ] || die_usage "--build needs a value"; build=$2; shift 2 ;;
	--build=*) build=${1#*=}; shift ;;
	--work) [ $# -ge 2 ] || die_usage "--work needs a value"; work=$2; shift 2 ;;
	--work=*) work=${1#*=}; shift ;;
	--seed) [ $# -ge 2 ] || die_usage "--seed needs a value"; seed=$2; shift 2 ;;
	--seed=*) seed=${1#*=}; shift ;;
	--keep-output) keep_output=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown argument '$1'" ;;
	esac
done

case $repeat in ''|*[!0-9]*|0) die_usage "--repeat must be a positive integer" ;; esac
case $seed in ''|*[!0-9]*) die_usage "--seed must be a non-negative integer" ;; esac
[ -n "${sizes// /}" ] || die_usage "--sizes is empty"
for n in $sizes; do
	case $n in ''|*[!0-9]*|0) die_usage "bad size '$n' in --sizes" ;; esac
done

# ---------------------------------------------------------------- prerequisites
check=$build/cmd/cml-check
export_=$build/cmd/full-export
missing=0
for p in "$check" "$export_"; do
	if [ ! -x "$p" ]; then
		echo "run.sh: missing program $p (build cmlkit first: cmake -S $top -B $build && cmake --build $build, or pass --build DIR)" >&2
		missing=1
	fi
done
command -v xmllint >/dev/null 2>&1 || {
	echo "run.sh: xmllint not found (apt-get install -y libxml2-utils)" >&2; missing=1; }
command -v python3 >/dev/null 2>&1 || {
	echo "run.sh: python3 not found (needed by bench/gen-catalog.py)" >&2; missing=1; }
if ! /usr/bin/time -f '%e %M' true >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "run.sh: GNU time (/usr/bin/time) missing: installing package 'time' (apt-get install -y time)" >&2
		apt-get install -y time >&2 || { apt-get update >&2 && apt-get install -y time >&2; }
	fi
	/usr/bin/time -f '%e %M' true >/dev/null 2>&1 || {
		echo "run.sh: GNU time (/usr/bin/time) not found: apt-get install -y time" >&2; missing=1; }
fi
[ $missing = 0 ] || die "cannot run the benchmark (see above)"

mkdir -p "$work" || die "cannot create $work"
gen=$here/gen-catalog.py
gensum=$(cksum <"$gen" | cut -d' ' -f1)

# ---------------------------------------------------------------- helpers
median() {	# numbers as arguments -> median
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) printf "%.2f\n", a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2 }'
}
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# generate catalog for size $1 into $work/cat-N-sS (reused if complete)
catalog() {
	local n=$1 dir=$work/cat-$1-s$seed
	local stamp="gen=$gensum products=$n seed=$seed"
	if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$stamp" ] &&
	   [ -f "$dir/import.xml" ] && [ -f "$dir/offers.xml" ]; then
		echo "run.sh: reusing $dir" >&2
	else
		echo "run.sh: generating $n products into $dir ..." >&2
		rm -rf "$dir"
		python3 "$gen" --products "$n" --seed "$seed" --out "$dir" >&2 || die "generation failed for $n"
		echo "$stamp" >"$dir/.complete"
	fi
	catdir=$dir
}

results=$work/results-$(date +%Y%m%d-%H%M%S).tsv
printf 'size\ttool\trun\tstatus\twall_s\tmaxrss_kib\n' >"$results"

# one timed run: timed TOOL SIZE RUN command...
# sets t_wall t_rss t_status
timed() {
	local tool=$1 n=$2 run=$3; shift 3
	local tf=$work/.time.$$ ef=$work/.stderr.$$
	/usr/bin/time -o "$tf" -f '%e %M' "$@" >/dev/null 2>"$ef"
	t_status=$?
	# GNU time writes "Command exited with non-zero status N" before the format line
	read -r t_wall t_rss < <(tail -n 1 "$tf")
	t_wall=${t_wall:-nan}; t_rss=${t_rss:-0}
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$tool" "$run" "$t_status" "$t_wall" "$t_rss" >>"$results"
	if [ -s "$ef" ]; then
		echo "run.sh: $tool ($n products, run $run) said on stderr:" >&2
		head -n 5 "$ef" | sed 's/^/    /' >&2
	fi
	rm -f "$tf" "$ef"
}

# ---------------------------------------------------------------- header
echo "cmlkit benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:    $(uname -srm), $(nproc 2>/dev/null || echo '?') CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)"
echo "memory:  $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null)"
echo "xmllint: $(xmllint --version 2>&1 | head -n 1)"
echo "build:   $build ($("$check" --version 2>/dev/null | head -n 1))"
echo "sizes:   $sizes; $repeat run(s) each, interleaved; seed $seed; work dir $work"
echo "raw:     $results"
echo

tools="xmllint cml-check full-export"
verdict=PASS
notes=()
have_target_size=0

for n in $sizes; do
	catalog "$n"
	imp=$catdir/import.xml off=$catdir/offers.xml
	bytes=$(( $(stat -c %s "$imp") + $(stat -c %s "$off") ))
	in_mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b/1048576 }')
	out=$work/out-$n

	# warm the page cache so the first timed run is not the only one reading from disk
	cat "$imp" "$off" >/dev/null

	declare -A walls=() rsss=() fails=()
	for ((r = 1; r <= repeat; r++)); do
		for tool in $tools; do
			case $tool in
			xmllint)     timed "$tool" "$n" "$r" xmllint --stream --noout "$imp" "$off"; ok_max=0 ;;
			cml-check)   timed "$tool" "$n" "$r" "$check" -q "$imp" "$off"; ok_max=1 ;;   # 1 = problems found, still a full read
			full-export) rm -rf "$out" "$out.db" "$out.db"-* "$out.db.lock"
			             # with its record of the package in a fresh database, as users run it
			             timed "$tool" "$n" "$r" "$export_" -q --db "$out.db" -o "$out" "$imp" "$off"; ok_max=0 ;;
			esac
			if [ "$t_status" -gt "$ok_max" ] || [ "$t_wall" = nan ]; then
				fails[$tool]="${fails[$tool]:-}${fails[$tool]:+,} run $r exit $t_status"
			fi
			if [ "$tool" = cml-check ] && [ "$t_status" = 1 ]; then
				fails[cml-check-problems]=1
			fi
			walls[$tool]="${walls[$tool]:-} $t_wall"
			rsss[$tool]="${rsss[$tool]:-} $t_rss"
			printf '  %-9s %-11s run %d/%d: %6ss %8s KiB  exit %s\n' "$n" "$tool" "$r" "$repeat" \
				"$t_wall" "$t_rss" "$t_status" >&2
		done
	done
	[ $keep_output = 1 ] || rm -rf "$out"

	# ---- table for this size
	echo "== $n products: import.xml + offers.xml = $in_mib MiB; $repeat run(s) each =="
	printf '%-12s %10s %10s %10s %12s   %s\n' tool "median s" "x xmllint" "MiB/s" "peak RSS MiB" "runs (s)"
	base=$(median ${walls[xmllint]})
	declare -A med=() rssmib=()
	for tool in $tools; do
		m=$(median ${walls[$tool]})
		med[$tool]=$m
		rk=$(maxof ${rsss[$tool]})
		rssmib[$tool]=$(awk -v k="$rk" 'BEGIN { printf "%.1f", k/1024 }')
		ratio=$(awk -v a="$m" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a/b; else print "n/a" }')
		tput=$(awk -v a="$m" -v b="$bytes" 'BEGIN { if (a > 0) printf "%.0f", b/1048576/a; else print "n/a" }')
		printf '%-12s %10s %10s %10s %12s  %s%s\n' "$tool" "$m" "$ratio" "$tput" "${rssmib[$tool]}" \
			"${walls[$tool]}" "${fails[$tool]:+   FAILED:${fails[$tool]}}"
	done
	[ -z "${fails[cml-check-problems]:-}" ] ||
		echo "note: cml-check reported problems (exit 1) on a generated catalog — worth a look"
	echo

	# ---- targets
	if [ -n "${fails[xmllint]:-}" ]; then
		verdict=FAIL; notes+=("FAIL  xmllint failed at $n products (${fails[xmllint]# }): catalog not well-formed? no ratios")
	fi
	for tool in cml-check full-export; do
		if [ -n "${fails[$tool]:-}" ]; then
			verdict=FAIL; notes+=("FAIL  $tool failed at $n products (${fails[$tool]# })")
			continue
		fi
		if awk -v x="${rssmib[$tool]}" -v t=$TARGET_RSS_MIB 'BEGIN { exit !(x < t) }'; then
			notes+=("pass  $tool peak RSS ${rssmib[$tool]} MiB < $TARGET_RSS_MIB MiB at $n")
		else
			verdict=FAIL; notes+=("FAIL  $tool peak RSS ${rssmib[$tool]} MiB >= $TARGET_RSS_MIB MiB at $n")
		fi
	done
	if [ "$n" = $TARGET_SIZE ]; then
		have_target_size=1
		for spec in "cml-check $TARGET_CHECK_RATIO" "full-export $TARGET_EXPORT_RATIO"; do
			set -- $spec
			tool=$1 lim=$2
			[ -z "${fails[$tool]:-}" ] && [ -z "${fails[xmllint]:-}" ] || continue
			ratio=$(awk -v a="${med[$tool]}" -v b="$base" 'BEGIN { printf "%.2f", a/b }')
			if awk -v r="$ratio" -v l="$lim" 'BEGIN { exit !(r <= l) }'; then
				notes+=("pass  $tool ${ratio}x xmllint <= ${lim}x at $n")
			else
				verdict=FAIL; notes+=("FAIL  $tool ${ratio}x xmllint > ${lim}x at $n")
			fi
		done
	fi
	unset walls rsss fails med rssmib
done

echo "== targets =="
printf '%s\n' "${notes[@]}"
if [ $have_target_size = 0 ]; then
	echo "n/a   speed ratios are judged at $TARGET_SIZE products, which was not in --sizes"
	[ $verdict = PASS ] && verdict="PASS (partial: RSS only; add $TARGET_SIZE to --sizes for the speed targets)"
fi
echo
echo "RESULT: $verdict  (targets: cml-check <= ${TARGET_CHECK_RATIO}x and full-export <= ${TARGET_EXPORT_RATIO}x xmllint --stream at $TARGET_SIZE products; peak RSS < $TARGET_RSS_MIB MiB for both at every size)"
exit 0
