#!/bin/bash
# pull-checks.sh BINDIR DATA [SITE]: orders-pull on files from DATA
# (tests/data) and, with SITE (tests/site/cmlsite.py), against the test
# site started here on 127.0.0.1 and stopped here.
#
# Files: every corpus and hand-made order document stored, a re-pull
# changes nothing, a changed order is one new revision, the XML output is
# read back as the same orders, CSV and JSON Lines parsed, --replay by
# run and by date, the --summary line, rejections with and without
# --keep-going, broken and hostile documents storing nothing, nothing on
# stdout when nothing changed. Site: the query/success cycle, what is
# confirmed when, and the faults.
set -u
bin=$1
data=$2
site_py=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-pull.XXXXXX")
# the query answers' temporary files go here, where the end checks them
mkdir "$tmp/t"
export TMPDIR=$tmp/t
fails=0 passes=0
pass=Pa55-pull-5521-secret

site_pid=
stop_site() {
	if [ -n "$site_pid" ]; then
		kill "$site_pid" 2>/dev/null
		wait "$site_pid" 2>/dev/null
		site_pid=
	fi
}
trap 'stop_site; rm -rf "$tmp"' EXIT INT TERM

if ! command -v python3 >/dev/null; then
	echo "python3 is missing: the outputs cannot be parsed"
	exit 77
fi

ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() {
	fails=$((fails + 1))
	echo "FAILED: $1"
	echo "    exit $rc"
	sed 's/^/    stderr: /' "$tmp/err" | head -20
	head -c 600 "$tmp/out" | sed 's/^/    stdout: /'
	[ -f "$tmp/site/requests.log" ] && tail -5 "$tmp/site/requests.log" | sed 's/^/    site: /'
}
expect() { # description, condition (a shell command list, evaluated)
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}

