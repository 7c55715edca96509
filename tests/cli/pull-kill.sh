#!/bin/bash
# pull-kill.sh PULL SITE [RUNS]: orders-pull (PULL: the program, or the
# directory holding it) killed with SIGKILL at random
# moments, RUNS times (default 200; CMLKIT_PULL_KILL_RUNS overrides), against
# the test site SITE (tests/site/cmlsite.py) whose shop gets new and changed
# orders before every run. The kill lands, by random delays and by the
# site's faults added for that run (a slow query answer, a slow or dropped
# success, an answer cut in the middle), before the query answer is read,
# while it is read and stored, between the commit and mode=success, or
# after the success; each run is counted in the window the site's sale.log
# and the database show it reached. After each run the database passes
# PRAGMA integrity_check. At the end orders-pull runs to completion, and:
#  - the site has no unconfirmed order left;
#  - the ledger holds every order the site ever made, each exactly once,
#    with its latest content (the site's truth, sale/truth, against
#    orders-pull --replay: number, sums, buyer, lines, requisites, the
#    2.10 payment and shipment documents), and no order has more revisions
#    than the site made versions of it;
#  - a last pull finds nothing new and writes nothing.
set -u
pull_bin=$1
site_py=$2
runs=${CMLKIT_PULL_KILL_RUNS:-${3:-200}}
version=${CMLKIT_PULL_KILL_VERSION:-2.10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-pullkill.XXXXXX")
site_pid=
cleanup() {
	[ -n "$site_pid" ] && { kill "$site_pid" 2>/dev/null; wait "$site_pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v python3 >/dev/null || { echo "SKIP: no python3 for the test site"; exit 77; }
for p in "$pull_bin" "$pull_bin/orders-pull" "$pull_bin/orders-pull/orders-pull"; do
	[ -f "$p" ] && [ -x "$p" ] && { pull_bin=$p; break; }
done
[ -f "$pull_bin" ] && [ -x "$pull_bin" ] || { echo "FAILED: no orders-pull at $1"; exit 1; }
sqlite3=$(command -v sqlite3)
curl=$(command -v curl)

printf 'pull-kill-pass\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
mkdir "$tmp/site" "$tmp/t"
python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" --sale-orders 40 --sale-seed 5 \
	>"$tmp/site.out" 2>&1 &
site_pid=$!
for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
[ -s "$tmp/site/port" ] || { echo "the test site did not start"; cat "$tmp/site.out"; exit 1; }
port=$(cat "$tmp/site/port")
url="http://127.0.0.1:$port/bitrix/admin/1c_exchange.php"

ctl() { # control request PATH: its answer on stdout (curl is faster than python3)
	if [ -n "$curl" ]; then
		"$curl" -sf "http://127.0.0.1:$port/cmlsite/$1"
	else
		python3 "$site_py" --dir "$tmp/site" --control "$1"
	fi
}
sql() { # DB SQL: the first column of the first row
	if [ -n "$sqlite3" ]; then
		"$sqlite3" "$1" "$2" 2>&1 | head -1
		return
	fi
	python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "$1" "$2"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
db=$tmp/ledger.db
# TMPDIR: where orders-pull keeps the query answer while it reads it
export TMPDIR=$tmp/t
pull=("$pull_bin" -q --site shop --db "$db" --url "$url" --user admin
	--password-file "$tmp/pw" --exchange-version "$version" --retry-wait 0.01)
# after a run, in one look: the runs the store committed (a run's row is
# written inside its transaction: a run rolled back or killed before its
# commit leaves none) and PRAGMA integrity_check
look() {
	if [ -n "$sqlite3" ]; then
		"$sqlite3" "$db" "SELECT count(*) FROM runs; PRAGMA integrity_check" 2>&1 | tr '\n' ' '
		return
	fi
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM runs").fetchone()[0],
      " ".join(r[0] for r in c.execute("PRAGMA integrity_check")))' "$db"
}
lines() { wc -l <"$tmp/site/sale.log"; }

# the reference: one uninterrupted pull of the 40 first orders
start=$(now_ms)
"${pull[@]}" >"$tmp/first.xml" 2>"$tmp/err" ||
	{ echo "FAILED: the reference pull: exit $?: $(cat "$tmp/err")"; exit 1; }
ms=$(($(now_ms) - start))
[ "$(ctl sale/state | python3 -c 'import json, sys; print(json.load(sys.stdin)["unconfirmed"])')" = 0 ] ||
	{ echo "FAILED: the reference pull left orders unconfirmed"; exit 1; }
# a run as the loop makes them: a few new and changed orders
ctl "sale/step?new=2&change=2" >/dev/null
start=$(now_ms)
"${pull[@]}" >/dev/null 2>"$tmp/err" || { echo "FAILED: a second pull: exit $?: $(cat "$tmp/err")"; exit 1; }
small=$(($(now_ms) - start))
echo "reference pulls: 40 orders in ${ms} ms, 4 in ${small} ms; $runs runs, schema $version"
read -r runs_now _ < <(look)

fails=0
declare -A win=()
fail() { echo "FAILED: run $i ($how, kill after ${delay} ms): $*"; fails=$((fails + 1)); }
# Watching the site's logs for a moment of the run, with builtins only
# (a process per look would miss the moment): tick waits 2 ms on a pipe
# nobody writes; watch_for FD PATTERN reads the lines appended to a log
# since the run began until one matches, or the pull has ended.
exec {zfd}<> <(:)
tick() { read -r -t 0.002 -u "$zfd" _; }
ms_sleep() {
	local t
	printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
	read -r -t "$t" -u "$zfd" _
}
watch_for() {
	local line
	while kill -0 "$pid" 2>/dev/null; do
		while IFS= read -r line <&"$1"; do
			# shellcheck disable=SC2053
			[[ $line == $2 ]] && return 0
		done
		tick
	done
	return 1
}
skip_to_end() { while read -r -u "$1" _; do :; done; }
exec {salefd}<"$tmp/site/sale.log" {reqfd}<"$tmp/site/requests.log"
for i in $(seq 1 "$runs"); do
	# the shop between two runs: new orders, and changes to old ones,
	# confirmed or not; now and then a burst, for a longer transaction
	new=$((RANDOM % 4)) chg=$((RANDOM % 4))
	[ $((i % 20)) = 0 ] && new=$((new + 30))
	ctl "sale/step?new=$new&change=$chg" >/dev/null || { fail "sale/step failed"; continue; }
	# how this run is to be cut: a fault for this run (the last run's
	# removed), then a random delay, or a watch for a moment of it: the
	# site answering the query, the success arriving (after the commit),
	# the site confirming
	watch= after=0 fault=
	case $((i % 8)) in
	0) how=slow-query fault="&add=slow@query:1&slow=0.3"
	   delay=$((RANDOM % 330)) ;;
	1) how=after-the-answer watch="$salefd:query	*" after=$((RANDOM % 30)) ;;
	2) how=dropped-success fault="&add=drop@success:5"
	   watch="$reqfd:*	sale	success	*" after=$((RANDOM % 20)) ;;
	3) how=slow-success fault="&add=slow@success:1&slow=0.4"
	   delay=$((small * 3 / 4 + RANDOM % 400)) ;;
	4) how=after-success watch="$salefd:success	*" after=$((RANDOM % 50)) ;;
	5) how=cut-answer fault="&add=drop@query:1"
	   delay=$((RANDOM % (small + 50))) ;;
	*) how=random
	   delay=$((RANDOM % (small + 50))) ;;
	esac
	ctl "fault?clear=1$fault" >/dev/null || { fail "the fault request failed"; continue; }
	skip_to_end "$salefd"
	skip_to_end "$reqfd"
	before_lines=$(lines)
	"${pull[@]}" >/dev/null 2>"$tmp/err.$i" &
	pid=$!
	t0=$EPOCHREALTIME
	if [ -n "$watch" ]; then
		watch_for "${watch%%:*}" "${watch#*:}"
		ms_sleep "$after"
	else
		ms_sleep "$delay"
	fi
	kill -KILL "$pid" 2>/dev/null
	t1=$EPOCHREALTIME
	delay=$(( (${t1/./} - ${t0/./}) / 1000 ))
	wait "$pid" 2>/dev/null # (bash's "Killed" notice)
	st=$?
	read -r runs_after ic < <(look)
	[ "$ic" = ok ] || fail "integrity_check: $ic"
	if [ $st = 137 ]; then # 128 + SIGKILL: the kill, not the end, stopped it
		# where it was: what the site saw of this run, and the database
		seen=$(tail -n +"$((before_lines + 1))" "$tmp/site/sale.log" | cut -f1 | tr '\n' ' ')
		if [[ $seen == *success* ]]; then
			w=after-success
		elif [ "$runs_after" != "$runs_now" ]; then
			w=committed-before-success
		elif [[ $seen == *query* ]]; then
			w=answer-sent-not-committed
		else
			w=before-the-answer
		fi
	else
		w=ended-before-the-kill
		# a cut answer or a dropped success may end the run with "retry"
		# (4); anything else but success is a failure
		[ $st -eq 0 ] || [ $st -eq 4 ] || fail "exit $st: $(head -3 "$tmp/err.$i")"
	fi
	runs_now=$runs_after
	win[$w]=$((${win[$w]:-0} + 1))
	[ -z "${CMLKIT_PULL_KILL_VERBOSE:-}" ] || echo "run $i: $how, kill after $delay ms: $w (exit $st)"
	rm -f "$tmp/err.$i"
