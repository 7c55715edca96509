#!/bin/bash
# push-orders-kill.sh BINDIR SITE [RUNS]: orders-push killed with
# SIGKILL at random moments, RUNS times (default 100; CMLKIT_PUSH_KILL_RUNS
# overrides), against the test site SITE (tests/site/cmlsite.py), with new
# steps recorded (orders-status) on a few orders before every run; every other run speaks the
# newer form (--exchange-version: mode=import). The kill lands after a
# random delay, with the site's upload slowed now and then, or right after
# the site has applied the document (watched in its applied.log), which is
# the window between the site's success and the run's commit. Each run is
# counted by what the site and the database show it reached. After each
# run: PRAGMA integrity_check. At the end one push runs to completion, and:
#  - nothing is pending, and for every order the last document the site
#    applied carries the order's last progress version (the requisite
#    НомерВерсии) and its last invoice number: nothing lost;
#  - no (order, version) reached the site in the documents of two runs
#    that committed (each document's name is orders-RUN-PID-N.xml and the
#    run log has RUN and PID of every committed run): a version goes twice
#    only when a run that sent it was killed before its commit;
#  - per order, the versions the site got never go back;
#  - nothing is left in TMPDIR.
set -u
bin=$1
site_py=$2
runs=${CMLKIT_PUSH_KILL_RUNS:-${3:-100}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-opkill.XXXXXX")
site_pid=
cleanup() {
	[ -n "$site_pid" ] && { kill "$site_pid" 2>/dev/null; wait "$site_pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v python3 >/dev/null || { echo "SKIP: no python3 for the test site"; exit 77; }
[ -x "$bin/orders-status" ] || { echo "FAILED: no orders-status in $bin"; exit 1; }
set_cmd=("$bin/orders-status")
curl=$(command -v curl)

printf 'push-kill-pass\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
mkdir "$tmp/site" "$tmp/t"
python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" --sale-orders 12 --sale-seed 7 \
	--import-steps 1 >"$tmp/site.out" 2>&1 &
site_pid=$!
for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
[ -s "$tmp/site/port" ] || { echo "the test site did not start"; cat "$tmp/site.out"; exit 1; }
port=$(cat "$tmp/site/port")
url="http://127.0.0.1:$port/bitrix/admin/1c_exchange.php"
ctl() {
	if [ -n "$curl" ]; then
		"$curl" -sf "http://127.0.0.1:$port/cmlsite/$1"
	else
		python3 "$site_py" --dir "$tmp/site" --control "$1"
	fi
}
db=$tmp/cmlkit.db
export TMPDIR=$tmp/t
push=("$bin/orders-push" -q --site shop --db "$db" --url "$url" --user admin
	--password-file "$tmp/pw" --retry-wait 0.01)
step() { "${set_cmd[@]}" --db "$db" --site shop set "$@" >/dev/null 2>"$tmp/set.err"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# after a run: the committed orders-push runs, and PRAGMA integrity_check
look() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM runs WHERE program = ?", ("orders-push",)).fetchone()[0],
      " ".join(r[0] for r in c.execute("PRAGMA integrity_check")))' "$db"
}
applied_lines() { wc -l <"$tmp/site/applied.log" 2>/dev/null || echo 0; }

"$bin/orders-pull" -q --db "$db" --site shop --url "$url" --user admin \
	--password-file "$tmp/pw" >/dev/null 2>"$tmp/err" ||
	{ echo "FAILED: the pull: $(cat "$tmp/err")"; exit 1; }
for o in $(seq 1001 1012); do
	step "$o" confirm || { echo "FAILED: confirm $o: $(cat "$tmp/set.err")"; exit 1; }
done
start=$(now_ms)
"${push[@]}" 2>"$tmp/err" || { echo "FAILED: the first push: exit $?: $(cat "$tmp/err")"; exit 1; }
full=$(($(now_ms) - start))
step 1001 invoice INV-0
start=$(now_ms)
"${push[@]}" 2>"$tmp/err" || { echo "FAILED: a second push: exit $?: $(cat "$tmp/err")"; exit 1; }
small=$(($(now_ms) - start))
echo "reference pushes: 12 orders in ${full} ms, 1 in ${small} ms; $runs runs"
read -r runs_now _ < <(look)

fails=0
declare -A win=()
fail() { echo "FAILED: run $i ($how): $*"; fails=$((fails + 1)); }
exec {zfd}<> <(:)
tick() { read -r -t 0.002 -u "$zfd" _; }
ms_sleep() {
	local t
	printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
	read -r -t "$t" -u "$zfd" _
}
for i in $(seq 1 "$runs"); do
	# new steps on one to three orders: a new invoice number each, so the
	# site's documents show which step they carried
	for _ in $(seq $((1 + RANDOM % 3))); do
		o=$((1001 + RANDOM % 12))
		step "$o" invoice "INV-$i-$o" || fail "invoice $o: $(cat "$tmp/set.err")"
	done
	form=()
	[ $((i % 2)) = 0 ] && form=(--exchange-version 2.08)
	fault= watch=
	case $((i % 5)) in
	0) how=slow-upload fault="&add=slow@file:1&slow=0.2"
	   delay=$((RANDOM % (small + 250))) ;;
	1 | 3) how=after-applied watch=1 delay=$((RANDOM % 4)) ;;
	*) how=random delay=$((RANDOM % (small + 30))) ;;
	esac
	ctl "fault?clear=1$fault" >/dev/null || { fail "the fault request failed"; continue; }
	before=$(applied_lines)
	"${push[@]}" "${form[@]}" 2>"$tmp/err.$i" &
	pid=$!
	if [ -n "$watch" ]; then
		# the site applies the document, then answers success: kill in
		# the moment between that answer and the run's commit
		while kill -0 "$pid" 2>/dev/null && [ "$(applied_lines)" = "$before" ]; do tick; done
	fi
	ms_sleep "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	read -r runs_after ic < <(look)
	[ "$ic" = ok ] || fail "integrity_check: $ic"
	if [ $st = 137 ]; then
		if [ "$runs_after" != "$runs_now" ]; then
			w=committed
		elif [ "$(applied_lines)" != "$before" ]; then
			w=applied-not-committed
		else
			w=before-the-site-applied
		fi
	else
		w=ended-before-the-kill
		[ $st -eq 0 ] || fail "exit $st: $(head -3 "$tmp/err.$i")"
	fi
	runs_now=$runs_after
	win[$w]=$((${win[$w]:-0} + 1))
	[ -z "${CMLKIT_PUSH_KILL_VERBOSE:-}" ] || echo "run $i: $how, ${delay} ms: $w (exit $st)"
	rm -f "$tmp/err.$i"
