#!/bin/bash
# dbrun-checks.sh BINDIR: the database plumbing every program shares
# (cmd/common/dbrun.c), the same in full-export, delta-export (a run and
# --ack) and catalog-push: a run that waits for another run's lock says so
# and then does its job; --db with an empty name is a usage error; --keep N
# is the acknowledging programs' and keeps the last N generations' parts;
# the default database is $CMLKIT_DB, else ./cmlkit.db.
set -u
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-dbrun.XXXXXX")
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAILED: $*"; sed 's/^/    stderr: /' "$tmp/err" | head -5; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
shop=$top/examples/shop/cml
db=$tmp/cmlkit.db

# Holds the run lock of $db for 1.5 s the way a run does (flock on
# DB.lock, the holder line written into it), then lets go.
hold_lock() {
	flock "$db.lock" sh -c 'echo "$$ 2026-11-30T10:00:00Z holder-run" >"$1"; sleep 1.5; : >"$1"' \
		sh "$db.lock" &
	holder=$!
	# the lock is taken when the holder line is there
	for _ in $(seq 50); do [ -s "$db.lock" ] && break; sleep 0.05; done
}
# The run ($rc, $tmp/err) waited for the holder and said so.
waited() { # description
	wait "$holder"
	holder=
	if grep -q "waited .* for PID [0-9]* (holder-run) since 2026-11-30T10:00:00Z to finish" \
		"$tmp/err"; then
		ok "$1: said it waited for the holder"
	else
		fail "$1: did not say it waited for the holder"
	fi
}
sql() { sqlite3 "$db" "$1"; }

if ! command -v sqlite3 >/dev/null; then
	echo "sqlite3 is missing"
	exit 77
fi

# ---- waiting for another run, in each program ----
hold_lock
"$bin/full-export" --db "$db" -o "$tmp/full" "$shop" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && ok "full-export after a wait: exit 0" || fail "full-export after a wait: exit $rc"
waited "full-export"
[ "$(sql 'SELECT count(*) FROM generations')" = 1 ] && ok "full-export: its generation recorded" ||
	fail "full-export: no generation recorded"

hold_lock
"$bin/delta-export" --db "$db" --ack 1 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && ok "delta-export --ack after a wait: exit 0" || fail "delta-export --ack: exit $rc"
waited "delta-export --ack"
[ "$(sql "SELECT value FROM meta WHERE key = 'baseline_gen'")" = 1 ] &&
	ok "delta-export --ack: generation 1 is the baseline" || fail "delta-export --ack: no baseline"

hold_lock
"$bin/delta-export" --db "$db" -o "$tmp/delta" "$shop" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && ok "delta-export after a wait: exit 0" || fail "delta-export after a wait: exit $rc"
waited "delta-export"
[ "$(sql "SELECT outcome FROM runs WHERE program = 'delta-export' ORDER BY id DESC LIMIT 1")" = nothing ] &&
	ok "delta-export: the run logged as 'nothing' (no change)" || fail "delta-export: run not logged"

# catalog-push takes the lock before it contacts the site: it waits, then
# finds no site there (exit 4) and acknowledges nothing
rm -rf "$tmp/full"
"$bin/full-export" -q --db "$db" -o "$tmp/full" "$shop" >/dev/null
hold_lock
CMLKIT_PASSWORD=secret "$bin/catalog-push" --db "$db" --url http://127.0.0.1:9/1c_exchange.php \
	--user admin --retries 0 --connect-timeout 2 "$tmp/full" 2>"$tmp/err"
rc=$?
[ $rc = 4 ] && ok "catalog-push after a wait, no site: exit 4" || fail "catalog-push: exit $rc, want 4"
waited "catalog-push"
[ "$(sql 'SELECT acked IS NULL FROM generations ORDER BY gen DESC LIMIT 1')" = 1 ] &&
	ok "catalog-push: nothing acknowledged" || fail "catalog-push: the generation acknowledged"
[ "$(sql "SELECT count(*) FROM runs WHERE program = 'catalog-push'")" = 0 ] &&
	ok "catalog-push: its failed run left no trace in the run log" ||
	fail "catalog-push: a failed run in the run log"

