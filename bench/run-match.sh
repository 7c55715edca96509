#!/usr/bin/env bash
# cmlkit benchmark (issue 11): cp-match, buyers matched against a register.
#
#   bench/run-match.sh [--grid "BUYERS:CARDS ..."] [--repeat 3] [--build DIR]
#                      [--work DIR] [--seed 1] [--xml-cards N] [--no-self]
#                      [--generate-only]
#
# Generates once into WORK/match (reused while the generators, sizes and seed
# are the same): registers of CARDS cards (gen-register.py, CSV) and orders
# documents of BUYERS orders whose buyers mix every row of the decision
# table against them (gen-buyers.py). Then:
#   load        cp-match --db DB --register reg.csv --load-only into a fresh
#               database, per register size (once; timed), and the same file
#               loaded again into the full database (nothing changes: the
#               cron case); and a CommerceML register of --xml-cards cards
#               (gen-register.py --format xml) loaded into a scratch database;
#   per grid point, --repeat times, interleaved:
#     xmllint   xmllint --stream --noout over the document (the floor);
#     cml-check cml-check -q over it (the house's reader alone);
#     cp-match  cp-match --db DB --dry-run --summary --decisions F doc > out:
#               every buyer matched, the register updated, the output
#               written, and the run rolled back so every repeat sees the
#               same register;
#   and once: cp-match --rule and --dry-run at the first grid point (how
#   many duplicates the old rule makes there), cp-match --self on the
#   largest register (--repeat times; the merge plan only, nothing merged).
# Prints medians, ratios, peak RSS (/usr/bin/time %M), each case of
# gen-buyers against the rule cp-match chose, and PASS/FAIL against the
# issue's targets: 100k buyers against 1M cards under 10 s and 512 MiB;
# growth at most linear in buyers (10k -> 100k at 1M cards) and in cards
# (100k buyers at 100k -> 1M cards); --self on 1M cards under 30 s.
# --generate-only makes the files and stops (no build needed).
# Exits 0 whatever the figures; 1 when it cannot run, 2 on a usage error.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
grid="10000:1000000 100000:1000000 100000:100000"
repeat=3
build=${BUILD:-$top/build}
work=/tmp/cmlkit-bench
seed=1
xml_cards=100000
self=1
genonly=0

while [ $# -gt 0 ]; do
	case $1 in
	--grid) grid=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--xml-cards) xml_cards=$2; shift 2 ;;
	--no-self) self=0; shift ;;
	--generate-only) genonly=1; shift ;;
	-h|--help) sed -n '2,34p' "$0"; exit 0 ;;
	*) echo "run-match.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case $repeat in ''|*[!0-9]*|0) echo "run-match.sh: --repeat must be a positive number" >&2; exit 2 ;; esac
case $xml_cards in ''|*[!0-9]*) echo "run-match.sh: --xml-cards must be a number (0: none)" >&2; exit 2 ;; esac
for g in $grid; do
	case $g in *[!0-9:]*|:*|*:|*:*:*|[!0-9]*) echo "run-match.sh: a grid point is BUYERS:CARDS, not $g" >&2; exit 2 ;; esac
	[ "${g#*:}" -ge 100 ] || { echo "run-match.sh: a register has at least 100 cards ($g)" >&2; exit 2; }
done

prog() { # name: the built program (some are built in their own folder)
	local p=$build/cmd/$1
	[ -d "$p" ] && p=$p/$1
	echo "$p"
}
cpm=$(prog cp-match)
check=$(prog cml-check)
[ "$genonly" = 1 ] || [ -x "$cpm" ] || { echo "run-match.sh: $cpm missing: build first (cmake --build build)" >&2; exit 1; }
[ "$genonly" = 1 ] || [ -x "$check" ] || { echo "run-match.sh: $check missing: build first" >&2; exit 1; }
command -v xmllint >/dev/null || { echo "run-match.sh: needs xmllint (apt-get install libxml2-utils)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run-match.sh: needs python3" >&2; exit 1; }
me=run-match.sh
# shellcheck source=common.sh
. "$here/common.sh"
cache=$work/match
mkdir -p "$cache"

