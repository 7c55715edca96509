#!/bin/bash
# status-checks.sh BINDIR DATA: orders-status through the program, over a
# ledger filled by orders-pull from DATA/status/orders.xml (README there).
#
# The happy path (confirm, invoice, pay, ship, complete); the seed's
# broken sequence (a shipment before any invoice) refused with the rule
# and nothing changed, the steps before it in the same set included;
# partial payment and shipment by quantities, overpayment and
# overshipment refused; cancel refused after shipment, refused when paid
# until a refund, then allowed; a stale CSV update ignored and reported;
# a batch applying the legal rows and listing the refused; 1C's
# CommerceML documents (ours and a real one from the corpus); the status
# map changing what a document's code does; show and list against golden
# files; bad input (CSV, XML, steps) refused whole; usage errors before
# the database; an ambiguous order; standard input.
set -u
bin=$1
data=$2
here=$(cd "$(dirname "$0")" && pwd)
golden=$here/golden
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-status.XXXXXX")
mkdir "$tmp/t"
export TMPDIR=$tmp/t
unset CMLKIT_SITE CMLKIT_DB
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
s=$data/status

if ! command -v python3 >/dev/null; then
	echo "python3 is missing: the outputs cannot be parsed"
	exit 77
fi

ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() {
	fails=$((fails + 1))
	echo "FAILED: $1"
	echo "    exit $rc"
	sed 's/^/    stderr: /' "$tmp/err" | head -20
	head -c 1200 "$tmp/out" | sed 's/^/    stdout: /'
}
expect() { # description, condition (a shell command list, evaluated)
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}

