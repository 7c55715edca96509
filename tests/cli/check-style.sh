#!/bin/sh
# check-style.sh TOP: the rules of CODE_STYLE.md that a grep can check.
set -u
top=$1
fails=0
check() { # description, then a command whose output lists offenders
	desc=$1
	shift
	out=$("$@")
	if [ -n "$out" ]; then
		echo "FAILED: $desc"
		echo "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	else
		echo "ok: $desc"
	fi
}
cd "$top" || exit 2
src="lib cmd tests/unit tests/fuzz"
check "no strcpy, sprintf, atoi, strtok, gets" \
	grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|atoi|atol|strtok|gets)[[:space:]]*\(' $src --include='*.[ch]'
check "no VLAs (the compiler checks -Wvla), no alloca" \
	grep -rnE '\balloca[[:space:]]*\(' $src --include='*.[ch]'
check "the library never prints" \
	grep -rnE '\b(printf|puts|perror|putchar)[[:space:]]*\(|fprintf[[:space:]]*\((stderr|stdout)' lib --include='*.[ch]'
check "the library never exits" \
	grep -rnE '\b(exit|_exit|abort)[[:space:]]*\(' lib --include='*.[ch]'
raw_alloc() {
	grep -nE '(^|[^_a-z])(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\(' lib/*.c |
		grep -v '^lib/alloc.c:'
}
check "the library allocates through cml_malloc (failure injection)" raw_alloc
check "programs include only public headers" \
	grep -rnE '#include[[:space:]]*"(cml_private|.*\.\./lib)' cmd
check "format strings carry no newline in cmd_error/cmd_warn" \
	grep -rnE 'cmd_(error|warn|verbose)\("[^"]*\\n' cmd
echo "$fails failed"
[ $fails -eq 0 ]