gensum=$(cat "$here/gen-register.py" "$here/gen-buyers.py" "$top/tests/site/cmlorders.py" | cksum | cut -d' ' -f1)
# make FILE STAMP CMD...: runs CMD unless FILE is there with that stamp
make_once() {
	local f=$1 stamp="gen=$gensum $2"
	shift 2
	if [ ! -f "$f" ] || [ "$(cat "$f.complete" 2>/dev/null)" != "$stamp" ]; then
		"$@" || { echo "$me: generating $f failed" >&2; exit 1; }
		echo "$stamp" >"$f.complete"
	fi
}
register() { echo "$cache/reg-$1-s$seed.csv"; }
orders() { echo "$cache/buyers-$1-$2-s$seed.xml"; }
dbof() { echo "$work/match-$1.db"; }
rmdb() { rm -f "$1" "$1"-wal "$1"-shm "$1"-journal "$1.lock"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf (b > 0) ? "%.2f" : "-", a / b}'; }
mib() { echo $(( $1 / 1024 )); }
ok() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; }

[ "$genonly" = 1 ] || {
echo "cmlkit cp-match benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:    $(uname -srm), $(nproc) CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "xmllint: $(xmllint --version 2>&1 | head -n 1)"
echo "build:   $build ($("$cpm" --version 2>&1 | head -n 1)); grid: $grid; $repeat runs; seed $seed"
echo
}

# ---- generate -----------------------------------------------------------
sizes=$(for g in $grid; do echo "${g#*:}"; done | sort -un)
largest=$(echo "$sizes" | tail -n 1)
for n in $sizes; do
	make_once "$(register "$n")" "cards=$n seed=$seed" \
		python3 "$here/gen-register.py" --cards "$n" --seed "$seed" --out "$(register "$n")"
