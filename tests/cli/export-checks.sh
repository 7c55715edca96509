#!/bin/sh
# export-checks.sh BINDIR: full-export's promises that a golden stdout
# can't show: the bytes of the package, nothing half-written after bad
# input, encodings, stdin, CSV and CommerceML giving the same catalog.
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
data=$top/tests/data
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-export.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export CMLKIT_DB=$tmp/cmlkit.db # full-export records each package there
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() { fails=$((fails + 1)); echo "FAILED: $1"; }
date=2026-11-20T10:00:00

# 1. the package's bytes are what they were
if "$bin/full-export" -q --date=$date -o "$tmp/good" "$data/check/good-small.xml" >/dev/null &&
   cmp "$tmp/good/import.xml" "$here/golden/package/import.xml" &&
   cmp "$tmp/good/offers.xml" "$here/golden/package/offers.xml"; then
	ok "2.05 package bytes match golden/package"
else
	bad "2.05 package bytes differ from golden/package"
fi

# 2. bad input leaves the old package as it was and no temporary file
mkdir -p "$tmp/keep" && cp "$tmp/good/import.xml" "$tmp/good/offers.xml" "$tmp/keep/"
"$bin/full-export" -q -o "$tmp/keep" "$data/check/good-small.xml" \
	"$data/reader/bad-price-nan.xml" >/dev/null 2>&1
st=$?
if [ $st -eq 3 ] && cmp -s "$tmp/keep/import.xml" "$tmp/good/import.xml" &&
   cmp -s "$tmp/keep/offers.xml" "$tmp/good/offers.xml" &&
   [ "$(ls -A "$tmp/keep" | wc -l)" -eq 2 ]; then
	ok "bad input: exit 3, old package untouched, no temporary files"
else
	bad "bad input: exit $st, files: $(ls -A "$tmp/keep" | tr '\n' ' ')"
fi
"$bin/full-export" -q -o "$tmp/none" "$data/reader/bad-truncated.xml" >/dev/null 2>&1
if [ $? -eq 3 ] && [ -z "$(ls -A "$tmp/none")" ]; then
	ok "truncated input: nothing written"
else
	bad "truncated input left files: $(ls -A "$tmp/none" | tr '\n' ' ')"
fi

# 3. windows-1251: the declaration matches the bytes
"$bin/full-export" -q -e windows-1251 -o "$tmp/cp" "$top/examples/shop/cml" >/dev/null
if head -c 60 "$tmp/cp/import.xml" | grep -q 'encoding="windows-1251"' &&
   iconv -f cp1251 -t utf-8 "$tmp/cp/import.xml" >/dev/null 2>&1 &&
   ! iconv -f utf-8 -t utf-8 "$tmp/cp/import.xml" >/dev/null 2>&1 &&
   "$bin/cml-check" -q "$tmp/cp"; then
	ok "windows-1251 package: declared, encoded, readable"
else
	bad "windows-1251 package"
fi
"$bin/full-export" -q --bom -o "$tmp/bom" "$data/check/good-small.xml" >/dev/null
if [ "$(head -c 3 "$tmp/bom/import.xml" | od -An -tx1 | tr -d ' ')" = efbbbf ]; then
	ok "--bom writes a byte-order mark"
else
	bad "--bom"
fi

# 4. standard input
if "$bin/full-export" -q --date=$date -o "$tmp/stdin" - <"$data/check/good-small.xml" >/dev/null &&
   cmp -s "$tmp/stdin/import.xml" "$tmp/good/import.xml"; then
	ok "stdin gives the same package"
else
	bad "stdin"
fi

# 5. the split shop becomes one offer per Ид; CSV and CommerceML agree
"$bin/full-export" -q -o "$tmp/shop" "$top/examples/shop/cml" >/dev/null
"$bin/full-export" -q -o "$tmp/shopcsv" "$top/examples/shop/csv" >/dev/null
dump() { "$bin/cml-check" --dump "$1" | grep "\"kind\":\"$2\"" | sort; }
n=$(dump "$tmp/shop" offer | wc -l)
if [ "$n" -eq 55 ] && "$bin/cml-check" -q "$tmp/shop"; then
	ok "split shop: 55 whole offers, usable"
else
	bad "split shop: $n offers"