# ---- --db with an empty name ----
for args in "full-export -o $tmp/x $shop" "delta-export -o $tmp/x $shop" \
	"catalog-push --dry-run $tmp/full"; do
	prog=${args%% *}
	# shellcheck disable=SC2086
	(cd "$tmp" && "$bin/$prog" --db= ${args#* } >/dev/null 2>"$tmp/err")
	rc=$?
	if [ $rc = 2 ] && grep -q "^$prog: --db: an empty file name" "$tmp/err"; then
		ok "$prog --db=: usage error"
	else
		fail "$prog --db=: exit $rc"
	fi
done
[ ! -e "$tmp/x" ] && ok "--db=: nothing written" || fail "--db=: wrote $tmp/x"

# ---- --keep N: the acknowledging programs only, one check ----
for prog in delta-export catalog-push; do
	"$bin/$prog" --help | grep -q -- "--keep=N" && ok "$prog --help: --keep" ||
		fail "$prog --help: no --keep"
done
"$bin/full-export" --help | grep -q -- "--keep" && fail "full-export --help: --keep" ||
	ok "full-export (acknowledges nothing): no --keep"
for bad in -1 x ""; do
	"$bin/delta-export" --db "$db" --keep "$bad" --ack 1 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && grep -q "^delta-export: --keep: '$bad' is not a count" "$tmp/err" &&
		ok "--keep '$bad': usage error" || fail "--keep '$bad': exit $rc"
done
kdb=$tmp/keep.db
kg() { sqlite3 "$kdb" "$1"; }
for k in 1 2 3; do
	rm -rf "$tmp/k$k"
	"$bin/full-export" -q --db "$kdb" -o "$tmp/k$k" "$shop" >/dev/null
	"$bin/delta-export" -q --db "$kdb" --keep 2 --ack "$k" 2>"$tmp/err" ||
		fail "--keep 2 --ack $k: exit $?"
done
parts=$(kg "SELECT count(*) FROM gen_parts WHERE gen = 3")
[ "$(kg 'SELECT group_concat(gen) FROM (SELECT DISTINCT gen FROM gen_parts ORDER BY gen)')" = 2,3 ] &&
	[ "$parts" -gt 0 ] && ok "--keep 2: the last two generations keep their parts" ||
	fail "--keep 2: gen_parts holds $(kg 'SELECT group_concat(DISTINCT gen) FROM gen_parts')"
[ "$(kg 'SELECT pruned IS NOT NULL, pruned_parts FROM generations WHERE gen = 1')" = "1|$parts" ] &&
	ok "--keep 2: generation 1 pruned, its part count kept" || fail "--keep 2: generation 1 not pruned"
rm -rf "$tmp/k4"
"$bin/full-export" -q --db "$kdb" -o "$tmp/k4" "$shop" >/dev/null
"$bin/delta-export" -q --db "$kdb" --ack 4
[ "$(kg 'SELECT count(*) FROM gen_parts')" = 0 ] &&
	[ "$(kg 'SELECT count(*) FROM generations WHERE pruned IS NULL')" = 0 ] &&
	ok "no --keep: an acknowledgement prunes every generation, its own too" ||
	fail "no --keep: gen_parts holds $(kg 'SELECT count(*) FROM gen_parts') rows"
[ "$(kg 'SELECT count(*) FROM baseline')" = "$parts" ] &&
	ok "pruning leaves the baseline whole" || fail "the baseline has $(kg 'SELECT count(*) FROM baseline') parts"

# ---- the default database ----
mkdir "$tmp/cwd"
(cd "$tmp/cwd" && CMLKIT_DB="$tmp/env.db" "$bin/full-export" -q -o out "$shop" >/dev/null 2>"$tmp/err")
[ -s "$tmp/env.db" ] && [ ! -e "$tmp/cwd/cmlkit.db" ] && ok "CMLKIT_DB is the default database" ||
	fail "CMLKIT_DB not used"
(cd "$tmp/cwd" && CMLKIT_DB= "$bin/delta-export" -q -o out2 "$shop" >/dev/null 2>"$tmp/err")
[ -s "$tmp/cwd/cmlkit.db" ] && ok "an empty CMLKIT_DB: ./cmlkit.db" || fail "./cmlkit.db not used"

echo "$fails failed"
[ $fails -eq 0 ]
