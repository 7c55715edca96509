#!/bin/bash
# pull-kill.sh BINDIR SITE [RUNS]: orders-pull killed with SIGKILL at random
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
bin=$1
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
[ -x "$bin/orders-pull" ] || { echo "FAILED: no $bin/orders-pull"; exit 1; }
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
pull=("$bin/orders-pull" -q --site shop --db "$db" --url "$url" --user admin
	--password-file "$tmp/pw" --exchange-version "$version" --retry-wait 0.01)
# the runs the store committed (a run's row is written inside its
# transaction: a run rolled back or killed before its commit leaves none)
committed() { sql "$db" "SELECT count(*) FROM runs"; }
lines() { wc -l <"$tmp/site/sale.log"; }

# the reference: one uninterrupted pull of the 40 first orders
start=$(now_ms)
"${pull[@]}" >"$tmp/first.xml" 2>"$tmp/err" ||
	{ echo "FAILED: the reference pull: exit $?: $(cat "$tmp/err")"; exit 1; }
ms=$(($(now_ms) - start))
[ "$(ctl sale/state | python3 -c 'import json, sys; print(json.load(sys.stdin)["unconfirmed"])')" = 0 ] ||
	{ echo "FAILED: the reference pull left orders unconfirmed"; exit 1; }
echo "reference pull: 40 orders in ${ms} ms; $runs runs, schema $version"

fails=0
declare -A win=()
fail() { echo "FAILED: run $i ($how, killed after ${delay} ms): $*"; fails=$((fails + 1)); }
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
for i in $(seq 1 "$runs"); do
	# the shop between two runs: new orders, and changes to old ones,
	# confirmed or not; now and then a burst, for a longer transaction
	new=$((RANDOM % 4)) chg=$((RANDOM % 4))
	[ $((i % 10)) = 0 ] && new=$((new + 30))
	ctl "sale/step?new=$new&change=$chg" >/dev/null || { fail "sale/step failed"; continue; }
	# how this run is to be cut
	case $((i % 6)) in
	0) how=slow-query
	   ctl "fault?add=slow@query:1&slow=0.3" >/dev/null
	   delay=$((RANDOM % 300)) ;;
	1) how=slow-success
	   ctl "fault?add=slow@success:1&slow=0.3" >/dev/null
	   delay=$((ms / 2 + RANDOM % (ms + 300))) ;;
	2) how=drop-success
	   ctl "fault?add=drop@success:1" >/dev/null
	   delay=$((RANDOM % (ms + 50))) ;;
	3) how=cut-answer
	   ctl "fault?add=drop@query:1" >/dev/null
	   delay=$((RANDOM % (ms + 50))) ;;
	*) how=random
	   delay=$((RANDOM % (ms + 50))) ;;
	esac
	before_lines=$(lines)
	before_runs=$(committed)
	"${pull[@]}" >/dev/null 2>"$tmp/err.$i" &
	pid=$!
	ms_sleep "$delay"
	if kill -KILL "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		# where it was: what the site saw of this run, and the database
		seen=$(tail -n +"$((before_lines + 1))" "$tmp/site/sale.log" | cut -f1 | tr '\n' ' ')
		if [[ $seen == *success* ]]; then
			w=after-success
		elif [ "$(committed)" != "$before_runs" ]; then
			w=committed-before-success
		elif [[ $seen == *query* ]]; then
			w=answer-sent-not-committed
		else
			w=before-the-answer
		fi
	else
		wait "$pid"
		st=$?
		w=ended-before-the-kill
		# a cut answer or a dropped success ends the run with "retry"
		# (4); anything else but success is a failure
		[ $st -eq 0 ] || [ $st -eq 4 ] || fail "exit $st: $(head -3 "$tmp/err.$i")"
	fi
	win[$w]=$((${win[$w]:-0} + 1))
	rm -f "$tmp/err.$i"
	ctl "fault?clear=1" >/dev/null
	ic=$(sql "$db" "PRAGMA integrity_check")
	[ "$ic" = ok ] || fail "integrity_check: $ic"
done
leaks=$(find "$tmp/t" -mindepth 1 | wc -l)
rm -rf "$tmp/t" && mkdir "$tmp/t"

# to completion: what is left comes in and is confirmed
"${pull[@]}" >"$tmp/final.xml" 2>"$tmp/err"
st=$?
[ $st -eq 0 ] || fail "the final pull: exit $st: $(cat "$tmp/err")"
ctl sale/state >"$tmp/state.json"
ctl "sale/truth?version=$version" >"$tmp/truth.xml"
"$bin/orders-pull" --db "$db" --site shop --replay 1970-01-01 --format xml --schema 2.10 \
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
# no order has more revisions than the site made versions of it
db = sqlite3.connect(sys.argv[4])
versions = {o["id"]: o["version"] for o in orders}
tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
if "revisions" in tables and "orders" in tables:
    cols = [r[1] for r in db.execute("PRAGMA table_info(orders)")]
    idcol = "order_id" if "order_id" in cols else "id1c" if "id1c" in cols else None
    rows = db.execute("SELECT o.%s, count(*) FROM orders o JOIN revisions r ON r.order_rowid = o.rowid "
                      "GROUP BY o.rowid" % idcol).fetchall() if idcol and "order_rowid" in [
                          r[1] for r in db.execute("PRAGMA table_info(revisions)")] else []
    for oid, n in rows:
        if n > versions.get(oid, 0):
            bad.append("order %s: %d revisions for %d versions on the site" % (oid, n, versions.get(oid, 0)))
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
[ "$leaks" = 0 ] || echo "note: $leaks files left in TMPDIR by killed runs (SIGKILL leaves no chance to clean up)"
echo "$runs runs; $fails checks failed"
[ $fails -eq 0 ]