fi
# the CSV tables carry ids and names (no tax, no address): compare those
idname() { dump "$1" "$2" | grep -o '"id":"[^"]*","name":"[^"]*"'; }
for kind in group price_type warehouse property; do
	if [ -n "$(idname "$tmp/shop" $kind)" ] &&
	   [ "$(idname "$tmp/shop" $kind)" = "$(idname "$tmp/shopcsv" $kind)" ]; then
		ok "CSV and CommerceML shop: same ${kind}s"
	else
		bad "CSV and CommerceML shop: ${kind}s differ"
	fi
done
if [ "$(dump "$tmp/shop" group)" = "$(dump "$tmp/shopcsv" group)" ]; then
	ok "CSV and CommerceML shop: same group tree"
else
	bad "CSV and CommerceML shop: group trees differ"
fi
strip() { sed 's/,"presentation":"[^"]*"//g; s/,"unit":"[^"]*"//g; s/,"coefficient":"[^"]*"//g; s/,"currency":"[^"]*"//g'; }
if [ "$(dump "$tmp/shop" offer | grep -o '"prices":\[[^]]*\]' | strip | sort)" = \
     "$(dump "$tmp/shopcsv" offer | grep -o '"prices":\[[^]]*\]' | strip | sort)" ]; then
	ok "CSV and CommerceML shop: same prices"
else
	bad "CSV and CommerceML shop: prices differ"
fi

# 6. 3.1 and split layouts are readable and complete
"$bin/full-export" -q --schema=3.1 -o "$tmp/v31" "$top/examples/shop/cml" >/dev/null &&
	"$bin/cml-check" -q "$tmp/v31" && ok "3.1 package of the shop is usable" || bad "3.1 package"
"$bin/full-export" -q --schema=2.08 --split -o "$tmp/v208" "$top/examples/shop/cml" >/dev/null &&
	[ -f "$tmp/v208/prices___prices.xml" ] && [ -f "$tmp/v208/rests___rests.xml" ] &&
	"$bin/cml-check" -q "$tmp/v208" && ok "2.08 split package of the shop is usable" ||
	bad "2.08 split package"

# 7. fidelity: what a real file says survives full-export, item for item
# (headers aside: the package's own flags and names are full-export's)
items() { "$bin/cml-check" --dump "$@" | grep -v '"kind":"\(classifier\|catalog\|offers_package\)"' |
	sed 's/,"only_changes":[a-z]*//' | sort; }
for f in "$data"/reader/fidelity-*.xml; do
	name=$(basename "$f" .xml)
	out=$tmp/fid-$name
	if "$bin/full-export" -q --no-record -o "$out" "$f" >/dev/null &&
	   [ "$(items "$f")" = "$(items "$out")" ]; then
		ok "$name: the same items after full-export"
	else
		bad "$name: items differ after full-export"
		diff <(items "$f") <(items "$out") | head -5
	fi
	# 3.1 spreads an offer over three files: joined again by a 2.05 export
	# (3.1 inputs only: a 3.1 unit is a bare code, its names are not kept)
	case $name in fidelity-31-*) ;; *) continue ;; esac
	if "$bin/full-export" -q --no-record --schema=3.1 -o "$out-31" "$f" >/dev/null &&
	   "$bin/full-export" -q --no-record -o "$out-back" "$out-31" >/dev/null &&
	   [ "$(items "$f")" = "$(items "$out-back")" ]; then
		ok "$name: the same items through a 3.1 package"
	else
		bad "$name: items differ through a 3.1 package"
		diff <(items "$f") <(items "$out-back") | head -5
	fi
done