done
leaks=$(cd "$tmp/t" && find . -mindepth 1 | sed 's|^\./||' | tr '\n' ' ')
rm -rf "$tmp/t" && mkdir "$tmp/t"

# to completion: what is left comes in and is confirmed
"${pull[@]}" >"$tmp/final.xml" 2>"$tmp/err"
st=$?
[ $st -eq 0 ] || fail "the final pull: exit $st: $(cat "$tmp/err")"
ctl sale/state >"$tmp/state.json"
ctl "sale/truth?version=$version" >"$tmp/truth.xml"
"$pull_bin" --db "$db" --site shop --replay 1970-01-01 --format xml --schema 2.10 \
	>"$tmp/replay.xml" 2>"$tmp/err" || fail "--replay: exit $?: $(cat "$tmp/err")"
"${pull[@]}" >"$tmp/again.xml" 2>"$tmp/err" || fail "a pull after the final one: exit $?: $(cat "$tmp/err")"
[ ! -s "$tmp/again.xml" ] || fail "a pull after the final one wrote $(wc -c <"$tmp/again.xml") bytes"
i=end how=final delay=0
python3 - "$tmp/state.json" "$tmp/truth.xml" "$tmp/replay.xml" "$db" <<'EOF' || fail "the ledger against the site's truth (above)"
import json, re, sqlite3, sys
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation

