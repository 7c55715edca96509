#!/bin/sh
# The main job on the bundled sample shop: check what the accounting
# system exported, write the normalised package for the site, check it;
# then the whole catalog cycle against a local test site: full-export,
# catalog-push, a change, delta-export, catalog-push, what the site got;
# then the order side: orders placed on the site, pulled into the ledger
# with orders-pull, and the document the accounting system would load;
# then cp-match on newly pulled orders: each buyer booked to one card of the
# register by email OR INN; then one order's progress recorded with
# orders-status in the accounting order (confirm, invoice, payment,
# shipment, completion; a shipment before the invoice refused), pushed back
# with orders-push, and the site showing the order paid, shipped and final.
# Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/build}/cmd
out=${CMLKIT_DEMO_OUT:-$top/build/demo}
shop=$top/examples/shop

rm -rf "$out"
mkdir -p "$out"
export CMLKIT_DB="$out/cmlkit.db" # where the packages written are recorded
echo "== cml-check on the shop as 1C exported it (2.08 split, windows-1251)"
"$bin/cml-check" "$shop/cml"
echo
echo "== full-export: the whole catalog as one CommerceML 2.05 package"
"$bin/full-export" -o "$out/package" "$shop/cml"
echo
echo "== cml-check on the package written"
"$bin/cml-check" "$out/package"
echo
echo "== the same shop from CSV, as a 3.1 split package"
"$bin/full-export" --schema=3.1 -o "$out/package-csv" "$shop/csv"
"$bin/cml-check" -q "$out/package-csv" && echo "package-csv: usable"
echo
echo "== the catalog cycle against a site: the test site (tests/site/cmlsite.py)"
echo "   plays a 1C-Bitrix shop on 127.0.0.1; its password is in a 0600 file"
site=$out/site
mkdir -p "$site"
umask 077
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$out/site.pass"
umask 022
python3 "$top/tests/site/cmlsite.py" --dir "$site" --password-file "$out/site.pass" \
	>"$out/site.log" 2>&1 &
site_pid=$!
trap 'kill $site_pid 2>/dev/null' EXIT INT TERM
for _ in $(seq 100); do [ -s "$site/port" ] && break; sleep 0.1; done
[ -s "$site/port" ] || { echo "the test site did not start" >&2; exit 1; }
push() { # package dir
	"$bin/catalog-push" -v --url "http://127.0.0.1:$(cat "$site/port")/bitrix/admin/1c_exchange.php" \
		--user admin --password-file "$out/site.pass" "$1" 2>&1 |
		grep -v -e ' GET ' -e ' POST ' -e 'answer: ' -e 'session: ' -e 'zip=' || true
}
received() { # what the site imported so far
	awk -F'\t' '{ printf "   %-4s %-14s %8s bytes  %s\n", $5, $2, $3, substr($4, 1, 16) }' \
		"$site/imports.log"
}
export CMLKIT_DB="$out/cycle.db"
echo
echo "== 1. full-export of the shop (its CSV copy, which a script can edit)"
"$bin/full-export" -o "$out/site-full" "$shop/csv"
echo
echo "== 2. catalog-push: checkauth, init, upload, import until success, complete;"
echo "   then the generation is acknowledged and becomes the baseline"
push "$out/site-full"
echo "   the site imported (file, bytes, sha256):"
received
echo
echo "== 3. two prices and a stock level change in the accounting system, and"
echo "   one picture is replaced under the same name"
mkdir -p "$out/shop-changed"
cp "$shop/csv/"*.csv "$out/shop-changed/"
cp -R "$shop/csv/import_files" "$out/shop-changed/"
pic=import_files/78/7863e401-cb16-52e5-911c-4e65f70626b6_545a4f34-3963-5e5f-b112-0ddd21242de0.jpg
rm "$out/shop-changed/$pic" # a new file, as 1C writes it (the old one may be hard-linked)
python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import make_pictures as m; open(sys.argv[2], "wb").write(m.make_jpeg(250))' \
	"$top/scripts" "$out/shop-changed/$pic"