# 8. СодержитТолькоИзменения is what full-export decided, on every element
# that carries it, whatever the input said (a changes-only input here); an
# empty header (the split classifier file's Каталог, as УТ 11 writes it) is
# always changes-only, since a site deletes all that a whole one lacks
flags() { grep -ho '<[^ >]* СодержитТолькоИзменения="[a-z]*"' "$1"/*.xml | sort | uniq -c | tr -s ' '; }
in=$data/reader/fidelity-changes-only.xml
"$bin/full-export" -q --no-record -o "$tmp/flag" "$in" >/dev/null
"$bin/full-export" -q --no-record --partial -o "$tmp/flagp" "$in" >/dev/null
"$bin/full-export" -q --no-record --schema=3.1 -o "$tmp/flag31" "$in" >/dev/null
want() { printf ' 1 <%s СодержитТолькоИзменения="%s"\n' Каталог "$1" Классификатор "$1" Контрагенты "$1" ПакетПредложений "$1"; }
if [ "$(flags "$tmp/flag")" = "$(want false)" ] && [ "$(flags "$tmp/flagp")" = "$(want true)" ] &&
   ! grep -q 'СодержитТолькоИзменения="true"' "$tmp"/flag31/[!c]*.xml &&
   grep -q '<Каталог СодержитТолькоИзменения="true"' "$tmp"/flag31/classifier.xml; then
	ok "changes-only input: the package is marked full, or partial with --partial, everywhere"
else
	bad "СодержитТолькоИзменения: $(flags "$tmp/flag" | tr '\n' ' ') / --partial: $(flags "$tmp/flagp" | tr '\n' ' ')"
fi

# 9. an item without Ид is never written: exit 3, the place named, no files
for what in offer:Предложение:6 property:Свойство:6; do
	kind=${what%%:*} rest=${what#*:}
	elem=${rest%%:*} line=${rest#*:}
	f=$data/reader/bad-no-id-$kind.xml
	err=$("$bin/full-export" -q --no-record -o "$tmp/noid-$kind" "$f" 2>&1 >/dev/null)
	st=$?
	if [ $st -eq 3 ] && [ -z "$(ls -A "$tmp/noid-$kind")" ] &&
	   printf '%s\n' "$err" | grep -q "$f:$line: <$elem>: no Ид"; then
		ok "$kind without Ид: exit 3, nothing written"
	else
		bad "$kind without Ид: exit $st, $err"
	fi
done

# 10. a classifier repeated identically in a split set (1C УТ 11 3.1: the
# offers file repeats the 25 properties) is written once, and the package
# passes cml-check; a repeat with other content stops the run naming both
"$bin/full-export" -q --no-record -o "$tmp/ut11" "$data/check/ut11-split-31" >/dev/null
n=$("$bin/cml-check" --dump "$tmp/ut11" | grep -c '"kind":"property"')
if [ "$n" -eq 25 ] && "$bin/cml-check" -q "$tmp/ut11"; then
	ok "УТ 11 split set: its repeated classifier written once, package usable"
else
	bad "УТ 11 split set: $n properties written"
fi
# each file lists the values its own items use (1C УТ 11 2.08, as
# corpus Sergey37-iv__txt__*.xml): one property with the values of both
"$bin/full-export" -q --no-record -o "$tmp/values" "$data/check/split-values-a.xml" \
	"$data/check/split-values-b.xml" >/dev/null
got=$("$bin/cml-check" --dump "$tmp/values" | grep '"kind":"property"' | grep -o '"id":"v[0-9]"' | tr '\n' ' ')
if "$bin/cml-check" -q "$data/check/split-values-a.xml" "$data/check/split-values-b.xml" &&
   [ "$got" = '"id":"v2" "id":"v3" "id":"v1" ' ]; then
	ok "a property repeated with other values: one property, the values of both"
else
	bad "split property values: $got"
fi
err=$("$bin/full-export" -q --no-record -o "$tmp/conflict" "$data/check/dup-classifier-a.xml" \
	"$data/check/dup-classifier-b.xml" 2>&1 >/dev/null)
st=$?
if [ $st -eq 3 ] && [ -z "$(ls -A "$tmp/conflict")" ] &&
   printf '%s\n' "$err" | grep -q "dup-classifier-b.xml:6: <Свойство> 'size' differs from the one of the same Ид in .*dup-classifier-a.xml:6"; then
	ok "a classifier repeated with other content: exit 3, both places named"
else
	bad "conflicting classifier: exit $st, $err"
fi

# the record: each package a full generation, pending; --no-record opens nothing
n=$("$bin/delta-export" --db "$CMLKIT_DB" --dry-run "$data/check/good-small.xml" 2>&1 | grep -c "no baseline")
if [ -s "$CMLKIT_DB" ] && [ "$n" -eq 1 ]; then
	ok "full-export records its package, pending (no baseline until acknowledged)"
else
	bad "full-export's record"
fi
"$bin/full-export" -q --no-record --db "$tmp/none.db" -o "$tmp/norec" "$data/check/good-small.xml" >/dev/null
if [ ! -e "$tmp/none.db" ]; then ok "--no-record creates no database"; else bad "--no-record"; fi

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
