#!/bin/bash
# push-checks.sh BINDIR SITE EXAMPLES: catalog-push against the test site
# (tests/site/cmlsite.py), started here on 127.0.0.1 with a random port
# and stopped here. Each case checks the exit status, the message, what
# the site received (byte for byte), and whether the generation was
# acknowledged. At the end, no output, log or file the site kept holds
# the password.
set -u
bin=$1
site_py=$2
examples=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-push.XXXXXX")
fails=0 passes=0
pass=Pa55-push-7781-secret

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
	echo "python3 is missing: the test site cannot run"
	exit 77
fi

ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() {
	fails=$((fails + 1))
	echo "FAILED: $1"
	echo "    exit $rc"
	sed 's/^/    stderr: /' "$tmp/push.err" | head -20
	[ -f "$tmp/site/requests.log" ] && tail -5 "$tmp/site/requests.log" | sed 's/^/    site: /'
}
expect() { # description, condition (a shell command list, evaluated)
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}

printf '%s\n' "$pass" >"$tmp/pw"
chmod 600 "$tmp/pw"

start_site() { # cmlsite.py options
	stop_site
	rm -rf "$tmp/site"
	mkdir -p "$tmp/site"
	python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" "$@" >>"$tmp/site.out" 2>&1 &
	site_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
	if [ ! -s "$tmp/site/port" ]; then
		echo "the test site did not start:"
		cat "$tmp/site.out"
		exit 1
	fi
	url="http://127.0.0.1:$(cat "$tmp/site/port")/bitrix/admin/1c_exchange.php"
}

# a new database and a full package of the sample shop, pending
fresh() { # [full-export options]
	rm -rf "$tmp/cmlkit.db"* "$tmp/pkg"
	"$bin/full-export" -q --db "$tmp/cmlkit.db" -o "$tmp/pkg" "$@" "$examples/shop/cml" >/dev/null ||
		{ echo "full-export failed"; exit 1; }
}

push() { # catalog-push options: $rc, $tmp/push.out, $tmp/push.err
	"$bin/catalog-push" --db "$tmp/cmlkit.db" --url "$url" --user admin \
		--password-file "$tmp/pw" --retry-wait 0.01 "$@" "$tmp/pkg" \
		>"$tmp/push.out" 2>"$tmp/push.err"
	rc=$?
	cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
}

