#!/bin/bash
# bench/cluster.sh: the article Redis hit and the contact POST through a
# Redis Cluster of 3 masters (and 3 replicas), side by side with a single
# Redis; one command.
#
#   make && bash bench/cluster.sh
#
# Starts, from a temporary folder and on free loopback ports:
#
#   single    one redis-server on a loopback TCP port, no persistence
#   cluster   six redis-servers (cluster-enabled yes, no persistence, an
#             explicit cluster-port each), joined by redis-cli --cluster
#             create --cluster-replicas 1: 3 masters, each with a replica
#
# and three nginx instances (one worker each, access_log off, sendfile on),
# each with the same $TENANTS tenants tI.example (clinic_tenant tI, so their
# keys are clinic:{tI}:..., spread over the masters by the CRC16 of "tI";
# the script prints how many land on each master):
#
#   single    clinic_redis 127.0.0.1:PORT
#   cl-r0     clinic_redis cluster=M1,M2,M3 replicas=0
#   cl-r1     clinic_redis cluster=M1,M2,M3   (the default, replicas=1: each
#             store is followed by WAIT 1 on the same connection)
#
# Every tenant: clinic_cache_zone off (http level), so an article request
# is a Redis GET (X-Clinic-Cache: REDIS, checked for every tenant), and
# clinic_contact_limit client=off tenant=off (throughput, not spam
# defence, as in bench/contact.sh). Measurements, wrk -t1 -c$CONNECTIONS
# --latency, each after a warm-up, the three instances in turn:
#
#   page      GET /treatments/page-16k (a 16 KB page), a random tenant per
#             request (bench/scale-wrk.lua); clinic_status must count one
#             REDIS per request
#   contact   POST /contact, urlencoded, Accept: application/json (201),
#             the tenants in turn (bench/cluster-contact.lua, on top of
#             bench/contact-urlencoded.lua)
#
# After each contact run (and each contact warm-up), once the streams stop
# growing and the spool is empty, bench/contact-verify.pl reads every
# tenant's stream from the master that owns it: each tag sent to tenant I
# is in tenant I's stream at most once, none of another tenant's, and the
# new entries are the 201s (and 202s) plus at most the POSTs still in
# flight when wrk stopped. Each master's INFO commandstats and errorstats
# (reset before each run) count its GET, EVALSHA and WAIT commands and its
# error replies. The CPU of the worker, the masters, the replicas and wrk
# is measured, and "other CPU": what the rest of the machine used
# meanwhile (another test suite running makes the numbers meaningless).
#
# About 2 minutes with the defaults (docs/benchmarks.md, "Redis Cluster and
# a single Redis", has the method and results).
#
# Environment:
#   DURATION=10s     wrk duration of each measurement
#   WARMUP=1s        wrk warm-up before each
#   CONNECTIONS=32   wrk connections (one wrk thread)
#   TENANTS=30       tenants
#   OUT=file         also write the report (markdown) to file
#   KEEP=1           keep the temporary folder (configs, logs, wrk output)
#
# Exits 1 when a check fails or an nginx error log holds an [error] line or
# worse. Stops everything it started when it exits,
# however it exits (but SIGKILL).
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
ROOT=$PWD

MODULE=$ROOT/build/ngx_http_clinic_module.so
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
CONNECTIONS=${CONNECTIONS:-32}
TENANTS=${TENANTS:-30}
GEN="perl $ROOT/bench/gen.pl"
PAGES=$ROOT/bench/scale-wrk.lua
CONTACT=$ROOT/bench/cluster-contact.lua
VERIFY="perl $ROOT/bench/contact-verify.pl"
SLUG=page-16k

