#!/bin/bash
# kill-loop.sh BINDIR MODE [TRIALS] [SITE]: kill a writing program at random
# moments, with SIGKILL or SIGTERM at random, and check after each trial
#  - the database: PRAGMA integrity_check says ok;
#  - the package directory: the old complete package or the new complete
#    one, never a mix (unless the install journal .cmlkit-install says the
#    package is being put in place, which the site-reading mode documents);
#  - after SIGTERM, no temporary file of the killed run;
#  - then a later, uninterrupted run (which holds the lock): it succeeds,
#    gives the new package (or baseline, or delivery), and leaves no
#    temporary file and no journal behind.
# MODE: full (full-export), delta (delta-export), ack (delta-export --ack),
# push (catalog-push against the test site SITE, tests/site/cmlsite.py).
# TRIALS defaults to 100; CMLKIT_KILL_TRIALS overrides it (the sanitizer
# build runs fewer).
set -u
bin=$1
mode=$2
trials=${CMLKIT_KILL_TRIALS:-${3:-100}}
site_py=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-killloop.XXXXXX")
site_pid=
cleanup() {
	[ -n "$site_pid" ] && { kill "$site_pid" 2>/dev/null; wait "$site_pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
D=2026-01-01T00:00:00
sqlite3=$(command -v sqlite3)

py_sql() { # DB SQL: the first column of the first row (the sqlite3 shell when
	# there is one: python3 starts too slowly for 4 looks a trial)
	if [ -n "$sqlite3" ]; then
		"$sqlite3" "$1" "$2" 2>&1 | head -1
		return
	fi
	python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "$1" "$2"
}
integrity() { py_sql "$1" "PRAGMA integrity_check"; }
# the package in a directory: its files (not hidden) and their digests
sig() { (cd "$1" 2>/dev/null && for f in *; do [ -f "$f" ] && md5sum "$f"; done) | tr '\n' ' '; }
hidden() { ls -A "$1" 2>/dev/null | grep '^\.' | tr '\n' ' '; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

python3 "$top/bench/gen-catalog.py" -q --products 300 --seed 11 --out "$tmp/a" || exit 1
python3 "$top/bench/gen-catalog.py" -q --products 300 --seed 11 --change-percent 5 \
	--out "$tmp/b" || exit 1
A=("$tmp/a/import.xml" "$tmp/a/offers.xml")
B=("$tmp/b/import.xml" "$tmp/b/offers.xml")
mkdir "$tmp/t"
export TMPDIR="$tmp/t" # catalog-push's zip would go here: must stay empty

# the program under test, on run.db and the directory run/
cmd=()
case $mode in
full)
	"$bin/full-export" -q --db "$tmp/0.db" --date $D -o "$tmp/0" "${A[@]}" >/dev/null || exit 1
	cmd=("$bin/full-export" -q --db "$tmp/run.db" --date $D -o "$tmp/run" "${B[@]}")
	;;
delta)
	"$bin/delta-export" -q --db "$tmp/0.db" --ack-on-write --date $D -o "$tmp/0" "${A[@]}" \
		>/dev/null || exit 1
	cmd=("$bin/delta-export" -q --db "$tmp/run.db" --date $D -o "$tmp/run" "${B[@]}")
	;;
ack)
	"$bin/delta-export" -q --db "$tmp/0.db" --ack-on-write --date $D -o "$tmp/x" "${A[@]}" \
		>/dev/null || exit 1
	"$bin/delta-export" -q --db "$tmp/0.db" --date $D -o "$tmp/0" "${B[@]}" >/dev/null || exit 1
	gen=$(py_sql "$tmp/0.db" "SELECT max(gen) FROM generations")
	base0=$(py_sql "$tmp/0.db" "SELECT value FROM meta WHERE key = 'baseline_gen'")
	cmd=("$bin/delta-export" -q --db "$tmp/run.db" --ack "$gen")
	;;
push)
	[ -n "$site_py" ] || { echo "push needs the site script"; exit 2; }
	printf 'kill-loop-pass\n' >"$tmp/pw"
	chmod 600 "$tmp/pw"
	mkdir "$tmp/site"
	# the site offers zip; every other trial sends plain files (--no-zip)
	python3 "$site_py" --dir "$tmp/site" --password-file "$tmp/pw" --zip yes \
		>"$tmp/site.out" 2>&1 &
	site_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/site/port" ] && break; sleep 0.1; done
	[ -s "$tmp/site/port" ] || { echo "the test site did not start"; cat "$tmp/site.out"; exit 1; }
	url="http://127.0.0.1:$(cat "$tmp/site/port")/bitrix/admin/1c_exchange.php"
	"$bin/full-export" -q --db "$tmp/0.db" --date $D -o "$tmp/0" "${A[@]}" >/dev/null || exit 1
	# the package is where it was recorded: run/ is pkg/, never rewritten
	mv "$tmp/0" "$tmp/pkg"
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE generations SET package = ?", (sys.argv[2],)); c.commit()' \
		"$tmp/0.db" "$(cd "$tmp/pkg" && pwd -P)"
	mkdir "$tmp/0"
	cmd=("$bin/catalog-push" -q --db "$tmp/run.db" --url "$url" --user admin
		--password-file "$tmp/pw" --retry-wait 0.01 "$tmp/pkg")
	;;
*)
	echo "unknown mode $mode"
	exit 2
	;;
esac

