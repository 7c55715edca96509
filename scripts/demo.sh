#!/bin/sh
# The main job on the bundled sample shop: check what the accounting
# system exported, write the normalised package for the site, check it.
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
echo "== delta-export: the first run has no baseline, writes the whole shop and"
echo "   (--ack-on-write, as for a site that reads a folder) makes it the baseline;
echo "   the source is the CSV copy of the shop, which a script can edit""
db=$out/delta.db
"$bin/delta-export" --db "$db" --ack-on-write --summary -o "$out/delta-1" "$shop/csv"
echo
echo "== two prices and a stock level change in the accounting system (the CSV"
echo "   copy of the shop, edited): the delta carries only those offers' parts"
mkdir -p "$out/shop-changed"
cp "$shop/csv/"*.csv "$out/shop-changed/"
sed -i -e '2s/,890.00,710.00,25,11/,990.00,790.00,25,11/' \
	-e '3s/,890.00,710.00,18,7/,890.00,710.00,17,7/' "$out/shop-changed/offers.csv"
"$bin/delta-export" --db "$db" --summary -o "$out/delta-2" "$out/shop-changed"
echo
echo "== what the delta package holds"
"$bin/cml-check" --dump "$out/delta-2" | grep '"kind":"offer"'
