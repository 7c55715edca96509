#!/usr/bin/env bash
# cmlkit benchmark (issue 4): catalog-push to the test site on loopback.
#
#   bench/run-push.sh [--sizes "100000 1000000"] [--repeat 3] [--build DIR]
#                     [--work DIR] [--percent 1]
#
# Per size: the catalog and its changed state (gen-catalog.py, seed 1, as
# run-delta.sh makes them); a full package of the first (full-export) and,
# once that is acknowledged, a delta package of the second (delta-export).
# Then, --repeat times, interleaved, each against a fresh test site
# (tests/site/cmlsite.py) and a fresh copy of the database:
#   curl        the floor: checkauth, then each package file in ONE
#               streamed POST (curl -T) to a site without a file_limit;
#   upload      catalog-push --no-record of the full package, file_limit
#               204800 (the Bitrix default: about 5 requests per MB): the
#               protocol alone, no database;
#   push        the same push as it runs from cron: the generation found and
#               checked in the database, and acknowledged at the end (the
#               acknowledgement of a full generation rewrites the baseline:
#               one row per part, four million at 1M products);
#   push/zip    the same to a site that says zip=yes (the package is packed
#               into one archive first);
#   delta       catalog-push of the delta package.
# What is measured is the client: user+system CPU seconds and peak RSS
# (/usr/bin/time), and the wall time, which includes the site's own work.
# Prints medians, CPU ratios to curl, and PASS/FAIL for "peak RSS under
# 64 MiB whatever the package size". Exits 0 whatever the figures; 1 when
# it cannot run.
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
	-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
	*) echo "run-push.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

bin=$build/cmd
site_py=$top/tests/site/cmlsite.py
for p in full-export delta-export catalog-push; do
	[ -x "$bin/$p" ] || { echo "run-push.sh: $bin/$p missing: build first" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "run-push.sh: needs curl (apt-get install curl)" >&2; exit 1; }
me=run-push.sh
# shellcheck source=common.sh
. "$here/common.sh"
pw=$work/push.pass
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
	site_dir=$work/site.$$
	rm -rf "$site_dir"
	mkdir -p "$site_dir"
	python3 "$site_py" --dir "$site_dir" --password-file "$pw" "$@" >/dev/null 2>&1 &
	site_pid=$!
	for _ in $(seq 100); do [ -s "$site_dir/port" ] && break; sleep 0.1; done
	[ -s "$site_dir/port" ] || { echo "run-push.sh: the test site did not start" >&2; exit 1; }
	url="http://127.0.0.1:$(cat "$site_dir/port")/bitrix/admin/1c_exchange.php"
}

push() { # db package [catalog-push options]
	local db=$1 pkg=$2
	shift 2
	timed "$bin/catalog-push" -q --db "$db" --url "$url" --user admin --password-file "$pw" \
		--retry-wait 0.1 "$@" "$pkg"
}

