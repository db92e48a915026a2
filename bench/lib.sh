#!/bin/bash
# Shell helpers shared by the bench/*.sh scripts (sourced).

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

# CPU use between two cpu_ticks readings A and B: in % of one core over
# MS milliseconds (tick_pct A B MS), or in microseconds per request over
# N requests (tick_us A B N)
tick_pct() {
    awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" -v ms="$3" \
        'BEGIN { printf "%d", (b - a) / hz * 1000 / ms * 100 }'
}
tick_us() {
    awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" -v n="$3" \
        'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }'
}

# wrk's CPU in % of one core over MS milliseconds, from two readings of
# the shell's "times" for its children (A, B: "user system", as 0m1.5s)
times_pct() {
    awk -v a="$1" -v b="$2" -v ms="$3" '
        function sec(s,   m) { m = s; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", s);
                               sub(/s$/, "", s); return m * 60 + s }
        BEGIN { split(a, x, " "); split(b, y, " ");
                printf "%d", (sec(y[1]) + sec(y[2]) - sec(x[1]) - sec(x[2])) \
                             * 1000 / ms * 100 }'
}

# to milliseconds: wrk prints 812.00us, 1.23ms, 1.02s
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) printf "%.3f", v / 1000;
        else if (v ~ /ms$/) printf "%.3f", v + 0;
        else if (v ~ /s$/) printf "%.3f", v * 1000;
        else print "?" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# the master's children (its workers), one pid a line
children_of() {
    local d ppid
    for d in /proc/[0-9]*; do
        ppid=$(awk '{print $4}' "$d/stat" 2>/dev/null) || continue
        [ "$ppid" = "$1" ] && echo "${d#/proc/}"
    done
    return 0
}

# the worker: the master's only child
worker_of() {
    local w
    w=$(children_of "$1" | head -1)
    [ -n "$w" ] || die "no worker process under nginx $1"
    echo "$w"
}

# stop PID SIGNAL: signal it, wait up to 10s, then SIGKILL
stop() {
    local _
    kill -"$2" "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# start_redis DIR: a redis-server on the unix socket DIR/redis.sock only,
# no persistence, as a child of this shell; sets REDIS_PID
start_redis() {
    local _
    redis-server --port 0 --unixsocket "$1/redis.sock" --unixsocketperm 777 \
        --save '' --appendonly no --dir "$1" --logfile "$1/logs/redis.log" \
        --daemonize no &
    REDIS_PID=$!
    for _ in $(seq 50); do
        redis-cli -s "$1/redis.sock" ping >/dev/null 2>&1 && break
        kill -0 "$REDIS_PID" 2>/dev/null || die "redis-server failed: $1/logs/redis.log"
        sleep 0.1
    done
    redis-cli -s "$1/redis.sock" ping >/dev/null || die "redis-server does not answer"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }


# keep_or_remove RC: at exit, keep the temporary folder $T when asked
# (KEEP=1) or when something failed (not on ^C), else remove it
keep_or_remove() {
    if [ "${KEEP:-0}" = 1 ] || { [ "$1" -ne 0 ] && [ "$1" -ne 130 ]; }; then
        echo "bench/$(basename "$0"): kept $T" >&2
    else
        rm -rf "$T"
    fi
}

# the http-level settings every bench nginx has: no access log, sendfile,
# temporary files under $T/tmp
http_common() {
    cat <<END
    access_log off;
    sendfile on;
    client_body_temp_path $T/tmp/body;
    proxy_temp_path $T/tmp/proxy;
    fastcgi_temp_path $T/tmp/fastcgi;
    uwsgi_temp_path $T/tmp/uwsgi;
    scgi_temp_path $T/tmp/scgi;
END
}