sql() { python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "$tmp/cmlkit.db" "$1"; }
acked() { [ -n "$(sql 'SELECT acked FROM generations ORDER BY gen DESC LIMIT 1')" ]; }
pending() { ! acked && [ "$(baseline)" = "${1:-0}" ]; }
err_has() { grep -qF -- "$1" "$tmp/push.err"; }
status_is() { [ "$rc" = "$1" ]; }
# every package file arrived whole: the last copy the site imported of it
received_same() { # the XML as imported, the attached files as uploaded
	for f in "$tmp/pkg"/*.xml; do
		name=$(basename "$f")
		got=$(ls "$tmp/site/received/"*-"$name" 2>/dev/null | tail -1)
		[ -n "$got" ] && cmp -s "$f" "$got" || return 1
	done
	pkg_attached | while read -r f; do
		cmp -s "$tmp/pkg/$f" "$tmp/site/upload/catalog/$f" || exit 1
	done
}
# the attached files of the package (pictures), by name
pkg_attached() { [ -d "$tmp/pkg/import_files" ] && (cd "$tmp/pkg" && find import_files -type f ! -name '.*' | sort); }
pkg_files() { echo $(($(ls "$tmp/pkg"/*.xml | wc -l) + $(pkg_attached | wc -l))); }
pkg_bytes() { cat "$tmp/pkg"/*.xml $(pkg_attached | sed "s|^|$tmp/pkg/|") | wc -c; }
requests() { # mode: how many requests of that mode the site saw
	awk -F'\t' -v m="$1" '$4 == m' "$tmp/site/requests.log" 2>/dev/null | wc -l
}
baseline() { sql "SELECT value FROM meta WHERE key = 'baseline_gen'"; }
uploaded_names() { awk -F'\t' '$4 == "file" { print $5 }' "$tmp/site/requests.log" | sort -u; }
chunks_within() { # limit min: every chunk at most limit bytes, more than min of them
	awk -F'\t' -v lim="$1" -v min="$2" '$4 == "file" { n++; if ($6 + 0 > lim + 0) bad = 1 }
		END { exit !(n > min + 0 && !bad) }' "$tmp/site/requests.log"
}
# every upload of an attached file comes before the first import
attached_first() {
	awk -F'\t' '$4 == "import" && !first { first = $1 }
		$4 == "file" && $5 ~ /^import_files\// { last = $1; n++ }
		END { exit !(n > 0 && first > last) }' "$tmp/site/requests.log"
}
imports_of_attached() { awk -F'\t' '$4 == "import" && $5 ~ /^import_files\//' "$tmp/site/requests.log" | wc -l; }
imported_order() { awk -F'\t' '$2 !~ /^\(/ { printf "%s ", $2 }' "$tmp/site/imports.log"; }

# ---- the whole cycle ----

start_site
fresh
push
expect "full package: exit 0" 'status_is 0'
expect "full package: the site has every file byte for byte" 'received_same'
expect "full package: import.xml before offers.xml" '[ "$(imported_order)" = "import.xml offers.xml " ]'
expect "full package: deactivate and complete sent" '[ "$(requests deactivate)" = 1 -a "$(requests complete)" = 1 ]'
expect "full package: its pictures sent before any import, none imported" \
	'[ "$(pkg_attached | wc -l)" -gt 0 ] && attached_first && [ "$(imports_of_attached)" = 0 ]'
expect "full package: acknowledged, it is the baseline" 'acked'
expect "full package: quiet on success" '[ ! -s "$tmp/push.out" -a ! -s "$tmp/push.err" ]'
# the site's name in the run log: from the URL's host and its port
last_counts() { sql "SELECT counts FROM runs WHERE program = 'catalog-push' ORDER BY id DESC LIMIT 1"; }
port=$(cat "$tmp/site/port")
expect "full package: the run names the site by the URL's host and port" \
	'[ "$(last_counts)" = "$(printf '"'"'{"gen":1,"files":%s,"bytes":%s,"site":"127.0.0.1_%s"}'"'"' \
		"$(pkg_files)" "$(pkg_bytes)" "$port")" ]'

before=$(wc -l <"$tmp/site/requests.log")
push -v
expect "pushed again: exit 0" 'status_is 0'
expect "pushed again: nothing sent" '[ "$(wc -l <"$tmp/site/requests.log")" = "$before" ]'
expect "pushed again: said under --verbose" 'err_has "already acknowledged"'

# a delta: two prices and a stock level change in the CSV copy of the shop
cp -r "$examples/shop/csv" "$tmp/csv"
# two prices of one offer and a stock level of another
sed -i -e '2s/,890.00,710.00,25,11/,990.00,790.00,25,11/' \
	-e '3s/,25,890.00,710.00,18,7/,20,890.00,710.00,13,7/' "$tmp/csv/offers.csv"
rm -rf "$tmp/pkg"
"$bin/delta-export" -q --db "$tmp/cmlkit.db" -o "$tmp/pkg" "$tmp/csv" >/dev/null
before=$(sql 'SELECT max(gen) FROM generations')
start_site
CMLKIT_SITE=not/this push --site Shop-1.main
expect "delta package: exit 0" 'status_is 0'
expect "delta package: the run names the site --site gave" 'last_counts | grep -qF "\"site\":\"Shop-1.main\"}"'
expect "delta package: the site has it byte for byte" 'received_same'
expect "delta package: no deactivate after a delta" '[ "$(requests deactivate)" = 0 ]'
expect "delta package: acknowledged" 'acked'
expect "delta package: the baseline is its generation" '[ "$(baseline)" = "$before" ]'
# --no-record tells full from partial by the reader, in either encoding
mkdir -p "$tmp/d1251"
python3 - "$tmp/pkg" "$tmp/d1251" <<'EOF'
import os, re, sys
for name in os.listdir(sys.argv[1]):
    text = open(os.path.join(sys.argv[1], name), encoding="utf-8").read()
    text = re.sub(r'encoding="[^"]*"', 'encoding="windows-1251"', text, count=1)
    open(os.path.join(sys.argv[2], name), "w", encoding="cp1251").write(text)
EOF
"$bin/catalog-push" --no-record --dry-run "$tmp/pkg" >"$tmp/push.out" 2>&1
expect "--no-record: a delta package is seen as partial" 'grep -q "not recorded, partial" "$tmp/push.out"'
"$bin/catalog-push" --no-record --dry-run "$tmp/d1251" >"$tmp/push.out" 2>&1
expect "--no-record: a windows-1251 delta package is seen as partial" \
	'grep -q "not recorded, partial" "$tmp/push.out"'
"$bin/catalog-push" --no-record --dry-run "$examples/shop/cml" >"$tmp/push.out" 2>&1
expect "--no-record: a full package is seen as full" 'grep -q "not recorded, full" "$tmp/push.out"'

# ---- the site's variants ----

variant() { # description, cmlsite options...: a full push that must succeed
	desc=$1
	shift
	start_site "$@"
	fresh
	push
	if status_is 0 && received_same && acked; then ok "$desc"; else bad "$desc"; fi
}
variant "zip=yes: one archive, each file imported" --zip yes
expect "zip=yes: one upload, package.zip" '[ "$(uploaded_names)" = package.zip ]'
variant "file_limit=10000: chunks appended" --file-limit 10000
expect "file_limit=10000: no chunk above the limit, several chunks" 'chunks_within 10000 10'
variant "file_limit=0: no limit" --file-limit 0
expect "file_limit=0: one request per file, pictures included" '[ "$(requests file)" = "$(pkg_files)" ]'
start_site --zip yes
fresh
push --no-zip
expect "--no-zip: plain files though the site offers zip" '[ "$rc" = 0 -a "$(requests file)" -ge 2 -a -z "$(grep -F package.zip "$tmp/site/requests.log")" ]'
variant "UTF-8 answers with a BOM (WooCommerce)" --bom --encoding utf-8
start_site
fresh
push --no-deactivate -v --exchange-version 2.08
expect "--no-deactivate: a full package without deactivate" \
	'[ "$rc" = 0 ] && [ "$(requests deactivate)" = 0 ] && [ "$(requests complete)" = 1 ] && acked'
expect "--exchange-version: sent as &version= on the requests" \
	'err_has "mode=init&sessid=(hidden)&version=2.08"'
start_site
fresh
chmod 644 "$tmp/pw"
CMLKIT_URL=$url CMLKIT_USER=admin "$bin/catalog-push" --db "$tmp/cmlkit.db" \
	--password-file "$tmp/pw" "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
chmod 600 "$tmp/pw"
cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
expect "site and user from CMLKIT_URL and CMLKIT_USER" '[ "$rc" = 0 ] && acked'
expect "a password file readable by others: a warning" 'err_has "readable by others"'
variant "CRLF answers (Shop-Script)" --crlf
variant "an older site: no sessid, no timestamp" --no-sessid --no-timestamp
expect "no timestamp: no deactivate sent" '[ "$(requests deactivate)" = 0 ]'
variant "a site without deactivate and complete" --no-deactivate --no-complete
variant "success glued to a message on one line" --fault inline-success@file
variant "two HTTP 500s, retried" --fault http500@import:2
variant "a connection dropped mid-upload, once: restarted from init" --fault drop@file:1
expect "dropped once: init sent again" '[ "$(requests init)" = 2 ]'

start_site
rm -rf "$tmp/cmlkit.db"* "$tmp/pkg"
"$bin/full-export" -q --db "$tmp/cmlkit.db" --schema 3.1 -o "$tmp/pkg" "$examples/shop/cml" >/dev/null
push
expect "3.1 split package: exit 0, whole" '[ "$rc" = 0 ] && received_same'
expect "3.1 split package: 1C's order" '[ "$(imported_order)" = "classifier.xml goods.xml offers.xml prices.xml rests.xml " ]'

# ---- the password in every form it can take (and a short one) ----

hard='p@ss w:r/d%Пароль'
printf '%s\n' "$hard" >"$tmp/pw-hard"
chmod 600 "$tmp/pw-hard"
no_forms() { # password: none of its forms in push.out and push.err, no URL with user info
	python3 - "$1" admin "$tmp/push.out" "$tmp/push.err" <<'EOF'
import base64, sys, urllib.parse
pw, user = sys.argv[1], sys.argv[2]
text = b"".join(open(f, "rb").read() for f in sys.argv[3:])
q = urllib.parse.quote(pw, safe="")
forms = [pw.encode(), q.encode(), q.lower().encode(), urllib.parse.quote_plus(pw, safe="").encode(),
         base64.b64encode(("%s:%s" % (user, pw)).encode()), base64.b64encode(pw.encode()),
         b"@127.0.0.1"]
sys.exit(1 if any(f in text for f in forms) else 0)
EOF
}
hard_fault() { # description, status, message, cmlsite options... (site and client: $hard)
	desc=$1 want=$2 msg=$3
	shift 3
	start_site --password-file "$tmp/pw-hard" "$@"
	fresh
	push -v --password-file "$tmp/pw-hard" --retries 0 --timeout 1
	if status_is "$want" && err_has "$msg" && no_forms "$hard" && pending 0; then
		ok "$desc"
	else
		bad "$desc (want exit $want, \"$msg\", no form of the password)"
	fi
}
hard_fault "a relative login redirect at checkauth: no login in the URL shown" 5 \
	"redirects (HTTP 302) to http://127.0.0.1:" --fault redirect
expect "a login redirect: not advised as --url" \
	'err_has "not to an exchange script" && ! err_has "as --url"'
hard_fault "an error page echoing the Authorization header: masked" 4 \
	"HTTP_AUTHORIZATION: Basic (hidden) PHP_AUTH_USER: admin PHP_AUTH_PW: (hidden)" \
	--fault echo-auth
hard_fault "a failure quoting the password, raw and percent-encoded: masked" 5 \
	"Неверный пароль (hidden) / (hidden)" --fault failure \
	--failure-text "Неверный пароль $hard / $(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="").lower())' "$hard")"
hard_fault "success without a cookie: said why init fails" 5 \
	"gave no session cookie, so it does not know this session" --fault no-cookie
printf 'q7\n' >"$tmp/pw-short"
chmod 600 "$tmp/pw-short"
start_site --password-file "$tmp/pw-short" --fault failure --failure-text "wrong password q7, see q7"
fresh
push -v --password-file "$tmp/pw-short"
expect "a two-character password quoted by the site: masked" \
	'[ "$rc" = 5 ] && err_has "wrong password (hidden), see (hidden)" && ! grep -qF q7 "$tmp/push.err" "$tmp/push.out"'

# an upload answered by a trickle that never ends: bounded by --timeout
start_site --fault trickle
fresh
t0=$(date +%s)
push --timeout 1 --retries 1
t1=$(date +%s)
expect "an endless answer to an upload: exit 4 within the timeouts, said so" \
	'[ "$rc" = 4 ] && err_has "answer did not end within 1 s" && err_has "stuck in a loop" && [ $((t1 - t0)) -lt 15 ] && pending 0'
expect "an endless answer to an upload: started again from init once" '[ "$(requests init)" = 2 ]'

# ---- faults: the message, the status, and no acknowledgement ----

fault() { # description, status, message, cmlsite options... -- catalog-push options
	desc=$1 want=$2 msg=$3
	shift 3
	site=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do site+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	start_site "${site[@]}"
	fresh
	push "$@"
	if status_is "$want" && err_has "$msg" && pending 0 && err_has "not acknowledged"; then
		ok "$desc"
	else
		bad "$desc (want exit $want, \"$msg\", not acknowledged)"
	fi
}
fault "wrong password" 5 "Ошибка авторизации. Неверное имя пользователя или пароль." \
	--fault wrong-password
fault "wrong password, HTTP 401" 5 "refused the login (HTTP 401)" --auth-401 --fault wrong-password
fault "failure with a reason (windows-1251)" 5 \
	"import import.xml: the site answered failure: Ошибка импорта: не найден классификатор в файле." \
	--fault failure
fault "failure with a reason (UTF-8, BOM, CRLF)" 5 "Ошибка импорта: не найден классификатор" \
	--bom --encoding utf-8 --crlf --fault failure
fault "HTML error page" 4 "HTML page instead of the protocol" --fault html
fault "HTML error page: its text shown" 4 "Fatal error: Allowed memory size exhausted" --fault html
fault "empty answer" 4 "empty page" --fault empty -- --retries 1
fault "HTTP 500 every time" 4 "the site failed (HTTP 500)" --fault http500@import -- --retries 2
fault "not the protocol (WooCommerce 'Error:')" 5 "neither success, progress nor failure" \
	--fault error-text
fault "slow answer past the timeout" 4 "no answer from the site within 1 s" \
	--fault slow@import --slow-seconds 3 -- --timeout 1 --retries 0
fault "endless progress" 4 "still answers progress after 5 answers" \
	--fault endless -- --import-steps 5
fault "connection dropped in every upload" 4 "was not sent whole" --fault drop@file -- --retries 2
expect "dropped uploads: nothing imported after a partial upload" '[ "$(requests import)" = 0 ]'
expect "dropped uploads: restarted from init each time" '[ "$(requests init)" = 3 ]'

# killed in the middle (the site is slow to import): nothing acknowledged,
# and the next push delivers it
start_site --fault slow@import:1 --slow-seconds 5
fresh
"$bin/catalog-push" --db "$tmp/cmlkit.db" --url "$url" --user admin --password-file "$tmp/pw" \
	"$tmp/pkg" >/dev/null 2>&1 &
victim=$!
# the upload is answered, so the first import is in the slow site's hands
for _ in $(seq 100); do [ "$(requests file)" -ge 1 ] && break; sleep 0.1; done
sleep 0.5
{ kill -9 "$victim"; wait "$victim"; } 2>/dev/null
rc=killed
: >"$tmp/push.err"
expect "kill -9 during the import: not acknowledged" '[ "$(requests complete)" = 0 ] && pending 0'
push
expect "the next push after a kill delivers and acknowledges" '[ "$rc" = 0 ] && received_same && acked'

# nobody listening
stop_site
fresh
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/bitrix/admin/1c_exchange.php"
push --retries 1
expect "connection refused: exit 4, not acknowledged" '[ "$rc" = 4 ] && pending 0'

# ---- TLS: verified unless told otherwise ----
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
		>/dev/null 2>&1
	start_site --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
	url=$(printf '%s' "$url" | sed 's|^http:|https:|')
	fresh
	push
	expect "https, a self-signed certificate: refused (exit 5), not acknowledged" \
		'[ "$rc" = 5 ] && err_has "certificate does not verify" && pending 0'
	push --cacert "$tmp/cert.pem"
	expect "https with --cacert: delivered and verified" '[ "$rc" = 0 ] && received_same && acked'
	fresh
	good_url=$url
	url=$(printf '%s' "$url" | sed 's|//127.0.0.1:|//localhost:|')
	push --cacert "$tmp/cert.pem" --retries 0
	expect "https, a certificate for another name: said so, --cacert not advised" \
		'[ "$rc" = 5 ] && err_has "certificate is for another name" && ! err_has "give its CA with --cacert" && pending 0'
	url=$good_url
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca \
		-keyout "$tmp/key2.pem" -out "$tmp/other-ca.pem" >/dev/null 2>&1
	push --cacert "$tmp/other-ca.pem" --retries 0
	expect "https, --cacert of another CA: said which file it does not verify against" \
		'[ "$rc" = 5 ] && err_has "does not verify against the CAs in $tmp/other-ca.pem" && pending 0'
	fresh
	push --insecure
	expect "https with --insecure: delivered, with a warning" \
		'[ "$rc" = 0 ] && acked && err_has "not checked"'
else
	echo "skip: TLS checks (no openssl)"
fi

# ---- passwords and usage ----

start_site
fresh
"$bin/catalog-push" --db "$tmp/cmlkit.db" --url "http://admin:$pass@127.0.0.1:1/x" --user admin \
	--password-file "$tmp/pw" "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
expect "a password in the URL: usage error" '[ "$rc" = 2 ] && err_has "must not carry a user or password"'
env -u CMLKIT_PASSWORD HOME="$tmp" "$bin/catalog-push" --db "$tmp/cmlkit.db" --url "$url" \
	--user admin "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
expect "no password anywhere: usage error" '[ "$rc" = 2 ] && err_has "no password"'
CMLKIT_PASSWORD=$pass "$bin/catalog-push" -v --db "$tmp/cmlkit.db" --url "$url" --user admin \
	"$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
expect "password from CMLKIT_PASSWORD" '[ "$rc" = 0 ] && acked'
expect "--verbose logs requests, hides the sessid" 'err_has "mode=init&sessid=(hidden)"'
fresh
printf 'machine 127.0.0.1 login admin password %s\n' "$pass" >"$tmp/netrc"
chmod 600 "$tmp/netrc"
env -u CMLKIT_PASSWORD "$bin/catalog-push" -v --db "$tmp/cmlkit.db" --url "$url" \
	--netrc-file "$tmp/netrc" "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
expect "user and password from netrc" '[ "$rc" = 0 ] && acked'
expect "a netrc file of mode 0600: no warning" '! err_has "readable by others"'
fresh
chmod 644 "$tmp/netrc"
env -u CMLKIT_PASSWORD "$bin/catalog-push" --db "$tmp/cmlkit.db" --url "$url" \
	--netrc-file "$tmp/netrc" "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
expect "a netrc file readable by others: a warning, and it is used" \
	'[ "$rc" = 0 ] && acked && err_has "$tmp/netrc: the netrc file is readable by others (chmod 600 it)"'
fresh
printf 'machine example.org login other password x\nmachine 127.0.0.1 login someone password x\nmachine 127.0.0.1\n  login admin\n  password %s\n' "$pass" >"$tmp/netrc"
env -u CMLKIT_PASSWORD "$bin/catalog-push" --db "$tmp/cmlkit.db" --url "$url" --user admin \
	--netrc-file "$tmp/netrc" "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
expect "--user with the password from netrc (the entry of that login)" '[ "$rc" = 0 ] && acked'
fresh
env -u CMLKIT_PASSWORD "$bin/catalog-push" --db "$tmp/cmlkit.db" --url "$url" --user nobody \
	--netrc-file "$tmp/netrc" "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
expect "netrc without an entry for that login: usage error" '[ "$rc" = 2 ] && err_has "no password"'

# ---- packages ----

start_site
fresh
mkdir -p "$tmp/other"
cp "$tmp/pkg"/*.xml "$tmp/other/"
"$bin/catalog-push" --db "$tmp/cmlkit.db" --url "$url" --user admin --password-file "$tmp/pw" \
	"$tmp/other" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
expect "a directory no generation was written to: exit 3" '[ "$rc" = 3 ] && err_has "--no-record"'
"$bin/catalog-push" --no-record --url "$url" --user admin --password-file "$tmp/pw" \
	"$tmp/other" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
expect "--no-record: sent, nothing acknowledged" '[ "$rc" = 0 ] && pending 0'
expect "--no-record: no deactivate for a package of unknown origin" '[ "$(requests deactivate)" = 0 ]'
printf ' ' >>"$tmp/pkg/offers.xml"
push
expect "a package changed after it was recorded: exit 3, not sent" '[ "$rc" = 3 ] && err_has "not those generation" && pending 0'
start_site
fresh
push --dry-run
expect "--dry-run: the plan, nothing sent, nothing acknowledged" '[ "$rc" = 0 ] && grep -q "^upload import.xml " "$tmp/push.out" && pending 0'
expect "--dry-run: the site saw nothing" '[ "$(requests init)" = 0 ]'
push --dry-run --db "$tmp/no-such.db"
expect "a database that does not exist: exit 3, none created" \
	'[ "$rc" = 3 ] && err_has "no database" && [ ! -e "$tmp/no-such.db" ]'
"$bin/catalog-push" --db "$tmp/cmlkit.db" --url "ftp://127.0.0.1/x" --user admin \
	--password-file "$tmp/pw" "$tmp/pkg" >"$tmp/push.out" 2>"$tmp/push.err"
rc=$?
expect "a URL that is not http(s): usage error" '[ "$rc" = 2 ] && err_has "http:// or https://"'

# ---- attached files (pictures under import_files/) ----

# A package made by hand as 1C's exchange folder is (the XML, and the
# files its cards name under import_files/), pushed unrecorded.
attached_pkg() {
	rm -rf "$tmp/att"
	mkdir -p "$tmp/att/import_files/ab"
	cp "$tmp/pkg"/*.xml "$tmp/att/"
	head -c 300000 /dev/urandom >"$tmp/att/import_files/ab/big.jpg"
	printf 'png' >"$tmp/att/import_files/c.png"
	printf 'hidden' >"$tmp/att/import_files/.tmp.jpg"
}
push_att() { # catalog-push options
	"$bin/catalog-push" --no-record --url "$url" --user admin --password-file "$tmp/pw" \
		--retry-wait 0.01 "$@" "$tmp/att" >"$tmp/push.out" 2>"$tmp/push.err"
	rc=$?
	cat "$tmp/push.out" "$tmp/push.err" >>"$tmp/all-output"
}
site_has() { cmp -s "$tmp/att/$1" "$tmp/site/upload/catalog/$1"; }

start_site --file-limit 100000
fresh
attached_pkg
push_att --dry-run
expect "attached: --dry-run lists each with its size, before the XML" \
	'[ "$rc" = 0 ] && [ "$(sed -n 4,5p "$tmp/push.out")" = "upload import_files/ab/big.jpg 300000
upload import_files/c.png 3" ] && [ "$(sed -n 6p "$tmp/push.out")" = "upload import.xml $(wc -c <"$tmp/att/import.xml")" ]'
expect "attached: --dry-run imports none of them, skips hidden files" \
	'! grep -q "^import import_files" "$tmp/push.out" && ! grep -q "tmp.jpg" "$tmp/push.out"'
push_att
expect "attached: sent, exit 0" 'status_is 0'
expect "attached: the site has every file byte for byte, under import_files/" \
	'site_has import_files/ab/big.jpg && site_has import_files/c.png'
expect "attached: uploaded before any import, chunked like the rest" \
	'attached_first && [ "$(awk -F"\t" "\$5 == \"import_files/ab/big.jpg\"" "$tmp/site/requests.log" | wc -l)" -ge 3 ]'
expect "attached: never imported; the XML imported in order" \
	'[ "$(imports_of_attached)" = 0 ] && [ "$(imported_order)" = "import.xml offers.xml " ]'
start_site --zip yes
push_att
expect "attached: zip=yes: one archive holds them, the site unpacks them" \
	'status_is 0 && [ "$(uploaded_names)" = package.zip ] && site_has import_files/ab/big.jpg && site_has import_files/c.png'
expect "attached: zip=yes: only the XML imported" '[ "$(imports_of_attached)" = 0 ]'
ln -s /etc/hostname "$tmp/att/import_files/out.jpg"
start_site
push_att
expect "attached: a link leaving the package: exit 3, nothing sent" \
	'[ "$rc" = 3 ] && err_has "out.jpg: a symbolic link leading outside the package" && [ "$(requests init)" = 0 ]'

# full-export with pictures, pushed; then one picture replaced under the
# same name: the delta carries it alone, sent before the XML
rm -rf "$tmp/src" "$tmp/cmlkit.db"* "$tmp/pkg"
cp -r "$examples/shop/cml" "$tmp/src"
"$bin/full-export" -q --db "$tmp/cmlkit.db" -o "$tmp/pkg" "$tmp/src" >/dev/null
start_site
push
expect "pictures: full-export's package delivered, every picture before the XML import" \
	'status_is 0 && received_same && attached_first && [ "$(imports_of_attached)" = 0 ] && acked'
pic=$(cd "$tmp/src" && find import_files -type f | sort | head -1)
printf 'another picture' >"$tmp/src/$pic"
rm -rf "$tmp/pkg"
"$bin/delta-export" -q --db "$tmp/cmlkit.db" -o "$tmp/pkg" "$tmp/src" >/dev/null
start_site
push
sent_attached() { awk -F'\t' '$4 == "file" && $5 ~ /^import_files\// { print $5 }' "$tmp/site/requests.log" | sort -u; }
expect "pictures: a replaced picture travels in the delta alone, before the XML" \
	'status_is 0 && [ "$(sent_attached)" = "$pic" ] && received_same && attached_first && acked'

# ---- the password never shows ----
expect "the password appears in no output" '[ -z "$(grep -lF -- "$pass" "$tmp/all-output")" ]'
expect "the odd password appears in no output, in no form" \
	'cp "$tmp/all-output" "$tmp/push.err" && : >"$tmp/push.out" && no_forms "$hard"'
expect "the password appears in nothing the site kept" '[ -z "$(grep -rlF -- "$pass" "$tmp/site")" ]'

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
