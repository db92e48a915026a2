#!/bin/bash
# bench/run.sh: article throughput of the page cache, one command.
#
#   make && bash bench/run.sh
#
# Starts its own redis-server (unix socket only) and two nginx instances
# (one worker each, access_log off) from a temporary folder, on free
# loopback ports, and measures with wrk, for each page size, against the
# same article:
#
#   static   the page's exact bytes as a static file (sendfile on)
#   ofc      the same file with open_file_cache (no open/close per request)
#   return   the same bytes through "return 200" (see bench/gen.pl)
#   L1 hit   clinic_cache_zone 64m, warmed          X-Clinic-Cache: HIT
#   Redis    clinic_cache_zone off, Redis up        X-Clinic-Cache: REDIS
#   miss     clinic_cache_zone off, Redis down      X-Clinic-Cache: MISS
#
# Environment:
#   DURATION=10s     wrk duration of each measurement (plus a 1s warm-up)
#   SIZES="16k 100k" page sizes to run, each "<n>k"; e.g. SIZES=16k
#   CONNECTIONS=32   wrk connections (one wrk thread)
#   OUT=file         also write the report (markdown) to file
#   KEEP=1           keep the temporary folder (configs, logs, wrk output)
#
# Stops everything it started when it exits, however it exits (but SIGKILL).
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
ROOT=$PWD

MODULE=$ROOT/build/ngx_http_clinic_module.so
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
SIZES=${SIZES:-"16k 100k"}
CONNECTIONS=${CONNECTIONS:-32}
GEN="perl $ROOT/bench/gen.pl"

