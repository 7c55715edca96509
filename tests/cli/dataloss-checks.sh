#!/bin/bash
# dataloss-checks.sh BINDIR EXAMPLES: the ways an export run could lose the
# site's catalog, on the sample shop (examples/shop/cml, 1C УТ 11's split
# layout: the Каталог header in import___classifier.xml, the products in
# import___goods.xml):
#  - the goods file missing: no product is deleted, cml-check says so;
#  - the guard against mass deletion (--max-delete), its default and its
#    forms, on products and on offers;
#  - a pending package a later run superseded is neither sent nor
#    acknowledged;
#  - a dry run writes nothing and creates no database;
#  - cml-check on an empty directory.
set -u
bin=$1
shop=$2/shop/cml
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-dataloss.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() { fails=$((fails + 1)); echo "FAILED: $1"; [ $# -gt 1 ] && echo "$2" | sed 's/^/    /'; }
expect() { # description, condition...
	desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc" "$(cat "$tmp/err" 2>/dev/null)"; fi
}
db=$tmp/cmlkit.db
dx() { # delta-export with the test's database; stdout in $tmp/out, stderr in $tmp/err
	"$bin/delta-export" --db "$db" "$@" >"$tmp/out" 2>"$tmp/err"
}
sql() { sqlite3 "$db" "$1"; }
deleted_products() { # dir: products written with Статус="Удален"
	[ -d "$1" ] || { echo 0; return; }
	"$bin/cml-check" --dump "$1" 2>/dev/null | grep '"kind":"product"' | grep -c '"deleted":true'
}

# a fresh database whose acknowledged baseline is the whole shop, and a
# copy of the shop in $tmp/src to break
fresh() {
	rm -rf "$tmp/src" "$tmp/pkg" "$db" "$db"-* && cp -r "$shop" "$tmp/src" && mkdir "$tmp/pkg"
	"$bin/delta-export" -q --db "$db" --ack-on-write -o "$tmp/pkg/full" "$tmp/src" >/dev/null ||
		bad "the sample shop's first package"
}

# ---- 1. a split package without its goods file ----
fresh
rm "$tmp/src/import___goods.xml"
dx -v --summary -o "$tmp/pkg/nogoods" "$tmp/src"
st=$?
expect "goods file missing: exit 0 (the rest is partial)" test $st -eq 0
expect "goods file missing: no product deleted" test "$(deleted_products "$tmp/pkg/nogoods")" -eq 0
expect "goods file missing: no generation recorded" test "$(sql 'SELECT count(*) FROM generations')" -eq 1
expect "goods file missing: a warning names the header that promised goods" \
	grep -q "Каталог says it is the whole catalog.*holds no product" "$tmp/err"
"$bin/cml-check" "$tmp/src" >"$tmp/out" 2>"$tmp/err"
st=$?
expect "cml-check: goods file missing is not usable (exit 1)" test $st -eq 1
expect "cml-check: says the catalog holds no product" \
	grep -q "import___classifier.xml:[0-9]*: the Каталог says it is the whole catalog.*no product" "$tmp/err"
expect "cml-check: NOT usable" grep -q "NOT usable" "$tmp/out"
"$bin/cml-check" "$shop" >/dev/null 2>&1
expect "cml-check: the whole shop is still usable" test $? -eq 0

# ---- 2. the guard against mass deletion ----
# --full takes the goods-less input as the whole catalog: all 35 products go
dx --full --summary -o "$tmp/pkg/full1" "$tmp/src"
st=$?
expect "--full without goods: refused, exit 1" test $st -eq 1
expect "--full without goods: the message counts all of them" \
	grep -q "refused: the run would delete 35 of the baseline's 35 products (all of them).*--max-delete=all" "$tmp/err"
expect "refused: nothing recorded" test "$(sql 'SELECT count(*) FROM generations')" -eq 1
expect "refused: no package left in the directory" test -z "$(ls -A "$tmp/pkg/full1" 2>/dev/null)"
dx --full --dry-run "$tmp/src"
st=$?
expect "--dry-run shows the count and exits 1 as the real run would" \
	test $st -eq 1 -a "$(grep -c "^deleted: 35 of the baseline's 35 products; --max-delete 50%" "$tmp/out")" -eq 1
dx --full --max-delete=34 -o "$tmp/pkg/full2" "$tmp/src"
expect "--max-delete=34: 35 deletions refused" test $? -eq 1
dx --full --max-delete=35 --summary -o "$tmp/pkg/full3" "$tmp/src"
st=$?
expect "--max-delete=35: allowed" test $st -eq 0
expect "--max-delete=35: all 35 products written deleted" test "$(deleted_products "$tmp/pkg/full3")" -eq 35
expect "--summary shows the deletions" grep -q "^deleted: 35 of the baseline's 35 products; --max-delete 35$" "$tmp/out"
fresh
rm "$tmp/src/import___goods.xml"
dx --full --max-delete=100% -o "$tmp/pkg/full4" "$tmp/src"
expect "--max-delete=100%: allowed" test $? -eq 0
fresh
rm "$tmp/src/import___goods.xml"
dx --full --max-delete=all -o "$tmp/pkg/full5" "$tmp/src"
expect "--max-delete=all: allowed" test $? -eq 0
# offers: a whole catalog with no offers file at all, taken as whole
fresh
rm "$tmp/src/offers___offers.xml" "$tmp/src/prices___prices.xml" "$tmp/src/rests___rests.xml"
dx --full -o "$tmp/pkg/nooffers" "$tmp/src"
st=$?
expect "--full without offers: refused, exit 1" test $st -eq 1
expect "--full without offers: the message counts the offers" \
	grep -q "would delete 55 of the baseline's 55 offers (all of them)" "$tmp/err"
for v in 101% -1 x 5x ""; do
	"$bin/delta-export" --db "$db" --max-delete="$v" --dry-run "$tmp/src" >/dev/null 2>&1
	expect "--max-delete='$v' is a usage error" test $? -eq 2
done

# ---- 3. a pending package superseded by a later run ----
fresh
LC_ALL=C sed 's|>890\.00<|>891.00<|' "$shop/prices___prices.xml" >"$tmp/src/prices___prices.xml"
dx -o "$tmp/pkg/d" "$tmp/src"
expect "changed price: a delta is written (generation 2)" test -s "$tmp/pkg/d/offers.xml"
# the push fails; the source changes back; the next run finds nothing
cp "$shop/prices___prices.xml" "$tmp/src/prices___prices.xml"
dx -v -o "$tmp/pkg/d" "$tmp/src"
st=$?
expect "reverted: exit 0, nothing written" test $st -eq 0
expect "reverted: generation 2 superseded" \
	test "$(sql 'SELECT superseded IS NOT NULL AND acked IS NULL FROM generations WHERE gen = 2')" = 1
expect "reverted: says so under -v" grep -q "1 pending generation of earlier runs superseded" "$tmp/err"
"$bin/catalog-push" --db "$db" --dry-run "$tmp/pkg/d" >"$tmp/out" 2>"$tmp/err"
st=$?
expect "catalog-push refuses the superseded package (exit 0: nothing to send)" test $st -eq 0
expect "catalog-push says why" grep -q "refused: generation 2 was superseded by a later delta-export run" "$tmp/err"
expect "catalog-push --dry-run shows no plan for it" test ! -s "$tmp/out"
dx --ack 2
st=$?
expect "delta-export --ack of a superseded generation: refused, exit 1" test $st -eq 1
expect "--ack: the message says superseded" grep -q "generation 2 was superseded" "$tmp/err"
expect "--ack: the baseline stays generation 1" \
	test "$(sql "SELECT value FROM meta WHERE key = 'baseline_gen'")" = 1
# an empty input directory is no catalog: it supersedes nothing
LC_ALL=C sed 's|>890\.00<|>894.00<|' "$shop/prices___prices.xml" >"$tmp/src/prices___prices.xml"
dx -o "$tmp/pkg/d2" "$tmp/src"
g=$(sql "SELECT max(gen) FROM generations")
mkdir -p "$tmp/emptysrc"
dx -o "$tmp/pkg/d2" "$tmp/emptysrc"
st=$?
expect "delta-export on an empty directory: exit 3" test $st -eq 3
expect "delta-export on an empty directory: says there is no file" grep -q "no input file" "$tmp/err"
expect "delta-export on an empty directory: the pending generation stays pending" \
	test "$(sql "SELECT superseded IS NULL FROM generations WHERE gen = $g")" = 1
# full-export supersedes a pending delta too
LC_ALL=C sed 's|>890\.00<|>892.00<|' "$shop/prices___prices.xml" >"$tmp/src/prices___prices.xml"
dx -o "$tmp/pkg/d3" "$tmp/src"
g=$(sql "SELECT max(gen) FROM generations")
"$bin/full-export" -q --db "$db" -o "$tmp/pkg/f" "$tmp/src" >/dev/null 2>&1
expect "full-export supersedes the pending delta" \
	test "$(sql "SELECT superseded_run IS NOT NULL FROM generations WHERE gen = $g")" = 1
"$bin/catalog-push" --db "$db" --dry-run "$tmp/pkg/d3" >/dev/null 2>"$tmp/err"
expect "catalog-push refuses the delta full-export superseded" \
	grep -q "superseded by a later full-export run" "$tmp/err"
"$bin/catalog-push" --db "$db" --dry-run "$tmp/pkg/f" >"$tmp/out" 2>"$tmp/err"
expect "the full package is the one to push" test $? -eq 0 -a -s "$tmp/out"

# ---- 4. a dry run writes nothing ----
rm -f "$tmp/none.db"
"$bin/delta-export" --db "$tmp/none.db" --dry-run "$shop" >"$tmp/out" 2>"$tmp/err"
st=$?
expect "dry run without a database: exit 0" test $st -eq 0
expect "dry run without a database: not created" test ! -e "$tmp/none.db" -a ! -e "$tmp/none.db.lock"
expect "dry run without a database: says a first run writes the whole catalog" \
	grep -q "no database, so no baseline yet.*whole catalog" "$tmp/err"
expect "dry run without a database: counts everything as new" \
	grep -q "^product *35 *0 *0 *0$" "$tmp/out"
fresh
sum_before=$(cat "$db" "$db"-wal 2>/dev/null | md5sum)
runs_before=$(sql "SELECT count(*) FROM runs")
LC_ALL=C sed 's|>890\.00<|>893.00<|' "$shop/prices___prices.xml" >"$tmp/src/prices___prices.xml"
dx --dry-run "$tmp/src"
expect "dry run on a database: exit 0, the change shown" test $? -eq 0 -a -s "$tmp/out"
expect "dry run on a database: not a byte of it changed" \
	test "$(cat "$db" "$db"-wal 2>/dev/null | md5sum)" = "$sum_before"
expect "dry run on a database: no run logged" test "$(sql "SELECT count(*) FROM runs")" = "$runs_before"

rm -f "$tmp/none.db"
"$bin/delta-export" --db "$tmp/none.db" -o "$tmp/pkg/none" "$tmp/emptysrc" >/dev/null 2>&1
expect "a real run on an empty directory creates no database" test $? -eq 3 -a ! -e "$tmp/none.db"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05"/>\n' \
	>"$tmp/emptysrc/import.xml"
"$bin/delta-export" --db "$tmp/none.db" -o "$tmp/pkg/none" "$tmp/emptysrc" >/dev/null 2>"$tmp/err"
st=$?
expect "a first run without catalog items: exit 3, no generation" \
	test $st -eq 3 -a "$(sqlite3 "$tmp/none.db" 'SELECT count(*) FROM generations')" = 0
expect "a first run without catalog items: says so" grep -q "no catalog items" "$tmp/err"

# ---- 5. cml-check on an empty directory ----
mkdir "$tmp/empty"
"$bin/cml-check" "$tmp/empty" >"$tmp/out" 2>"$tmp/err"
st=$?
expect "cml-check on an empty directory: exit 3" test $st -eq 3
expect "cml-check on an empty directory: says there is no file" grep -q "no input file" "$tmp/err"
expect "cml-check on an empty directory: never usable" test ! -s "$tmp/out"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