die() { echo "bench/cluster.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

[ -f "$MODULE" ] || die "$MODULE is missing: run 'make' first"
[ -x "$NGINX" ] || die "$NGINX is missing: run 'make deps' (Debian's nginx)"
for tool in wrk redis-server redis-cli curl perl; do
    command -v $tool >/dev/null \
        || die "'$tool' is missing: run 'make deps' (it installs wrk and redis-server)"
done
for v in CONNECTIONS TENANTS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "$v: \"${!v}\" is not a number"
done

T=$(mktemp -d /tmp/clinic-cluster.XXXXXX)
chmod 755 "$T"      # the workers run as nobody when we are root
mkdir -p "$T/content" "$T/conf" "$T/logs" "$T/wrk" "$T/tmp"

SCEN=(single cl-r0 cl-r1)
declare -A NGX_PID=()   # the nginx masters, by scenario
declare -A RPID=()      # the redis-servers, by name (single, n1..n6)
FAILED=0


cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${NGX_PID[@]}"; do
        stop "$pid" QUIT
    done
    for pid in "${RPID[@]}"; do
        stop "$pid" TERM
    done
    keep_or_remove $rc
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START_TIME=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=$(cpu_busy)
if [ "$BUSY" -gt 10 ]; then
    say "warning: the machine is already ${BUSY}% busy; the numbers will be noisy"
fi

# nginx ports (3), the single Redis (1), cluster nodes (6), their bus (6)
mapfile -t PORTS < <($GEN ports 16)
declare -A PORT=([single]=${PORTS[0]} [cl-r0]=${PORTS[1]} [cl-r1]=${PORTS[2]})
RSINGLE=${PORTS[3]}
NODES=("${PORTS[@]:4:6}")
BUSES=("${PORTS[@]:10:6}")

# --- Redis ---------------------------------------------------------------

# start_redis NAME PORT ARGS...: redis-server on 127.0.0.1:PORT, no
# persistence, as our child, its files in $T/redis-NAME; waits for PONG
start_redis() {
    local name=$1 port=$2 pid
    shift 2
    mkdir -p "$T/redis-$name"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$T/redis-$name" \
        --save '' --appendonly no --logfile "$T/logs/redis-$name.log" \
        --daemonize no "$@" &
    pid=$!
    RPID[$name]=$pid
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return
        kill -0 "$pid" 2>/dev/null || die "redis-server failed: $T/logs/redis-$name.log"
        sleep 0.1
    done
    die "redis-server $name does not answer: $T/logs/redis-$name.log"
}

say "starting redis-server on port $RSINGLE (single) and a cluster on ports ${NODES[*]}"
start_redis single "$RSINGLE"
for i in 0 1 2 3 4 5; do
    start_redis "n$((i + 1))" "${NODES[$i]}" --cluster-enabled yes \
        --cluster-config-file nodes.conf --cluster-port "${BUSES[$i]}" \
        --cluster-node-timeout 5000
done

ADDRS=()
for p in "${NODES[@]}"; do
    ADDRS+=("127.0.0.1:$p")
done
redis-cli --cluster create "${ADDRS[@]}" --cluster-replicas 1 --cluster-yes \
    > "$T/logs/cluster-create.log" 2>&1 \
    || die "redis-cli --cluster create failed: $T/logs/cluster-create.log"

# every node says cluster_state:ok, every master has its replica online
cluster_ready() {
    local p
    for p in "${NODES[@]}"; do
        redis-cli -p "$p" CLUSTER INFO | grep -q '^cluster_state:ok' || return 1
    done
    for p in "${MASTERS[@]}"; do
        redis-cli -p "$p" INFO replication | grep -q '^slave0:.*state=online' || return 1
    done
}
MASTERS=()
for _ in $(seq 300); do
    # the masters, by their first slot: "PORT FIRST-LAST"
    redis-cli -p "${NODES[0]}" CLUSTER NODES \
        | awk '$3 ~ /master/ && $9 != "" { split($2, a, "[:@]"); print a[2], $9 }' \
        | sort -t' ' -k2 -n > "$T/tmp/masters"
    mapfile -t MASTERS < <(awk '{ print $1 }' "$T/tmp/masters")
    [ "${#MASTERS[@]}" = 3 ] && cluster_ready && break
    MASTERS=()
    sleep 0.1
done
[ "${#MASTERS[@]}" = 3 ] || die "the cluster is not ready after 30 s: $T/logs/"
say "cluster ready after $(( $(date +%s) - START_TIME )) s: masters ${MASTERS[*]}"

# the master owning each tenant: OWNER[tI] is its port
declare -A OWNER=() SLOT=()
for (( i = 1; i <= TENANTS; i++ )); do
    SLOT[t$i]=$(redis-cli -p "${NODES[0]}" CLUSTER KEYSLOT "clinic:{t$i}:submissions")
    OWNER[t$i]=$(awk -v s="${SLOT[t$i]}" '{ split($2, r, "-") }
        s >= r[1] && s <= r[2] { print $1 }' "$T/tmp/masters")
    [ -n "${OWNER[t$i]}" ] || die "no master owns slot ${SLOT[t$i]}"
done
declare -A SPREAD=()
for p in "${MASTERS[@]}"; do
    SPREAD[$p]=0
    for (( i = 1; i <= TENANTS; i++ )); do
        [ "${OWNER[t$i]}" = "$p" ] && SPREAD[$p]=$(( SPREAD[$p] + 1 ))
    done
    say "master 127.0.0.1:$p (slots $(awk -v p="$p" '$1 == p { print $2 }' "$T/tmp/masters")):" \
        "${SPREAD[$p]} tenants"
done

# the redis-cli of a tenant's data: the single Redis, or the master that
# owns the tenant's slot (-c: would follow a MOVED, were the map to change;
# asking the owner keeps MOVED out of the masters' error counts)
rcli() {    # SCENARIO TENANT ARGS...
    local s=$1 t=$2
    shift 2
    if [ "$s" = single ]; then
        redis-cli -p "$RSINGLE" "$@"
    else
        redis-cli -c -p "${OWNER[$t]}" "$@"
    fi
}
# the address contact-verify.pl reads tenant TENANT's stream from
owner_addr() {    # SCENARIO TENANT
    if [ "$1" = single ]; then
        echo "127.0.0.1:$RSINGLE"
    else
        echo "127.0.0.1:${OWNER[$2]}"
    fi
}
# the redis-servers a scenario uses: its masters, the cluster's replicas
declare -A PID_OF=()    # by port
PID_OF[$RSINGLE]=${RPID[single]}
for i in 0 1 2 3 4 5; do
    PID_OF[${NODES[$i]}]=${RPID[n$((i + 1))]}
done
REPLICAS=()
for p in "${NODES[@]}"; do
    [[ " ${MASTERS[*]} " == *" $p "* ]] || REPLICAS+=("$p")
done
redis_pids() {    # SCENARIO
    local p
    for p in $(redis_ports "$1"); do
        echo "${PID_OF[$p]}"
    done
}
replica_pids() {    # SCENARIO
    local p
    [ "$1" = single ] && return 0
    for p in "${REPLICAS[@]}"; do
        echo "${PID_OF[$p]}"
    done
}
redis_ports() {    # SCENARIO: the ports of its masters
    if [ "$1" = single ]; then echo "$RSINGLE"; else echo "${MASTERS[*]}"; fi
}

# --- nginx ---------------------------------------------------------------

$GEN article 16384 "$T/content/$SLUG.txt"

conf() {    # SCENARIO
    local s=$1 i redis
    case $s in
    single) redis="127.0.0.1:$RSINGLE timeout=200ms" ;;
    cl-r0)  redis="cluster=127.0.0.1:${MASTERS[0]},127.0.0.1:${MASTERS[1]},127.0.0.1:${MASTERS[2]} replicas=0 timeout=200ms" ;;
    cl-r1)  redis="cluster=127.0.0.1:${MASTERS[0]},127.0.0.1:${MASTERS[1]},127.0.0.1:${MASTERS[2]} timeout=200ms" ;;
    esac
    mkdir -p "$T/spool-$s"
    chmod 1777 "$T/spool-$s"
    cat <<END