db=$tmp/cmlkit.db
fresh() { # the ledger with the four orders of orders.xml, site shop
	rm -f "$db" "$db"-* "$db".*
	if ! "$bin/orders-pull" --db "$db" --site shop "$s/orders.xml" >/dev/null 2>"$tmp/err"; then
		rc=$?
		bad "orders-pull fills the ledger"
		exit 1
	fi
}
ost() { # orders-status options: $rc, $tmp/out, $tmp/err
	"$bin/orders-status" --db "$db" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	# under the Sanitize build a finding is a failure whatever the status
	if grep -qE "Sanitizer|runtime error:" "$tmp/err"; then bad "sanitizer: orders-status $*"; fi
}
status_is() { [ "$rc" = "$1" ]; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
out_has() { grep -qF -- "$1" "$tmp/out"; }
no_output() { [ ! -s "$tmp/out" ]; }
# a field of `show ORDER --format json`: jf ORDER EXPR (python, o = the object)
jf() {
	"$bin/orders-status" --db "$db" show "$1" --format json 2>/dev/null |
		python3 -c 'import json,sys; o=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}
# the state and facets of an order in one word: "confirmed/issued/partial/none"
facets() { jf "$1" '"/".join([o["state"],o["invoice"],o["payment"],o["shipment"]])'; }
nsteps() { jf "$1" 'len(o["steps"])'; }
# the whole list, for "nothing changed"
snapshot() { "$bin/orders-status" --db "$db" list --format jsonl 2>/dev/null; }
# times and runs vary: ISO times become @TIME@
norm() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z/@TIME@/g' "$1"; }
golden_is() { # NAME: $tmp/out (normalised) against golden/NAME.out
	norm "$tmp/out" >"$tmp/norm"
	if [ "${CMLKIT_UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$tmp/norm" "$golden/$1.out"
		return 0
	fi
	diff -u "$golden/$1.out" "$tmp/norm"
}

# ---- the seed's story: a shipment before any invoice ----

fresh
before=$(snapshot)
ost set ИМ-1001 confirm ship
expect "ship before the invoice: refused, exit 3" 'status_is 3'
expect "ship before the invoice: the rule said" \
	'err_has "order ИМ-1001: ship refused: " && err_has "a shipment cannot be recorded before the invoice (postpaid terms are an explicit option)"'
expect "ship before the invoice: the order's state said (with this set's confirm)" \
	'err_has "the order is confirmed, invoice none, payment none, shipment none"'
expect "ship before the invoice: nothing changed, said" 'err_has "order ИМ-1001: nothing changed"'
expect "ship before the invoice: not even the confirm before it stays" \
	'[ "$(snapshot)" = "$before" ] && [ "$(facets ИМ-1001)" = "new/none/none/none" ] && [ "$(nsteps ИМ-1001)" = 0 ]'
ost set ИМ-1001 postpaid confirm ship
expect "on postpaid terms the same shipment is allowed" \
	'status_is 0 && [ "$(facets ИМ-1001)" = "confirmed/none/none/full" ]'

# ---- the happy path ----

fresh
ost set ИМ-1001 confirm
expect "happy path: confirm" 'status_is 0 && no_output && [ "$(facets ИМ-1001)" = "confirmed/none/none/none" ]'
ost set 1001 invoice СЧ-1 2026-11-30
expect "happy path: invoice (the order by its Ид)" \
	'status_is 0 && [ "$(facets ИМ-1001)" = "confirmed/issued/none/none" ]'
ost set ИМ-1001 pay 500 2026-12-01 ПП-1
expect "happy path: pay in full" 'status_is 0 && [ "$(facets ИМ-1001)" = "confirmed/issued/full/none" ]'
ost set ИМ-1001 ship 2026-12-02 РН-1
expect "happy path: ship every line's rest" \
	'status_is 0 && [ "$(facets ИМ-1001)" = "confirmed/issued/full/full" ]'
expect "happy path: the goods line shipped, the delivery line a service" \
	'[ "$(jf ИМ-1001 "[(l[\"shipped\"], l[\"service\"]) for l in o[\"lines\"]]")" = "[('"'3'"', False), ('"'0'"', True)]" ]'
ost set ИМ-1001 complete
expect "happy path: complete" 'status_is 0 && [ "$(facets ИМ-1001)" = "completed/issued/full/full" ]'
expect "happy path: five steps logged from the command line, versions 1..5" \
	'[ "$(jf ИМ-1001 "\" \".join(\"%s:%s:%d\" % (p[\"step\"], p[\"source\"], p[\"version\"]) for p in o[\"steps\"])")" = "confirm:cli:1 invoice:cli:2 pay:cli:3 ship:cli:4 complete:cli:5" ]'
expect "happy path: the documents recorded" \
	'[ "$(jf ИМ-1001 "o[\"invoice_number\"]+\" \"+o[\"payment_number\"]+\" \"+o[\"shipment_date\"]")" = "СЧ-1 ПП-1 2026-12-02" ]'
expect "happy path: pending delivery (nothing pushed yet)" '[ "$(jf ИМ-1001 "o[\"pending\"]")" = True ]'
ost set ИМ-1001 complete
expect "complete again: already so, reported, exit 0" \
	'status_is 0 && err_has "order ИМ-1001: complete: nothing to do, the order is already so" && [ "$(nsteps ИМ-1001)" = 5 ]'
ost set ИМ-1001 cancel "передумал"
expect "a completed order takes no cancel" 'status_is 3 && err_has "cancel refused"'

# the same order in one set
fresh
ost set ИМ-1001 confirm invoice СЧ-1 2026-11-30 pay 500 2026-12-01 ПП-1 ship 3 0 2026-12-02 РН-1 complete
expect "happy path in one set: completed" \
	'status_is 0 && [ "$(facets ИМ-1001)" = "completed/issued/full/full" ] && [ "$(nsteps ИМ-1001)" = 5 ]'

# show and list against golden files (times normalised)
ost set ИМ-1002 confirm invoice СЧ-2 pay 400 2026-12-01
ost show ИМ-1001
expect "show: golden" 'status_is 0 && golden_is orders-status-show'
ost show ИМ-1002 --format json
expect "show --format json: golden" 'status_is 0 && golden_is orders-status-show-json'
ost list
expect "list: golden (CSV, every order, new ones too)" 'status_is 0 && golden_is orders-status-list'
ost list --state confirmed,completed --format jsonl
expect "list --state confirmed,completed --format jsonl: golden" 'status_is 0 && golden_is orders-status-list-jsonl'
ost list --state cancelled
expect "list of no order: the header alone" 'status_is 0 && [ "$(wc -l <"$tmp/out")" = 1 ] && out_has "site,order_id,number"'
ost list --pending --site shop --format jsonl
expect "list --pending: the two with steps" 'status_is 0 && [ "$(wc -l <"$tmp/out")" = 2 ]'
ost list --site other
expect "list --site of no order: the header alone" 'status_is 0 && [ "$(wc -l <"$tmp/out")" = 1 ]'

# ---- partial payment and shipment ----

fresh
ost set ИМ-1002 confirm invoice СЧ-2 pay 400 ship 1 0
expect "partial: pay 400 of 1000, ship 1 of 2 irons" \
	'status_is 0 && [ "$(facets ИМ-1002)" = "confirmed/issued/partial/partial" ]'
expect "partial: the shipped quantities by line" \
	'[ "$(jf ИМ-1002 "[l[\"shipped\"] for l in o[\"lines\"]]")" = "['"'1', '0'"']" ]'
ost set ИМ-1002 pay 700
expect "overpayment refused with the figures" 'status_is 3 && err_has "pay refused" && err_has "paid 400 of 1000"'
ost set ИМ-1002 ship 2 0
expect "overshipment refused" 'status_is 3 && err_has "ship refused"'
ost set ИМ-1002 complete
expect "complete before full payment and shipment refused" 'status_is 3 && err_has "complete refused"'
ost set ИМ-1002 ship 1 1 pay 600 complete
expect "the rest shipped and paid: completed" \
	'status_is 0 && [ "$(facets ИМ-1002)" = "completed/issued/full/full" ]'

# ---- cancel ----

fresh
ost set ИМ-1004 confirm invoice СЧ-4 ship 1
ost set ИМ-1004 cancel "клиент отказался"
expect "cancel after shipment refused" \
	'status_is 3 && err_has "cancel refused" && [ "$(facets ИМ-1004)" = "confirmed/issued/none/partial" ]'
ost set ИМ-1001 confirm pay 500
ost set ИМ-1001 cancel "клиент отказался"
expect "cancel of a paid order refused: refund first" \
	'status_is 3 && err_has "cancel refused" && [ "$(facets ИМ-1001)" = "confirmed/none/full/none" ]'
ost set ИМ-1001 refund 500 cancel "клиент отказался"
expect "refund then cancel: cancelled" \
	'status_is 0 && [ "$(facets ИМ-1001)" = "cancelled/none/none/none" ] && [ "$(jf ИМ-1001 "o[\"cancel_reason\"]")" = "клиент отказался" ]'
ost set ИМ-1001 uncancel
expect "uncancel: new again" 'status_is 0 && [ "$(facets ИМ-1001)" = "new/none/none/none" ]'

# ---- CSV: stale updates, a batch, bad files ----

fresh
printf 'order,step,version,note\n1001,confirm,3,first\n' >"$tmp/v3.csv"
ost apply "$tmp/v3.csv"
expect "CSV version 3: applied, exit 0" 'status_is 0 && [ "$(facets ИМ-1001)" = "confirmed/none/none/none" ]'
expect "CSV: the step's source is the file and line" \
	'[ "$(jf ИМ-1001 "o[\"steps\"][0][\"source\"]")" = "csv:$tmp/v3.csv:2" ]'
printf 'order,step,number,version\nИМ-1001,invoice,СЧ-9,3\n' >"$tmp/v3b.csv"
ost apply "$tmp/v3b.csv"
expect "CSV the same version again: stale, ignored, reported, exit 1" \
	'status_is 1 && err_has "v3b.csv:2: order ИМ-1001: invoice: stale" && [ "$(facets ИМ-1001)" = "confirmed/none/none/none" ]'
sed 's/,3$/,2/' "$tmp/v3b.csv" >"$tmp/v2.csv"
ost apply "$tmp/v2.csv"
expect "CSV an older version: stale" 'status_is 1 && err_has "stale" && [ "$(nsteps ИМ-1001)" = 1 ]'
sed 's/,3$/,4/' "$tmp/v3b.csv" >"$tmp/v4.csv"
ost apply "$tmp/v4.csv"
expect "CSV a newer version: applied" 'status_is 0 && [ "$(facets ИМ-1001)" = "confirmed/issued/none/none" ]'
printf 'order,step,changed\n1001,allow-shipment,2026-11-30T10:00:00\n' >"$tmp/c1.csv"
printf 'order,step,changed\n1001,confirm,2026-11-30T09:00:00\n' >"$tmp/c0.csv"
ost apply "$tmp/c1.csv"
ost apply "$tmp/c0.csv"
expect "CSV by change time: an earlier one is stale" 'status_is 1 && err_has "stale"'

fresh
cat >"$tmp/batch.csv" <<'EOF'
order,step,number,date,amount,qty,reason,version
ИМ-1001,confirm,,,,,,7
ИМ-1001,ship,,,,,,7
ИМ-1004,confirm,,,,,,1
ИМ-1004,invoice,СЧ-4,2026-11-30,,,,1
ИМ-9999,confirm,,,,,,1
ИМ-1004,pay,,,999,,,2
ИМ-1004,ship,РН-4,2026-11-30,,1,,2
EOF
ost apply "$tmp/batch.csv"
expect "batch: exit 1 (something refused)" 'status_is 1'
expect "batch: the shipment before the invoice listed with its line" \
	'err_has "batch.csv:3: order ИМ-1001: ship refused: " && err_has "a shipment cannot be recorded before the invoice"'
expect "batch: the unknown order listed" 'err_has "batch.csv:6: order ИМ-9999: not in the ledger"'
expect "batch: the overpayment listed" 'err_has "batch.csv:7: order ИМ-1004: pay refused"'
expect "batch: the legal rows applied" \
	'[ "$(facets ИМ-1001)" = "confirmed/none/none/none" ] && [ "$(facets ИМ-1004)" = "confirmed/issued/none/partial" ]'
before=$(snapshot)
cat "$tmp/batch.csv" | ost apply -
expect "the same batch from stdin: stale every row, nothing changed" \
	'status_is 1 && err_has "-:2: order ИМ-1001: confirm: stale" && [ "$(snapshot)" = "$before" ]'

fresh
before=$(snapshot)
printf 'order,step\n1001,confirm\n1004,shipp\n' >"$tmp/bad-step.csv"
ost apply "$tmp/bad-step.csv"
expect "bad CSV: an unknown step refuses the file whole, exit 3" \
	'status_is 3 && err_has "bad-step.csv:3: column step: '"'"'shipp'"'"' is not a step" && err_has "nothing applied" && [ "$(snapshot)" = "$before" ]'
printf 'order,step,amount\n1001,confirm,\n1001,pay,abc\n' >"$tmp/bad-amount.csv"
ost apply "$tmp/bad-amount.csv"
expect "bad CSV: a bad amount, exit 3, nothing changed" \
	'status_is 3 && err_has "bad-amount.csv:3: column amount" && [ "$(snapshot)" = "$before" ]'
printf 'order,step,amount\n1001,confirm,5\n' >"$tmp/bad-extra.csv"
ost apply "$tmp/bad-extra.csv"
expect "bad CSV: an amount on a confirm row, exit 3" \
	'status_is 3 && err_has "bad-extra.csv:2: column amount: confirm takes no amount" && [ "$(snapshot)" = "$before" ]'
printf 'order,step,colour\n1001,confirm,red\n' >"$tmp/bad-col.csv"
ost apply "$tmp/bad-col.csv"
expect "bad CSV: an unknown column, exit 3" 'status_is 3 && err_has "unknown column '"'"'colour'"'"'"'
printf 'order,step\n1001,confirm\n1004,"confirm\n' >"$tmp/bad-quote.csv"
ost apply "$tmp/bad-quote.csv"
expect "bad CSV: an unterminated quote, exit 3, nothing changed" \
	'status_is 3 && err_has "bad-quote.csv:3" && [ "$(snapshot)" = "$before" ]'
printf 'product_id,name\np1,x\n' >"$tmp/catalog.csv"
ost apply "$tmp/catalog.csv"
expect "a catalog table is no progress: exit 3" 'status_is 3 && err_has "not an order progress table"'
head -c 1500 "$s/1c-1002.xml" >"$tmp/broken.xml"
ost apply "$tmp/broken.xml"
expect "broken XML: exit 3 with file and line, nothing changed" \
	'status_is 3 && err_has "broken.xml:" && [ "$(snapshot)" = "$before" ]'
ost apply "$tmp/no-such.csv"
expect "a missing file: exit 3" 'status_is 3 && err_has "no-such.csv"'

# ---- 1C's documents ----

fresh
ost apply "$s/1c-1002.xml"
expect "1C document: exit 0" 'status_is 0'
expect "1C document: confirmed, invoiced, paid 600 of 1000, the irons shipped" \
	'[ "$(facets ИМ-1002)" = "confirmed/issued/partial/partial" ] && [ "$(jf ИМ-1002 "o[\"paid\"]+\" \"+o[\"invoice_number\"]")" = "600 СЧ-1002" ] && [ "$(jf ИМ-1002 "[l[\"shipped\"] for l in o[\"lines\"]]")" = "['"'2', '0'"']" ]'
expect "1C document: the steps' source is the file" \
	'jf ИМ-1002 "o[\"steps\"][0][\"source\"]" | grep -q "^cml:$s/1c-1002.xml:"'
n=$(nsteps ИМ-1002)
ost apply "$s/1c-1002.xml"
expect "1C document again: nothing applied twice" '[ "$(nsteps ИМ-1002)" = "$n" ] && [ "$rc" -le 1 ]'

fresh
ost apply - <"$s/1c-1002.xml"
expect "1C document from standard input: applied, its source '-'" \
	'status_is 0 && [ "$(facets ИМ-1002)" = "confirmed/issued/partial/partial" ] && [ "$(jf ИМ-1002 "o[\"steps\"][0][\"source\"]")" = "cml:-:3" ]'
ost -q set ИМ-1002 confirm
expect "-q: a step already so is not reported" 'status_is 0 && [ ! -s "$tmp/err" ]'

# the status map: D means nothing until it is mapped
fresh
ost map
expect "map: the defaults N, P, F" \
	'status_is 0 && out_has ",N,new,true," && out_has ",P,confirmed,true," && out_has ",F,completed,true,"'
ost apply "$s/1c-1003-status.xml"
expect "an unmapped code: reported, exit 1, nothing done" \
	'status_is 1 && err_has "the status code D is not in the map" && [ "$(facets ИМ-1003)" = "new/none/none/none" ]'
ost --site shop map set D confirmed --name Доставляется
expect "map set D confirmed" 'status_is 0'
ost map --format jsonl
expect "map: D listed for site shop" 'status_is 0 && out_has "\"site\":\"shop\",\"code\":\"D\",\"state\":\"confirmed\",\"send\":false,\"name\":\"Доставляется\""'
sed 's/2026-11-28 10:00:00/2026-11-28 11:00:00/' "$s/1c-1003-status.xml" >"$tmp/d11.xml"
ost apply "$tmp/d11.xml"
expect "the same code, now mapped: confirmed" 'status_is 0 && [ "$(facets ИМ-1003)" = "confirmed/none/none/none" ]'
ost --site shop map del D
expect "map del D" 'status_is 0'
ost map
expect "map: D gone" 'status_is 0 && ! out_has ",D,"'
ost set ИМ-1003 invoice СЧ-3 pay 1200 ship
sed 's/\[D\] Доставляется/[F] Выполнен/; s/>D</>F</; s/2026-11-28 10:00:00/2026-11-28 12:00:00/' \
	"$s/1c-1003-status.xml" >"$tmp/f12.xml"
ost apply "$tmp/f12.xml"
expect "the default F completes" 'status_is 0 && [ "$(facets ИМ-1003)" = "completed/issued/full/full" ]'
ost map del D
expect "map del of a code not there: exit 3" 'status_is 3 && err_has "no code D"'
ost map set "no such" confirmed
expect "map set of a code that is none: exit 2" 'status_is 2'

# a real 1C document from the corpus: stored by orders-pull as the site's
# order, then read back as 1C's word on it
rm -f "$db" "$db"-* "$db".*
"$bin/orders-pull" --db "$db" --site corp "$s/dicrtarasov__yii2-exchange1c__doc_orders.xml" >/dev/null 2>&1
ost apply "$s/dicrtarasov__yii2-exchange1c__doc_orders.xml"
expect "corpus 1C document: read (exit 0 or 1), the order confirmed" \
	'[ "$rc" -le 1 ] && [ "$(jf 13838 "o[\"state\"]")" = confirmed ]'
expect "corpus 1C document: a shipment before any invoice listed, not applied" \
	'err_has "ship refused" && [ "$(jf 13838 "o[\"shipment\"]")" = none ]'

# ---- usage ----

rm -f "$tmp/none.db"
"$bin/orders-status" --db "$tmp/none.db" set 1001 fly >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "an unknown step word: exit 2, the database not even created" \
	'status_is 2 && err_has "'"'"'fly'"'"' is not a step" && [ ! -e "$tmp/none.db" ]'
"$bin/orders-status" --db "$tmp/none.db" set 1001 pay >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "pay without an amount: exit 2" 'status_is 2 && err_has "pay needs an AMOUNT"'
"$bin/orders-status" --db "$tmp/none.db" set 1001 invoice X 30.11.2026 >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "a date of the wrong form: exit 2" 'status_is 2 && err_has "30.11.2026"'
fresh
"$bin/orders-pull" --db "$db" --site shop2 "$s/orders.xml" >/dev/null 2>&1
ost set ИМ-1001 confirm
expect "a key of two sites: exit 2, the candidates named" 'status_is 2 && err_has "shop2"'
ost --site shop2 set ИМ-1001 confirm
expect "with --site: applied to that site's order only" \
	'status_is 0 && [ "$(jf 1001 "o[\"state\"]" 2>/dev/null)" = "" ]'
ost --site shop2 show ИМ-1001 --format json
expect "show --site shop2: confirmed" 'status_is 0 && out_has "\"state\":\"confirmed\""'
ost set ИМ-7777 confirm
expect "an unknown order: exit 3" 'status_is 3 && err_has "order ИМ-7777: no order of the ledger"'
ost show ИМ-7777
expect "show of an unknown order: exit 3" 'status_is 3'

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
