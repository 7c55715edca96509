#!/usr/bin/env bash
# cmlkit benchmark (issue 13): a catalog with a picture per product.
#
#   bench/run-pictures.sh [--products 20000] [--repeat 3] [--build DIR]
#                         [--work DIR]
#
# The catalog: N products, each naming one picture of its own
# (import_files/XX/ID.jpg beside import.xml: an 8x8 JPEG with the product's
# Ид in a comment, so every file is distinct, made by
# scripts/make_pictures.py), and an offer with a price and stock each;
# the same catalog without the Картинка elements is the reference.
# Then, --repeat times each:
#   full/none   full-export of the catalog without pictures;
#   full/pics   full-export of the catalog with them (each picture hashed
#               and hard-linked into the package);
#   push        catalog-push of the full package to the test site
#               (tests/site/cmlsite.py), pictures included;
#   delta       with that package acknowledged, one picture replaced under
#               the same name: delta-export.
# Checks that the site received every picture, and that the delta holds
# that one card and that one file only. Prints medians (wall, CPU), the
# ratio of pictures to none, peak RSS, package sizes. Exits 0 whatever the
# figures when the checks pass; 1 when a check fails or it cannot run.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
n=20000
repeat=3
build=${BUILD:-$top/build}
work=/tmp/cmlkit-bench

while [ $# -gt 0 ]; do
	case $1 in
	--products) n=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "run-pictures.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

bin=$build/cmd
site_py=$top/tests/site/cmlsite.py
for p in full-export delta-export catalog-push; do
	[ -x "$bin/$p" ] || { echo "run-pictures.sh: $bin/$p missing: build first" >&2; exit 1; }
done
me=run-pictures.sh
# shellcheck source=common.sh
. "$here/common.sh"
pw=$work/pictures.pass
printf 'bench-secret\n' >"$pw"
chmod 600 "$pw"

site_pid= site_dir=
stop_site() {
	[ -n "$site_pid" ] && { kill "$site_pid" 2>/dev/null; wait "$site_pid" 2>/dev/null; }
	[ -n "$site_dir" ] && rm -rf "$site_dir"
	site_pid= site_dir=
}
trap 'stop_site; timed_cleanup' EXIT INT TERM
start_site() {
	stop_site
	site_dir=$work/psite.$$
	rm -rf "$site_dir"
	mkdir -p "$site_dir"
	python3 "$site_py" --dir "$site_dir" --password-file "$pw" >/dev/null 2>&1 &
	site_pid=$!
	for _ in $(seq 100); do [ -s "$site_dir/port" ] && break; sleep 0.1; done
	[ -s "$site_dir/port" ] || { echo "$me: the test site did not start" >&2; exit 1; }
	url="http://127.0.0.1:$(cat "$site_dir/port")/bitrix/admin/1c_exchange.php"
}

# the catalog, with and without pictures
cat=$work/pics-$n
none=$work/nopics-$n
if [ ! -f "$cat/offers.xml" ]; then
	rm -rf "$cat" "$none"
	python3 - "$top/scripts" "$cat" "$none" "$n" <<'EOF' || exit 1
import os, sys
sys.path.insert(0, sys.argv[1])
from make_pictures import make_jpeg
cat, none, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
head = ('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация '
        'ВерсияСхемы="2.05" ДатаФормирования="2026-12-01T00:00:00">\n')
for d in (cat, none):
    os.makedirs(d)
    with open(os.path.join(d, "import.xml"), "w") as imp, \
         open(os.path.join(d, "offers.xml"), "w") as off:
        imp.write(head + '<Классификатор><Ид>cls</Ид><Наименование>К</Наименование>'
                  '</Классификатор>\n<Каталог СодержитТолькоИзменения="false"><Ид>cat</Ид>'
                  '<ИдКлассификатора>cls</ИдКлассификатора><Наименование>К</Наименование>'
                  '<Товары>\n')
        off.write(head + '<ПакетПредложений СодержитТолькоИзменения="false"><Ид>cat#</Ид>'
                  '<Наименование>П</Наименование><ИдКаталога>cat</ИдКаталога>'
                  '<ИдКлассификатора>cls</ИдКлассификатора><ТипыЦен><ТипЦены><Ид>rt</Ид>'
                  '<Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены>'
                  '</ТипыЦен><Предложения>\n')
        for i in range(n):
            pid = "p%08d" % i
            pic = "import_files/%02x/%s.jpg" % (i % 256, pid)
            card = "<Товар><Ид>%s</Ид><Наименование>Товар %d</Наименование>" % (pid, i)
            if d == cat:
                card += "<Картинка>%s</Картинка>" % pic
                path = os.path.join(d, pic)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fp:
                    fp.write(make_jpeg(i % 256, pid.encode()))
            imp.write(card + "</Товар>\n")
            off.write("<Предложение><Ид>%s</Ид><Наименование>Товар %d</Наименование>"
                      "<Цены><Цена><ИдТипаЦены>rt</ИдТипаЦены><ЦенаЗаЕдиницу>%d</ЦенаЗаЕдиницу>"
                      "<Валюта>RUB</Валюта></Цена></Цены><Количество>%d</Количество>"
                      "</Предложение>\n" % (pid, i, 100 + i % 900, i % 50))
        imp.write("</Товары></Каталог></КоммерческаяИнформация>\n")
        off.write("</Предложения></ПакетПредложений></КоммерческаяИнформация>\n")
