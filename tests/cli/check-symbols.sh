#!/bin/sh
# check-symbols.sh CC LIBCML_SO INCLUDEDIR: the shared libcml exports its
# public API and nothing else.
#
# What the headers declare: every header in INCLUDEDIR/cml is compiled (as
# one translation unit, by CC itself, so nothing is missed that a regex
# would miss) with -aux-info, which lists each function declared with the
# file it is declared in; the extern ones declared in INCLUDEDIR/cml are
# the API. What the library exports: nm -D --defined-only. A name in one
# list and not in the other fails, named. Names starting with "_" belong
# to the toolchain (_init, a sanitizer's hooks) and are left out.
set -u
cc=$1 lib=$2 inc=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-symbols.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for h in "$inc"/cml/*.h; do
	printf '#include <cml/%s>\n' "$(basename "$h")"
done >"$tmp/all.c"
if ! $cc -std=gnu17 -fsyntax-only -I"$inc" -aux-info "$tmp/aux" "$tmp/all.c" 2>"$tmp/cc.err"; then
	if grep -q 'aux-info' "$tmp/cc.err"; then
		echo "$cc has no -aux-info (GCC has): skipped"
		exit 77
	fi
	echo "FAILED: the public headers do not compile on their own:"
	sed 's/^/    /' "$tmp/cc.err"
	exit 1
fi
# /* .../cml/store.h:58:NC */ extern const char *cml_store_default_path (void);
# The name is the identifier before the parameter list: the first " (".
awk -v dir="$inc/cml/" '
	index($0, "/* " dir) == 1 && $4 == "extern" {
		s = $0
		sub(/^\/\* [^*]*\*\/ extern /, "", s)
		p = index(s, " (")
		if (p == 0)
			next
		s = substr(s, 1, p - 1)
		sub(/.*[^A-Za-z0-9_]/, "", s)
		print s
	}' "$tmp/aux" | sort -u >"$tmp/declared"
if [ ! -s "$tmp/declared" ]; then
	echo "FAILED: no function found declared in $inc/cml"
	exit 1
fi

if ! nm -D --defined-only "$lib" >"$tmp/nm"; then
	echo "FAILED: nm cannot read $lib"
	exit 1
fi
awk '{ print $NF }' "$tmp/nm" | grep -v '^_' | sed 's/@.*//' | sort -u >"$tmp/exported"

fails=0
comm -13 "$tmp/declared" "$tmp/exported" >"$tmp/extra"
comm -23 "$tmp/declared" "$tmp/exported" >"$tmp/missing"
while read -r name; do
	echo "FAILED: $name is exported by $(basename "$lib") but no public header declares it" \
		"(make it static, or hidden: declared in a private header)"
	fails=$((fails + 1))
done <"$tmp/extra"
while read -r name; do
	echo "FAILED: $name is declared in $inc/cml but $(basename "$lib") does not export it" \
		"(not defined, or declared outside CML_BEGIN_DECLS .. CML_END_DECLS)"
	fails=$((fails + 1))
done <"$tmp/missing"
echo "$(wc -l <"$tmp/declared") functions declared, $(wc -l <"$tmp/exported") symbols exported," \
	"$fails mismatches"
[ "$fails" -eq 0 ]