state = json.load(open(sys.argv[1]))
truth = ET.parse(sys.argv[2]).getroot()
replay = ET.parse(sys.argv[3]).getroot()
bad = []


def local(tag):
    return tag.rsplit("}", 1)[-1]


def kids(el, name):
    return [c for c in el if local(c.tag) == name]


def text(el, *path):
    for name in path:
        found = kids(el, name) if el is not None else []
        el = found[0] if found else None
    return (el.text or "").strip() if el is not None else ""


def num(s):
    try:
        return str(Decimal(s.replace(",", ".")).normalize())
    except InvalidOperation:
        return s


def requisites(el):
    return {text(r, "Наименование"): text(r, "Значение")
            for g in kids(el, "ЗначенияРеквизитов") for r in kids(g, "ЗначениеРеквизита")}


def canon(d):
    """What must survive the ledger: every field the site changes, and more."""
    buyer = [b for g in kids(d, "Контрагенты") for b in kids(g, "Контрагент")]
    reps = sorted((text(r, "Ид") or text(r, "Контрагент", "Ид"),
                   text(r, "Наименование") or text(r, "Контрагент", "Наименование"))
                  for b in buyer for g in kids(b, "Представители") for r in kids(g, "Представитель"))
    lines = [(text(t, "Ид"), text(t, "Наименование"),
              num(text(t, "ЦенаЗаЕдиницу") or text(t, "Цена")), num(text(t, "Количество")),
              num(text(t, "Сумма"))) for g in kids(d, "Товары") for t in kids(g, "Товар")]
    return {
        "Номер": text(d, "Номер"), "Дата": text(d, "Дата"), "Время": text(d, "Время"),
        "ХозОперация": text(d, "ХозОперация"), "Валюта": text(d, "Валюта"),
        "Сумма": num(text(d, "Сумма")), "Комментарий": text(d, "Комментарий"),
        "Основание": text(d, "Основание"),
        "buyer": [(text(b, "Ид"), text(b, "Наименование"), text(b, "ИНН"), text(b, "КПП"),
                   sorted((text(c, "Тип"), text(c, "Значение"))
                          for g in kids(b, "Контакты") for c in kids(g, "Контакт")))
                  for b in buyer],
        "representatives": reps, "lines": lines, "requisites": requisites(d)}


