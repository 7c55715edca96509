#!/bin/sh
# Builds cmlkit twice (warnings as errors; then ASan+UBSan) and runs every
# test through ctest in each build. Usage: scripts/test.sh [BUILD_PREFIX]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$top/build}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S "$top" -B "$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMLKIT_WERROR=ON
cmake --build "$prefix" -j "$jobs"
ctest --test-dir "$prefix" --output-on-failure -j "$jobs"

cmake -S "$top" -B "$prefix-sanitize" -DCMAKE_BUILD_TYPE=Sanitize -DCMLKIT_WERROR=ON
cmake --build "$prefix-sanitize" -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir "$prefix-sanitize" --output-on-failure -j "$jobs"
