#!/bin/bash
# push-orders-checks.sh BINDIR SITE: orders-push against the test
# site (SITE: tests/site/cmlsite.py), started here on 127.0.0.1 and stopped
# here. The ledger is filled with orders-pull from the site itself, so the
# site knows the orders; progress is recorded with orders-status.
#
# The happy path (confirm, invoice, pay, ship, complete, one push: the site
# shows the order paid, shipped, in status F, every line kept; the ledger
# marked delivered), both protocol forms, --output and --dry-run, nothing
# pending (no request at all), a site failure (failure, HTTP 500, a dropped
# upload; at mode=file and at mode=import) leaving the change pending and
# the next run delivering it, an order the site cannot change reported (exit
# 1) without holding back the other, an order the site does not know taken
# with success (marked delivered: all success proves), a step recorded
# while a push is on its way staying pending, and a document over the
# site's file_limit sent in halves to an old client.
set -u
bin=$1
site_py=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-opush.XXXXXX")
mkdir "$tmp/t"
export TMPDIR=$tmp/t
fails=0 passes=0
site_pid=
stop_site() {
	if [ -n "$site_pid" ]; then
		kill "$site_pid" 2>/dev/null
		wait "$site_pid" 2>/dev/null
		site_pid=
	fi
}
trap 'stop_site; rm -rf "$tmp"' EXIT INT TERM

command -v python3 >/dev/null || { echo "SKIP: no python3 for the test site"; exit 77; }
[ -x "$bin/orders-status" ] || { echo "FAILED: no orders-status in $bin"; exit 1; }
set_cmd=("$bin/orders-status")

ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() {
	fails=$((fails + 1))
	echo "FAILED: $1"
	echo "    exit $rc"
	sed 's/^/    stderr: /' "$tmp/err" | head -20
	head -c 600 "$tmp/out" | sed 's/^/    stdout: /'
	[ -f "$tmp/site/requests.log" ] && tail -5 "$tmp/site/requests.log" | sed 's/^/    site: /'
	[ -f "$tmp/site/applied.log" ] && tail -3 "$tmp/site/applied.log" | sed 's/^/    applied: /'
}
expect() { # description, condition (a shell command list, evaluated)
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}