sed -i -e '2s/,890.00,710.00,25,11/,990.00,790.00,25,11/' \
	-e '3s/,890.00,710.00,18,7/,890.00,710.00,17,7/' "$out/shop-changed/offers.csv"
echo
echo "== 4. delta-export: only what changed since the acknowledged baseline"
echo "   (the replaced picture travels with its product's card, and alone)"
"$bin/delta-export" --summary -o "$out/site-delta" "$out/shop-changed"
echo
echo "== 5. catalog-push of the delta"
push "$out/site-delta"
echo "   the site imported (file, bytes, sha256):"
received
echo
echo "== 6. the offers the site received in the delta"
"$bin/cml-check" --dump "$(ls "$site/received/"*-offers.xml | tail -1)" | grep '"kind":"offer"'
echo
echo "== 7. pushed again: already acknowledged, nothing is sent"
push "$out/site-delta"
echo
echo "== 8. the order side: three buyers place orders on the site"
orders_pull=$bin/orders-pull
[ -d "$orders_pull" ] && orders_pull=$orders_pull/orders-pull # built in its own folder
site_ctl() { python3 "$top/tests/site/cmlsite.py" --dir "$site" --control "$1"; }
site_ctl "sale/step?new=3" >/dev/null
pull() { # orders-pull options...: the sale exchange, the summary on stderr
	"$orders_pull" --site shop --url "http://127.0.0.1:$(cat "$site/port")/bitrix/admin/1c_exchange.php" \
		--user admin --password-file "$out/site.pass" --summary "$@"
}
echo
echo "== 9. orders-pull: checkauth, init, query; every order stored in the ledger in"
echo "   one transaction, and only then mode=success; the new orders on stdout as the"
echo "   CommerceML document 1C loads (windows-1251 here, as many 1C installations want)"
pull --encoding windows-1251 --indent >"$out/orders-1.xml"
"$bin/cml-check" "$out/orders-1.xml" | sed -n '1p'
echo "   the first order of it (address fields and the lines' requisites left out here):"
iconv -f windows-1251 -t utf-8 "$out/orders-1.xml" | awk '
	/<Документ>/ { n++ }
	n != 1 { next }
	/<АдресноеПоле>/ || (goods && /<ЗначенияРеквизитов>/) { skip = 1 }
	/<Товар>/ { goods++ }
	!skip && goods < 2 { gsub(/\t/, "  "); print "   " $0 }
	/<\/АдресноеПоле>/ || /<\/ЗначенияРеквизитов>/ { skip = 0 }
	/<\/Товар>/ && goods == 1 { print "         ... (the other lines)"; goods = 2 }
	/<\/Товары>/ { exit }'
echo "   and its requisites:"
python3 -c 'import sys, xml.etree.ElementTree as ET
local = lambda e: e.tag.rsplit("}", 1)[-1]  # whatever the namespace
doc = next(e for e in ET.parse(sys.argv[1]).getroot().iter() if local(e) == "Документ")
for group in (c for c in doc if local(c) == "ЗначенияРеквизитов"):
    for r in group:
        kv = {local(c): c.text or "" for c in r}
        print("     %-26s %s" % (kv.get("Наименование", "") + ":", kv.get("Значение", "")))' \
	"$out/orders-1.xml"
echo
echo "== 10. on the site two orders change (paid, a status, a quantity ...) and one"
echo "   more is placed; pulled again: only those, the changed ones as new revisions"
site_ctl "sale/step?new=1&change=2" >/dev/null
pull --format csv >"$out/orders-2.csv"
echo "   as CSV, one row an order line (some of its columns, cmlkit-orders(5) has them all):"
python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print("   %-5s %-7s rev %s  %-5s paid %-5s  %s. %-34.34s %3s x %7s = %8s" % (r["order_id"],
          r["change"], r["revision"], r["status_id"], r["paid"], r["line"], r["name"],
          r["quantity"], r["price"], r["sum"]))' "$out/orders-2.csv"
