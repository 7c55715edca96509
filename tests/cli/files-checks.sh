#!/bin/bash
# files-checks.sh BINDIR: what the package-writing programs leave on disk
# and whom they let read it: modes under umask 022, an output directory
# that overlaps an input refused, SIGTERM/SIGINT leaving no temporary file,
# a later run removing a dead run's temporaries, a full disk and a
# read-only database named as such (in a private mount namespace, when
# unshare(1) allows one).
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-files.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAILED: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
shop=$top/examples/shop/cml
umask 022

# --- modes: customer data 0600, catalog files as the umask says
mkdir "$tmp/in"
cp "$shop"/* "$top/examples/orders/status-from-1c.xml" "$top/examples/counterparties/register.xml" \
	"$tmp/in/"
"$bin/full-export" -q --no-record -o "$tmp/pkg" "$tmp/in" >"$tmp/files" 2>"$tmp/err" ||
	fail "full-export of the shop: $(cat "$tmp/err")"
for f in $(cat "$tmp/files"); do
	m=$(stat -c %a "$f")
	case $(basename "$f") in
	orders.xml|contragents.xml) want=600 ;;
	*) want=644 ;;
	esac
	[ "$m" = "$want" ] && ok "$(basename "$f") is $m" || fail "$(basename "$f") is $m, want $want"
done
grep -q orders.xml "$tmp/files" || fail "the shop example wrote no orders.xml to check"

# --- an output directory that is, contains or is inside an input
for prog in full-export delta-export; do
	for out in "$tmp/in" "$tmp/in/sub" "$tmp" "$tmp/in/../in/"; do
		before=$(ls -l --time-style=+%s.%N "$tmp/in" | md5sum)
		"$bin/$prog" -q --db "$tmp/overlap.db" -o "$out" "$tmp/in" >/dev/null 2>"$tmp/err"
		st=$?
		after=$(ls -l --time-style=+%s.%N "$tmp/in" | md5sum)
		if [ $st -eq 2 ] && grep -q "the output directory .* the input" "$tmp/err" &&
			[ "$before" = "$after" ] && [ ! -e "$tmp/in/sub" ]; then
			ok "$prog -o $out refused"
		else
			fail "$prog -o $out: exit $st, $(cat "$tmp/err")"
		fi
	done
	# the same by a symbolic link
	ln -sfn "$tmp/in" "$tmp/link"
	"$bin/$prog" -q --db "$tmp/overlap.db" -o "$tmp/link" "$tmp/in/register.xml" >/dev/null 2>&1
	[ $? -eq 2 ] && ok "$prog -o LINK-TO-INPUT refused" || fail "$prog -o LINK-TO-INPUT not refused"
done

# --- SIGTERM and SIGINT: the run's temporary files go with it
command -v python3 >/dev/null && python3 "$top/bench/gen-catalog.py" -q --products 40000 \
	--seed 3 --out "$tmp/big" || { echo "SKIP the signal checks: no python3"; exit $((fails ? 1 : 0)); }
for sig in TERM INT HUP; do
	for prog in full-export delta-export; do
		rm -rf "$tmp/sig" "$tmp/sig.db"*
		mkdir "$tmp/sig"
		# a background job ignores SIGINT unless told otherwise: set -m
		( set -m; "$bin/$prog" -q --db "$tmp/sig.db" -o "$tmp/sig" \
			"$tmp/big/import.xml" "$tmp/big/offers.xml" >/dev/null 2>&1 & echo $! >"$tmp/pid"; wait )&
		waiter=$!
		for _ in $(seq 1 100); do
			ls -A "$tmp/sig" | grep -q '^\.cmlkit-tmp\.' && break
			sleep 0.02
		done
		pid=$(cat "$tmp/pid")
		had=$(ls -A "$tmp/sig" | grep -c '^\.cmlkit-tmp\.')
		kill -"$sig" "$pid"
		wait "$waiter"
		left=$(ls -A "$tmp/sig")
		if [ "$had" -gt 0 ] && [ -z "$left" ]; then
			ok "$prog: SIG$sig with $had temporary files: none left"
		else
			fail "$prog: SIG$sig with $had temporary files: left: $left"
		fi
	done
done

# --- a dead run's temporaries: removed by the next run; a live one's kept
rm -rf "$tmp/sig"
mkdir "$tmp/sig"
sleep 30 & live=$!
sh -c 'exit 0' & dead=$!
wait "$dead"
touch "$tmp/sig/.cmlkit-tmp.$dead.import.xml.AAAAAA" "$tmp/sig/.cmlkit-tmp.$live.import.xml.BBBBBB"
"$bin/full-export" -q --db "$tmp/sig.db" -o "$tmp/sig" "$shop" >/dev/null 2>"$tmp/err" ||
	fail "full-export after a dead run: $(cat "$tmp/err")"
left=$(ls -A "$tmp/sig" | grep '^\.' | tr '\n' ' ')
[ "$left" = ".cmlkit-tmp.$live.import.xml.BBBBBB " ] && ok "the dead run's temporary file removed" ||
	fail "after a dead run, left: $left"
kill "$live" 2>/dev/null

# --- a full disk and a read-only file system, in a mount namespace of our own
if unshare -rm true 2>/dev/null; then
	cat >"$tmp/ns.sh" <<'NS'
set -u
bin=$1 tmp=$2 shop=$3
mkdir -p "$tmp/mnt" && mount -t tmpfs -o size=2m tmpfs "$tmp/mnt" || exit 77
"$bin/full-export" -q --db "$tmp/mnt/s.db" -o "$tmp/o1" "$shop" >/dev/null || exit 1
rm -f "$tmp/mnt/s.db-wal" "$tmp/mnt/s.db-shm"
dd if=/dev/zero of="$tmp/mnt/fill" bs=4k 2>/dev/null
"$bin/delta-export" -q --db "$tmp/mnt/s.db" -o "$tmp/o2" "$shop" >/dev/null 2>"$tmp/full.err"
echo $? >"$tmp/full.st"
rm -f "$tmp/mnt/fill"
mount -o remount,ro "$tmp/mnt" || exit 77
"$bin/delta-export" -q --db "$tmp/mnt/s.db" -o "$tmp/o2" "$shop" >/dev/null 2>"$tmp/ro.err"
echo $? >"$tmp/ro.st"
NS
	unshare -rm bash "$tmp/ns.sh" "$bin" "$tmp" "$shop"
	case $? in
	0)
		st=$(cat "$tmp/full.st")
		if [ "$st" = 6 ] && grep -q "s.db: .*no space left on the disk holding it" "$tmp/full.err" &&
			[ "$(wc -l <"$tmp/full.err")" -eq 1 ]; then
			ok "full disk: $(cat "$tmp/full.err")"
		else
			fail "full disk: exit $st: $(cat "$tmp/full.err")"
		fi
		st=$(cat "$tmp/ro.st")
		if [ "$st" = 6 ] && grep -Eq "s.db(.lock)?: .*(it cannot be written|Read-only file system)" "$tmp/ro.err" &&
			[ "$(wc -l <"$tmp/ro.err")" -eq 1 ]; then
			ok "read-only: $(cat "$tmp/ro.err")"
		else
			fail "read-only: exit $st: $(cat "$tmp/ro.err")"
		fi
		;;
	77) echo "SKIP the full-disk check: no tmpfs mount in a user namespace" ;;
	*) fail "the full-disk setup failed" ;;
	esac
else
	echo "SKIP the full-disk check: unshare -rm is not allowed here"
fi

[ $fails -eq 0 ] && echo "all passed" || echo "$fails failed"
[ $fails -eq 0 ]