db=$tmp/cmlkit.db
pull() { # orders-pull options: $rc, $tmp/out, $tmp/err
	"$bin/orders-pull" --db "$db" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	cat "$tmp/out" "$tmp/err" >>"$tmp/all-output"
}
fresh() { rm -f "$db" "$db"-* "$db".*; }
status_is() { [ "$rc" = "$1" ]; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
no_output() { [ ! -s "$tmp/out" ]; }
# the --summary line's order counts: "S seen, N new, C changed, U unchanged, R rejected"
summary_is() { grep -qF -- "orders: $1;" "$tmp/err"; }
attached_is() { grep -qF -- "attachments: $1" "$tmp/err"; }
# Документ elements in the XML output, in whatever encoding it is
docs() {
	python3 - "$tmp/out" <<'EOF'
import re, sys
b = open(sys.argv[1], "rb").read()
enc = re.search(rb'encoding="([^"]+)"', b)
t = b.decode(enc.group(1).decode() if enc else "utf-8")
print(len(re.findall(r"<Документ>", t)))
EOF
}
docs_are() { [ "$(docs)" = "$1" ]; }
# the Ид of each Документ of the output, in order, space-separated
doc_ids() {
	python3 - "$tmp/out" <<'EOF'
import re, sys
b = open(sys.argv[1], "rb").read()
enc = re.search(rb'encoding="([^"]+)"', b)
t = b.decode(enc.group(1).decode() if enc else "utf-8")
print(" ".join(re.findall(r"<Документ>\s*<Ид>([^<]*)</Ид>", t)))
EOF
}
last_run() { sed -n 's/.*: run \([0-9][0-9]*\) committed: .*/\1/p' "$tmp/err" | tail -1; }

# ---- files: the first pull, the same again, a change ----

fresh
pull --site shop --summary "$data/pull/good-small.xml"
expect "two orders: exit 0" 'status_is 0'
expect "two orders: both new in the summary" \
	'summary_is "2 seen, 2 new, 0 changed, 0 unchanged, 0 rejected"'
expect "two orders: written as CommerceML, 101 then 102" '[ "$(doc_ids)" = "101 102" ]'
cp "$tmp/out" "$tmp/first.xml"
"$bin/cml-check" -q "$tmp/first.xml" >/dev/null 2>&1
expect "two orders: the output is a document cml-check takes" '[ $? = 0 ]'
expect "two orders: UTF-8 by default" 'head -c 60 "$tmp/first.xml" | grep -qi "encoding=.utf-8"'

pull --site shop --summary "$data/pull/good-small.xml"
expect "pulled again: exit 0" 'status_is 0'
expect "pulled again: nothing on stdout" 'no_output'
expect "pulled again: both unchanged" \
	'summary_is "2 seen, 0 new, 0 changed, 2 unchanged, 0 rejected"'

# what orders-pull wrote, read back, is the same orders: no change
pull --site shop --summary "$tmp/first.xml"
expect "its own output read back: exit 0, nothing new or changed" \
	'status_is 0 && no_output && summary_is "2 seen, 0 new, 0 changed, 2 unchanged, 0 rejected"'

# order 101: a quantity 2 -> 3 and the sums with it
sed -e 's|<Количество>2</Количество>|<Количество>3</Количество>|' \
	-e 's|<Сумма>200.00</Сумма>|<Сумма>300.00</Сумма>|' \
	-e 's|<Сумма>500.00</Сумма>|<Сумма>600.00</Сумма>|' \
	"$data/pull/good-small.xml" >"$tmp/changed.xml"
pull --site shop --summary -v "$tmp/changed.xml"
changed_run=$(last_run)
expect "a changed order: exit 0" 'status_is 0'
expect "a changed order: one changed, one unchanged" \
	'summary_is "2 seen, 0 new, 1 changed, 1 unchanged, 0 rejected"'
expect "a changed order: only it is written" '[ "$(doc_ids)" = "101" ]'
expect "a changed order: its new quantity is written" 'grep -q "<Количество>3</Количество>" "$tmp/out"'
expect "a changed order: -v names it and what changed" 'err_has "order 101: changed"'
pull --site shop --format jsonl "$tmp/changed.xml"
expect "the changed order again: nothing (the change is one revision)" 'status_is 0 && no_output'

# ---- the output formats ----

pull --site shop --replay "$changed_run" --format jsonl
expect "jsonl: exit 0" 'status_is 0'
python3 - "$tmp/out" >"$tmp/check.out" 2>&1 <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(objs) == 1, objs
o = objs[0]
flat = json.dumps(o, ensure_ascii=False)
assert o.get("revision") == 2, o.get("revision")
assert o.get("change") == "changed", o.get("change")
assert o.get("site") == "shop", o.get("site")
assert '"101"' in flat and "Чайник" in flat and "ORDER_DELIVERY" in flat, flat
EOF
expect "jsonl: one object, order 101 at revision 2, changed, of site shop" '[ $? = 0 ] || { cat "$tmp/check.out"; false; }'

pull --site shop --replay 1 --format csv
expect "csv: exit 0" 'status_is 0'
python3 - "$tmp/out" >"$tmp/check.out" 2>&1 <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
head, body = rows[0], rows[1:]
assert len(body) == 3, body          # 101: two lines, 102: one
assert all(len(r) == len(head) for r in body), rows
text = "\n".join(",".join(r) for r in body)
assert "101" in text and "102" in text and "a1b2c3d4-0002#e5f6-size-m" in text, text
EOF
expect "csv: a header and one row per line (3), every row as wide as the header" \
	'[ $? = 0 ] || { cat "$tmp/check.out"; false; }'

pull --site shop --replay 1 -e windows-1251
expect "windows-1251: declared and the bytes are" \
	'status_is 0 && head -c 60 "$tmp/out" | grep -qi "encoding=.windows-1251" && iconv -f cp1251 -t utf-8 "$tmp/out" | grep -q "Чайник"'
pull --site shop --replay 1 --bom
expect "--bom: the output starts with a byte-order mark" \
	'status_is 0 && [ "$(head -c 3 "$tmp/out" | od -An -tx1 | tr -d " ")" = efbbbf ]'
pull --site shop --replay 1 -s 3.1
expect "--schema 3.1: each order in a Контейнер" \
	'status_is 0 && [ "$(grep -o "<Контейнер>" "$tmp/out" | wc -l)" = 2 ]'

# ---- --replay ----

pull --site shop --replay 1
expect "--replay 1: every order, once, its latest revision" \
	'status_is 0 && [ "$(doc_ids)" = "101 102" ] && grep -q "<Количество>3</Количество>" "$tmp/out"'
today=$(date -u +%Y-%m-%d)
pull --site shop --replay "$today"
expect "--replay today: every order" 'status_is 0 && [ "$(doc_ids)" = "101 102" ]'
pull --site shop --replay 2099-01-01T00:00:00
expect "--replay in the future: nothing, exit 0" 'status_is 0 && no_output'
pull --site other --replay 1
expect "--replay of another site: nothing" 'status_is 0 && no_output'
cp "$db" "$tmp/before.db"
pull --replay 1
expect "--replay without a site: every site's" 'status_is 0 && [ "$(doc_ids)" = "101 102" ]'
expect "--replay changes nothing in the database" 'cmp -s "$db" "$tmp/before.db"'
pull --replay yesterday
expect "--replay with a bad SINCE: usage error" 'status_is 2 && err_has "--replay"'
pull --site shop --replay 1 "$data/pull/good-small.xml"
expect "--replay takes no files" 'status_is 2'

# ---- bad input ----

fresh
pull --site shop --summary "$data/pull/bad-rejects.xml"
expect "rejected orders: exit 3" 'status_is 3'
expect "rejected orders: nothing on stdout" 'no_output'
for n in 302 303 304 305 306; do
	expect "rejected orders: order $n named" 'grep -q "order $n rejected\\|Ид \"$n\"\\|Ид $n" "$tmp/err"'
done
expect "rejected orders: 301 and 307 not named" '! grep -q "30[17]" "$tmp/err"'
expect "rejected orders: with the file and line" 'grep -q "bad-rejects.xml:[0-9]" "$tmp/err"'
expect "rejected orders: the summary counts five" \
	'summary_is "7 seen, 0 new, 0 changed, 0 unchanged, 5 rejected"'
expect "rejected orders: said that nothing was stored" 'err_has "nothing stored"'
pull --site shop --replay 1
expect "rejected orders: nothing was stored" 'no_output'

pull --site shop --summary --keep-going "$data/pull/bad-rejects.xml"
expect "--keep-going: exit 1" 'status_is 1'
expect "--keep-going: the good ones stored and written (the empty date T is no error)" \
	'[ "$(doc_ids)" = "301 307" ]'
expect "--keep-going: the summary" 'summary_is "7 seen, 2 new, 0 changed, 0 unchanged, 5 rejected"'
pull --site shop --keep-going "$data/pull/bad-rejects.xml"
expect "--keep-going again: exit 1, nothing new on stdout" 'status_is 1 && no_output'
pull --site shop --ack-partial "$data/pull/bad-rejects.xml"
expect "--ack-partial without --keep-going: usage error" 'status_is 2'

fresh
head -c 3000 "$data/pull/good-small.xml" >"$tmp/truncated.xml"
printf 'orders: 101, 102\n' >"$tmp/not-xml.xml"
for f in "$tmp/truncated.xml" "$tmp/not-xml.xml" "$data/reader/bad-billion-laughs.xml" \
	"$data/reader/bad-xxe.xml" "$data/check/good-small.xml"; do
	name=$(basename "$f")
	pull --site shop --keep-going "$data/pull/good-small.xml" "$f"
	expect "$name after a good file: exit 3, nothing on stdout" 'status_is 3 && no_output'
	expect "$name: named in the message" 'err_has "$name"'
	pull --site shop --replay 1
	expect "$name: nothing of the good file stored either" 'no_output'
done
pull --site shop "$tmp/no-such-file.xml"
expect "a missing file: exit 6, named" 'status_is 6 && err_has "no-such-file.xml"'

# ---- what files can be ----

fresh
pull --site shop --summary "$data/pull/good-210-payments.xml"
expect "2.10 with payment and shipment: exit 0" 'status_is 0'
expect "2.10: one order, two attachments" \
	'summary_is "1 seen, 1 new, 0 changed, 0 unchanged, 0 rejected" && attached_is "2 seen, 2 new or changed"'
expect "2.10: the order, then its payment and shipment" '[ "$(doc_ids)" = "201 55 56" ]'
cp "$tmp/out" "$tmp/210.xml"
pull --site shop --summary "$tmp/210.xml"
expect "2.10 read back: nothing new or changed" \
	'status_is 0 && no_output && attached_is "2 seen, 0 new or changed"'
sed 's|TX-88731|TX-88732|' "$data/pull/good-210-payments.xml" >"$tmp/210-paid.xml"
pull --site shop --summary "$tmp/210-paid.xml"
expect "2.10 with a changed payment: its order is written again" \
	'status_is 0 && attached_is "2 seen, 1 new or changed" && [ "$(doc_ids)" = "201 55 56" ]'

fresh
while read -r file n; do
	pull --site corpus --summary "$data/pull/$file"
	expect "$file: exit 0, $n new" \
		'status_is 0 && summary_is "$n seen, $n new, 0 changed, 0 unchanged, 0 rejected"'
	expect "$file: $n written" '[ "$(docs)" = "$n" ] || { [ "$n" = 0 ] && no_output; }'
	cp "$tmp/out" "$tmp/corpus-out.xml"
	pull --site corpus --summary "$data/pull/$file"
	expect "$file again: unchanged, nothing written" \
		'status_is 0 && no_output && summary_is "$n seen, 0 new, 0 changed, $n unchanged, 0 rejected"'
	if [ "$n" != 0 ]; then
		pull --site corpus --summary "$tmp/corpus-out.xml"
		expect "$file: orders-pull's output of it read back is the same orders" \
			'status_is 0 && no_output && summary_is "$n seen, 0 new, 0 changed, $n unchanged, 0 rejected"'
	fi
done <<'EOF'
dobromyslov__commerceml-parser__data_bitrix-query-response-full.xml 2
dobromyslov__commerceml-parser__data_bitrix-query-response-empty.xml 0
carono__yii2-1c-exchange__files_xml_from.xml 1
irpsv__commerceml__tests_assets_bitrix-module-6_documents_2_documents.xml 4
EOF

# standard input, and the same orders under another site are other orders
"$bin/orders-pull" --db "$db" --site other --summary - <"$data/pull/good-small.xml" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
expect "stdin under another site: new orders" \
	'status_is 0 && summary_is "2 seen, 2 new, 0 changed, 0 unchanged, 0 rejected"'
CMLKIT_SITE=other pull --summary "$data/pull/good-small.xml"
expect "\$CMLKIT_SITE names the site" \
	'status_is 0 && summary_is "2 seen, 0 new, 0 changed, 2 unchanged, 0 rejected"'
env -u CMLKIT_SITE -u CMLKIT_URL "$bin/orders-pull" --db "$db" "$data/pull/good-small.xml" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
expect "files without a site name: usage error" 'status_is 2 && err_has "--site"'
env -u CMLKIT_URL "$bin/orders-pull" --db "$db" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "no site and no files: usage error" 'status_is 2'

# ---- the site ----

if [ -z "$site_py" ]; then
	echo "no test site given: site checks skipped"
else
	printf '%s\n' "$pass" >"$tmp/pw"
	chmod 600 "$tmp/pw"
	start_site() { # cmlsite.py options
		stop_site
		rm -rf "$tmp/site"
		mkdir -p "$tmp/site"
		python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" "$@" \
			>>"$tmp/site.out" 2>&1 &
		site_pid=$!
		for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
		if [ ! -s "$tmp/site/port" ]; then
			echo "the test site did not start:"
			cat "$tmp/site.out"
			exit 1
		fi
		url="http://127.0.0.1:$(cat "$tmp/site/port")/bitrix/admin/1c_exchange.php"
	}
	spull() { pull --url "$url" --user admin --password-file "$tmp/pw" --retry-wait 0.01 "$@"; }
	requests() { # mode: how many requests of that mode the site saw
		awk -F'\t' -v m="$1" '$4 == m' "$tmp/site/requests.log" 2>/dev/null | wc -l
	}

	# a site that repeats what it sent on every query (--orders)
	iconv -f utf-8 -t cp1251 "$data/pull/good-small.xml" |
		sed 's/encoding="UTF-8"/encoding="windows-1251"/' >"$tmp/answer.xml"
	fresh
	start_site --orders "$tmp/answer.xml"
	spull --summary
	expect "site: exit 0" 'status_is 0'
	expect "site: the orders written" '[ "$(doc_ids)" = "101 102" ]'
	expect "site: stored under the URL's host and port" \
		'pull --site "127.0.0.1_$(cat "$tmp/site/port")" --replay 1; [ "$(doc_ids)" = "101 102" ]'
	spull --summary
	expect "site: a second pull stores and writes nothing new" 'status_is 0 && no_output'
	expect "site: each answer confirmed after it was stored, queried until nothing new" \
		'[ "$(requests query)" = 3 ] && [ "$(requests success)" = 3 ]'
	expect "site: the session's cookie and sessid on every request" \
		'! awk -F"\t" "\$4 != \"checkauth\" && (\$8 != \"ok\" || \$9 != \"ok\")" "$tmp/site/requests.log" | grep -q .'
	spull --exchange-version 2.09 --site shop2
	expect "site: --exchange-version sent, orders stored" 'status_is 0 && [ "$(doc_ids)" = "101 102" ]'

	fresh
	start_site --orders "$tmp/answer.xml"
	spull --max-queries 1
	expect "site, --max-queries 1: one query, confirmed, a warning that more may come" \
		'status_is 0 && [ "$(requests query)" = 1 ] && [ "$(requests success)" = 1 ] &&
		 err_has "stopped after 1 query"'

	# killed while the answer comes: no file left, nothing stored or confirmed
	fresh
	start_site --orders "$tmp/answer.xml" --fault slow@query --slow-seconds 4
	"$bin/orders-pull" --db "$db" --url "$url" --user admin --password-file "$tmp/pw" \
		>"$tmp/out" 2>"$tmp/err" &
	pid=$!
	# the site logs a request when it answers: init done, the query waits
	for _ in $(seq 50); do [ "$(requests init)" = 1 ] && break; sleep 0.1; done
	sleep 1
	# the answer's file has no name from the start
	expect "site, during the query: nothing in TMPDIR" '[ -z "$(ls -A "$TMPDIR")" ]'
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	expect "site, SIGTERM during the query: killed by it, nothing stored or confirmed" \
		'status_is 143 && no_output && [ "$(requests success)" = 0 ] &&
		 { pull --replay 1; no_output; }'
	expect "site, SIGTERM during the query: nothing left in TMPDIR" '[ -z "$(ls -A "$TMPDIR")" ]'

	# faults: nothing stored, nothing confirmed
	for fault in html@query empty@query http500@query; do
		fresh
		start_site --orders "$tmp/answer.xml" --fault "$fault"
		spull --retries 0
		expect "site $fault: exit 4, nothing on stdout" 'status_is 4 && no_output'
		expect "site $fault: not confirmed" '[ "$(requests success)" = 0 ]'
		pull --replay 1
		expect "site $fault: nothing stored" 'no_output'
	done
	fresh
	start_site --orders "$tmp/answer.xml" --fault http500@query:1
	spull
	expect "site: a passing 500 on query is retried" 'status_is 0 && [ "$(doc_ids)" = "101 102" ]'

	# a broken answer
	fresh
	head -c 2500 "$tmp/answer.xml" >"$tmp/broken.xml"
	start_site --orders "$tmp/broken.xml"
	spull
	expect "site, a truncated answer: exit 3, not confirmed" \
		'status_is 3 && [ "$(requests success)" = 0 ]'
	iconv -f utf-8 -t cp1251 "$data/pull/bad-rejects.xml" |
		sed 's/encoding="UTF-8"/encoding="windows-1251"/' >"$tmp/rejects.xml"
	start_site --orders "$tmp/rejects.xml"
	spull --keep-going
	expect "site, rejected orders under --keep-going: exit 1, the good ones written" \
		'status_is 1 && [ "$(doc_ids)" = "301 307" ]'
	expect "site, rejected orders: the answer not confirmed" '[ "$(requests success)" = 0 ]'
	spull --keep-going --ack-partial
	expect "site, --ack-partial: confirmed" 'status_is 1 && [ "$(requests success)" -ge 1 ]'

	# the site lost the session: success answers error
	fresh
	start_site --orders "$tmp/answer.xml" --fault no-cookie@checkauth
	spull
	expect "site without a session: not exit 0" '! status_is 0'

	# the password never shows
	expect "site: the password is in no output" '! grep -qF "$pass" "$tmp/all-output"'
	stop_site
fi

# ---- no temporary file left ----
expect "no temporary file left in TMPDIR" '[ -z "$(ls -A "$TMPDIR")" ]'

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