echo
echo "== 11. pulled again: nothing new on the site, nothing written"
pull >"$out/orders-3.xml"
[ -s "$out/orders-3.xml" ] || echo "   (no output: nothing new or changed)"
echo
echo "== 12. a lost output file is never a lost order: the ledger writes them again"
"$orders_pull" --site shop --replay 1970-01-01 --format jsonl | wc -l |
	sed 's/^/   orders in the ledger: /'
echo
echo "== 13. cp-match: one card per buyer, by email OR INN. The register is seeded"
echo "   from the accounting system's counterparty package (examples/counterparties)"
cp_match=$bin/cp-match
[ -d "$cp_match" ] && cp_match=$cp_match/cp-match
# the register in a database of its own: in the pipe below orders-pull
# holds its database while cp-match runs
reg_db=$out/register.db
"$cp_match" --db "$reg_db" --register "$top/examples/counterparties/register.xml" --load-only
"$cp_match" --db "$reg_db" --export csv | tail -n +2 | cut -d, -f1 | sort -u | wc -l |
	sed 's/^ */   cards in the register: /'
echo "   two more orders on the site: a company known by its INN writing from a new"
echo "   email, and a buyer nobody knows; pulled and matched in one pipe:"
echo "   orders-pull ... | cp-match --decisions decisions.csv > orders-4.xml"
site_ctl "sale/step?new=2" >/dev/null
pull 2>/dev/null | "$cp_match" --db "$reg_db" --site shop --decisions "$out/decisions.csv" --summary \
	>"$out/orders-4.xml" 2>"$out/cp-match.log" || [ $? -eq 1 ]
sed 's/^/   /' "$out/cp-match.log"
echo "   the decisions (decisions.csv):"
python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print("     %-8s %-22s %-10s card %s%s%s" % (r["order_number"], r["email"] or "-",
          r["rule"], r["card_id"][:8], " (new)" if r["card_new"] in ("1", "true") else "",
          ", new contact person" if r["person_new"] in ("1", "true") else ""))' "$out/decisions.csv"
echo "   the buyers as 1C will load them (Ид is the card's, so 1C links the order to it):"
python3 -c 'import sys, xml.etree.ElementTree as ET
local = lambda e: e.tag.rsplit("}", 1)[-1]
kid = lambda e, n: next((c for c in e if local(c) == n), None)
txt = lambda e, n: (kid(e, n).text or "") if e is not None and kid(e, n) is not None else ""
for doc in (e for e in ET.parse(sys.argv[1]).getroot().iter() if local(e) == "Документ"):
    b = kid(kid(doc, "Контрагенты"), "Контрагент")
    reps = kid(b, "Представители")
    rep = ", ".join(txt(kid(r, "Контрагент") if kid(r, "Контрагент") is not None else r, "Наименование")
                    for r in (reps if reps is not None else []))
    print("     %s: %s  %s  ИНН %s  КПП %s%s" % (txt(doc, "Номер"), txt(b, "Ид")[:8], txt(b, "Наименование"),
          txt(b, "ИНН") or "-", txt(b, "КПП") or "-", "  контактное лицо: " + rep if rep else ""))' \
	"$out/orders-4.xml"
echo "   the Магадан card in the register now (cp-match --export csv: its contact persons):"
"$cp_match" --db "$reg_db" --export csv | python3 -c 'import csv, sys
for r in csv.DictReader(sys.stdin):
    if r["inn"] == "4901647930" or r["id"].startswith("3b1f6a52"):
        print("     %-32s %s" % (r["person_name"] or "-", r["person_email"] or "-"))'
