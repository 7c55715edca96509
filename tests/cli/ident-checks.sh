#!/bin/bash
# ident-checks.sh BINDIR SITE EXAMPLES: the catalog identity on every
# package, the delta shapes a site accepts, and the parts that disappear
# (issue 13 part 2), against the test site's catalog model
# (tests/site/cmlcatalog.py): the sample shop's CSV through full-export,
# then deltas of each shape pushed, none of which may deactivate anything
# or be refused; a whole Каталог after the full import is caught.
set -u
bin=$1
site_py=$2
examples=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-ident.XXXXXX")
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

if ! command -v python3 >/dev/null; then
	echo "python3 is missing: the test site cannot run"
	exit 77
fi

ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() {
	fails=$((fails + 1))
	echo "FAILED: $1"
	echo "    exit $rc"
	sed 's/^/    stderr: /' "$tmp/err" | head -10
	sed 's/^/    stdout: /' "$tmp/out" | head -10
	[ -f "$tmp/site/catalog.log" ] && tail -3 "$tmp/site/catalog.log" | sed 's/^/    site: /'
}
expect() { # description, condition (a shell command list, evaluated)
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}
rc=0
: >"$tmp/err"
printf 'secret\n' >"$tmp/pw"

start_site() { # cmlsite.py options
	stop_site
	rm -rf "$tmp/site"
	mkdir -p "$tmp/site"
	python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" --import-steps 0 "$@" \
		>>"$tmp/site.out" 2>&1 &
	site_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
	if [ ! -s "$tmp/site/port" ]; then
		echo "the test site did not start:"
		cat "$tmp/site.out"
		exit 1
	fi
	url="http://127.0.0.1:$(cat "$tmp/site/port")/bitrix/admin/1c_exchange.php"
}