printf 'Opush-9931-secret\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
start_site() { # extra cmlsite options
	stop_site
	rm -rf "$tmp/site"
	mkdir "$tmp/site"
	python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" --sale-orders 8 \
		--sale-seed 3 "$@" >"$tmp/site.out" 2>&1 &
	site_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
	[ -s "$tmp/site/port" ] || { echo "the test site did not start"; cat "$tmp/site.out"; exit 1; }
	port=$(cat "$tmp/site/port")
	url="http://127.0.0.1:$port/bitrix/admin/1c_exchange.php"
}
ctl() { python3 "$site_py" --dir "$tmp/site" --control "$1"; }
db=$tmp/cmlkit.db
opush() { # orders-push options: $rc, $tmp/out, $tmp/err
	"$bin/orders-push" --db "$db" --site shop --url "$url" --user admin \
		--password-file "$tmp/pw" --retry-wait 0.01 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
opush_bare() { # without the site options
	"$bin/orders-push" --db "$db" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
step() { # ORDER STEP...: recorded, or the test stops (the steps are the test's own)
	if ! "${set_cmd[@]}" --db "$db" --site shop set "$@" >"$tmp/set.out" 2>"$tmp/set.err"; then
		echo "FAILED: set $*: $(cat "$tmp/set.err")"
		fails=$((fails + 1))
	fi
}
status_is() { [ "$rc" = "$1" ]; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
requests() { # how many requests the site saw (of mode $1 when given)
	if [ $# = 0 ]; then
		wc -l <"$tmp/site/requests.log" 2>/dev/null || echo 0
	else
		awk -F'\t' -v m="$1" '$4 == m' "$tmp/site/requests.log" 2>/dev/null | wc -l
	fi
}
applied() { # how many documents the site applied to order ID $1
	awk -F'\t' -v id="$1" '$6 == id' "$tmp/site/applied.log" 2>/dev/null | wc -l
}
# a field of one order as the site shows it (sale/orders): ID FIELD
site_field() {
	ctl sale/orders | python3 -c '
import json, sys
d = json.load(sys.stdin)
for o in d["orders"]:
    if o["id"] == sys.argv[1]:
        v = o[sys.argv[2]]
        print(len(v) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}
sum_of() { site_field "$1" sum; }
sql() {
	python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "$db" "$1"
}
delivered() { sql "SELECT delivered FROM order_progress WHERE order_id = '$1'"; }
version() { sql "SELECT version FROM order_progress WHERE order_id = '$1'"; }
refusal() { sql "SELECT site_refusal FROM order_progress WHERE order_id = '$1'"; }
pending_none() { [ "$(sql 'SELECT count(*) FROM order_progress WHERE version > delivered')" = 0 ]; }
# Документ elements of the output
out_ids() {
	python3 - "$tmp/out" <<'EOF'
import re, sys
b = open(sys.argv[1], "rb").read()
enc = re.search(rb'encoding="([^"]+)"', b)
t = b.decode(enc.group(1).decode() if enc else "utf-8")
print(" ".join(re.findall(r"<Документ>\s*<Ид>([^<]*)</Ид>", t)))
EOF
}

start_site
"$bin/orders-pull" -q --db "$db" --site shop --url "$url" --user admin \
	--password-file "$tmp/pw" >/dev/null 2>"$tmp/err"
rc=$?
: >"$tmp/out"
expect "the ledger filled from the site: exit 0" 'status_is 0'

# ---- nothing pending ----

before=$(requests)
opush
expect "nothing pending: exit 0, quiet" 'status_is 0 && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]'
expect "nothing pending: not a single request" '[ "$(requests)" = "$before" ]'

# ---- the happy path, the old form (imported at mode=file) ----

lines=$(site_field 1001 lines)
step 1001 confirm invoice INV-1 2026-11-30 pay "$(sum_of 1001)" 2026-11-30 PAY-1 \
	ship 2026-12-01 SHIP-1 complete
opush
expect "happy path: exit 0, quiet" 'status_is 0 && [ ! -s "$tmp/err" ]'
expect "happy path: one upload, no import" '[ "$(requests file)" = 1 ] && [ "$(requests import)" = 0 ]'
expect "happy path: the site applied one document to 1001" '[ "$(applied 1001)" = 1 ]'
expect "happy path: paid by the payment date, with its number" \
	'[ "$(site_field 1001 paid)" = true ] && [[ $(site_field 1001 pay_date) == 2026-11-30* ]] &&
	 [ "$(site_field 1001 pay_number)" = PAY-1 ]'
expect "happy path: shipped by the shipment date, with its number" \
	'[ "$(site_field 1001 allow_delivery)" = true ] &&
	 [[ $(site_field 1001 delivery_date) == 2026-12-01* ]] &&
	 [ "$(site_field 1001 delivery_number)" = SHIP-1 ]'
expect "happy path: the final status F" '[ "$(site_field 1001 status)" = F ]'
expect "happy path: not cancelled" '[ "$(site_field 1001 canceled)" = false ]'
expect "happy path: every line kept ($lines)" '[ "$(site_field 1001 lines)" = "$lines" ]'
expect "happy path: the ledger marks the version sent delivered" \
	'[ "$(delivered 1001)" = "$(version 1001)" ] && [ "$(version 1001)" -ge 5 ]'
before=$(requests)
opush -v
expect "pushed again: exit 0, nothing sent" 'status_is 0 && [ "$(requests)" = "$before" ]'
expect "pushed again: -v says nothing is pending" 'err_has "nothing pending"'

# ---- the newer form: stored at mode=file, imported at mode=import ----

step ИМ-1002 confirm pay "$(sum_of 1002)" 2026-11-30
opush --exchange-version 2.08
expect "newer form: exit 0" 'status_is 0'
expect "newer form: imported at mode=import, after progress" \
	'[ "$(requests import)" -ge 2 ]'
expect "newer form: 1002 paid on the site, not shipped" \
	'[ "$(site_field 1002 paid)" = true ] && [ "$(site_field 1002 allow_delivery)" = false ]'
expect "newer form: delivered in the ledger" '[ "$(delivered 1002)" = "$(version 1002)" ]'

# ---- --dry-run, --output ----

step 1003 confirm
before=$(requests)
opush_bare --site shop --dry-run --date 2026-12-01T10:00:00
expect "dry run: exit 0, the document on stdout" 'status_is 0 && [ "$(out_ids)" = 1003 ]'
expect "dry run: no request" '[ "$(requests)" = "$before" ]'
expect "dry run: nothing marked" '[ "$(delivered 1003)" = 0 ]'
cp "$tmp/out" "$tmp/dry.xml"
opush_bare --site shop --dry-run --date 2026-12-01T10:00:00
expect "dry run again: the same bytes" 'status_is 0 && cmp -s "$tmp/out" "$tmp/dry.xml"'
"$bin/cml-check" -q "$tmp/dry.xml" >/dev/null 2>&1
expect "dry run: a document cml-check takes" '[ $? = 0 ]'
expect "dry run: every goods line of 1003 in it, and the delivery" \
	'[ "$(grep -o "<Товар><Ид>[^<]*" "$tmp/dry.xml" | grep -vc ORDER_DELIVERY)" = "$(site_field 1003 lines)" ] &&
	 grep -q "<Ид>ORDER_DELIVERY</Ид>" "$tmp/dry.xml"'
opush_bare --site shop -e windows-1251 --output "$tmp/orders.xml"
expect "--output FILE: exit 0, 1003 in the file" \
	'status_is 0 && cp "$tmp/orders.xml" "$tmp/out" && [ "$(out_ids)" = 1003 ]'
expect "--output FILE: windows-1251 as asked" 'head -c 60 "$tmp/orders.xml" | grep -qi windows-1251'
expect "--output FILE: no request, marked delivered" \
	'[ "$(requests)" = "$before" ] && [ "$(delivered 1003)" = "$(version 1003)" ]'
expect "--output FILE: no temporary file left beside it" \
	'[ -z "$(ls -A "$tmp" | grep cmlkit-tmp)" ]'
step 1003 invoice INV-3
opush_bare --site shop --output -
expect "--output -: exit 0, 1003 again with its invoice" \
	'status_is 0 && [ "$(out_ids)" = 1003 ] && grep -q INV-3 "$tmp/out"'
expect "--output -: marked" '[ "$(delivered 1003)" = "$(version 1003)" ]'
opush_bare --site shop --output -
expect "--output - again: nothing pending, nothing written" 'status_is 0 && [ ! -s "$tmp/out" ]'
step 1003 allow-shipment
opush_bare --site shop --output /dev/full
expect "--output to a full disk: exit 6, not marked" \
	'status_is 6 && [ "$(delivered 1003)" -lt "$(version 1003)" ]'
opush
expect "and the site gets it next" 'status_is 0 && [ "$(delivered 1003)" = "$(version 1003)" ] &&
	[ "$(applied 1003)" = 1 ]'
opush_bare --dry-run
expect "no site name: a usage error" 'status_is 2 && err_has "--site"'
opush_bare --site shop
expect "no site and no --output: a usage error" 'status_is 2 && err_has "--url"'

# ---- a site failure leaves the change pending; the next run delivers ----

n=1004
for fault in failure@file:1 http500@file drop@file failure@import:1 http500@import; do
	form=()
	case $fault in *@import*) form=(--exchange-version 2.08) ;; esac
	case $fault in failure*) want=5 ;; *) want=4 ;; esac
	step $n confirm
	ctl "fault?clear=1&add=$fault" >/dev/null
	was=$(applied $n)
	opush --retries 1 "${form[@]}"
	expect "$fault: exit $want, said" 'status_is $want && err_has "nothing marked"'
	expect "$fault: not marked, nothing applied" \
		'[ "$(delivered $n)" = 0 ] && [ "$(applied $n)" = "$was" ]'
	ctl "fault?clear=1" >/dev/null
	opush "${form[@]}"
	expect "$fault: the next run delivers" \
		'status_is 0 && [ "$(delivered $n)" = "$(version $n)" ] && [ "$(applied $n)" = $((was + 1)) ]'
	n=$((n + 1))
done

# ---- an order the site cannot change, beside one it takes ----

# 1001 is paid, shipped and final on the site: a refund is a new version
# the site refuses (its basket is locked); 1005 goes in the same document
step 1001 refund 100
step 1005 invoice INV-5
opush
expect "a locked order: exit 1" 'status_is 1'
expect "a locked order: named with the site's words" \
	'err_has "order ИМ-1001: the site cannot change it: Заказ №1001 не может быть изменен"'
expect "a locked order: marked with the refusal kept" \
	'[ "$(delivered 1001)" = "$(version 1001)" ] && [ -n "$(refusal 1001)" ]'
expect "a locked order: the other one delivered, without a refusal" \
	'[ "$(delivered 1005)" = "$(version 1005)" ] && [ -z "$(refusal 1005)" ]'
before=$(requests)
opush
expect "a locked order: not sent again" 'status_is 0 && [ "$(requests)" = "$before" ]'

# ---- an order the site does not know: success, and that is all ----

sed -e 's|<Ид>101</Ид>|<Ид>9101</Ид>|' -e 's|<Номер>101</Номер>|<Номер>9101</Номер>|' \
	"$(dirname "$0")/../data/pull/good-small.xml" >"$tmp/unknown.xml"
"$bin/orders-pull" -q --db "$db" --site shop "$tmp/unknown.xml" >/dev/null 2>&1
step 9101 confirm
opush
expect "an unknown order: exit 0 (the site said success)" 'status_is 0 && [ ! -s "$tmp/err" ]'
expect "an unknown order: the site ignored it" \
	'awk -F"\t" "\$3 == \"9101\" && \$6 == \"-\"" "$tmp/site/applied.log" | grep -q .'
expect "an unknown order: marked delivered all the same (success proves no more)" \
	'[ "$(delivered 9101)" = "$(version 9101)" ]'

# ---- a step recorded while a push is on its way stays pending ----

step 1006 confirm
ctl "fault?clear=1&add=slow@file:1&slow=2" >/dev/null
opush &
push_pid=$!
sleep 0.7
step 1006 invoice INV-6
wait $push_pid
rc=$?
ctl "fault?clear=1" >/dev/null
expect "during a push: the push delivered what it read" 'status_is 0 && [ "$(delivered 1006)" -ge 1 ]'
expect "during a push: the step recorded meanwhile is pending" \
	'[ "$(version 1006)" -gt "$(delivered 1006)" ]'
opush
expect "during a push: the next run delivers it" \
	'status_is 0 && [ "$(delivered 1006)" = "$(version 1006)" ] && pending_none'

# ---- an old client's document over the site's file_limit: in halves ----

start_site --file-limit 12000
for o in 1002 1003 1004 1005 1006 1007 1008; do step $o invoice "INV-L$o"; done
opush --limit 3
expect "--limit 3: exit 0, three orders sent, four pending" \
	'status_is 0 && [ "$(sql "SELECT count(*) FROM order_progress WHERE version > delivered")" = 4 ]'
opush
expect "over file_limit: exit 0" 'status_is 0'
expect "over file_limit: in halves, each upload within the limit" \
	'[ "$(requests file)" -ge 3 ] &&
	 awk -F"\t" "\$4 == \"file\" && \$6 + 0 > 12000 { exit 1 }" "$tmp/site/requests.log"'
expect "over file_limit: every order delivered" 'pending_none'

echo "passed: $passes, failed: $fails"
[ "$fails" = 0 ]
