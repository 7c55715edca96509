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