load_module $MODULE;
daemon off;
master_process on;
worker_processes 1;
pid $T/logs/$s.pid;
error_log $T/logs/$s-error.log warn;
events { worker_connections 1024; }
http {
END
    http_common
    cat <<END
    default_type text/html;
    clinic_cache_zone off;
    clinic_redis $redis;
    clinic_spool $T/spool-$s;

    # not a tenant: the node's counters
    server {
        listen 127.0.0.1:${PORT[$s]} default_server;
        location = /status { clinic_status tenants=off; }
    }
END
    for (( i = 1; i <= TENANTS; i++ )); do
        cat <<END
    server {
        listen 127.0.0.1:${PORT[$s]};
        server_name t$i.example;
        clinic_tenant t$i;
        clinic_name "Bench Clinic";
        clinic_content $T/content;
        clinic_contact_limit client=off tenant=off;
        location /treatments/ { clinic_articles; }
        location = /contact { clinic_contact; client_max_body_size 64k; }
        location = /ping { return 204; }
    }
END
    done
    echo "}"
}

start_nginx() {    # SCENARIO
    local s=$1 pid
    conf "$s" > "$T/conf/$s.conf"
    "$NGINX" -p "$T/" -c "$T/conf/$s.conf" -e "$T/logs/$s-error.log" -t -q \
        || die "nginx -t failed for $T/conf/$s.conf"
    "$NGINX" -p "$T/" -c "$T/conf/$s.conf" -e "$T/logs/$s-error.log" &
    pid=$!
    NGX_PID[$s]=$pid
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:${PORT[$s]}/status" && return
        kill -0 "$pid" 2>/dev/null || die "nginx $s failed: $T/logs/$s-error.log"
        sleep 0.1
    done
    die "nginx $s does not answer: $T/logs/$s-error.log"
}

for s in "${SCEN[@]}"; do
    say "starting nginx ($s) on port ${PORT[$s]}"
    start_nginx "$s"
done

# --- checks: every tenant's page comes from Redis; a POST is a 201 ------

# cache_header SCENARIO TENANT: X-Clinic-Cache of the page ("-" if none)
cache_header() {
    curl -sS -m 10 -o "$T/tmp/b" -D "$T/tmp/h" -H "Host: $2.example" \
        "http://127.0.0.1:${PORT[$1]}/treatments/$SLUG" || return 1
    grep -q '^HTTP/1.1 200' "$T/tmp/h" || die "$1 $2: $(head -1 "$T/tmp/h")"
    awk 'tolower($1) == "x-clinic-cache:" { v = $2 } END { print v ? v : "-" }' \
        "$T/tmp/h" | tr -d '\r'
}