run() { # program args...: $rc, $tmp/out, $tmp/err
	"$bin/$1" "${@:2}" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
push() { # package dir
	run catalog-push -q --db "$tmp/db" --url "$url" --user admin --password-file "$tmp/pw" \
		--retry-wait 0.01 "$1"
}
# the site's catalog, one value: state KEY (a Python expression on s)
state() {
	python3 "$site_py" --dir "$tmp/site" --control catalog |
		python3 -c 'import json, sys; s = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
# nothing deactivated, nothing refused, no whole file after the full one
site_clean() {
	[ "$(state '(s["full_after_setup"], s["deactivated"], len(s["refused"]))')" = "(0, 0, 0)" ]
}

# The identity of every catalog file in DIR, one line: the same for all
# files, every field there, and the changes-only flag as asked; else a
# line that says what is wrong.
ident_of() { # dir, flag (true/false/any)
	python3 - "$1" "$2" <<'EOF'
import os, sys, xml.etree.ElementTree as ET
d, want = sys.argv[1], sys.argv[2]
def loc(t): return t.rsplit("}", 1)[-1]
def kids(e): return {loc(c.tag): (c.text or "").strip() for c in e}
seen = set()
for name in sorted(os.listdir(d)):
    if not name.endswith(".xml"):
        continue
    root = ET.parse(os.path.join(d, name)).getroot()
    tops = {loc(c.tag): c for c in root}
    if "Каталог" not in tops and "ПакетПредложений" not in tops:
        print("%s: no Каталог or ПакетПредложений" % name); sys.exit()
    for tag, need in (("Классификатор", ("Ид", "Наименование")),
                      ("Каталог", ("Ид", "ИдКлассификатора", "Наименование")),
                      ("ПакетПредложений", ("Ид", "Наименование", "ИдКаталога", "ИдКлассификатора"))):
        if tag not in tops:
            continue
        k = kids(tops[tag])
        missing = [n for n in need if not k.get(n)]
        if missing:
            print("%s: %s lacks %s" % (name, tag, ",".join(missing))); sys.exit()
        flag = tops[tag].get("СодержитТолькоИзменения")
        if want != "any" and tag != "Классификатор" and flag != want and not (
                tag == "Каталог" and "Товары" not in kids(tops[tag]) and flag == "true"):
            print("%s: %s flag %s" % (name, tag, flag)); sys.exit()
        if tag == "Каталог":
            seen.add((k["Ид"], k["ИдКлассификатора"]))
        elif tag == "ПакетПредложений":
            seen.add((k["ИдКаталога"], k["ИдКлассификатора"]))
        else:
            seen.add(("?", k["Ид"]))
cats = {c for c, _ in seen if c != "?"}
clss = {c for _, c in seen}
print("catalog %s classifier %s" % (",".join(sorted(cats)), ",".join(sorted(clss))))
EOF
}

# a cell of a CSV file: edit FILE KEY COLUMN VALUE (the row whose first
# cell is KEY)
edit() {
	python3 - "$@" <<'EOF'
import csv, sys
path, key, col, value = sys.argv[1:]
with open(path, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
i = rows[0].index(col)
hit = [r for r in rows[1:] if r[0] == key]
assert hit, key
for r in hit:
    r[i] = value
with open(path, "w", newline="", encoding="utf-8") as f:
    csv.writer(f, lineterminator="\n").writerows(rows)
EOF
}
first_cell() { sed -n "$(($2 + 1))p" "$1" | cut -d, -f1; }

# ---- the issue's reproduction: the sample shop's CSV ----

cp -r "$examples/shop/csv" "$tmp/in"
run full-export -q --db "$tmp/db" -o "$tmp/full" "$tmp/in"
expect "CSV full package: written" '[ "$rc" = 0 ]'
full_ident=$(ident_of "$tmp/full" false)
expect "CSV full package: every file carries the identity ($full_ident)" \
	'[ "${full_ident#catalog }" != "$full_ident" ] && [ "${full_ident#*,}" = "$full_ident" ]'
start_site
push "$tmp/full"
expect "CSV full package: the site takes it and sets the catalog up" \
	'[ "$rc" = 0 ] && [ "$(state "s[\"set_up\"]")" = True ] && site_clean'
expect "the site's catalog is the package's" \
	'[ "catalog $(state "s[\"ident\"][\"catalog_id\"]") classifier $(state "s[\"ident\"][\"classifier_id\"]")" = "$full_ident" ]'

offer1=$(first_cell "$tmp/in/offers.csv" 1)
offer2=$(first_cell "$tmp/in/offers.csv" 2)
product1=$(first_cell "$tmp/in/products.csv" 1)
group1=$(first_cell "$tmp/in/groups.csv" 1)
prop1=$(first_cell "$tmp/in/properties.csv" 1)
price1=$(head -1 "$tmp/in/offers.csv" | tr , '\n' | grep '^price:' | head -1)
stock1=$(head -1 "$tmp/in/offers.csv" | tr , '\n' | grep '^stock:' | head -1)

delta() { # shape name: a delta of the edited input, its identity, pushed
	rm -rf "$tmp/d"
	run delta-export -q --db "$tmp/db" -o "$tmp/d" "$tmp/in"
	expect "$1: delta written" '[ "$rc" = 0 ] && [ -d "$tmp/d" ]'
	expect "$1: every file carries the identity, changes only" \
		'[ "$(ident_of "$tmp/d" true)" = "$full_ident" ]'
	push "$tmp/d"
	expect "$1: the site takes it, nothing deactivated or refused" '[ "$rc" = 0 ] && site_clean'
}

edit "$tmp/in/offers.csv" "$offer1" "$price1" 1234.50
delta "price-only"
prices_of() { state "sorted(float(v) for v in s[\"offers\"][\"$1\"][\"prices\"].values())"; }
expect "price-only: the offer's prices replaced, every price type kept" \
	'[ "$(prices_of "$offer1")" = "[710.0, 1234.5]" ]'
expect "price-only: nothing but prices in the delta" \
	'! grep -q "<Наименование>[^<]*</Наименование></Предложение>\|<Количество>" "$tmp/d/offers.xml" && ! grep -q "<Товар>" "$tmp/d/import.xml"'

edit "$tmp/in/offers.csv" "$offer2" "$stock1" 3
delta "stock-only"
expect "stock-only: the prices untouched" \
	'[ "$(state "len(s[\"offers\"][\"$offer2\"][\"prices\"])")" = 2 ]'

edit "$tmp/in/groups.csv" "$group1" name "Одежда и обувь"
delta "groups-only"
expect "groups-only: a Классификатор and an empty Каталог header, flagged" \
	'grep -q "<Группы>" "$tmp/d/import.xml" && grep -q "<Каталог СодержитТолькоИзменения=\"true\">" "$tmp/d/import.xml" && ! grep -q "<Товары>" "$tmp/d/import.xml"'

edit "$tmp/in/properties.csv" "$prop1" name "Марка"
delta "properties-only"

active_before=$(state 's["active_products"]')
edit "$tmp/in/products.csv" "$product1" deleted true
delta "deletion-only"
expect "deletion-only: the product is gone, the rest active" \
	'[ "$(state "(s[\"products\"][\"$product1\"][\"active\"], s[\"active_products\"])")" = "(False, $((active_before - 1)))" ]'

# split layout, 3.1: the same shapes in the files 1C writes
edit "$tmp/in/offers.csv" "$offer1" "$price1" 999.00
rm -rf "$tmp/d"
run delta-export -q --db "$tmp/db" --schema 3.1 -o "$tmp/d" "$tmp/in"
expect "3.1 price-only: the prices file alone, with the identity" \
	'[ "$rc" = 0 ] && [ "$(ls "$tmp/d")" = "prices.xml" ] && [ "$(ident_of "$tmp/d" true)" = "$full_ident" ]'
push "$tmp/d"
expect "3.1 price-only: taken, nothing deactivated" '[ "$rc" = 0 ] && site_clean'

# ---- a whole Каталог after the full import: caught ----

run full-export -q --db "$tmp/db" -o "$tmp/full2" "$tmp/in"
push "$tmp/full2"
expect "a second full package: the site counts it as a whole file after the setup" \
	'[ "$rc" = 0 ] && [ "$(state "s[\"full_after_setup\"]")" -ge 1 ] && grep -q "^full-after-setup" "$tmp/site/catalog.log"'

# ---- the identity remembered ----

run delta-export -q --db "$tmp/db" --shop "Другой магазин" -o "$tmp/d2" "$tmp/in"
expect "another --shop than the remembered identity: refused (exit 1), nothing written" \
	'[ "$rc" = 1 ] && grep -q "new-catalog" "$tmp/err" && [ ! -e "$tmp/d2" ]'
run delta-export -q --db "$tmp/db" --catalog-id other-cat -o "$tmp/d2" "$tmp/in"
expect "another --catalog-id: refused" '[ "$rc" = 1 ] && grep -q "Каталог Ид" "$tmp/err"'
edit "$tmp/in/offers.csv" "$offer1" "$price1" 1000.00
run delta-export -q --db "$tmp/db" -o "$tmp/d2" "$tmp/in"
expect "no options: the remembered identity" '[ "$rc" = 0 ] && [ "$(ident_of "$tmp/d2" true)" = "$full_ident" ]'
push "$tmp/d2"
edit "$tmp/in/offers.csv" "$offer1" "$price1" 1001.00
run delta-export --db "$tmp/db" --shop "Другой магазин" --new-catalog -o "$tmp/d3" "$tmp/in"
new_ident=$(ident_of "$tmp/d3" true)
expect "--new-catalog: the new identity, said" \
	'[ "$rc" = 0 ] && [ "$new_ident" != "$full_ident" ] && grep -q "new catalog identity" "$tmp/err"'
push "$tmp/d3"
expect "a package of another catalog: the site refuses it (exit 5)" \
	'[ "$rc" = 5 ] && [ "$(state "len(s[\"refused\"])")" -ge 1 ]'
run delta-export -q --db "$tmp/db" --shop "Другой магазин" -o "$tmp/d4" "$tmp/in"
expect "--new-catalog is remembered: the new shop's options are taken" '[ "$rc" = 0 ]'

# the same shop gives the same identity in another database
run full-export -q --no-record --shop "Другой магазин" -o "$tmp/f5" "$examples/shop/csv"
expect "derived from the shop's name: the same in every run" \
	'[ "$rc" = 0 ] && [ "$(ident_of "$tmp/f5" false)" = "$new_ident" ]'

# ---- the CSV catalog table ----

cp -r "$examples/shop/csv" "$tmp/withcat"
printf 'catalog_id,name,classifier_id\nshop-cat-7,Мой магазин,shop-cls-7\n' >"$tmp/withcat/catalog.csv"
run full-export -q --no-record --shop Ignored -o "$tmp/f6" "$tmp/withcat"
expect "the CSV catalog table gives the identity, over the options" \
	'[ "$rc" = 0 ] && [ "$(ident_of "$tmp/f6" false)" = "catalog shop-cat-7 classifier shop-cls-7" ] && grep -q "<Наименование>Мой магазин</Наименование>" "$tmp/f6/import.xml"'

# ---- a part that disappears from an offer of a whole input ----

cp -r "$examples/shop/cml" "$tmp/cml"
rm -f "$tmp/db2"*
run delta-export -q --db "$tmp/db2" -o "$tmp/c0" "$tmp/cml"
start_site
run catalog-push -q --db "$tmp/db2" --url "$url" --user admin --password-file "$tmp/pw" "$tmp/c0"
expect "the sample shop's CommerceML: taken" '[ "$rc" = 0 ] && site_clean'
cml_offer=$(python3 - "$tmp/cml" <<'EOF'
import sys, re
def cut(name, nth):
    p = sys.argv[1] + "/" + name
    s = open(p, encoding="cp1251").read()
    starts = [m.start() for m in re.finditer("<Предложение>", s)]
    i = starts[nth]
    j = s.index("</Предложение>", i) + len("</Предложение>")
    oid = re.search("<Ид>([^<]*)</Ид>", s[i:j]).group(1)
    open(p, "w", encoding="cp1251").write(s[:i] + s[j:])
    return oid
print(cut("prices___prices.xml", 0), cut("rests___rests.xml", 1))
EOF
)
lost_prices=${cml_offer% *} lost_stock=${cml_offer#* }
run delta-export -q --db "$tmp/db2" -o "$tmp/c1" "$tmp/cml"
expect "lost prices: the offer goes out with an empty Цены" \
	'[ "$rc" = 0 ] && grep -qF "<Предложение><Ид>$lost_prices</Ид><Цены/></Предложение>" "$tmp/c1/offers.xml"'
expect "lost stock: the offer goes out with Количество 0" \
	'grep -qF "<Предложение><Ид>$lost_stock</Ид><Количество>0</Количество></Предложение>" "$tmp/c1/offers.xml"'
run catalog-push -q --db "$tmp/db2" --url "$url" --user admin --password-file "$tmp/pw" "$tmp/c1"
expect "lost parts: the site has no price and no stock for them, nothing deactivated" \
	'[ "$rc" = 0 ] && [ "$(state "(s[\"offers\"][\"$lost_prices\"][\"prices\"], s[\"offers\"][\"$lost_stock\"][\"stock\"])")" = "({}, '"'"'0'"'"')" ] && site_clean'
run delta-export -q --db "$tmp/db2" -o "$tmp/c2" "$tmp/cml"
expect "lost parts: sent once, then the baseline has them gone" \
	'[ "$rc" = 0 ] && [ -z "$(ls "$tmp/c2" 2>/dev/null)" ]'
rm "$tmp/cml/prices___prices.xml"
run delta-export --db "$tmp/db2" --dry-run --summary "$tmp/cml"
expect "a whole input without its prices file: no price removed, a warning" \
	'[ "$rc" = 0 ] && grep -q "none has prices" "$tmp/err" && ! grep -q "^offer_prices" "$tmp/out"'

stop_site
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