done
ctl "fault?clear=1" >/dev/null
for w in before-the-site-applied applied-not-committed committed ended-before-the-kill; do
	printf '%s: %s  ' "$w" "${win[$w]:-0}"
done
echo
leaks=$(cd "$tmp/t" && find . -mindepth 1 | sed 's|^\./||' | tr '\n' ' ')
[ -z "$leaks" ] || { echo "FAILED: left in TMPDIR: $leaks"; fails=$((fails + 1)); }

# to completion
"${push[@]}" 2>"$tmp/err" || { echo "FAILED: the last push: exit $?: $(cat "$tmp/err")"; fails=$((fails + 1)); }

python3 - "$db" "$tmp/site" "${win[applied-not-committed]:-0}" <<'EOF' || fails=$((fails + 1))
import os, re, sqlite3, sys
db, site, killed_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
committed = {(r[0], r[1]) for r in c.execute(
    "SELECT id, pid FROM runs WHERE program = 'orders-push'")}
progress = {r[0]: (r[1], r[2]) for r in c.execute(
    "SELECT order_id, version, delivered FROM order_progress")}
inv = {r[0]: r[1] for r in c.execute("SELECT order_id, invoice_number FROM order_progress")}
bad = []
pending = [o for o, (v, d) in progress.items() if v > d]
if pending:
    bad.append("pending after the last push: %s" % pending)
received = {}
for name in os.listdir(os.path.join(site, "received")):
    received[name.split("-", 1)[0]] = name
# (order, version) -> [(run, pid)], and per order the versions in the site's order
got, seq, last_doc = {}, {}, {}
def req(doc, name):
    m = re.search(r"<ЗначениеРеквизита>\s*<Наименование>" + name +
                  r"</Наименование>\s*<Значение>([^<]*)</Значение>", doc)
    return m.group(1) if m else None
for line in open(os.path.join(site, "applied.log"), encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    nnn, xml_id = f[0], f[2]
    name = received[nnn]
    m = re.match(r"\d+-orders-(\d+)-(\d+)-\d+\.xml$", name)
    if not m:
        bad.append("a document named %s" % name)
        continue
    run = (int(m.group(1)), int(m.group(2)))
    text = open(os.path.join(site, "received", name), "rb").read().decode("utf-8")
    for doc in re.findall(r"<Документ>(.*?)</Документ>", text, re.S):
        if re.search(r"<Ид>([^<]*)</Ид>", doc).group(1) != xml_id:
            continue
        # the progress version: the requisite (statusdoc.h), else the
        # element (an older statusdoc wrote it there)
        v = req(doc, "НомерВерсии")
        if v is None:
            m = re.search(r"<НомерВерсии>([^<]*)</НомерВерсии>", doc)
            v = m.group(1) if m else None
        if v is None:
            bad.append("order %s: a document without НомерВерсии" % xml_id)
            break
        v = int(v)
        got.setdefault((xml_id, v), []).append(run)
        seq.setdefault(xml_id, []).append(v)
        last_doc[xml_id] = (v, req(doc, "Номер по 1С"))
        break
twice = 0
for (o, v), rs in sorted(got.items()):
    done = [r for r in rs if r in committed]
    if len(done) > 1:
        bad.append("order %s version %d reached the site in %d committed runs: %s"
                   % (o, v, len(done), done))
    if len(rs) > 1:
        twice += 1
for o, vs in seq.items():
    if vs != sorted(vs):
        bad.append("order %s: the site got versions going back: %s" % (o, vs))
for o, (v, d) in sorted(progress.items()):
    if last_doc.get(o, (None, None))[0] != v:
        bad.append("order %s: last version %d, the site's last document has %s"
                   % (o, v, last_doc.get(o)))
    elif last_doc[o][1] != inv[o]:
        bad.append("order %s: invoice %s, the site's last document has %s"
                   % (o, inv[o], last_doc[o][1]))
print("documents applied: %d; (order, version) pairs sent twice: %d (runs killed after "
      "the site applied: %d)" % (sum(len(r) for r in got.values()), twice, killed_after))
if twice > 0 and killed_after == 0:
    bad.append("versions sent twice, yet no run was killed after the site applied")
for b in bad[:20]:
    print("FAILED:", b)
sys.exit(1 if bad else 0)
EOF
echo "failures: $fails"
[ "$fails" = 0 ]