# The floor, as a script /usr/bin/time can measure whole: checkauth, then
# one streamed POST per file with the session cookie and sessid.
cat >"$work/curl-push.sh" <<'EOF'
#!/bin/sh
set -eu
url=$1 pw=$2 pkg=$3
auth=$(curl -sS -u "admin:$(head -n 1 "$pw")" "$url?type=catalog&mode=checkauth")
name=$(printf '%s\n' "$auth" | sed -n 2p)
value=$(printf '%s\n' "$auth" | sed -n 3p)
sessid=$(printf '%s\n' "$auth" | sed -n 's/^sessid=//p')
curl -sS -b "$name=$value" "$url?type=catalog&mode=init&sessid=$sessid" >/dev/null
for f in "$pkg"/*.xml; do
	curl -sS -b "$name=$value" -X POST -H 'Content-Type: application/octet-stream' -T "$f" \
		"$url?type=catalog&mode=file&filename=$(basename "$f")&sessid=$sessid" | grep -q '^success'
done
EOF

echo "cmlkit push benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:  $(uname -srm), $(nproc) CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "build: $build ($("$bin/catalog-push" --version | head -n 1)); sizes: $sizes; $repeat runs"
echo
verdicts=()
for n in $sizes; do
	base=$work/cat-$n-s1
	chg=$work/chg-$n-s1-p$percent
	[ -f "$base/offers.xml" ] ||
		python3 "$here/gen-catalog.py" -q --products "$n" --seed 1 --out "$base" || exit 1
	[ -f "$chg/offers.xml" ] ||
		python3 "$here/gen-catalog.py" -q --products "$n" --seed 1 --change-percent "$percent" \
			--out "$chg" || exit 1
	db=$work/push-$n.db
	full=$work/pfull-$n
	delta=$work/pdelta-$n
	rm -rf "$db" "$db"-* "$db.lock" "$full" "$delta"
	"$bin/full-export" -q --db "$db" -o "$full" "$base/import.xml" "$base/offers.xml" >/dev/null || exit 1
	cp "$db" "$work/pdb-full-$n.db"
	# the delta needs the full package acknowledged
	"$bin/delta-export" -q --db "$db" --ack 1 || exit 1
	"$bin/delta-export" -q --db "$db" -o "$delta" "$chg/import.xml" "$chg/offers.xml" >/dev/null || exit 1
	cp "$db" "$work/pdb-delta-$n.db"
	fbytes=$(du -cb "$full"/*.xml | tail -n 1 | cut -f1)
	dbytes=$(du -cb "$delta"/*.xml | tail -n 1 | cut -f1)
	echo "== $n products: full package $((fbytes / 1048576)) MiB, delta package $((dbytes / 1024)) KiB"
	uw="" uc="" ur="" cw="" cc="" pw_="" pc="" pr="" zw="" zc="" zr="" dw="" dc="" dr="" dcw="" dcc=""
	for ((r = 1; r <= repeat; r++)); do
		start_site --file-limit 0
		timed sh "$work/curl-push.sh" "$url" "$pw" "$full"
		cw="$cw $t_wall" cc="$cc $t_cpu"
		start_site
		timed "$bin/catalog-push" -q --no-record --url "$url" --user admin --password-file "$pw" \
			"$full"
		uw="$uw $t_wall" uc="$uc $t_cpu" ur="$ur $t_rss"
		start_site
		cp "$work/pdb-full-$n.db" "$work/prun.db"
		rm -f "$work/prun.db"-* "$work/prun.db.lock"
		push "$work/prun.db" "$full"
		pw_="$pw_ $t_wall" pc="$pc $t_cpu" pr="$pr $t_rss"
		start_site --zip yes
		cp "$work/pdb-full-$n.db" "$work/prun.db"
		push "$work/prun.db" "$full"
		zw="$zw $t_wall" zc="$zc $t_cpu" zr="$zr $t_rss"
		start_site --file-limit 0
		timed sh "$work/curl-push.sh" "$url" "$pw" "$delta"
		dcw="$dcw $t_wall" dcc="$dcc $t_cpu"
		start_site
		cp "$work/pdb-delta-$n.db" "$work/prun.db"
		push "$work/prun.db" "$delta"
		dw="$dw $t_wall" dc="$dc $t_cpu" dr="$dr $t_rss"
		stop_site
		echo "  run $r: curl $(echo "$cc" | awk '{print $NF}') s CPU, upload $(echo "$uc" | awk '{print $NF}'), push $(echo "$pc" | awk '{print $NF}'), zip $(echo "$zc" | awk '{print $NF}'), delta $(echo "$dc" | awk '{print $NF}')"
	done
	row() { # label cpu-list wall-list rss-list floor-cpu
		local c w rss ratio
		c=$(echo "$2" | median)
		w=$(echo "$3" | median)
		rss=${4:+$(( $(echo "$4" | maxof) / 1024 ))}
		ratio=$(awk -v a="$c" -v b="$5" 'BEGIN {printf (b > 0) ? "%.2f" : "-", a / b}')
		printf '%-34s %10s %9s %9s %9s\n' "$1" "$c" "$ratio" "$w" "${rss:--}"
	}
	printf '%-34s %10s %9s %9s %9s\n' "" "CPU s" "x curl" "wall s" "RSS MiB"
	mc=$(echo "$cc" | median)
	mdc=$(echo "$dcc" | median)
	row "curl, full, 1 POST per file" "$cc" "$cw" "" "$mc"
	row "catalog-push --no-record, full" "$uc" "$uw" "$ur" "$mc"
	row "catalog-push, full, 200 KB chunks" "$pc" "$pw_" "$pr" "$mc"
	row "catalog-push, full, zip" "$zc" "$zw" "$zr" "$mc"
	row "curl, delta, 1 POST per file" "$dcc" "$dcw" "" "$mdc"
	row "catalog-push, delta" "$dc" "$dw" "$dr" "$mdc"
	echo
	for pair in "upload:$ur" "full:$pr" "zip:$zr" "delta:$dr"; do
		k=${pair%%:*}
		m=$(( $(echo "${pair#*:}" | maxof) / 1024 ))
		verdicts+=("$( [ "$m" -lt 64 ] && echo pass || echo FAIL)  catalog-push $k peak RSS ${m} MiB < 64 MiB at $n")
	done
done
timed_cleanup
rm -f "$work/prun.db" "$work/prun.db"-* "$work/prun.db.lock"
rm -f "$work"/pdb-*.db "$work/curl-push.sh" "$pw"
printf '%s\n' "${verdicts[@]}"
