#!/bin/bash
# delta-corpus.sh BINDIR CORPUS: delta-export on real pairs of packages of
# one shop from shared/corpus, an earlier full one and a later full one:
# the later against the earlier as baseline must carry exactly the products
# added and removed in between (computed here from the two inputs' Ид), be
# readable, and a second run must find nothing. Skips (77) without the corpus.
set -u
bin=$1
corpus=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-dcorpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0 pairs=0
ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() { fails=$((fails + 1)); echo "FAILED: $1"; }
ids() { "$bin/cml-check" --dump "$@" 2>/dev/null | grep '"kind":"product"' |
	grep -v '"deleted":true' | sed 's/.*"kind":"product","id":"\([^"]*\)".*/\1/' | sort -u; }
pids() { "$bin/cml-check" --dump "$@" 2>/dev/null | grep '"kind":"product"' |
	grep '"deleted":true' | sed 's/.*"kind":"product","id":"\([^"]*\)".*/\1/' | sort -u; }

pair() { # name "earlier files" "later files"
	local name=$1 a=$2 b=$3 f
	for f in $a $b; do [ -r "$corpus/$f" ] || { echo "skip $name: $f missing"; return; }; done
	pairs=$((pairs + 1))
	local A=() B=()
	for f in $a; do A+=("$corpus/$f"); done
	for f in $b; do B+=("$corpus/$f"); done
	local db=$tmp/$name.db
	"$bin/delta-export" -q --db "$db" --ack-on-write -o "$tmp/$name-1" "${A[@]}" >/dev/null ||
		{ bad "$name: the earlier package"; return; }
	# the -back pairs delete most of the catalog: meant here, so allowed
	"$bin/delta-export" -q --db "$db" --summary --max-delete=all -o "$tmp/$name-2" "${B[@]}" \
		>"$tmp/$name.sum" ||
		{ bad "$name: the later package"; return; }
	ids "${A[@]}" >"$tmp/a"
	ids "${B[@]}" >"$tmp/b"
	local added removed got_new got_del
	added=$(comm -13 "$tmp/a" "$tmp/b" | wc -l)
	removed=$(comm -23 "$tmp/a" "$tmp/b" | wc -l)
	got_new=$(awk '$1 == "product" {print $2}' "$tmp/$name.sum")
	got_del=$(awk '$1 == "product" {print $4}' "$tmp/$name.sum")
	if [ "${got_new:-0}" -eq "$added" ] && [ "${got_del:-0}" -eq "$removed" ]; then
		ok "$name: $added products added and $removed removed, as the inputs say"
	else
		bad "$name: want $added added / $removed removed, summary says ${got_new:-0} / ${got_del:-0}"
	fi
	# every added product is in the package, every removed one as deleted
	if [ "$(comm -13 "$tmp/a" "$tmp/b")" = "$(comm -12 <(comm -13 "$tmp/a" "$tmp/b") <(ids "$tmp/$name-2"))" ] &&
	   [ "$(comm -23 "$tmp/a" "$tmp/b")" = "$(pids "$tmp/$name-2")" ]; then
		ok "$name: the package holds the added products and the removed ones as deleted"
	else
		bad "$name: the package's products differ from the inputs' difference"
	fi
	"$bin/cml-check" -q "$tmp/$name-2" 2>/dev/null
	if [ $? -le 1 ]; then ok "$name: the package is readable"; else bad "$name: package unreadable"; fi
	"$bin/delta-export" -q --db "$db" --ack-on-write -o "$tmp/$name-3" "${B[@]}" >/dev/null
	"$bin/delta-export" -q --db "$db" -o "$tmp/$name-4" "${B[@]}" >/dev/null
	if [ ! -e "$tmp/$name-4/import.xml" ]; then
		ok "$name: once acknowledged, the same input again changes nothing"
	else
		bad "$name: a second run found changes"
	fi
}

# МойСклад → Bitrix uploads of one shop, March and May 2015, both full
pair moysklad "ASDAFF__kickgoods__upload_cml_good_2015-03-12-22-17-48.xml ASDAFF__kickgoods__upload_cml_stock_2015-03-12-22-17-48.xml" \
	"ASDAFF__kickgoods__upload_1c_catalog_import.xml ASDAFF__kickgoods__upload_1c_catalog_offers.xml"
# УТ 11 import0_1.xml of one shop, a small and a larger full export
pair ut11 "dobromyslov__commerceml-parser__data_import0_1.xml dobromyslov__commerceml-parser__data_offers0_1.xml" \
	"dobromyslov__commerceml-parser__data_import0_1_with_nested_groups.xml dobromyslov__commerceml-parser__data_offers0_1.xml"
# and backwards: the larger export as the baseline, so the smaller one's
# absences are deletions (products that left the catalog)
pair ut11-back "dobromyslov__commerceml-parser__data_import0_1_with_nested_groups.xml dobromyslov__commerceml-parser__data_offers0_1.xml" \
	"dobromyslov__commerceml-parser__data_import0_1.xml dobromyslov__commerceml-parser__data_offers0_1.xml"
pair moysklad-back "ASDAFF__kickgoods__upload_1c_catalog_import.xml ASDAFF__kickgoods__upload_1c_catalog_offers.xml" \
	"ASDAFF__kickgoods__upload_cml_good_2015-03-12-22-17-48.xml ASDAFF__kickgoods__upload_cml_stock_2015-03-12-22-17-48.xml"

[ $pairs -eq 0 ] && { echo "SKIP: no corpus at $corpus"; exit 77; }
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
