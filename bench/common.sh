# common.sh: helpers sourced by run-delta.sh and run-push.sh. Before
# sourcing, set $me (the script's name, for messages) and $work (the work
# directory, created here).

[ -x /usr/bin/time ] || apt-get install -y -q time >/dev/null 2>&1 ||
	{ echo "$me: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
mkdir -p "$work"

# timed TOOL ARGS...: runs it under GNU time; its output goes to
# $work/.out.$$ and $work/.err.$$. Sets t_wall (s), t_cpu (user + system
# s), t_rss (peak KiB) and t_status; says so on stderr when it failed.
timed() {
	local tf=$work/.time.$$ u s
	/usr/bin/time -o "$tf" -f '%e %U %S %M' "$@" >"$work/.out.$$" 2>"$work/.err.$$"
	t_status=$?
	# GNU time writes "Command exited with non-zero status N" first
	read -r t_wall u s t_rss < <(tail -n 1 "$tf")
	t_cpu=$(awk -v a="$u" -v b="$s" 'BEGIN {printf "%.2f", a + b}')
	rm -f "$tf"
	if [ "$t_status" -ne 0 ]; then
		echo "$me: $* exited $t_status:" >&2
		head -n 5 "$work/.err.$$" | sed 's/^/    /' >&2
	fi
}

# median, maxof: of the space-separated numbers on standard input
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
maxof() { tr ' ' '\n' | grep . | sort -g | tail -n 1; }

# the last of the space-separated numbers on standard input
lastof() { awk '{print $NF}'; }

# removes timed's files
timed_cleanup() { rm -f "$work/.out.$$" "$work/.err.$$" "$work/.time.$$"; }