EOF
fi
# the picture replaced: a copy of the catalog's folder with that one file new
chg=$work/pics-$n-chg
victim=p$(printf '%08d' $((n / 2)))
vpic=import_files/$(printf '%02x' $(((n / 2) % 256)))/$victim.jpg
rm -rf "$chg"
cp -al "$cat" "$chg" # hard links: only the replaced file is new
rm "$chg/$vpic"
python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from make_pictures import make_jpeg; open(sys.argv[2], "wb").write(make_jpeg(7, b"replaced"))' \
	"$top/scripts" "$chg/$vpic"

echo "cmlkit pictures benchmark  $(date '+%Y-%m-%d %H:%M:%S')"
echo "host:  $(uname -srm), $(nproc) CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "build: $build ($("$bin/full-export" --version | head -n 1)); $n products, one picture each; $repeat runs"
echo
fail=0
nw="" nc="" nr="" fw="" fc="" fr="" pw_="" pc="" pr="" dw="" dc="" dr=""
for ((r = 1; r <= repeat; r++)); do
	db=$work/pics-$n.db
	full=$work/pics-full-$n
	delta=$work/pics-delta-$n
	rm -rf "$work/nopics-full-$n" "$full" "$delta" "$db" "$db"-* "$db.lock"
	timed "$bin/full-export" -q --no-record -o "$work/nopics-full-$n" "$none/import.xml" "$none/offers.xml"
	nw="$nw $t_wall" nc="$nc $t_cpu" nr="$nr $t_rss"
	timed "$bin/full-export" -q --db "$db" -o "$full" "$cat/import.xml" "$cat/offers.xml"
	fw="$fw $t_wall" fc="$fc $t_cpu" fr="$fr $t_rss"
	[ "$t_status" -eq 0 ] || exit 1
	start_site
	timed "$bin/catalog-push" -q --db "$db" --url "$url" --user admin --password-file "$pw" \
		--retry-wait 0.1 "$full"
	pw_="$pw_ $t_wall" pc="$pc $t_cpu" pr="$pr $t_rss"
	# the site's catalog model: products whose picture was uploaded and is there
	got=$(python3 "$site_py" --dir "$site_dir" --control catalog | python3 -c 'import json, sys
print(sum(1 for p in json.load(sys.stdin)["products"].values()
          for x in p.get("pictures", []) if x["uploaded"] and x["on_site"]))')
	stop_site
	if [ "$r" -eq 1 ]; then
		if [ "$got" -eq "$n" ]; then
			echo "PASS: the site received all $n pictures"
		else
			echo "FAIL: the site received $got pictures of $n"
			fail=1
		fi
	fi
	# the push acknowledged the full package (when it did not, say so and
	# acknowledge it here, so the delta has its baseline)
	"$bin/delta-export" -q --db "$db" --ack 1 >/dev/null 2>&1
	timed "$bin/delta-export" -q --db "$db" -o "$delta" "$chg/import.xml" "$chg/offers.xml"
	dw="$dw $t_wall" dc="$dc $t_cpu" dr="$dr $t_rss"
done
fbytes=$(du -sb "$full" | cut -f1)
fxml=$(du -cb "$full"/*.xml | tail -n 1 | cut -f1)
nfiles=$(find "$full/import_files" -type f | wc -l)
dfiles=$(cd "$delta" && find import_files -type f 2>/dev/null | sort | tr '\n' ' ')
dcards=$(grep -o '<Товар>' "$delta/import.xml" | wc -l)
dcard=$(grep -o '<Ид>[^<]*</Ид>' "$delta/import.xml" | sed -n 's/<Ид>\(p[0-9]*\)<\/Ид>/\1/p' | tr '\n' ' ')
echo "full package: $((fbytes / 1024)) KiB ($((fxml / 1024)) KiB XML, $nfiles pictures; links, so no new blocks for them)"
if [ "$dcards" -eq 1 ] && [ "$dcard" = "$victim " ] && [ "$dfiles" = "$vpic " ]; then
	echo "PASS: the delta holds that card ($victim) and that one file ($vpic) only"
else
	echo "FAIL: the delta holds $dcards cards ($dcard) and files: $dfiles"
	fail=1
fi
echo
printf '%-12s %10s %10s %12s\n' run "wall s" "CPU s" "peak RSS MiB"
row() { printf '%-12s %10s %10s %12s\n' "$1" "$(echo "$2" | median)" "$(echo "$3" | median)" \
	"$(($(echo "$4" | maxof) / 1024))"; }
row full/none "$nw" "$nc" "$nr"
row full/pics "$fw" "$fc" "$fr"
row push "$pw_" "$pc" "$pr"
row delta "$dw" "$dc" "$dr"
awk -v a="$(echo "$fc" | median)" -v b="$(echo "$nc" | median)" -v w="$(echo "$fw" | median)" \
	-v v="$(echo "$nw" | median)" 'BEGIN {
	if (b > 0) printf "pictures cost: CPU %.2fx, wall %.2fx of the same catalog without them\n", a / b, (v > 0 ? w / v : 0) }'
exit $fail
