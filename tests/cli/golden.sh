#!/bin/sh
# golden.sh NAME BINDIR -- PROGRAM ARGS...
# Runs BINDIR/PROGRAM ARGS in a scratch directory and compares its standard
# output, standard error and exit status with golden/NAME.{out,err,status}.
# Paths are written as @DATA@ (tests/data), @EXAMPLES@ and @TMP@ (scratch).
# CMLKIT_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
set -u
name=$1 bindir=$2
shift 3
prog=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
golden=$here/golden
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# expand the placeholders in the arguments
set_args() {
	for a in "$@"; do
		printf '%s\n' "$a" | sed -e "s|@DATA@|$top/tests/data|g" \
			-e "s|@EXAMPLES@|$top/examples|g" -e "s|@TMP@|$tmp|g"
	done
}
args=$(set_args "$@")
old_ifs=$IFS
IFS='
'
# shellcheck disable=SC2086
(cd "$tmp" && LC_ALL=C.UTF-8 COLUMNS=80 "$bindir/$prog" $args >"$tmp/.out" 2>"$tmp/.err" </dev/null)
status=$?
IFS=$old_ifs

normalise() {
	sed -e "s|$tmp|@TMP@|g" -e "s|$top/tests/data|@DATA@|g" \
		-e "s|$top/examples|@EXAMPLES@|g" -e "s|$bindir/||g" "$1"
}
res=$tmp/.result
mkdir "$res"
normalise "$tmp/.out" >"$res/out"
normalise "$tmp/.err" >"$res/err"
echo "$status" >"$res/status"

if [ "${CMLKIT_UPDATE_GOLDEN:-}" = 1 ]; then
	cp "$res/out" "$golden/$name.out"
	cp "$res/err" "$golden/$name.err"
	cp "$res/status" "$golden/$name.status"
	echo "updated $name"
	exit 0
fi
fail=0
for part in status out err; do
	if ! diff -u "$golden/$name.$part" "$res/$part"; then
		echo "$name: $part differs from golden/$name.$part" >&2
		fail=1
	fi
done
exit $fail