fresh() { # the state before the program: old package, old database
	rm -rf "$tmp/run" "$tmp/run.db"*
	cp -a "$tmp/0" "$tmp/run"
	cp "$tmp/0.db" "$tmp/run.db"
	if [ "$mode" = push ]; then
		rm -rf "$tmp/site/received"/*
		: >"$tmp/site/imports.log"
		: >"$tmp/site/requests.log"
	fi
}
acked() { [ -n "$(py_sql "$tmp/run.db" "SELECT acked FROM generations ORDER BY gen DESC LIMIT 1")" ]; }
# every package file arrived whole: the last copy the site imported of it
received_same() {
	for f in "$tmp/pkg"/*.xml; do
		got=$(ls "$tmp/site/received/"*-"$(basename "$f")" 2>/dev/null | tail -1)
		[ -n "$got" ] && cmp -s "$f" "$got" || return 1
	done
}
completed() { awk -F'\t' '$4 == "complete"' "$tmp/site/requests.log" | grep -q .; }

# the reference: one uninterrupted run
fresh
start=$(now_ms)
"${cmd[@]}" >/dev/null 2>"$tmp/err" || { echo "the reference run failed: $(cat "$tmp/err")"; exit 1; }
ms=$(($(now_ms) - start))
old=$(sig "$tmp/0")
new=$(sig "$tmp/run")
[ "$mode" != full ] && [ "$mode" != delta ] || [ "$old" != "$new" ] ||
	{ echo "FAILED: the old and new packages are the same: the check would mean nothing"; exit 1; }
echo "$mode: reference run ${ms} ms; $trials trials"

fails=0 killed=0 journal=0 term=0 orphans=0
fail() { echo "FAILED: trial $i ($sg after ${delay} ms): $*"; fails=$((fails + 1)); }
for i in $(seq 1 "$trials"); do
	fresh
	delay=$(( (RANDOM * 32768 + RANDOM) % (ms + 5) ))
	if [ $((RANDOM % 2)) = 0 ]; then sg=KILL; else sg=TERM; fi
	extra=()
	[ "$mode" = push ] && [ $((i % 2)) = 0 ] && extra=(--no-zip)
	"${cmd[@]}" "${extra[@]}" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -"$sg" "$pid" 2>/dev/null && killed=$((killed + 1))
	[ "$sg" = TERM ] && term=$((term + 1))
	wait "$pid" 2>/dev/null

	# right after the kill
	ic=$(integrity "$tmp/run.db")
	[ "$ic" = ok ] || fail "integrity_check: $ic"
	case $mode in
	full|delta)
		if [ -e "$tmp/run/.cmlkit-install" ]; then
			journal=$((journal + 1)) # being put in place: the site waits
		else
			now=$(sig "$tmp/run")
			[ "$now" = "$old" ] || [ "$now" = "$new" ] || fail "a mix of packages: $now"
			if [ "$sg" = TERM ] && hidden "$tmp/run" | grep -q cmlkit-tmp; then
				fail "SIGTERM left temporary files: $(hidden "$tmp/run")"
			fi
		fi
		;;
	ack)
		b=$(py_sql "$tmp/run.db" "SELECT value FROM meta WHERE key = 'baseline_gen'")
		[ "$b" = "$base0" ] || [ "$b" = "$gen" ] || fail "baseline $b, neither $base0 nor $gen"
		;;
	push)
		if acked && ! { received_same && completed; }; then
			fail "acknowledged, yet the site did not get the whole package"
		fi
		;;
	esac

	# a later run, uninterrupted
	"${cmd[@]}" >/dev/null 2>"$tmp/err"
	st=$?
	[ $st -eq 0 ] || fail "the next run: exit $st: $(cat "$tmp/err")"
	ic=$(integrity "$tmp/run.db")
	[ "$ic" = ok ] || fail "integrity_check after the next run: $ic"
	case $mode in
	full|delta)
		now=$(sig "$tmp/run")
		[ "$now" = "$new" ] || fail "after the next run: not the new package: $now"
		[ -z "$(hidden "$tmp/run")" ] || fail "left after the next run: $(hidden "$tmp/run")"
		;;
	ack)
		b=$(py_sql "$tmp/run.db" "SELECT value FROM meta WHERE key = 'baseline_gen'")
		[ "$b" = "$gen" ] || fail "after the next run: baseline $b, want $gen"
		;;
	push)
		acked || fail "after the next push: not acknowledged"
		received_same || fail "after the next push: the site lacks the package"
		;;
	esac
	# SQLite unlinks its own temporaries (etilqs_*) right after it creates
	# them, before writing a byte: a kill in between leaves an empty one,
	# which nothing of ours can name or tell from a live run's. Anything
	# else in TMPDIR, or one of those with content, is a leak.
	left=$(find "$tmp/t" -mindepth 1 ! \( -name 'etilqs_*' -type f -empty \) | tr '\n' ' ')
	[ -z "$left" ] || fail "left in TMPDIR: $left"
	for e in "$tmp/t"/etilqs_*; do [ -e "$e" ] && orphans=$((orphans + 1)) && rm -f "$e"; done
	[ ! -e "$tmp/run.db-journal" ] || fail "a rollback journal left beside the database"
done
echo "$mode: $trials trials, $killed killed before they ended ($term by SIGTERM), $journal caught while the package was being put in place, $orphans empty SQLite temporaries orphaned by a kill"
echo "$((trials - fails)) trials passed, $fails checks failed"
[ $fails -eq 0 ]