die() { echo "bench/run.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

[ -f "$MODULE" ] || die "$MODULE is missing: run 'make' first"
[ -x "$NGINX" ] || die "$NGINX is missing: run 'make deps' (Debian's nginx)"
for tool in wrk redis-server redis-cli curl perl; do
    command -v $tool >/dev/null \
        || die "'$tool' is missing: run 'make deps' (it installs wrk and redis-server)"
done
for s in $SIZES; do
    [[ $s =~ ^[0-9]+k$ ]] || die "SIZES: \"$s\" is not <n>k, e.g. 16k"
done

T=$(mktemp -d /tmp/clinic-bench.XXXXXX)
chmod 755 "$T"      # the workers run as nobody when we are root
mkdir -p "$T/content" "$T/www/static" "$T/conf" "$T/logs" "$T/wrk" "$T/tmp"

NGINX_PIDS=()       # the nginx masters we started
REDIS_PID=


cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${NGINX_PIDS[@]}"; do
        stop "$pid" QUIT
    done
    if [ -n "$REDIS_PID" ]; then
        stop "$REDIS_PID" TERM
    fi
    keep_or_remove $rc
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BUSY=$(cpu_busy)
if [ "$BUSY" -gt 10 ]; then
    say "warning: the machine is already ${BUSY}% busy; the numbers will be noisy"
fi

# --- Redis: a unix socket only, no persistence --------------------------

say "starting redis-server"
start_redis "$T"

# --- content: one article per size -------------------------------------

target_bytes() { echo $(( ${1%k} * 1024 )); }

for s in $SIZES; do
    $GEN article "$(target_bytes $s)" "$T/content/page-$s.txt"
done

PORTS=($($GEN ports 3))
PORT_L1=${PORTS[0]} PORT_L2=${PORTS[1]} PORT_MISS=${PORTS[2]}

# --- nginx -------------------------------------------------------------

# the pages are byte-identical in every tenant: same clinic_name,
# server_name (the canonical URL) and files

tenant() {    # name port redis
    cat <<END
    server {
        listen 127.0.0.1:$2;
        server_name bench.example;
        clinic_tenant $1;
        clinic_name "Bench Clinic";
        clinic_redis $3;
        clinic_content $T/content;

        location /treatments/ { clinic_articles; }
        location = /status    { clinic_status; }
END
}

main_common() {    # name
    cat <<END
load_module $MODULE;
daemon off;
master_process on;
worker_processes 1;
pid $T/logs/$1.pid;
error_log $T/logs/$1-error.log warn;
events { worker_connections 1024; }
END
}

# start_nginx NAME PORT: runs nginx in the foreground as our child
start_nginx() {
    local name=$1 port=$2 pid i
    "$NGINX" -p "$T/" -c "$T/conf/$name.conf" -e "$T/logs/$name-error.log" \
        -t -q || die "nginx -t failed for $T/conf/$name.conf"
    "$NGINX" -p "$T/" -c "$T/conf/$name.conf" -e "$T/logs/$name-error.log" &
    pid=$!
    NGINX_PIDS+=("$pid")
    for i in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/status" && break
        kill -0 "$pid" 2>/dev/null || die "nginx $name failed: $T/logs/$name-error.log"
        sleep 0.1
    done
    eval "MASTER_$name=$pid"
}


# instance B: the cache zone is http-level, so L1-off needs its own nginx;
# one tenant with Redis up (REDIS), one with Redis down (MISS)
{
    main_common l2
    echo "http {"
    http_common
    echo "    clinic_cache_zone off;"
    tenant bench-l2 "$PORT_L2" "unix:$T/redis.sock timeout=200ms"
    echo "    }"
    tenant bench-mx "$PORT_MISS" "unix:$T/redis-down.sock timeout=200ms"
    echo "    }"
    echo "}"
} > "$T/conf/l2.conf"

say "starting nginx (clinic_cache_zone off) on ports $PORT_L2 and $PORT_MISS"
start_nginx l2 "$PORT_L2"

# the served bytes of each page, from the MISS tenant: the static file
# and the return 200 body are these bytes exactly
declare -A PAGE_BYTES RET
for s in $SIZES; do
    curl -sS -m 10 -o "$T/www/static/page-$s.html" -D "$T/tmp/h" \
        "http://127.0.0.1:$PORT_MISS/treatments/page-$s"
    grep -q '^HTTP/1.1 200' "$T/tmp/h" || die "page-$s: $(head -1 "$T/tmp/h")"
    PAGE_BYTES[$s]=$(stat -c %s "$T/www/static/page-$s.html")
done

# instance A: L1 on, the static file and return 200 beside it
{
    main_common l1
    echo "http {"
    http_common
    echo "    clinic_cache_zone 64m;"
    for s in $SIZES; do
        RET[$s]=$($GEN returnconf "${s}" "$T/www/static/page-$s.html" \
                       "$T/conf/ret-$s.conf")
        echo "    include $T/conf/ret-$s.conf;"
    done
    tenant bench-l1 "$PORT_L1" "unix:$T/redis.sock timeout=200ms"
    echo "        location /static/ { root $T/www; charset utf-8;"
    echo "                            types { text/html html; } }"
    echo "        location /ofc/ { alias $T/www/static/; charset utf-8;"
    echo "                         types { text/html html; }"
    echo "                         open_file_cache max=16; }"
    for s in $SIZES; do
        echo "        location = /ret/page-$s { default_type text/html;"
        echo "            charset utf-8; return 200 \"${RET[$s]}\"; }"
    done
    echo "    }"
    echo "}"
} > "$T/conf/l1.conf"

say "starting nginx (clinic_cache_zone 64m) on port $PORT_L1"
start_nginx l1 "$PORT_L1"

WORKER_l1=$(worker_of "$MASTER_l1")
WORKER_l2=$(worker_of "$MASTER_l2")

# --- checks: the header each scenario must show, the same bytes ---------

# fetch URL: the X-Clinic-Cache value ("-" when absent), body in $T/tmp/b
fetch() {
    curl -sS -m 10 -o "$T/tmp/b" -D "$T/tmp/h" "$1" || return 1
    grep -q '^HTTP/1.1 200' "$T/tmp/h" || die "$1: $(head -1 "$T/tmp/h")"
    awk 'tolower($1) == "x-clinic-cache:" { v = $2 } END { print v ? v : "-" }' \
        "$T/tmp/h" | tr -d '\r'
}

# expect URL HEADER NAME: warm up until URL says HEADER, then check the bytes
expect() {
    local url=$1 want=$2 s=$3 got i
    for i in 1 2 3 4 5; do
        got=$(fetch "$url")
        [ "$got" = "$want" ] && break
        sleep 0.2
    done
    [ "$got" = "$want" ] || die "$url says X-Clinic-Cache: $got, not $want"
    cmp -s "$T/tmp/b" "$T/www/static/page-$s.html" \
        || die "$url does not serve the same bytes as the static file"
}

# cache_count PORT TENANT LAYER
cache_count() {
    curl -sS -m 10 "http://127.0.0.1:$1/status" \
        | awk -v t="$2" -v l="$3" \
            'index($0, "clinic_cache_total{tenant=\"" t "\",layer=\"" l "\"}") == 1 { print $2 }'
}

# redis_latency PORT: "sum count" of clinic_redis_latency_seconds for the
# live endpoint (the one on redis.sock)
redis_latency() {
    curl -sS -m 10 "http://127.0.0.1:$1/status" \
        | awk 'index($0, "/redis.sock") && /^clinic_redis_latency_seconds_sum/ { s = $2 }
               index($0, "/redis.sock") && /^clinic_redis_latency_seconds_count/ { n = $2 }
               END { print s + 0, n + 0 }'
}

CLK_TCK=$(getconf CLK_TCK)


# bench KEY URL WORKER PORT TENANT LAYER: wrk, with CPU accounting and,
# for the module, the count of responses by layer from clinic_status
bench() {
    local key=$1 url=$2 worker=$3 port=$4 tenant=$5 layer=$6
    local out="$T/wrk/$key.txt" c0=0 c1=0 l0 l1 w0 w1 r0 r1 t0 t1 ch0 ch1 reqs

    wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null

    if [ -n "$layer" ]; then
        c0=$(cache_count "$port" "$tenant" "$layer")
        l0=$(redis_latency "$port")
    fi
    w0=$(cpu_ticks "$worker")
    r0=$(cpu_ticks "$REDIS_PID")
    # "times" in this shell, not in $(...): a subshell has its own counters
    times > "$T/tmp/times"
    ch0=$(awk 'NR == 2 { print $1 " " $2 }' "$T/tmp/times")
    t0=$(date +%s%N)

    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$url" > "$out"

    t1=$(date +%s%N)
    times > "$T/tmp/times"
    ch1=$(awk 'NR == 2 { print $1 " " $2 }' "$T/tmp/times")
    w1=$(cpu_ticks "$worker")
    r1=$(cpu_ticks "$REDIS_PID")
    if [ -n "$layer" ]; then
        c1=$(cache_count "$port" "$tenant" "$layer")
        l1=$(redis_latency "$port")
        # mean time from queueing a GET to its reply, during this run
        R[$key.rlat]=$(awk -v a="$l0" -v b="$l1" 'BEGIN { split(a, x, " ");
            split(b, y, " "); n = y[2] - x[2];
            if (n > 0) printf "%.3f ms over %d commands", (y[1] - x[1]) * 1000 / n, n;
            else print "no commands" }')
    fi

    reqs=$(awk '/requests in/ { print $1 }' "$out")
    R[$key.rps]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    R[$key.p50]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    R[$key.p99]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    R[$key.reqs]=$reqs
    R[$key.errors]=$(awk '/Non-2xx|Socket errors/' "$out" | tr '\n' ' ')
    R[$key.layer]=$(( c1 - c0 ))
    R[$key.wall]=$(( (t1 - t0) / 1000000 ))
    R[$key.cpu]=$(tick_pct "$w0" "$w1" "${R[$key.wall]}")
    R[$key.us]=$(tick_us "$w0" "$w1" "$reqs")
    R[$key.redis]=$(tick_pct "$r0" "$r1" "${R[$key.wall]}")
    R[$key.wrk]=$(times_pct "$ch0" "$ch1" "${R[$key.wall]}")
}

declare -A R

say "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"

for s in $SIZES; do
    say "page-$s: ${PAGE_BYTES[$s]} bytes"

    expect "http://127.0.0.1:$PORT_L1/static/page-$s.html" - "$s"
    expect "http://127.0.0.1:$PORT_L1/ofc/page-$s.html" - "$s"
    expect "http://127.0.0.1:$PORT_L1/ret/page-$s" - "$s"
    expect "http://127.0.0.1:$PORT_L1/treatments/page-$s" HIT "$s"
    expect "http://127.0.0.1:$PORT_L2/treatments/page-$s" REDIS "$s"
    expect "http://127.0.0.1:$PORT_MISS/treatments/page-$s" MISS "$s"

    say "page-$s: static file"
    bench "$s.static" "http://127.0.0.1:$PORT_L1/static/page-$s.html" \
        "$WORKER_l1" "" "" ""
    say "page-$s: static file, open_file_cache"
    bench "$s.ofc" "http://127.0.0.1:$PORT_L1/ofc/page-$s.html" \
        "$WORKER_l1" "" "" ""
    say "page-$s: return 200"
    bench "$s.return" "http://127.0.0.1:$PORT_L1/ret/page-$s" \
        "$WORKER_l1" "" "" ""
    say "page-$s: L1 hit"
    bench "$s.l1" "http://127.0.0.1:$PORT_L1/treatments/page-$s" \
        "$WORKER_l1" "$PORT_L1" bench-l1 hit
    say "page-$s: Redis hit (L1 off)"
    bench "$s.l2" "http://127.0.0.1:$PORT_L2/treatments/page-$s" \
        "$WORKER_l2" "$PORT_L2" bench-l2 redis
    say "page-$s: miss (L1 off, Redis down)"
    bench "$s.miss" "http://127.0.0.1:$PORT_MISS/treatments/page-$s" \
        "$WORKER_l2" "$PORT_MISS" bench-mx miss

    # still the same answers after the runs
    expect "http://127.0.0.1:$PORT_L1/treatments/page-$s" HIT "$s"
    expect "http://127.0.0.1:$PORT_L2/treatments/page-$s" REDIS "$s"
done

# --- report --------------------------------------------------------------


report() {
    local s k name hdr
    echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
    echo "$(. /etc/os-release; echo "$PRETTY_NAME"), $("$NGINX" -v 2>&1 | sed 's/.*: //'),"
    echo "$(redis-server --version | awk '{ print "Redis " substr($3, 3) }'), $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "wrk -t1 -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up), on the same machine;"
    echo "nginx: one worker, access_log off, sendfile on."
    echo "Before the run, other processes kept the machine ${BUSY}% busy (of all cores)."
    for s in $SIZES; do
        echo
        echo "### page-$s: ${PAGE_BYTES[$s]} bytes"
        echo
        echo "| scenario | X-Clinic-Cache | req/s | p50 ms | p99 ms | × static | × return 200 | worker CPU | µs/req | wrk CPU |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        for k in static ofc return l1 l2 miss; do
            case $k in
            static) name="static file (sendfile)"; hdr="—" ;;
            ofc)    name="static file + open_file_cache"; hdr="—" ;;
            return) name="return 200 (same bytes)"; hdr="—" ;;
            l1)     name="L1 hit"; hdr=HIT ;;
            l2)     name="Redis hit, L1 off"; hdr=REDIS ;;
            miss)   name="miss: render every request"; hdr=MISS ;;
            esac
            echo "| $name | $hdr | ${R[$s.$k.rps]} | ${R[$s.$k.p50]} | ${R[$s.$k.p99]} |" \
                 "$(ratio "${R[$s.$k.rps]}" "${R[$s.static.rps]}") |" \
                 "$(ratio "${R[$s.$k.rps]}" "${R[$s.return.rps]}") |" \
                 "${R[$s.$k.cpu]}% | ${R[$s.$k.us]} | ${R[$s.$k.wrk]}% |"
        done
        echo
        for k in l1 l2 miss; do
            echo "- ${k}: ${R[$s.$k.layer]} responses counted as that layer by clinic_status, wrk counted ${R[$s.$k.reqs]}"
        done
        echo "- Redis hit run: redis-server CPU ${R[$s.l2.redis]}%; mean Redis latency (clinic_status) ${R[$s.l2.rlat]}"
        for k in static ofc return l1 l2 miss; do
            if [ -n "${R[$s.$k.errors]}" ]; then
                echo "- $k: ${R[$s.$k.errors]}"
            fi
        done
        echo
        echo "Targets: L1 hit ≥ 1.0× static: $(ratio "${R[$s.l1.rps]}" "${R[$s.static.rps]}")×;" \
             "Redis hit ≥ 0.6× static: $(ratio "${R[$s.l2.rps]}" "${R[$s.static.rps]}")×;" \
             "L1 p99 ≤ static p99: ${R[$s.l1.p99]} ms vs ${R[$s.static.p99]} ms."
    done
}

report > "$T/report.md"
echo
cat "$T/report.md"
if [ -n "${OUT:-}" ]; then
    cp "$T/report.md" "$OUT"
fi

# anything the error logs say, counted, timestamps and pids removed
echo
echo "error logs ($T/logs):"
cat "$T"/logs/*-error.log 2>/dev/null \
    | sed -E 's/^[0-9\/]+ [0-9:]+ //; s/[0-9]+#[0-9]+: (\*[0-9]+ )?//; s/, client: .*//' \
    | sort | uniq -c | sort -rn | head -20
if grep -qE '\[(alert|crit|emerg)\]|exited on signal' "$T"/logs/*-error.log; then
    echo "bench/run.sh: the error logs hold alerts or crashes (above)" >&2
    exit 1
fi
