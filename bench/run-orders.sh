#!/usr/bin/env bash
# cmlkit benchmark (issue 10): orders-pull from the test site on loopback.
#
#   bench/run-orders.sh [--sizes "10000 100000"] [--repeat 3] [--build DIR]
#                       [--work DIR] [--seed 1]
#
# Per size: a query answer of N orders of about five lines each, in
# windows-1251 as Bitrix sends it (gen-orders.py; reused when already made
# for that size, seed and generator). Then, --repeat times, interleaved:
#   xmllint     xmllint --stream --noout over the answer (the floor);
#   pull        orders-pull from a fresh test site serving that answer
#               (cmlsite.py --orders FILE --orders-once: the answer, then
#               after the success an empty one) into a fresh database:
#               checkauth, init, query, every order stored in one
#               transaction, success, a second query; the new orders go to
#               stdout as a CommerceML document (into a file, as cron does);
#   re-pull     the same again from a fresh site against the database the
#               pull filled: every order unchanged, nothing written.
# The pull's database is checked: every order of the answer in the ledger,
# each once. Prints medians, ratios to xmllint, peak RSS (/usr/bin/time
# %M), and PASS/FAIL against the issue's targets: pull and re-pull at most
# 3 x xmllint + 1 s, re-pull no slower than pull, peak RSS under 64 MiB.
# Exits 0 whatever the figures; 1 when it cannot run.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
sizes="10000 100000"
repeat=3
build=${BUILD:-$top/build}
work=/tmp/cmlkit-bench
seed=1

while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "run-orders.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case $repeat in ''|*[!0-9]*|0) echo "run-orders.sh: --repeat must be a positive number" >&2; exit 2 ;; esac

pull=$build/cmd/orders-pull
[ -d "$pull" ] && pull=$pull/orders-pull # built in its own folder
site_py=$top/tests/site/cmlsite.py
[ -x "$pull" ] || { echo "run-orders.sh: $pull missing: build first (cmake --build build)" >&2; exit 1; }
command -v xmllint >/dev/null || { echo "run-orders.sh: needs xmllint (apt-get install libxml2-utils)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run-orders.sh: needs python3" >&2; exit 1; }
me=run-orders.sh
# shellcheck source=common.sh
. "$here/common.sh"
pw=$work/orders.pass
printf 'bench-secret\n' >"$pw"
chmod 600 "$pw"

site_pid=
site_dir=
stop_site() {
	[ -n "$site_pid" ] && { kill "$site_pid" 2>/dev/null; wait "$site_pid" 2>/dev/null; }
	[ -n "$site_dir" ] && rm -rf "$site_dir"
	site_pid= site_dir=
}
trap stop_site EXIT INT TERM
start_site() { # cmlsite options: sets $url
	stop_site
	site_dir=$work/osite.$$
	rm -rf "$site_dir"
	mkdir -p "$site_dir"
	python3 "$site_py" --dir "$site_dir" --password-file "$pw" "$@" >/dev/null 2>&1 &
	site_pid=$!
	for _ in $(seq 100); do [ -s "$site_dir/port" ] && break; sleep 0.1; done
	[ -s "$site_dir/port" ] || { echo "run-orders.sh: the test site did not start" >&2; exit 1; }
	url="http://127.0.0.1:$(cat "$site_dir/port")/bitrix/admin/1c_exchange.php"
}
# orders-pull as cron runs it, its output into a file
run_pull() { # db
	timed "$pull" -q --site bench --db "$1" --url "$url" --user admin --password-file "$pw"
}
# the orders in the ledger, and the distinct order Ид among them
ledger_count() { # db
	"$pull" --db "$1" --site bench --replay 1970-01-01 --format jsonl 2>/dev/null | wc -l
}