PAGE_BYTES=
for s in "${SCEN[@]}"; do
    for (( i = 1; i <= TENANTS; i++ )); do
        for _ in $(seq 20); do
            got=$(cache_header "$s" "t$i")
            [ "$got" = REDIS ] && break
            sleep 0.1
        done
        [ "$got" = REDIS ] || die "$s t$i: X-Clinic-Cache: $got, not REDIS"
    done
    : "${PAGE_BYTES:=$(stat -c %s "$T/tmp/b")}"
    post=$(curl -sS -m 10 -o "$T/tmp/b" -w '%{http_code}' -H "Host: t1.example" \
        -H 'Content-Type: application/x-www-form-urlencoded' \
        -H 'Accept: application/json' -H 'Origin: http://t1.example' \
        --data-binary "name=Check+$$+$s&email=a%40example.com&message=check" \
        "http://127.0.0.1:${PORT[$s]}/contact")
    [[ "$post $(cat "$T/tmp/b")" =~ ^201\ \{\"id\":\"[0-9]+-[0-9]+\"\}$ ]] \
        || die "$s: POST /contact: $post $(cat "$T/tmp/b")"
done
say "every tenant's page is a Redis hit ($PAGE_BYTES bytes), a POST is a 201, on all three"

# --- measurements --------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)
declare -A R

# metric SCENARIO NAME[{LABELS}]: the sum of the series of that name
# whose labels contain LABELS, on the scenario's /status (the node's view)
metric() {
    curl -sS -m 10 "http://127.0.0.1:${PORT[$1]}/status" \
        | awk -v m="$2" -v l="${3:-}" '
            # the labels may hold spaces ("cluster=... replicas=0"): the
            # name is up to the first "{" or space, the value is the last field
            /^#/ { next }
            { n = $0; sub(/[{ ].*/, "", n) }
            n == m && (l == "" || index($0, l)) { v += $NF }
            END { printf "%.6f\n", v }'
}

# the busy ticks of all the cores together (as cpu_busy in lib.sh counts)
all_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

cpu_sum() {    # PID...: their CPU ticks, summed
    local p n=0
    for p; do
        n=$(( n + $(cpu_ticks "$p") ))
    done
    echo $n
}

# master_stats SCENARIO: what each master ran since its last RESETSTAT,
# "PORT: GET 123, EVALSHA 4, ...; errors NOSCRIPT 3" a line
master_stats() {
    local p
    for p in $(redis_ports "$1"); do
        redis-cli -p "$p" INFO commandstats > "$T/tmp/cs"
        redis-cli -p "$p" INFO errorstats >> "$T/tmp/cs"
        awk -F'[_:=,]' -v p="$p" '
            $1 == "cmdstat" && $2 !~ /^(info|config|ping|cluster|role|command|client|hello|select|auth)/ {
                c = c sep toupper($2) " " $4; sep = ", " }
            $1 == "errorstat" { e = e esep $2 " " $4; esep = ", " }
            END { print "127.0.0.1:" p ": " (c ? c : "nothing") (e ? "; errors " e : "") }' \
            "$T/tmp/cs"
    done
}
sum_stat() {    # CMD STATS-LINES: the calls of CMD over the masters
    awk -v c="$1" '{ for (i = 2; i <= NF; i++) if ($i == c) { v = $(i + 1); sub(/[,;]/, "", v); n += v } }
                   END { print n + 0 }' <<< "$2"
}

# wrk_run KEY SCENARIO SCRIPT ARGS...: the measurement (after its
# warm-up) with CPU accounting, the masters' command counts and the
# module's mean Redis latency; R[KEY.*]
wrk_run() {
    local key=$1 s=$2 script=$3 out="$T/wrk/$1.txt" w0 w1 r0 r1 q0 q1 t0 t1 ch0 ch1 reqs
    local url="http://127.0.0.1:${PORT[$s]}" worker l0 l1 n0 n1 p a0 a1
    shift 3
    worker=$(worker_of "${NGX_PID[$s]}")

    # the error replies since the last measurement: the warm-up's
    R[$key.preerr]=$(for p in $(redis_ports "$s"); do
        redis-cli -p "$p" INFO errorstats; done \
        | awk -F'[_:=,]' '$1 == "errorstat" { n[$2] += $4 }
            END { for (e in n) { printf "%s%s %d", sep, e, n[e]; sep = ", " } }')
    for p in $(redis_ports "$s"); do
        redis-cli -p "$p" CONFIG RESETSTAT > /dev/null
    done
    l0=$(metric "$s" clinic_redis_latency_seconds_sum)
    n0=$(metric "$s" clinic_redis_latency_seconds_count)
    w0=$(cpu_ticks "$worker")
    # shellcheck disable=SC2046
    r0=$(cpu_sum $(redis_pids "$s"))
    # shellcheck disable=SC2046
    q0=$(cpu_sum $(replica_pids "$s"))
    a0=$(all_busy)
    times > "$T/tmp/times"
    ch0=$(awk 'NR == 2 { print $1 " " $2 }' "$T/tmp/times")
    t0=$(date +%s%N)

    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "$url" \
        -- "$@" > "$out"

    t1=$(date +%s%N)
    times > "$T/tmp/times"
    ch1=$(awk 'NR == 2 { print $1 " " $2 }' "$T/tmp/times")
    w1=$(cpu_ticks "$worker")
    # shellcheck disable=SC2046
    r1=$(cpu_sum $(redis_pids "$s"))
    # shellcheck disable=SC2046
    q1=$(cpu_sum $(replica_pids "$s"))
    a1=$(all_busy)
    R[$key.mstats]=$(master_stats "$s")
    echo "${R[$key.mstats]}" > "$T/wrk/$key.masters"
    l1=$(metric "$s" clinic_redis_latency_seconds_sum)
    n1=$(metric "$s" clinic_redis_latency_seconds_count)
    R[$key.rlat]=$(awk -v a="$l0" -v b="$l1" -v m="$n0" -v n="$n1" \
        'BEGIN { if (n > m) printf "%.3f ms over %d commands", (b - a) * 1000 / (n - m), n - m;
                 else print "no commands" }')

    reqs=$(awk '/requests in/ { print $1 }' "$out")
    R[$key.reqs]=$reqs
    R[$key.rps]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    for q in 50 75 90 99; do
        R[$key.p$q]=$(to_ms "$(awk -v q="$q%" '$1 == q { print $2 }' "$out")")
    done
    R[$key.max]=$(to_ms "$(awk '$1 == "Latency" { print $4 }' "$out")")
    R[$key.wall]=$(( (t1 - t0) / 1000000 ))
    R[$key.cpu]=$(tick_pct "$w0" "$w1" "${R[$key.wall]}")
    R[$key.us]=$(tick_us "$w0" "$w1" "$reqs")
    R[$key.redis]=$(tick_pct "$r0" "$r1" "${R[$key.wall]}")
    R[$key.repl]=$(tick_pct "$q0" "$q1" "${R[$key.wall]}")
    R[$key.rus]=$(tick_us "$((r0 + q0))" "$((r1 + q1))" "$reqs")
    R[$key.wrk]=$(times_pct "$ch0" "$ch1" "${R[$key.wall]}")
    # everything else the machine ran meanwhile (another test, say), in %
    # of one core: all the cores' busy time but the worker, Redis and wrk
    R[$key.other]=$(awk -v a="$a0" -v b="$a1" -v hz="$CLK_TCK" -v ms="${R[$key.wall]}" \
        -v mine="$(( R[$key.cpu] + R[$key.redis] + R[$key.repl] + R[$key.wrk] ))" \
        'BEGIN { v = (b - a) / hz * 1000 / ms * 100 - mine; printf "%d", v < 0 ? 0 : v }')
    R[$key.errors]=$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); print }' "$out" \
        | tr '\n' ' ')
}

verdict() {    # KEY [REASON...]
    local key=$1
    shift
    if [ $# -eq 0 ]; then
        R[$key.check]=PASS
    else
        R[$key.check]="FAIL: $1"
        shift
        for reason; do
            R[$key.check]+="; $reason"
        done
        FAILED=1
    fi
    say "$key: ${R[$key.check]}"
}

# page SCENARIO: the Redis hit, a random tenant per request
page() {
    local s=$1 key=page.$1 c0 c1 why=()
    wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -s "$PAGES" "http://127.0.0.1:${PORT[$s]}" \
        -- "$TENANTS" "$SLUG" > /dev/null
    c0=$(metric "$s" clinic_cache_total 'layer="redis"')
    wrk_run "$key" "$s" "$PAGES" "$TENANTS" "$SLUG"
    c1=$(metric "$s" clinic_cache_total 'layer="redis"')
    R[$key.layer]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%d", b - a }')
    # every answer a 200 from Redis: as many REDIS as requests, give or
    # take the requests in flight when wrk stopped
    [ -z "${R[$key.errors]}" ] || why+=("${R[$key.errors]}")
    [ "${R[$key.layer]}" -ge "${R[$key.reqs]}" ] \
        && [ "${R[$key.layer]}" -le $(( R[$key.reqs] + CONNECTIONS )) ] \
        || why+=("${R[$key.layer]} REDIS counted for ${R[$key.reqs]} requests")
    verdict "$key" "${why[@]+"${why[@]}"}"
}

# the stream of every tenant: the sum of their lengths, once it stays the
# same for 0.5 s (the POSTs in flight when wrk stopped are stored after it)
# and the spool is empty
total_xlen() {    # SCENARIO
    local i n=0
    for (( i = 1; i <= TENANTS; i++ )); do
        n=$(( n + $(rcli "$1" "t$i" XLEN "clinic:{t$i}:submissions") ))
    done
    echo $n
}
spool_files() { find "$T/spool-$1" -name '*.spool' -size +0 | wc -l; }
settled_xlen() {    # SCENARIO
    local a b
    a=$(total_xlen "$1")
    for _ in $(seq 60); do
        sleep 0.5
        b=$(total_xlen "$1")
        [ "$a" = "$b" ] && [ "$(spool_files "$1")" = 0 ] && break
        a=$b
    done
    echo "$b"
}
last_ids() {    # SCENARIO: ID0[tI], the id of each stream's last entry
    local i
    for (( i = 1; i <= TENANTS; i++ )); do
        ID0[t$i]=$(rcli "$1" "t$i" XREVRANGE "clinic:{t$i}:submissions" + - COUNT 1 | head -n 1)
    done
}
contact_line() {    # file key...
    local f=$1
    shift
    awk -v k="contact: $*" 'index($0, k " ") == 1 { print $NF; found = 1 }
                            END { if (!found) print 0 }' "$f"
}

declare -A ID0=()

# contact SCENARIO: the POSTs, then every tenant's stream checked
# check_streams KEY SCENARIO RUN WRK-OUTPUT XLEN-BEFORE XLEN-AFTER
# SPOOLED-BEFORE: every tenant's stream, read from the master that owns it
# (after ID0[tI], the last entry before the run): the new entries are the
# run's tags for that tenant, each once, and as many as the 201s and 202s
# plus at most the POSTs without an answer; R[KEY.*]
check_streams() {
    local key=$1 s=$2 run=$3 out=$4 i after sent e o d u m why=()
    local ours=0 dups=0 unknown=0 missing=0 foreign=0

    R[$key.sent]=$(contact_line "$out" sent)
    R[$key.answered]=$(contact_line "$out" answered)
    R[$key.statuses]=$(awk '$1 == "contact:" && $2 == "status" {
        printf "%s%s=%s", sep, $3, $4; sep = " " }' "$out")
    R[$key.s201]=$(contact_line "$out" status 201)
    R[$key.s202]=$(contact_line "$out" status 202)
    R[$key.open]=$(( R[$key.sent] - R[$key.answered] ))
    R[$key.added]=$(( $6 - $5 ))
    R[$key.m_spooled]=$(awk -v a="$7" -v b="$(metric "$s" clinic_submissions_total 'outcome="spooled"')" \
        'BEGIN { printf "%d", b - a }')

    for (( i = 1; i <= TENANTS; i++ )); do
        after=()
        [ -n "${ID0[t$i]}" ] && after=(--after "${ID0[t$i]}")
        sent=$(awk -v t="$i" '$1 == "contact:" && $2 == "tenant" && $3 == t {
            printf "%s%s=%s", sep, $5, $7; sep = " " }' "$out")
        # shellcheck disable=SC2086
        $VERIFY "${after[@]+"${after[@]}"}" "$(owner_addr "$s" "t$i")" \
            "clinic:{t$i}:submissions" "$run-t$i" $sent > "$T/wrk/$key.t$i.verify" \
            || die "contact-verify.pl failed for t$i"
        read -r e o d u m < <(awk '{ v[$1] = $2 } END {
            print v["entries"], v["run"], v["duplicates"], v["unknown"] + 0, v["missing"] + 0 }' \
            "$T/wrk/$key.t$i.verify")
        ours=$(( ours + o )) dups=$(( dups + d )) unknown=$(( unknown + u ))
        missing=$(( missing + m )) foreign=$(( foreign + e - o ))
    done
    R[$key.ours]=$ours R[$key.dups]=$dups R[$key.unknown]=$unknown
    R[$key.missing]=$missing R[$key.foreign]=$foreign

    local s201=${R[$key.s201]} s202=${R[$key.s202]} open=${R[$key.open]}
    local accepted=$(( s201 + s202 ))
    [ "$accepted" = "${R[$key.answered]}" ] \
        || why+=("answers other than 201 and 202: ${R[$key.statuses]}")
    [ "$dups" = 0 ] || why+=("$dups tags stored twice")
    [ "$unknown" = 0 ] || why+=("$unknown entries with tags never sent")
    [ "$foreign" = 0 ] || why+=("$foreign new entries not this run's tags of that tenant")
    [ "$ours" = "${R[$key.added]}" ] || why+=("${R[$key.added]} new entries, $ours of them this run's")
    [ "$ours" -ge "$accepted" ] || why+=("$accepted answered 201 or 202, only $ours in the streams")
    [ "$ours" -le $(( accepted + open )) ] \
        || why+=("$ours entries for $accepted 201/202 and $open POSTs without an answer")
    [ "$missing" -le "$open" ] || why+=("$missing tags missing, $open POSTs without an answer")
    [ "${R[$key.m_spooled]}" = "$s202" ] \
        || why+=("$s202 answered 202, clinic_submissions_total counts ${R[$key.m_spooled]} spooled")
    verdict "$key" "${why[@]+"${why[@]}"}"
}

# contact SCENARIO: the POSTs, then every tenant's stream checked; the
# warm-up's too
contact() {
    local s=$1 key=contact.$1 run x0 x1 sp0

    run="$s-$$-$(date +%s)"
    x0=$(total_xlen "$s")
    last_ids "$s"
    sp0=$(metric "$s" clinic_submissions_total 'outcome="spooled"')
    wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -s "$CONTACT" "http://127.0.0.1:${PORT[$s]}/contact" \
        -- "$run-warmup" 0 "$TENANTS" > "$T/wrk/$key.warmup.txt"
    x1=$(settled_xlen "$s")
    check_streams "$key.warmup" "$s" "$run-warmup" "$T/wrk/$key.warmup.txt" "$x0" "$x1" "$sp0"

    x0=$x1
    last_ids "$s"
    sp0=$(metric "$s" clinic_submissions_total 'outcome="spooled"')
    wrk_run "$key" "$s" "$CONTACT" "$run" 0 "$TENANTS"
    x1=$(settled_xlen "$s")
    R[$key.waits]=$(sum_stat WAIT "${R[$key.mstats]}")
    check_streams "$key" "$s" "$run" "$T/wrk/$key.txt" "$x0" "$x1" "$sp0"
}

say "machine: $(nproc) cores, $(uname -sr), load average $LOAD_BEFORE"

for s in "${SCEN[@]}"; do
    say "$s: article Redis hit, $TENANTS tenants"
    page "$s"
done
for s in "${SCEN[@]}"; do
    say "$s: contact POST, $TENANTS tenants"
    contact "$s"
done

# the endpoints' state after the runs, from the nginx side
for s in "${SCEN[@]}"; do
    curl -sS -m 10 -o "$T/logs/$s-status.txt" "http://127.0.0.1:${PORT[$s]}/status"
    for m in up errors_total timeouts_total reconnects_total redirects_total; do
        R[$s.$m]=$(metric "$s" "clinic_redis_$m" | sed 's/\.0*$//')
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ----------------------------------------------------------------

name_of() {
    case $1 in
    single) echo "single Redis" ;;
    cl-r0)  echo "cluster, replicas=0" ;;
    cl-r1)  echo "cluster, replicas=1 (WAIT 1)" ;;
    esac
}

# per_master KIND STATS-LINES: the main commands of that measurement, a
# value per master ("GET 123 / 456 / 789")
per_master() {
    local c out=() v
    if [ "$1" = page ]; then set -- "$2" GET; else set -- "$2" EVALSHA EVAL WAIT; fi
    local lines=$1
    shift
    for c; do
        v=$(awk -v c="$c" '{ n = 0; for (i = 2; i <= NF; i++) if ($i == c) { n = $(i + 1); sub(/[,;]/, "", n) }
                             printf "%s%d", sep, n; sep = " / " }' <<< "$lines")
        out+=("$c $v")
    done
    v=$(grep -o 'errors .*' <<< "$lines" | paste -sd' ')
    (IFS=';'; echo "${out[*]}${v:+; $v}" | sed 's/;/; /g')
}

report() {
    local s k m
    echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
    echo "$(. /etc/os-release; echo "$PRETTY_NAME"), $("$NGINX" -v 2>&1 | sed 's/.*: //'),"
    echo "$(redis-server --version | awk '{ print "Redis " substr($3, 3) }'), $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "wrk -t1 -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up), on the same machine;"
    echo "nginx: one worker, access_log off, clinic_cache_zone off; $TENANTS tenants."
    echo "Redis: a single redis-server, and a cluster of 3 masters + 3 replicas, all on"
    echo "loopback TCP ports, no persistence."
    echo "Before the run, other processes kept the machine ${BUSY}% busy (of all cores);"
    echo "load average before / after: $LOAD_BEFORE / $LOAD_AFTER. CPU columns: % of one core;"
    echo "\"other CPU\": what the rest of the machine used during the run (2 cores = 200%)."
    echo
    echo "Tenants per master (CRC16 of the {tI} hash tag):"
    for m in "${MASTERS[@]}"; do
        echo "127.0.0.1:$m (slots $(awk -v p="$m" '$1 == p { print $2 }' "$T/tmp/masters")): ${SPREAD[$m]};"
    done | paste -sd' ' | sed 's/;$/./'
    for k in page contact; do
        echo
        if [ $k = page ]; then
            echo "### Article Redis hit: $PAGE_BYTES bytes, X-Clinic-Cache: REDIS"
        else
            echo "### Contact POST, urlencoded → 201"
        fi
        echo
        echo "| Redis | req/s | × single | p50 ms | p75 ms | p90 ms | p99 ms | max ms | worker CPU | worker µs/req | Redis CPU: masters + replicas | Redis µs/req | wrk CPU | other CPU |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for s in "${SCEN[@]}"; do
            echo "| $(name_of "$s") | ${R[$k.$s.rps]} | $(ratio "${R[$k.$s.rps]}" "${R[$k.single.rps]}") |" \
                 "${R[$k.$s.p50]} | ${R[$k.$s.p75]} | ${R[$k.$s.p90]} | ${R[$k.$s.p99]} | ${R[$k.$s.max]} |" \
                 "${R[$k.$s.cpu]}% | ${R[$k.$s.us]} | ${R[$k.$s.redis]}% + ${R[$k.$s.repl]}% | ${R[$k.$s.rus]} | ${R[$k.$s.wrk]}% | ${R[$k.$s.other]}% |"
        done
        echo
        echo "p50 / p99 × single:" \
             "cluster replicas=0 $(ratio "${R[$k.cl-r0.p50]}" "${R[$k.single.p50]}") / $(ratio "${R[$k.cl-r0.p99]}" "${R[$k.single.p99]}")," \
             "replicas=1 $(ratio "${R[$k.cl-r1.p50]}" "${R[$k.single.p50]}") / $(ratio "${R[$k.cl-r1.p99]}" "${R[$k.single.p99]}")."
    done
    echo
    echo "Redis hit runs:"
    for s in "${SCEN[@]}"; do
        echo "- $(name_of "$s"): ${R[page.$s.layer]} REDIS counted by clinic_status for ${R[page.$s.reqs]} wrk requests;" \
             "mean Redis latency (clinic_redis_latency_seconds) ${R[page.$s.rlat]}; ${R[page.$s.check]}${R[page.$s.errors]:+ (${R[page.$s.errors]})}"
    done
    echo
    echo "Contact runs: mean Redis latency (clinic_redis_latency_seconds, a WAIT is a command too):"
    for s in "${SCEN[@]}"; do
        echo "- $(name_of "$s"): ${R[contact.$s.rlat]}"
    done
    echo
    echo "Commands per master during each measurement (INFO commandstats; the"
    echo "masters in slot order; error replies from INFO errorstats):"
    echo
    for k in page contact; do
        for s in "${SCEN[@]}"; do
            echo "- $k, $(name_of "$s"): $(per_master "$k" "${R[$k.$s.mstats]}")"
        done
    done
    echo
    echo "Error replies before each measurement (its warm-up, and the checks before the first):"
    for k in page contact; do
        for s in "${SCEN[@]}"; do
            echo "$k, $(name_of "$s"): ${R[$k.$s.preerr]:-none};"
        done
    done | paste -sd' ' | sed 's/;$/./' 
    echo
    echo "| contact run | POSTs sent | answered | answers | WAIT commands (POSTs per WAIT) | new stream entries | stored, no answer (in flight at the end) | stored twice | check |"
    echo "|---|---:|---:|---|---:|---:|---:|---:|---|"
    for s in "${SCEN[@]}"; do
        k=contact.$s
        echo "| $(name_of "$s") | ${R[$k.sent]} | ${R[$k.answered]} | ${R[$k.statuses]} |" \
             "${R[$k.waits]} ($(awk -v a="${R[$k.s201]}" -v b="${R[$k.waits]}" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "—" }')) | ${R[$k.added]} | $(( R[$k.ours] - R[$k.s201] - R[$k.s202] )) of ${R[$k.open]} |" \
             "${R[$k.dups]} | ${R[$k.check]} |"
    done
    echo
    echo "The warm-ups ($WARMUP each, checked the same way):"
    for s in "${SCEN[@]}"; do
        k=contact.$s.warmup
        echo "- $(name_of "$s"): ${R[$k.sent]} POSTs, ${R[$k.statuses]}, ${R[$k.added]} new entries," \
             "${R[$k.dups]} stored twice: ${R[$k.check]}"
    done
    echo
    echo "The endpoints after the runs (clinic_status, counted since nginx started):"
    echo
    echo "| Redis | clinic_redis_up | errors_total | timeouts_total | reconnects_total | redirects_total |"
    echo "|---|---:|---:|---:|---:|---:|"
    for s in "${SCEN[@]}"; do
        echo "| $(name_of "$s") | ${R[$s.up]} | ${R[$s.errors_total]} | ${R[$s.timeouts_total]} | ${R[$s.reconnects_total]} | ${R[$s.redirects_total]} |"
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
for s in "${SCEN[@]}"; do
    sed -E 's/^[0-9\/]+ [0-9:]+ //; s/[0-9]+#[0-9]+: (\*[0-9]+ )?//; s/, client: .*//' \
        "$T/logs/$s-error.log" | sort | uniq -c | sort -rn | head -10 | sed "s/^/$s: /"
done
if grep -qE '\[(error|alert|crit|emerg)\]|exited on signal' "$T"/logs/*-error.log; then
    echo "bench/cluster.sh: the error logs hold errors, alerts or crashes (above)" >&2
    FAILED=1
fi
say "done in $(( $(date +%s) - START_TIME )) s"
exit $FAILED