done
for g in $grid; do
	m=${g%:*} n=${g#*:}
	make_once "$(orders "$m" "$n")" "orders=$m cards=$n seed=$seed" \
		python3 "$here/gen-buyers.py" --orders "$m" --cards "$n" --seed "$seed" \
		--out "$(orders "$m" "$n")" --manifest "$(orders "$m" "$n").tsv"
done
xmlreg=$cache/reg-$xml_cards-s$seed.xml
if [ "$xml_cards" -gt 0 ]; then
	make_once "$xmlreg" "cards=$xml_cards seed=$seed xml" \
		python3 "$here/gen-register.py" --cards "$xml_cards" --seed "$seed" --format xml --out "$xmlreg"
fi

[ "$genonly" = 0 ] || { ls -l "$cache"; exit 0; }

# ---- load ---------------------------------------------------------------
verdicts=()
echo "== loading the register (cp-match --register FILE --load-only), one run each"
printf '%-28s %9s %9s %9s %9s\n' "" "cards" "MiB" "wall s" "RSS MiB"
for n in $sizes; do
	db=$(dbof "$n")
	rmdb "$db"
	cat "$(register "$n")" >/dev/null
	timed "$cpm" --db "$db" --register "$(register "$n")" --load-only
	[ "$t_status" -le 1 ] || { echo "$me: loading $(register "$n") failed" >&2; exit 1; }
	printf '%-28s %9s %9s %9s %9s\n' "CSV, fresh database" "$n" \
		$(( $(stat -c %s "$(register "$n")") / 1048576 )) "$t_wall" "$(mib "$t_rss")"
	timed "$cpm" --db "$db" --register "$(register "$n")" --load-only
	printf '%-28s %9s %9s %9s %9s\n' "CSV, again (nothing new)" "$n" "" "$t_wall" "$(mib "$t_rss")"
	[ -f "$db" ] && echo "   database: $(( $(stat -c %s "$db") / 1048576 )) MiB" >&2
done
if [ "$xml_cards" -gt 0 ]; then
	xdb=$work/match-xml.db
	rmdb "$xdb"
	cat "$xmlreg" >/dev/null
	timed "$cpm" --db "$xdb" --register "$xmlreg" --load-only
	printf '%-28s %9s %9s %9s %9s\n' "CommerceML, fresh database" "$xml_cards" \
		$(( $(stat -c %s "$xmlreg") / 1048576 )) "$t_wall" "$(mib "$t_rss")"
	[ "$t_status" -le 1 ] || echo "   (exit $t_status)"
	rmdb "$xdb"
fi
echo

# ---- match --------------------------------------------------------------
declare -A med rss
first=1
for g in $grid; do
	m=${g%:*} n=${g#*:}
	doc=$(orders "$m" "$n")
	db=$(dbof "$n")
	dec=$work/match-decisions-$m-$n.csv
	cat "$doc" >/dev/null
	xw="" cw="" mw="" mr="" mc_="" fails="" summary=""
	for ((r = 1; r <= repeat; r++)); do
		timed xmllint --stream --noout "$doc"
		[ "$t_status" -eq 0 ] || fails="$fails xmllint-exit-$t_status"
		xw="$xw $t_wall"
		timed "$check" -q "$doc"
		[ "$t_status" -le 1 ] || fails="$fails cml-check-exit-$t_status"
		cw="$cw $t_wall"
		timed "$cpm" --db "$db" --dry-run --summary --decisions "$dec" "$doc"
		[ "$t_status" -le 1 ] || fails="$fails cp-match-exit-$t_status"
		mw="$mw $t_wall" mr="$mr $t_rss" mc_="$mc_ $t_cpu"
		if [ "$r" = 1 ]; then
			out_bytes=$(stat -c %s "$work/.out.$$")
			summary=$(grep -v '^cp-match: order ' "$work/.err.$$" | head -n 30)
			warnings=$(grep -c '^cp-match: order ' "$work/.err.$$")
			docs_out=$(grep -c '<Документ>' "$work/.out.$$")
			[ "$docs_out" = "$m" ] || fails="$fails output-has-$docs_out-documents"
		fi
		echo "  $m:$n run $r: xmllint $(echo "$xw" | lastof) s, cml-check $(echo "$cw" | lastof) s, cp-match $(echo "$mw" | lastof) s" >&2
	done
	mx=$(echo "$xw" | median) mc=$(echo "$cw" | median) mm=$(echo "$mw" | median)
	med[$g]=$mm
	rss[$g]=$(mib "$(echo "$mr" | maxof)")
	echo "== $m buyers against $n cards: document $(( $(stat -c %s "$doc") / 1048576 )) MiB, output $(( out_bytes / 1048576 )) MiB; $repeat runs"
	printf '%-10s %9s %11s %9s   %s\n' "" "median s" "x xmllint" "RSS MiB" "runs (s)"
	printf '%-10s %9s %11s %9s  %s\n' xmllint "$mx" 1.00 - "$xw"
	printf '%-10s %9s %11s %9s  %s\n' cml-check "$mc" "$(ratio "$mc" "$mx")" - "$cw"
	printf '%-10s %9s %11s %9s  %s\n' cp-match "$mm" "$(ratio "$mm" "$mx")" "${rss[$g]}" "$mw"
	echo "cp-match CPU (user + system) s: median $(echo "$mc_" | median); runs:$mc_"
	awk -v m="$m" -v a="$mm" -v c="$mc" 'BEGIN {
		printf "per buyer: %.1f us in all, %.1f us on top of reading (cp-match - cml-check)\n",
			a / m * 1e6, (a - c) / m * 1e6 }'
	echo "cp-match's summary (first run; $warnings order warnings on stderr):"
	echo "$summary" | sed 's/^/   /'
	# gen-buyers' case of each order against the rule cp-match chose
	python3 - "$doc.tsv" "$dec" <<-'EOF'
	import collections, csv, sys
	case = {}
	for line in open(sys.argv[1], encoding="utf-8"):
	    f = line.rstrip("\n").split("\t")
	    case[f[0]] = f[1]
	tab = collections.Counter()
	try:
	    rows = csv.DictReader(open(sys.argv[2], encoding="utf-8"))
	    for r in rows:
	        tab[(case.get(r["order_number"], "?"), r["rule"])] += 1
	except (OSError, KeyError) as e:
	    print("   (no decisions to compare: %s)" % e)
	    sys.exit(0)
	print("   gen-buyers case -> cp-match rule (orders):")
	for (c, r), k in sorted(tab.items()):
	    print("     %-16s %-18s %7d" % (c, r, k))
	EOF
	[ -z "$fails" ] || echo "FAILED runs:$fails"
	echo
	if [ "$first" = 1 ]; then
		first=0
		timed "$cpm" --db "$db" --dry-run --summary --rule and "$doc"
		echo "== the old rule on the same $m buyers (--rule and --dry-run, one run): $t_wall s"
		grep -v '^cp-match: order ' "$work/.err.$$" | grep -i -e dup -e 'new card' -e buyers | sed 's/^/   /'
		echo
	fi
	[ "$m" = 100000 ] && [ "$n" = 1000000 ] && {
		v=FAIL
		[ -z "$fails" ] && ok "$mm" 10 && ok "${rss[$g]}" 511 && v=pass
		verdicts+=("$v  100k buyers against 1M cards: ${mm} s < 10 s, peak RSS ${rss[$g]} MiB < 512 MiB")
	}
	[ -z "$fails" ] || verdicts+=("FAIL  $m:$n: runs failed:$fails")
done

# growth: at most linear, with 20% for noise
growth() { # label small big factor
	local a=${med[$1]:-} b=${med[$2]:-}
	[ -n "$a" ] && [ -n "$b" ] || return 0
	local q
	q=$(ratio "$b" "$a")
	if ok "$q" "$(awk -v f="$4" 'BEGIN {print f * 1.2}')"; then v=pass; else v=FAIL; fi
	verdicts+=("$v  $3: ${b} s / ${a} s = ${q}x for ${4}x the input (RSS ${rss[$1]} -> ${rss[$2]} MiB)")
}
growth 10000:1000000 100000:1000000 "buyers 10k -> 100k at 1M cards" 10
growth 100000:100000 100000:1000000 "cards 100k -> 1M at 100k buyers" 10

# ---- --self -------------------------------------------------------------
if [ "$self" = 1 ]; then
	db=$(dbof "$largest")
	plan=$work/match-plan.csv
	sw="" sr=""
	for ((r = 1; r <= repeat; r++)); do
		timed "$cpm" --db "$db" --self --plan "$plan"
		[ "$t_status" -le 1 ] || { echo "$me: cp-match --self exited $t_status" >&2; sw="$sw 999"; }
		sw="$sw $t_wall" sr="$sr $t_rss"
		echo "  --self on $largest cards run $r: $t_wall s" >&2
	done
	ms=$(echo "$sw" | median)
	echo "== cp-match --self on $largest cards (the merge plan, nothing merged): median $ms s, peak RSS $(mib "$(echo "$sr" | maxof)") MiB; runs (s):$sw"
	if [ -s "$plan" ]; then
		echo "   plan: $(($(wc -l <"$plan") - 1)) rows; by action and key kind:"
		python3 - "$plan" <<-'EOF'
		import collections, csv, sys
		c = collections.Counter((r.get("action", "?"), r.get("key_kind", "?"))
		                        for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")))
		for (a, k), n in sorted(c.items()):
		    print("     %-8s %-10s %8d" % (a, k, n))
		EOF
	fi
	echo "   (gen-register planted $(( largest / 100 )) strong duplicates, $(( largest / 100 )) shared emails, $(( largest / 100 )) shared phones)"
	echo
	if [ "$largest" = 1000000 ]; then
		v=FAIL
		ok "$ms" 30 && v=pass
		verdicts+=("$v  --self on 1M cards: ${ms} s < 30 s")
	fi
	rm -f "$plan"
fi

for n in $sizes; do rmdb "$(dbof "$n")"; done
rm -f "$work"/match-decisions-*.csv
timed_cleanup
[ ${#verdicts[@]} -gt 0 ] || verdicts+=("(no target at these sizes: the targets need 100000:1000000, 10000:1000000 and 100000:100000)")
printf '%s\n' "${verdicts[@]}"
