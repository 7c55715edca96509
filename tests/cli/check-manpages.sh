#!/bin/bash
# check-manpages.sh BINDIR MANDIR
#
# Keeps the man pages honest:
#  1. for each program, the long options its --help lists and the long
#     options its man page names (as ".Fl -foo" or ".Fl \-foo") must agree
#     both ways: every option of --help needs an entry of its own in the
#     page (an ".It" line naming it, as in OPTIONS), and an option the page
#     names anywhere but the program no longer has is a failure too;
#     --help, --usage and --version, which argp adds, are expected as well;
#  2. "mandoc -Tlint -W warning" must print nothing for every page in MANDIR
#     (skipped, with a message, when mandoc is not installed; CI installs it).
#
# Exit status: 0 when everything holds, 1 when something does not, 2 on
# bad usage.

set -u

PROGRAMS=(full-export cml-check delta-export catalog-push orders-pull cp-match orders-status)
# Options argp adds by itself: always expected in the page, even when a
# program's --help somehow omits them.
ARGP_OPTIONS=(help usage version)

if [ $# -ne 2 ]; then
	echo "usage: $0 BINDIR MANDIR" >&2
	exit 2
fi
bindir=$1
mandir=$2
if [ ! -d "$mandir" ]; then
	echo "$0: $mandir: not a directory" >&2
	exit 2
fi

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# The long options of an argp --help text, one per line, sorted, unique.
# Only option lines count (indented by at most 8 spaces and starting with
# '-'), and only their option part, before the first gap of two spaces
# that separates it from the description: a description that mentions an
# option, or another program's, is not an option.
help_options() {
	sed -n 's/^ \{1,8\}\(-.*\)$/\1/p' |
		sed 's/  .*//' |
		grep -o -e '--[A-Za-z0-9][A-Za-z0-9-]*' |
		sed 's/^--//' |
		LC_ALL=C sort -u
}

# The long options an mdoc page names: ".Fl -foo" or ".Fl \-foo", anywhere
# on a macro line (".It Fl o , Fl -output Ns = Ns Ar DIR"). Read from
# standard input.
fl_options() {
	grep -o -e 'Fl \\\{0,1\}-[A-Za-z0-9][A-Za-z0-9-]*' |
		sed 's/^Fl \\\{0,1\}-//' |
		LC_ALL=C sort -u
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

for prog in "${PROGRAMS[@]}"; do
	exe=$bindir/$prog
	page=$mandir/$prog.1
	echo "== $prog: long options of '$prog --help' against $page"
	if [ ! -x "$exe" ]; then
		fail "$prog: no executable $exe"
		continue
	fi
	if [ ! -f "$page" ]; then
		fail "$prog: no man page $page"
		continue
	fi
	"$exe" --help </dev/null >"$tmp/help" 2>"$tmp/help.err"
	st=$?
	if [ $st -ne 0 ]; then
		fail "$prog: '$prog --help' exited with status $st (expected 0)"
		sed 's/^/    /' "$tmp/help.err"
		continue
	fi
	help_options <"$tmp/help" >"$tmp/help.opts"
	if [ ! -s "$tmp/help.opts" ]; then
		fail "$prog: '$prog --help' lists no long option"
		continue
	fi
	printf '%s\n' "${ARGP_OPTIONS[@]}" >>"$tmp/help.opts"
	LC_ALL=C sort -u -o "$tmp/help.opts" "$tmp/help.opts"
	# Documented: has an item of its own (".It ... Fl -foo ..."), as in
	# OPTIONS; named: appears anywhere (SYNOPSIS, text, examples).
	grep -e '^\.It ' "$page" | fl_options >"$tmp/page.items"
	fl_options <"$page" >"$tmp/page.opts"

	echo "   --help lists:  $(sed 's/^/--/' "$tmp/help.opts" | tr '\n' ' ')"
	missing=$(LC_ALL=C comm -23 "$tmp/help.opts" "$tmp/page.items")
	extra=$(LC_ALL=C comm -13 "$tmp/help.opts" "$tmp/page.opts")
	for o in $missing; do
		fail "$prog: --$o is in --help but has no '.It Fl -$o' entry in $page"
	done
	for o in $extra; do
		fail "$prog: $page names --$o, which '$prog --help' does not list"
	done
	if [ -z "$missing" ] && [ -z "$extra" ]; then
		echo "   ok: $page has an entry for each and names no other"
	fi
done

shopt -s nullglob
pages=("$mandir"/*.[157])
shopt -u nullglob
echo "== mandoc -Tlint -W warning over ${#pages[@]} page(s) in $mandir"
if ! command -v mandoc >/dev/null 2>&1; then
	echo "   SKIP: mandoc is not installed (CI installs it)"
elif [ ${#pages[@]} -eq 0 ]; then
	fail "no man page in $mandir"
else
	for page in "${pages[@]}"; do
		out=$(mandoc -Tlint -W warning "$page" 2>&1)
		st=$?
		if [ -n "$out" ] || [ $st -ne 0 ]; then
			fail "mandoc -Tlint -W warning $page (status $st):"
			printf '%s\n' "$out" | sed 's/^/    /'
		else
			echo "   ok: $(basename "$page")"
		fi
	done
fi

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all man page checks passed"
exit 0
