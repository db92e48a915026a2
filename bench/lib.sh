#!/bin/bash
# Shell helpers shared by bench/run.sh and bench/contact.sh (sourced).

say() { echo "== $*" >&2; }

# how busy the machine is before we start: other processes skew the numbers
cpu_busy() {    # percent of all cores busy over 2 seconds
    local a b
    a=$(awk '/^cpu / { print $2+$3+$4+$7+$8, $5+$6 }' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / { print $2+$3+$4+$7+$8, $5+$6 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
        printf "%d", (y[1] - x[1]) * 100 / (y[1] - x[1] + y[2] - x[2]) }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# to milliseconds: wrk prints 812.00us, 1.23ms, 1.02s
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) printf "%.3f", v / 1000;
        else if (v ~ /ms$/) printf "%.3f", v + 0;
        else if (v ~ /s$/) printf "%.3f", v * 1000;
        else print "?" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# the worker: the master's only child
worker_of() {
    local master=$1 d ppid
    for d in /proc/[0-9]*; do
        ppid=$(awk '{print $4}' "$d/stat" 2>/dev/null) || continue
        [ "$ppid" = "$master" ] && { echo "${d#/proc/}"; return; }
    done
    die "no worker process under nginx $master"
}

