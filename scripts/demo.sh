#!/bin/sh
# The main job on the bundled sample shop: check what the accounting
# system exported, write the normalised package for the site, check it;
# then the whole catalog cycle against a local test site: full-export,
# catalog-push, a change, delta-export, catalog-push, what the site got.
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
echo "== 3. two prices and a stock level change in the accounting system"
mkdir -p "$out/shop-changed"
cp "$shop/csv/"*.csv "$out/shop-changed/"
sed -i -e '2s/,890.00,710.00,25,11/,990.00,790.00,25,11/' \
	-e '3s/,890.00,710.00,18,7/,890.00,710.00,17,7/' "$out/shop-changed/offers.csv"
echo
echo "== 4. delta-export: only what changed since the acknowledged baseline"
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
