#!/bin/bash
# join-checks.sh BINDIR CORPUS: full-export and delta-export write one
# package shape. From the same split input (an offer's card, prices and
# stock in three files; the classifier repeated), full-export and a first
# run of delta-export write the same items, one Предложение per offer;
# a later delta still writes only the changed parts of an offer, in one
# Предложение. Real split sets of the corpus are used when it is there.
set -u
bin=$1
corpus=$2
here=$(cd "$(dirname "$0")" && pwd)
examples=$here/../../examples
data=$here/../data
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-join.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() { fails=$((fails + 1)); echo "FAILED: $1"; [ $# -gt 1 ] && echo "$2" | sed 's/^/    /' | head -20; }
date=2026-11-20T10:00:00

# the items of a package, one canonical line each, sorted
items() { "$bin/cml-check" --dump "$1" | sort; }
kind() { grep -c "\"kind\":\"$2\"" "$1" || true; }

# same_shape NAME INPUT...: both programs' packages, item by item
same_shape() {
	name=$1
	shift
	rm -rf "$tmp/$name"
	mkdir -p "$tmp/$name"
	if ! "$bin/full-export" -q --no-record --date "$date" -o "$tmp/$name/full" "$@" >/dev/null 2>"$tmp/err" ||
		! "$bin/delta-export" -q --db "$tmp/$name/db" --date "$date" -o "$tmp/$name/delta" "$@" \
			>/dev/null 2>>"$tmp/err"; then
		bad "$name: both programs write a package" "$(cat "$tmp/err")"
		return
	fi
	items "$tmp/$name/full" >"$tmp/$name/full.items"
	items "$tmp/$name/delta" >"$tmp/$name/delta.items"
	offers=$(kind "$tmp/$name/full.items" offer)
	distinct=$(grep '"kind":"offer"' "$tmp/$name/delta.items" | sed 's/^{"kind":"offer","id":"\([^"]*\)".*/\1/' | sort -u | wc -l)
	if ! diff "$tmp/$name/full.items" "$tmp/$name/delta.items" >"$tmp/diff"; then
		bad "$name: full-export and a first delta-export write the same items" "$(cut -c1-200 "$tmp/diff")"
	elif [ "$offers" != "$distinct" ]; then
		bad "$name: one Предложение per offer" "$offers offers, $distinct Ид"
	elif ! "$bin/cml-check" -q "$tmp/$name/delta"; then
		bad "$name: the first delta's package is usable"
	else
		ok "$name: the same $(wc -l <"$tmp/$name/full.items") items from both, $offers offers, one each"
	fi
}

# 1. the sample shop: 55 offers over offers___, prices___ and rests___
same_shape shop "$examples/shop/cml"
n=$(kind "$tmp/shop/delta.items" offer)
[ "$n" = 55 ] && ok "shop: a first delta-export writes 55 Предложение (not 165)" ||
	bad "shop: $n Предложение in the first delta"
joined=$(grep '"kind":"offer"' "$tmp/shop/delta.items" | grep '"has_prices":true' | grep -c '"has_stocks":true')
[ "$joined" = 55 ] && ok "shop: each with its prices and its stock" || bad "shop: $joined offers whole"

# 2. a property repeated over two files with other values: one, all values
same_shape split-values "$data/check/split-values-a.xml" "$data/check/split-values-b.xml"
# 3. 1C УТ 11 (3.1) repeating its classifier in the offers file
same_shape ut11-31 "$data/check/ut11-split-31"
# 4. real split sets of the corpus (import, offers, prices, rests)
if [ -d "$corpus" ]; then
	same_shape bitrix-module-6 "$corpus"/irpsv__commerceml__tests_assets_bitrix-module-6_goods_1_{import,offers,prices,rests}.xml
	n=$(kind "$tmp/bitrix-module-6/delta.items" offer)
	[ "$n" = 86 ] && ok "bitrix-module-6: 86 offers, each once" || bad "bitrix-module-6: $n offers"
	same_shape turumburum "$corpus"/TurumburumStudio__ExchangeCommerceML__storage_xml_{classifier,products,offers,prices,rests}.xml
else
	echo "skipped: no corpus at $corpus"
fi

# 5. later deltas: only what changed of an offer, in one Предложение
shop() { # a copy of the shop to change
	rm -rf "$tmp/in" && cp -r "$examples/shop/cml" "$tmp/in"
}
offer=7a56b855-b52c-53a4-90e8-f67065347d33#f5d09238-5021-517c-bbd5-01e43eb1e37b
price() { LC_ALL=C sed -i "0,/>890.00</s//>891.00</" "$tmp/in/prices___prices.xml"; }
stock() { LC_ALL=C sed -i "/$offer</,/>[0-9][0-9]*</ s/>36</>37</" "$tmp/in/rests___rests.xml"; }
base() {
	rm -rf "$tmp/db" "$tmp/out"
	"$bin/delta-export" -q --db "$tmp/db" --ack-on-write -o "$tmp/out/base" "$examples/shop/cml" >/dev/null
}
later() { # name: the delta of $tmp/in, its offers in $tmp/NAME.offers
	"$bin/delta-export" -q --db "$tmp/db" -o "$tmp/out/$1" "$tmp/in" >/dev/null 2>"$tmp/err" || {
		bad "$1: delta-export" "$(cat "$tmp/err")"
		return 1
	}
	items "$tmp/out/$1" | grep '"kind":"offer"' >"$tmp/$1.offers" || true
}
one_offer() { [ "$(wc -l <"$1")" = 1 ] && grep -qF "\"id\":\"$offer\"" "$1"; }

base && shop && price && later price &&
	if one_offer "$tmp/price.offers" && grep -q '"has_prices":true' "$tmp/price.offers" &&
		! grep -q '"has_stocks"\|"name"' "$tmp/price.offers" &&
		[ "$(grep -o '"type_id"' "$tmp/price.offers" | wc -l)" = 2 ]; then
		ok "a price change: one Предложение, its prices (every type), no card, no stock"
	else
		bad "a price change" "$(cat "$tmp/price.offers")"
	fi
base && shop && stock && later stock &&
	if one_offer "$tmp/stock.offers" && grep -q '"has_stocks":true' "$tmp/stock.offers" &&
		! grep -q '"has_prices"\|"name"' "$tmp/stock.offers"; then
		ok "a stock change: one Предложение, its stock only"
	else
		bad "a stock change" "$(cat "$tmp/stock.offers")"
	fi
base && shop && price && stock && later both &&
	if one_offer "$tmp/both.offers" && grep -q '"has_prices":true' "$tmp/both.offers" &&
		grep -q '"has_stocks":true' "$tmp/both.offers" && ! grep -q '"name"' "$tmp/both.offers"; then
		ok "a price and a stock change in two files: one Предложение with both, no card"
	else
		bad "a price and a stock change" "$(cat "$tmp/both.offers")"
	fi

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
