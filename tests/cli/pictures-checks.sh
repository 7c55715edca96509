#!/bin/bash
# pictures-checks.sh BINDIR SITE: pictures and attached files end to end.
# A small catalog whose products name pictures (import_files/ beside
# import.xml, as 1C writes them) goes through full-export and catalog-push
# to the test site (tests/site/cmlsite.py, started here): the site has
# every picture. Then one picture is replaced under the same name:
# delta-export holds that card and that file only, and the push brings the
# new bytes; a card whose picture did not change does not travel. A
# missing picture is warned with file:line and the card goes without it;
# an unsafe reference (absolute, "..", a link out of the input folder) is
# exit 3 with nothing written or recorded; a link put in the package's
# import_files is never written through.
set -u
bin=$1
site_py=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-pictures.XXXXXX")
fails=0 passes=0
site_pid=
stop_site() {
	[ -n "$site_pid" ] && { kill "$site_pid" 2>/dev/null; wait "$site_pid" 2>/dev/null; }
	site_pid=
}
trap 'stop_site; rm -rf "$tmp"' EXIT INT TERM
command -v python3 >/dev/null || { echo "python3 is missing: the test site cannot run"; exit 77; }

ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() { fails=$((fails + 1)); echo "FAILED: $1 (exit $rc)"; sed 's/^/    stderr: /' "$tmp/err" | head -10; }
expect() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

printf 'pictures-secret\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
mkdir -p "$tmp/site"
python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" >"$tmp/site.out" 2>&1 &
site_pid=$!
for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
[ -s "$tmp/site/port" ] || { echo "the test site did not start"; cat "$tmp/site.out"; exit 1; }
url="http://127.0.0.1:$(cat "$tmp/site/port")/bitrix/admin/1c_exchange.php"
push() { "$bin/catalog-push" -q --db "$tmp/db" --url "$url" --user admin --password-file "$tmp/pw" \
	--retry-wait 0.1 "$1" >"$tmp/out" 2>"$tmp/err"; }