gensum=$(cat "$here/gen-orders.py" "$top/tests/site/cmlorders.py" | cksum | cut -d' ' -f1)
echo "cmlkit orders-pull benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:    $(uname -srm), $(nproc) CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "xmllint: $(xmllint --version 2>&1 | head -n 1)"
echo "build:   $build ($("$pull" --version | head -n 1)); sizes: $sizes; $repeat runs; seed $seed"
echo
verdicts=()
for n in $sizes; do
	answer=$work/orders-$n-s$seed.xml
	stamp="gen=$gensum orders=$n seed=$seed"
	if [ ! -f "$answer" ] || [ "$(cat "$answer.complete" 2>/dev/null)" != "$stamp" ]; then
		python3 "$here/gen-orders.py" --orders "$n" --seed "$seed" --out "$answer" || exit 1
		echo "$stamp" >"$answer.complete"
	fi
	bytes=$(stat -c %s "$answer")
	db=$work/orders-$n.db
	cat "$answer" >/dev/null # the page cache, for the first xmllint as for the rest
	xw="" pw_="" pr="" rw="" rr="" fails=""
	for ((r = 1; r <= repeat; r++)); do
		timed xmllint --stream --noout "$answer"
		[ "$t_status" -eq 0 ] || fails="$fails xmllint-exit-$t_status"
		xw="$xw $t_wall"

		rm -f "$db" "$db"-* "$db.lock"
		start_site --orders "$answer" --orders-once
		run_pull "$db"
		[ "$t_status" -eq 0 ] || fails="$fails pull-exit-$t_status"
		pw_="$pw_ $t_wall" pr="$pr $t_rss"
		out_bytes=$(stat -c %s "$work/.out.$$")
		grep -q '^success' "$site_dir/sale.log" || fails="$fails pull-sent-no-success"
		if [ "$r" = 1 ]; then
			stored=$(ledger_count "$db")
			[ "$stored" = "$n" ] || fails="$fails ledger-holds-$stored-orders"
		fi

		start_site --orders "$answer" --orders-once
		run_pull "$db"
		[ "$t_status" -eq 0 ] || fails="$fails re-pull-exit-$t_status"
		rw="$rw $t_wall" rr="$rr $t_rss"
		[ ! -s "$work/.out.$$" ] || fails="$fails re-pull-wrote-output"
		stop_site
		echo "  $n run $r: xmllint $(echo "$xw" | lastof) s, pull $(echo "$pw_" | lastof) s, re-pull $(echo "$rw" | lastof) s" >&2
	done
	mx=$(echo "$xw" | median)
	mp=$(echo "$pw_" | median)
	mr=$(echo "$rw" | median)
	rssp=$(( $(echo "$pr" | maxof) / 1024 ))
	rssr=$(( $(echo "$rr" | maxof) / 1024 ))
	limit=$(awk -v x="$mx" 'BEGIN {printf "%.2f", 3 * x + 1}')
	ratio() { awk -v a="$1" -v b="$mx" 'BEGIN {printf (b > 0) ? "%.2f" : "-", a / b}'; }
	echo "== $n orders: answer $((bytes / 1048576)) MiB (windows-1251); pull's output $((out_bytes / 1048576)) MiB; $repeat runs"
	printf '%-10s %9s %11s %9s   %s\n' "" "median s" "x xmllint" "RSS MiB" "runs (s)"
	printf '%-10s %9s %11s %9s  %s\n' xmllint "$mx" 1.00 - "$xw"
	printf '%-10s %9s %11s %9s  %s\n' pull "$mp" "$(ratio "$mp")" "$rssp" "$pw_"
	printf '%-10s %9s %11s %9s  %s\n' re-pull "$mr" "$(ratio "$mr")" "$rssr" "$rw"
	[ -z "$fails" ] || echo "FAILED runs:$fails"
	echo
	ok() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; }
	v() { if [ -z "$fails" ] && ok "$1" "$2"; then echo pass; else echo FAIL; fi; }
	verdicts+=("$(v "$mp" "$limit")  pull ${mp} s <= 3 x xmllint + 1 s = ${limit} s at $n")
	verdicts+=("$(v "$mr" "$limit")  re-pull ${mr} s <= ${limit} s at $n")
	# "no slower": the median, with 5% for noise
	verdicts+=("$(v "$mr" "$(awk -v p="$mp" 'BEGIN {printf "%.2f", p * 1.05}')")  re-pull ${mr} s no slower than pull ${mp} s at $n")
	verdicts+=("$(v "$rssp" 63)  pull peak RSS ${rssp} MiB < 64 MiB at $n")
	verdicts+=("$(v "$rssr" 63)  re-pull peak RSS ${rssr} MiB < 64 MiB at $n")
	rm -f "$db" "$db"-* "$db.lock"
done
timed_cleanup
rm -f "$pw"
printf '%s\n' "${verdicts[@]}"