def documents(root):
    """Ид -> [canonical documents] of every Документ, in or out of a Контейнер."""
    out = {}
    for d in root.iter():
        if local(d.tag) == "Документ":
            out.setdefault(text(d, "Ид"), []).append(canon(d))
    return out


want = documents(truth)
got = documents(replay)
for oid, docs in sorted(got.items()):
    if len(docs) != 1:
        bad.append("document %s is %d times in the ledger's replay" % (oid, len(docs)))
for oid in sorted(set(want) - set(got)):
    bad.append("document %s of the site is not in the ledger" % oid)
for oid in sorted(set(got) - set(want)):
    bad.append("document %s of the ledger is not on the site" % oid)
for oid in sorted(set(want) & set(got)):
    w, g = want[oid][0], got[oid][0]
    for k in w:
        if w[k] != g[k]:
            bad.append("document %s: %s differs:\n    site:   %s\n    ledger: %s" % (oid, k, w[k], g[k]))
left = [o["id"] for o in state["orders"] if o["unconfirmed"]]
if left:
    bad.append("unconfirmed on the site after the final pull: %s" % " ".join(left))
orders = [o for o in state["orders"]]
print("site: %d orders, %d versions made, %d queries, %d successes, %d errors; "
      "ledger replay: %d documents" % (len(orders), sum(o["version"] for o in orders),
                                        state["queries"], state["successes"], state["errors"],
                                        sum(len(v) for v in got.values())))
# the ledger's tables (cmlkit-db(5)): each order once, and no order with
# more revisions than the site made versions of it (an unchanged re-pull
# makes none)
db = sqlite3.connect(sys.argv[4])
versions = {o["id"]: o["version"] for o in orders}
rows = db.execute("SELECT o.id, count(r.revision), max(r.revision), o.revision FROM orders o "
                  "JOIN order_revisions r ON r.oid = o.oid WHERE o.site = 'shop' "
                  "GROUP BY o.oid").fetchall()
if sorted(r[0] for r in rows) != sorted(versions):
    bad.append("the ledger's orders table: %d orders, the site %d" % (len(rows), len(versions)))
for oid, n, top, latest in rows:
    if n > versions.get(oid, 0) or n != top or top != latest:
        bad.append("order %s: %d revisions (latest %d, %d on the order) for %d versions on the site"
                   % (oid, n, top, latest, versions.get(oid, 0)))
revisions = sum(r[1] for r in rows)
print("ledger: %d orders, %d revisions" % (len(rows), revisions))
for b in bad[:20]:
    print(b)
if len(bad) > 20:
    print("... and %d more" % (len(bad) - 20))
sys.exit(1 if bad else 0)
EOF
echo "windows the kills landed in:"
for w in before-the-answer answer-sent-not-committed committed-before-success after-success \
	ended-before-the-kill; do
	printf '  %-28s %d\n' "$w" "${win[$w]:-0}"
done
[ -z "$leaks" ] || echo "note: left in TMPDIR by killed runs (SIGKILL leaves no chance to clean up): $leaks"
echo "$runs runs; $fails checks failed"
[ $fails -eq 0 ]