catalog() { python3 "$site_py" --dir "$tmp/site" --control catalog; }
# pictures PRODUCT: "path uploaded on_site" per picture of the product on the site
pictures() { catalog | python3 -c 'import json, sys
p = json.load(sys.stdin)["products"].get(sys.argv[1], {})
for x in p.get("pictures", []): print(x["path"], x["uploaded"], x["on_site"])' "$1"; }
site_file() { find "$tmp/site/upload/catalog" -path "*/$1" -type f | head -n 1; }

# the input: p1 and p2 share a folder, p3 names two files (a picture and a
# document by its requisite), p4 a missing picture, p5 none
in=$tmp/in
mkdir -p "$in/import_files/aa" "$in/import_files/bb"
printf 'picture one' >"$in/import_files/aa/p1.jpg"
printf 'picture two' >"$in/import_files/aa/p2.jpg"
printf 'picture three' >"$in/import_files/bb/p3.jpg"
printf 'manual three' >"$in/import_files/bb/p3.pdf"
cat >"$in/import.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2026-12-01T00:00:00">
<Классификатор><Ид>cls-pics</Ид><Наименование>Классификатор</Наименование></Классификатор>
<Каталог СодержитТолькоИзменения="false"><Ид>cat-pics</Ид><ИдКлассификатора>cls-pics</ИдКлассификатора><Наименование>Каталог</Наименование>
<Товары>
<Товар><Ид>p1</Ид><Наименование>Один</Наименование><Картинка>import_files/aa/p1.jpg</Картинка></Товар>
<Товар><Ид>p2</Ид><Наименование>Два</Наименование><Картинка>import_files/aa/p2.jpg</Картинка></Товар>
<Товар><Ид>p3</Ид><Наименование>Три</Наименование><Картинка>import_files/bb/p3.jpg</Картинка><ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ОписаниеФайла</Наименование><Значение>import_files/bb/p3.pdf#Инструкция</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Товар>
<Товар><Ид>p4</Ид><Наименование>Четыре</Наименование><Картинка>import_files/aa/gone.jpg</Картинка></Товар>
<Товар><Ид>p5</Ид><Наименование>Пять</Наименование></Товар>
</Товары></Каталог></КоммерческаяИнформация>
EOF

# 1. the full package and its push
"$bin/full-export" --db "$tmp/db" -o "$tmp/full" "$in/import.xml" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "full-export with pictures: exit 0" '[ $rc -eq 0 ]'
expect "the package holds the four present files under their paths" \
	'[ "$(cd "$tmp/full" && find import_files -type f | sort | tr "\n" " ")" = "import_files/aa/p1.jpg import_files/aa/p2.jpg import_files/bb/p3.jpg import_files/bb/p3.pdf " ]'
expect "... with the input's bytes" 'cmp -s "$tmp/full/import_files/bb/p3.pdf" "$in/import_files/bb/p3.pdf"'
expect "the files are listed first, in name order, then the XML" \
	'[ "$(sed "s|^$tmp/full/||" "$tmp/out" | tr "\n" " ")" = "import_files/aa/p1.jpg import_files/aa/p2.jpg import_files/bb/p3.jpg import_files/bb/p3.pdf import.xml offers.xml " ]'
expect "the missing picture is warned with file:line" \
	'grep -q "import.xml:9: <Картинка> .import_files/aa/gone.jpg.: no such file: the card goes without it" "$tmp/err"'
expect "... and the card goes without it" \
	'! grep -q gone.jpg "$tmp/full/import.xml" && grep -q "<Ид>p4</Ид>" "$tmp/full/import.xml"'
push "$tmp/full"
rc=$?
expect "catalog-push of the full package: exit 0" '[ $rc -eq 0 ]'
expect "the site has p1's picture, uploaded" '[ "$(pictures p1)" = "import_files/aa/p1.jpg True True" ]'
expect "the site has p2's and p3's pictures, uploaded" \
	'[ "$(pictures p2)" = "import_files/aa/p2.jpg True True" ] && [ "$(pictures p3)" = "import_files/bb/p3.jpg True True" ]'
expect "the site got the document too, byte for byte" \
	'f=$(site_file import_files/bb/p3.pdf) && [ -n "$f" ] && cmp -s "$f" "$in/import_files/bb/p3.pdf"'
expect "p4 is on the site without a picture" '[ -z "$(pictures p4)" ] && catalog | grep -q "\"p4\""'

# 2. nothing changed: nothing travels
"$bin/delta-export" --db "$tmp/db" -o "$tmp/same" "$in/import.xml" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "unchanged pictures: delta-export writes nothing" '[ $rc -eq 0 ] && [ ! -e "$tmp/same/import.xml" ]'

# 3. p1's picture replaced under the same name, as 1C writes a new file
rm "$in/import_files/aa/p1.jpg"
printf 'picture one, retouched' >"$in/import_files/aa/p1.jpg"
"$bin/delta-export" --db "$tmp/db" -o "$tmp/delta" "$in/import.xml" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "a replaced picture: delta-export exit 0" '[ $rc -eq 0 ]'
expect "the delta holds that card only" \
	'[ "$(grep -o "<Ид>p[0-9]</Ид>" "$tmp/delta/import.xml" | tr "\n" " ")" = "<Ид>p1</Ид> " ]'
expect "... and that one file only" \
	'[ "$(cd "$tmp/delta" && find import_files -type f | tr "\n" " ")" = "import_files/aa/p1.jpg " ]'
expect "... with the new bytes" 'cmp -s "$tmp/delta/import_files/aa/p1.jpg" "$in/import_files/aa/p1.jpg"'
push "$tmp/delta"
rc=$?
expect "catalog-push of the delta: exit 0" '[ $rc -eq 0 ]'
expect "the site has the new picture" \
	'[ "$(pictures p1)" = "import_files/aa/p1.jpg True True" ] && cmp -s "$(site_file import_files/aa/p1.jpg)" "$in/import_files/aa/p1.jpg"'

# 4. the missing picture comes back: its card travels with it
printf 'picture four' >"$in/import_files/aa/gone.jpg"
"$bin/delta-export" --db "$tmp/db" -o "$tmp/back" "$in/import.xml" >"$tmp/out" 2>"$tmp/err"
expect "a picture that appears makes its card travel, with the file" \
	'[ "$(grep -o "<Ид>p[0-9]</Ид>" "$tmp/back/import.xml" | tr "\n" " ")" = "<Ид>p4</Ид> " ] && [ -f "$tmp/back/import_files/aa/gone.jpg" ] && [ ! -e "$tmp/back/import_files/aa/p1.jpg" ]'

# 5. unsafe references: refused, nothing written or recorded
mkdir -p "$tmp/outside"
printf 'secret' >"$tmp/outside/secret.jpg"
ln -s ../../outside "$in/import_files/out"
no_files() { [ -z "$(ls -A "$1" 2>/dev/null)" ] || { ls -lAR "$1" | head -5; false; }; }
gens() { sqlite3 "$tmp/db" 'select count(*) from generations' 2>/dev/null || echo "?"; }
before=$(gens)
for ref in /etc/passwd import_files/../../outside/secret.jpg import_files/out/secret.jpg; do
	sed "s|import_files/bb/p3.jpg|$ref|" "$in/import.xml" >"$in/bad.xml"
	rm -rf "$tmp/bad"
	"$bin/full-export" --db "$tmp/db" -o "$tmp/bad" "$in/bad.xml" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect "full-export '$ref': exit 3, named with file:line, nothing written" \
		'[ $rc -eq 3 ] && grep -q "bad.xml:8: <Картинка> .$ref.: " "$tmp/err" && no_files "$tmp/bad"'
	"$bin/delta-export" --db "$tmp/db" -o "$tmp/bad" "$in/bad.xml" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect "delta-export '$ref': exit 3, nothing written" \
		'[ $rc -eq 3 ] && no_files "$tmp/bad"'
done
expect "... and nothing recorded" '[ "$(gens)" = "$before" ]'
"$bin/cml-check" "$in/bad.xml" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "cml-check reports the unsafe reference: exit 3" \
	'[ $rc -eq 3 ] && grep -q "1 unsafe file references" "$tmp/out"'

# 6. a link someone put in the package's import_files is not written through
rm -rf "$tmp/linked"
mkdir -p "$tmp/linked/import_files" "$tmp/elsewhere"
ln -s ../../elsewhere "$tmp/linked/import_files/aa"
"$bin/full-export" --no-record -o "$tmp/linked" "$in/import.xml" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "a symbolic link in the package's import_files: refused, nothing written through it" \
	'[ $rc -eq 6 ] && [ -z "$(ls -A "$tmp/elsewhere")" ] && [ ! -e "$tmp/linked/import.xml" ]'

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
