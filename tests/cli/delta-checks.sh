#!/bin/bash
# delta-checks.sh BINDIR: delta-export against a baseline, on a small
# catalog (tests/data/delta/base.xml) changed in one known way at a time.
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
base=$here/../data/delta/base.xml
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-delta.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() { fails=$((fails + 1)); echo "FAILED: $1"; [ $# -gt 1 ] && echo "$2" | sed 's/^/    /'; }

# a fresh database whose baseline is base.xml, acknowledged
fresh() {
	rm -rf "$tmp/db" "$tmp/out" && mkdir -p "$tmp/db"
	"$bin/delta-export" -q --db "$tmp/db/cmlkit.db" --ack-on-write -o "$tmp/out/full" "$base" >/dev/null
}
variant() { # name sed-script: writes $tmp/NAME.xml
	sed -e "$2" "$base" >"$tmp/$1.xml"
	if cmp -s "$base" "$tmp/$1.xml"; then echo "variant $1 changed nothing" >&2; fi
}
delta() { # name [args]: delta of $tmp/NAME.xml into $tmp/out/NAME
	name=$1
	shift
	"$bin/delta-export" -q --db "$tmp/db/cmlkit.db" -o "$tmp/out/$name" "$@" "$tmp/$name.xml" >/dev/null
}
items() { # dir kind: the dumped items of a kind, one per line
	[ -d "$1" ] || return 0
	"$bin/cml-check" --dump "$1" 2>/dev/null | grep "\"kind\":\"$2\"" || true
}
count() { items "$1" "$2" | grep -c . || true; }
expect() { # description, condition...
	desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc" "$(cd "$tmp/out" 2>/dev/null && for d in *; do echo "$d:"; "$bin/cml-check" --dump "$d" 2>/dev/null | cut -c1-200; done)"; fi
}
has() { items "$1" "$2" | grep -q -- "$3"; }
hasnt() { ! items "$1" "$2" | grep -q -- "$3"; }

# first run: no baseline, a whole package
fresh
expect "first run writes the whole catalog" \
	test "$(count "$tmp/out/full" product)" -eq 5 -a "$(count "$tmp/out/full" offer)" -eq 6
expect "first run's package is not a delta" \
	has "$tmp/out/full" catalog '"only_changes":false'

fresh; variant price 's|<ЦенаЗаЕдиницу>50.00<|<ЦенаЗаЕдиницу>55.00<|'; delta price
o=$tmp/out/price
expect "price only: one offer, its prices, no stock, no card, no product" \
	test "$(count "$o" offer)" -eq 1 -a "$(count "$o" product)" -eq 0
expect "price only: the offer is p2 with the new price" has "$o" offer '"id":"p2".*"value":"55"'
expect "price only: no stock and no name" hasnt "$o" offer '"quantity"\|"stocks"\|"name"'
expect "delta package says СодержитТолькоИзменения=true" has "$o" catalog '"only_changes":true'

fresh; variant stock 's|КоличествоНаСкладе="10"|КоличествоНаСкладе="9"|; s|<Количество>10<|<Количество>9<|'; delta stock
o=$tmp/out/stock
expect "stock only: one offer with stock and no prices" \
	test "$(count "$o" offer)" -eq 1 -a "$(count "$o" product)" -eq 0
expect "stock only: p2 has 9, no prices" has "$o" offer '"id":"p2".*"quantity":"9"'
expect "stock only: no prices" hasnt "$o" offer '"prices"'

fresh; variant card 's|<Наименование>Полотенце</Наименование><Группы>|<Наименование>Полотенце махровое</Наименование><Группы>|'; delta card
o=$tmp/out/card
expect "card only: one product, no offers" \
	test "$(count "$o" product)" -eq 1 -a "$(count "$o" offer)" -eq 0
expect "card only: p3 renamed" has "$o" product '"id":"p3".*махровое'

fresh; variant newp 's|<Товар><Ид>p2</Ид>|<Товар><Ид>p6</Ид><Наименование>Ваза</Наименование><Группы><Ид>g1</Ид></Группы></Товар>&|; s|<Предложение><Ид>p2</Ид>|<Предложение><Ид>p6</Ид><Наименование>Ваза</Наименование><Цены><Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>500</ЦенаЗаЕдиницу></Цена></Цены><Количество>1</Количество></Предложение>&|'; delta newp
o=$tmp/out/newp
expect "new product: the product and its whole offer" \
	test "$(count "$o" product)" -eq 1 -a "$(count "$o" offer)" -eq 1
expect "new product: offer p6 with name, prices and stock" has "$o" offer '"id":"p6","product_id":"p6","name":"Ваза".*"prices".*"quantity":"1"'

fresh; variant delp '/<Ид>p4<\/Ид>/d'; delta delp
o=$tmp/out/delp
expect "deleted product: p4 goes out as Статус=Удален" has "$o" product '"id":"p4".*"status":"deleted"'
expect "deleted product: its offer is deleted too" has "$o" offer '"id":"p4".*"deleted":true'
expect "deleted product: nothing else" \
	test "$(count "$o" product)" -eq 1 -a "$(count "$o" offer)" -eq 1

fresh; variant newc 's|<Предложение><Ид>p5#m</Ид>|<Предложение><Ид>p5#l</Ид><Наименование>Футболка (L)</Наименование><ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>L</Значение></ХарактеристикаТовара></ХарактеристикиТовара><Цены><Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>750</ЦенаЗаЕдиницу></Цена></Цены><Количество>1</Количество></Предложение>&|'; delta newc
o=$tmp/out/newc
expect "new offer with a characteristic: that offer whole, no product" \
	test "$(count "$o" offer)" -eq 1 -a "$(count "$o" product)" -eq 0
expect "new offer with a characteristic: p5#l with its size" has "$o" offer '"id":"p5#l".*"Размер","value":"L"'

fresh
variant reorder 's|<Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>100.00</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена><Цена><ИдТипаЦены>opt</ИдТипаЦены><ЦенаЗаЕдиницу>80.00</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>|<Цена><ИдТипаЦены>opt</ИдТипаЦены><ЦенаЗаЕдиницу>80.00</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена><Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>100.00</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>|; s|<Склад ИдСклада="w1" КоличествоНаСкладе="3"/><Склад ИдСклада="w2" КоличествоНаСкладе="2"/>|<Склад ИдСклада="w2" КоличествоНаСкладе="2"/><Склад ИдСклада="w1" КоличествоНаСкладе="3"/>|; s|<ЗначенияСвойства><Ид>pr1</Ид><Значение>белый</Значение></ЗначенияСвойства><ЗначенияСвойства><Ид>pr2</Ид><Значение>фарфор</Значение></ЗначенияСвойства>|<ЗначенияСвойства><Ид>pr2</Ид><Значение>фарфор</Значение></ЗначенияСвойства><ЗначенияСвойства><Ид>pr1</Ид><Значение>белый</Значение></ЗначенияСвойства>|'
delta reorder
expect "reordered prices, warehouses and property values: no change, nothing written" test ! -e "$tmp/out/reorder/import.xml"
variant respell 's|>100.00<|>100,00<|; s|>80.00<|>80<|; s|КоличествоНаСкладе="3"|КоличествоНаСкладе="3.000"|'
delta respell
expect "numbers respelled: no change" test ! -e "$tmp/out/respell/import.xml"
variant space 's|<Наименование>Чашка</Наименование>|<Наименование>  Чашка </Наименование>|g; s|<Ид>g1</Ид>|<Ид> g1</Ид>|g'
delta space
expect "whitespace around values: no change" test ! -e "$tmp/out/space/import.xml"
delta space
expect "the same input twice: nothing the second time" test ! -e "$tmp/out/space/import.xml"
msg=$("$bin/delta-export" -v --db "$tmp/db/cmlkit.db" -o "$tmp/out/again" "$base" 2>&1 >/dev/null)
expect "no change says so under --verbose" grep -q "no changes" <<<"$msg"

# a delta that is never acknowledged is carried again by the next one
fresh
variant price 's|<ЦенаЗаЕдиницу>50.00<|<ЦенаЗаЕдиницу>55.00<|'
delta price
variant both 's|<ЦенаЗаЕдиницу>50.00<|<ЦенаЗаЕдиницу>55.00<|; s|<Наименование>Полотенце</Наименование><Группы>|<Наименование>Полотенце махровое</Наименование><Группы>|'
delta both
o=$tmp/out/both
expect "unacknowledged delta: the next delta still carries its price change" has "$o" offer '"id":"p2".*"value":"55"'
expect "unacknowledged delta: and its own change" has "$o" product '"id":"p3".*махровое'
gen=$("$bin/delta-export" --db "$tmp/db/cmlkit.db" --dry-run "$tmp/both.xml" | head -1)
expect "dry run prints the summary" grep -q "part" <<<"$gen"

# acknowledging: after --ack the change is the baseline
"$bin/delta-export" -q --db "$tmp/db/cmlkit.db" -o "$tmp/out/both2" --summary "$tmp/both.xml" >"$tmp/sum.txt"
g=$(sed -n 's/^generation \([0-9]*\).*/\1/p' "$tmp/sum.txt")
"$bin/delta-export" -q --db "$tmp/db/cmlkit.db" --ack "$g"
cp "$tmp/both.xml" "$tmp/acked.xml"
delta acked
expect "after --ack G, the same input has no change" test -n "$g" -a ! -e "$tmp/out/acked/import.xml"
"$bin/delta-export" -q --db "$tmp/db/cmlkit.db" --ack "$g"
expect "--ack of an acknowledged generation: nothing to do, exit 0" test $? -eq 0
"$bin/delta-export" -q --db "$tmp/db/cmlkit.db" --ack 999 2>/dev/null
expect "--ack of an unknown generation: exit 2" test $? -eq 2

# a partial input deletes nothing
fresh
variant partial '/<Ид>p4<\/Ид>/d; s|СодержитТолькоИзменения="false"|СодержитТолькоИзменения="true"|g'
delta partial
expect "partial input: nothing deleted by absence, nothing written" test ! -e "$tmp/out/partial/import.xml"
variant forced '/<Ид>p4<\/Ид>/d; s|СодержитТолькоИзменения="false"|СодержитТолькоИзменения="true"|g'
delta forced --full
expect "--full overrides: p4 deleted" has "$tmp/out/forced" product '"id":"p4".*"deleted"'

# dry run records nothing; --require-baseline refuses without a baseline
rm -rf "$tmp/db2" && mkdir "$tmp/db2"
"$bin/delta-export" -q --db "$tmp/db2/x.db" --require-baseline -o "$tmp/out/rb" "$base" 2>/dev/null
expect "--require-baseline without a baseline: exit 1, nothing written" test $? -eq 1 -a ! -e "$tmp/out/rb/import.xml"
"$bin/delta-export" -q --db "$tmp/db2/x.db" --dry-run "$base" >/dev/null
"$bin/delta-export" -q --db "$tmp/db2/x.db" --require-baseline -o "$tmp/out/rb" "$base" 2>/dev/null
expect "--dry-run records nothing" test $? -eq 1
expect "the database is created 0600" test "$(stat -c %a "$tmp/db2/x.db")" = 600

# bad input changes nothing
fresh
printf '<КоммерческаяИнформация><Каталог><Товары><Товар>' >"$tmp/bad.xml"
"$bin/delta-export" -q --db "$tmp/db/cmlkit.db" -o "$tmp/out/bad" "$tmp/bad.xml" 2>/dev/null
st=$?
variant price 's|<ЦенаЗаЕдиницу>50.00<|<ЦенаЗаЕдиницу>55.00<|'; delta price
expect "bad input: exit 3, nothing written, the next run unaffected" \
	test $st -eq 3 -a ! -e "$tmp/out/bad/import.xml" -a "$(count "$tmp/out/price" offer)" -eq 1

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