echo
echo "== 14. order progress: one pulled order worked in the accounting order, order ->"
echo "   invoice -> payment -> shipment, recorded with orders-status in the ledger"
orders_status=$bin/orders-status
[ -d "$orders_status" ] && orders_status=$orders_status/orders-status
orders_push=$bin/orders-push
[ -d "$orders_push" ] && orders_push=$orders_push/orders-push
# the first pulled order the site still shows new: not paid, not cancelled
pick=$(site_ctl sale/orders | python3 -c 'import json, sys
for o in json.load(sys.stdin)["orders"]:
    if o["status"] == "N" and not (o["paid"] or o["canceled"] or o["allow_delivery"]):
        print(o["number"], o["sum"]); break')
order=${pick% *}
amount=${pick#* }
echo "   order $order, $amount RUB"
status() { "$orders_status" --site shop "$@"; }
echo "   the seed's broken sequence, a shipment before any invoice:"
echo "   \$ orders-status set $order ship"
rc=0
status set "$order" ship 2>"$out/refused.txt" || rc=$?
case $rc in
0 | 2 | 126 | 127) # accepted, a usage error, or no program: not a refusal by the rules
	cat "$out/refused.txt" >&2
	echo "demo: orders-status did not refuse the shipment (exit $rc)" >&2
	exit 1
	;;
esac
sed 's/^/   /' "$out/refused.txt"
echo "   (exit $rc, nothing recorded)"
echo "   \$ orders-status set $order confirm invoice СЧ-${order##*-} 2026-12-01"
status set "$order" confirm invoice "СЧ-${order##*-}" 2026-12-01
echo "   \$ orders-status set $order pay $amount 2026-12-02 ПКО-17"
status set "$order" pay "$amount" 2026-12-02 ПКО-17
echo "   \$ orders-status set $order ship 2026-12-03 РТУ-9 complete"
status set "$order" ship 2026-12-03 РТУ-9 complete
echo "   \$ orders-status show $order"
status show "$order" | sed 's/^/   /'
echo
echo "== 15. orders-push: the progress not yet delivered goes to the site as one"
echo "   CommerceML order document (type=sale&mode=file, all the order's lines and"
echo "   the 1C requisites the site acts on); delivered once the site answers success"
push_orders() { # the output indented; the demo stops if orders-push fails
	rc=0
	"$orders_push" --site shop --url "http://127.0.0.1:$(cat "$site/port")/bitrix/admin/1c_exchange.php" \
		--user admin --password-file "$out/site.pass" "$@" >"$out/push.txt" 2>&1 || rc=$?
	sed 's/^/   /' "$out/push.txt"
	[ $rc -eq 0 ] || { echo "demo: orders-push failed (exit $rc)" >&2; exit 1; }
}
push_orders -v
echo "   the requisites of the document the site received:"
python3 -c 'import sys, xml.etree.ElementTree as ET
local = lambda e: e.tag.rsplit("}", 1)[-1]
doc = next(e for e in ET.parse(sys.argv[1]).getroot().iter() if local(e) == "Документ")
for group in (c for c in doc if local(c) == "ЗначенияРеквизитов"):
    for r in group:
        kv = {local(c): c.text or "" for c in r}
        print("     %-24s %s" % (kv.get("Наименование", "") + ":", kv.get("Значение", "")))' \
	"$(ls "$site/received/"*-orders-*.xml | tail -1)"
echo "   what the site did with it (applied.log: the order, what changed):"
awk -F'\t' '{ printf "   order %s: %s%s\n", $6, $8, ($9 == "-" ? "" : "  (" $9 ")") }' \
	"$site/applied.log"
echo
echo "== 16. what the site shows for $order now"
site_ctl sale/orders | python3 -c 'import json, sys
o = next(o for o in json.load(sys.stdin)["orders"] if o["number"] == sys.argv[1])
print("   status %s%s, paid %s (%s, %s), delivery allowed %s (%s, %s), cancelled %s, %d lines" % (
      o["status"], " (final)" if o["status"] == "F" else "", o["paid"], o["pay_date"] or "-",
      o["pay_number"] or "-", o["allow_delivery"], o["delivery_date"] or "-",
      o["delivery_number"] or "-", o["canceled"], len(o["lines"])))
sys.exit(0 if o["status"] == "F" and o["paid"] and o["allow_delivery"] else 1)' "$order" ||
	{ echo "demo: the site does not show the order final, paid and shipped" >&2; exit 1; }
echo
echo "== 17. pushed again: everything delivered, nothing is sent"
push_orders -v
awk 'END { printf "   documents the site applied in all: %d\n", NR }' "$site/applied.log"
