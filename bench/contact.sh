#!/bin/bash
# bench/contact.sh: contact form throughput, and no submission lost when
# Redis is killed under load; one command.
#
#   make && bash bench/contact.sh
#
# Starts two redis-servers on loopback ports and one nginx (one worker,
# access_log off, sendfile on) from a temporary folder, on free ports, with
# two tenants:
#
#   bench       Redis without persistence (--save '' --appendonly no)
#   bench-kill  Redis with --appendonly yes --appendfsync always, so that a
#               kill -9 loses nothing it acknowledged
#
# Both have "clinic_contact_limit client=off tenant=off": this measures the
# cost of storing submissions, not the spam defences (with the limits on,
# every client address would be refused after 5 submissions). The Origin
# check, validation, dedupe and the stream entry are all there. The spool
# (clinic_spool) is a folder in the temporary folder.
#
# Measurements, wrk -t1 -c$CONNECTIONS --latency, each after a warm-up:
#
#   static    GET of a 16 KB static file (sendfile on): the baseline
#   urlenc    POST /contact as an HTML form (urlencoded; Accept:
#             application/json, so the answer is 201 {"id"}, not a 303)
#   json      POST /contact as application/json
#
# Every POST carries a tag of its own in the name field (bench/contact-wrk.lua),
# so none is a repeat that the module would store once. After each contact
# run, bench/contact-verify.pl reads the new entries back: each must be one
# of the run's tags, no tag twice, one entry for each 201, and no answer but
# 201. The only entries beyond the 201s may be for the POSTs that were in
# flight when wrk stopped (at most one per connection): stored, but wrk
# never read their answer.
#
# Then the crash: wrk POSTs to bench-kill for $KILL_SECS s; $KILL_AT s in,
# its redis-server gets SIGKILL and comes back $KILL_DOWN s later on the
# same port (from its append-only file). Meanwhile the module spools (202)
# and replays the spool when Redis is back. The POSTs stop 3 s before wrk
# does (then it sends GET /ping), so every POST has its answer; after the
# spool has drained, every submission answered 201 or 202 must be in the
# stream exactly once.
#
# Environment:
#   DURATION=10s     wrk duration of each throughput measurement
#   WARMUP=1s        wrk warm-up before each
#   CONNECTIONS=32   wrk connections (one wrk thread)
#   KILL_SECS=15     wrk duration of the crash scenario, in seconds
#   KILL_AT=5        seconds into it when redis-server is killed
#   KILL_DOWN=2      seconds before it is started again
#   DRAIN=30         seconds to wait for the spool to drain afterwards
#   OUT=file         also write the report (markdown) to file
#   KEEP=1           keep the temporary folder (configs, logs, wrk output)
#   START=0          skip the last part, bench/contact-start.sh (from
#                    nginx's start and across a reload, with TENANTS=1000
#                    tenants; see that script)
#
# Exits 1 when a check fails. Stops everything it started when it exits,
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
KILL_SECS=${KILL_SECS:-15}
KILL_AT=${KILL_AT:-5}
KILL_DOWN=${KILL_DOWN:-2}
DRAIN=${DRAIN:-30}
URLENC=$ROOT/bench/contact-urlencoded.lua
JSON=$ROOT/bench/contact-json.lua
VERIFY="perl $ROOT/bench/contact-verify.pl"
STATIC_BYTES=16384

die() { echo "bench/contact.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

[ -f "$MODULE" ] || die "$MODULE is missing: run 'make' first"
[ -x "$NGINX" ] || die "$NGINX is missing: run 'make deps' (Debian's nginx)"
for tool in wrk redis-server redis-cli curl perl; do
    command -v $tool >/dev/null \
        || die "'$tool' is missing: run 'make deps' (it installs wrk and redis-server)"
done
for v in KILL_SECS KILL_AT KILL_DOWN DRAIN CONNECTIONS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v: \"${!v}\" is not a number of seconds"
done
[ "$KILL_SECS" -ge $(( KILL_AT + KILL_DOWN + 5 )) ] \
    || die "KILL_SECS must be at least KILL_AT + KILL_DOWN + 5"

T=$(mktemp -d /tmp/clinic-contact.XXXXXX)
chmod 755 "$T"      # the workers run as nobody when we are root
mkdir -p "$T/www/static" "$T/conf" "$T/logs" "$T/wrk" "$T/tmp" "$T/spool"
chmod 1777 "$T/spool"

NGINX_PID=
declare -A REDIS=()    # the pids of the redis-servers, by name
WRK_PID=
FAILED=0


cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in $WRK_PID $NGINX_PID; do
        stop "$pid" QUIT
    done
    for pid in "${REDIS[@]}"; do
        stop "$pid" TERM
    done
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "bench/contact.sh: kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BUSY=$(cpu_busy)
if [ "$BUSY" -gt 10 ]; then
    say "warning: the machine is already ${BUSY}% busy; the numbers will be noisy"
fi

mapfile -t PORTS < <(perl "$ROOT/bench/gen.pl" ports 4)
PORT_NGX=${PORTS[0]} PORT_KILL=${PORTS[1]}
declare -A RPORT=([bench]=${PORTS[2]} [kill]=${PORTS[3]})
declare -A STREAM=([bench]='clinic:{bench}:submissions'
                   [kill]='clinic:{bench-kill}:submissions')

# --- Redis ---------------------------------------------------------------

# start_redis NAME ARGS...: redis-server on 127.0.0.1:${RPORT[NAME]}, as
# our child, its files in $T/redis-NAME; waits until it answers PING (after
# loading its append-only file, if any)
start_redis() {
    local name=$1 port=${RPORT[$1]} pid
    shift
    mkdir -p "$T/redis-$name"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$T/redis-$name" \
        --logfile "$T/logs/redis-$name.log" --daemonize no "$@" &
    pid=$!
    REDIS[$name]=$pid
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return
        kill -0 "$pid" 2>/dev/null || die "redis-server failed: $T/logs/redis-$name.log"
        sleep 0.1
    done
    die "redis-server $name does not answer: $T/logs/redis-$name.log"
}

REDIS_ARGS_bench=(--save '' --appendonly no)
REDIS_ARGS_kill=(--save '' --appendonly yes --appendfsync always)

say "starting redis-server on ports ${RPORT[bench]} (no persistence) and ${RPORT[kill]} (appendfsync always)"
start_redis bench "${REDIS_ARGS_bench[@]}"
start_redis kill "${REDIS_ARGS_kill[@]}"

xlen() {    # NAME
    redis-cli -p "${RPORT[$1]}" XLEN "${STREAM[$1]}"
}

# waits until the stream's length stays the same for 0.5s (the module
# stores the requests that were in flight when wrk stopped); prints it
# the id of the stream's last entry, "" when it has none
last_id() {    # NAME
    redis-cli -p "${RPORT[$1]}" XREVRANGE "${STREAM[$1]}" + - COUNT 1 | head -n 1
}

settled_xlen() {    # NAME
    local a b
    a=$(xlen "$1")
    for _ in $(seq 20); do
        sleep 0.5
        b=$(xlen "$1")
        [ "$a" = "$b" ] && break
        a=$b
    done
    echo "$b"
}

# --- nginx ---------------------------------------------------------------

perl -e 'my $p = "<p>Sports massage works on the muscles and tendons that"
             . " take the most load in training.</p>\n";
         my $s = "<!DOCTYPE html>\n<html><head><title>Bench</title></head><body>\n"
             . $p x 200;
         print substr($s, 0, $ARGV[0] - 15), "</body></html>\n"' \
    "$STATIC_BYTES" > "$T/www/static/page-16k.html"

tenant() {    # name port redis-port
    cat <<END
    server {
        listen 127.0.0.1:$2;
        server_name bench.example;
        clinic_tenant $1;
        clinic_redis 127.0.0.1:$3 timeout=200ms;
        # throughput, not spam defence: see the top of bench/contact.sh
        clinic_contact_limit client=off tenant=off;

        location = /contact { clinic_contact; client_max_body_size 64k; }
        location = /status  { clinic_status; }
        location = /ping    { return 204; }
        location /static/   { root $T/www; }
    }
END
}

cat > "$T/conf/nginx.conf" <<END
load_module $MODULE;
daemon off;
master_process on;
worker_processes 1;
pid $T/logs/nginx.pid;
error_log $T/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    default_type text/html;
    client_body_temp_path $T/tmp/body;
    proxy_temp_path $T/tmp/proxy;
    fastcgi_temp_path $T/tmp/fastcgi;
    uwsgi_temp_path $T/tmp/uwsgi;
    scgi_temp_path $T/tmp/scgi;
    clinic_spool $T/spool;
$(tenant bench "$PORT_NGX" "${RPORT[bench]}")
$(tenant bench-kill "$PORT_KILL" "${RPORT[kill]}")
}
END

say "starting nginx on ports $PORT_NGX (bench) and $PORT_KILL (bench-kill)"
"$NGINX" -p "$T/" -c "$T/conf/nginx.conf" -e "$T/logs/error.log" -t -q \
    || die "nginx -t failed for $T/conf/nginx.conf"
"$NGINX" -p "$T/" -c "$T/conf/nginx.conf" -e "$T/logs/error.log" &
NGINX_PID=$!
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT_NGX/ping" && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx failed: $T/logs/error.log"
    sleep 0.1
done

WORKER=$(worker_of "$NGINX_PID")

# --- checks: each URL answers as the runs expect -------------------------

# post PORT TYPE BODY: prints the status and the body
post() {
    curl -sS -m 10 -o "$T/tmp/b" -w '%{http_code}' \
        -H "Content-Type: $2" -H 'Accept: application/json' \
        -H 'Origin: http://bench.example' --data-binary "$3" \
        "http://127.0.0.1:$1/contact"
    echo " $(cat "$T/tmp/b")"
}

check() {    # what got want-regex
    [[ $2 =~ $3 ]] || die "$1: got \"$2\""
}

check "static file" \
    "$(curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download}' \
        "http://127.0.0.1:$PORT_NGX/static/page-16k.html")" "^200 $STATIC_BYTES\$"
check "GET /ping" "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$PORT_NGX/ping")" '^204$'
for port in $PORT_NGX $PORT_KILL; do
    check "urlencoded POST" "$(post "$port" application/x-www-form-urlencoded \
        "name=Check+$$+$port&email=a%40example.com&message=check")" \
        '^201 \{"id":"[0-9]+-[0-9]+"\}$'
    check "JSON POST" "$(post "$port" application/json \
        "{\"name\":\"Check $$ $port json\",\"email\":\"a@example.com\",\"message\":\"check\"}")" \
        '^201 \{"id":"[0-9]+-[0-9]+"\}$'
done

# --- measurements ----------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)


# the values of the "contact:" lines of the wrk scripts' done()
contact_line() {    # file key...
    local f=$1
    shift
    awk -v k="contact: $*" 'index($0, k " ") == 1 { print $NF; found = 1 }
                            END { if (!found) print 0 }' "$f"
}
status_list() {    # file: "201=123 500=1"
    awk '$1 == "contact:" && $2 == "status" { printf "%s%s=%s", sep, $3, $4; sep = " " }' "$1"
}
sent_list() {      # file: "1=123 2=456", for contact-verify.pl
    awk '$1 == "contact:" && $2 == "thread" { printf "%s%s=%s", sep, $3, $5; sep = " " }' "$1"
}
socket_errors() {  # file: "" or wrk's line
    awk '/Socket errors/ { sub(/^ +/, ""); print }' "$1"
}

declare -A R

# bench KEY URL [SCRIPT TENANT]: warm-up, then wrk with CPU accounting;
# with a script, checks the stream of the tenant's Redis afterwards
bench() {
    local key=$1 url=$2 script=${3:-} name=${4:-} out="$T/wrk/$1.txt"
    local w0 w1 r0 r1 t0 t1 ch0 ch1 x0 x1 id0 reqs run redis=${REDIS[bench]}
    local args=() rargs=()

    run="$key-$$-$(date +%s)"
    if [ -n "$script" ]; then
        args=(-s "$script")
        rargs=(-- "$run")
    fi

    wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "${args[@]}" "$url" \
        ${script:+-- "$run-warmup"} >/dev/null
    if [ -n "$name" ]; then
        x0=$(settled_xlen "$name")
        id0=$(last_id "$name")
    fi

    w0=$(cpu_ticks "$WORKER")
    r0=$(cpu_ticks "$redis")
    # "times" in this shell, not in $(...): a subshell has its own counters
    times > "$T/tmp/times"
    ch0=$(awk 'NR == 2 { print $1 " " $2 }' "$T/tmp/times")
    t0=$(date +%s%N)

    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${args[@]}" "$url" \
        "${rargs[@]}" > "$out"

    t1=$(date +%s%N)
    times > "$T/tmp/times"
    ch1=$(awk 'NR == 2 { print $1 " " $2 }' "$T/tmp/times")
    w1=$(cpu_ticks "$WORKER")
    r1=$(cpu_ticks "$redis")

    reqs=$(awk '/requests in/ { print $1 }' "$out")
    R[$key.rps]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    R[$key.p50]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    R[$key.p99]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    R[$key.reqs]=$reqs
    R[$key.wall]=$(( (t1 - t0) / 1000000 ))
    R[$key.cpu]=$(tick_pct "$w0" "$w1" "${R[$key.wall]}")
    R[$key.us]=$(tick_us "$w0" "$w1" "$reqs")
    R[$key.redis]=$(tick_pct "$r0" "$r1" "${R[$key.wall]}")
    R[$key.wrk]=$(times_pct "$ch0" "$ch1" "${R[$key.wall]}")
    R[$key.errors]=$(socket_errors "$out")

    [ -n "$name" ] || return 0

    # every new entry is one of this run's tags, once; one for each 201
    x1=$(settled_xlen "$name")
    verify "$key" "$name" "$run" "$out" "$x0" "$x1" "$id0"

    local s201=${R[$key.s201]} added=${R[$key.added]} open=${R[$key.open]}
    local why=()
    [ "$s201" = "${R[$key.answered]}" ] \
        || why+=("answers other than 201: ${R[$key.statuses]}")
    [ "${R[$key.dups]}" = 0 ] || why+=("${R[$key.dups]} tags stored twice")
    [ "${R[$key.unknown]}" = 0 ] || why+=("${R[$key.unknown]} entries with tags never sent")
    [ "${R[$key.ours]}" = "$added" ] \
        || why+=("$added new entries, ${R[$key.ours]} of them this run's")
    [ "$added" -ge "$s201" ] || why+=("$s201 answered 201, only $added new entries")
    [ "$added" -le $(( s201 + open )) ] \
        || why+=("$added new entries for $s201 201s and $open POSTs without an answer")
    verdict "$key" "${why[@]+"${why[@]}"}"
}

# verify KEY NAME RUN WRK-OUTPUT XLEN-BEFORE XLEN-AFTER LAST-ID-BEFORE:
# R[KEY.*] from the wrk script's counts and contact-verify.pl
verify() {
    local key=$1 name=$2 run=$3 out=$4 s after=()

    R[$key.sent]=$(contact_line "$out" sent)
    R[$key.answered]=$(contact_line "$out" answered)
    R[$key.statuses]=$(status_list "$out")
    for s in 201 202 503; do
        R[$key.s$s]=$(contact_line "$out" status $s)
    done
    R[$key.other]=$(( R[$key.answered] - R[$key.s201] - R[$key.s202] - R[$key.s503] ))
    R[$key.open]=$(( R[$key.sent] - R[$key.answered] ))
    R[$key.added]=$(( $6 - $5 ))

    [ -n "$7" ] && after=(--after "$7")
    # shellcheck disable=SC2046
    $VERIFY "${after[@]+"${after[@]}"}" "127.0.0.1:${RPORT[$name]}" \
        "${STREAM[$name]}" "$run" $(sent_list "$out") \
        > "$T/wrk/$key.verify" || die "contact-verify.pl failed"
    R[$key.ours]=$(awk '$1 == "run" { print $2 }' "$T/wrk/$key.verify")
    R[$key.dups]=$(awk '$1 == "duplicates" { print $2 }' "$T/wrk/$key.verify")
    R[$key.unknown]=$(awk '$1 == "unknown" { print $2 }' "$T/wrk/$key.verify")
    R[$key.missing]=$(awk '$1 == "missing" { print $2 }' "$T/wrk/$key.verify")
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

say "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"

say "static file, 16 KB"
bench static "http://127.0.0.1:$PORT_NGX/static/page-16k.html"
say "contact, urlencoded"
bench urlenc "http://127.0.0.1:$PORT_NGX/contact" "$URLENC" bench
say "contact, JSON"
bench json "http://127.0.0.1:$PORT_NGX/contact" "$JSON" bench

# --- the crash: kill -9 redis-server under load ---------------------------

metric() {    # name [labels]: its value on bench-kill's /status
    curl -sS -m 10 "http://127.0.0.1:$PORT_KILL/status" \
        | awk -v m="$1${2:+{$2\}}" '$1 == m { print $2; found = 1 }
                                    END { if (!found) print 0 }'
}

# non-empty spool files, and files the module could not read
spool_files() { find "$T/spool" -name '*.spool' -size +0 | wc -l; }
bad_files() { find "$T/spool" -name '*.bad' | wc -l; }

kill_scenario() {
    local key=kill url="http://127.0.0.1:$PORT_KILL/contact" out="$T/wrk/kill.txt"
    local run x0 x1 id0 a b t_wrk t_up t_empty deadline why=()
    local sp0 st0 rp0

    run="kill-$$-$(date +%s)"

    x0=$(settled_xlen kill)
    id0=$(last_id kill)
    sp0=$(metric clinic_submissions_total 'tenant="bench-kill",outcome="spooled"')
    st0=$(metric clinic_submissions_total 'tenant="bench-kill",outcome="stored"')
    rp0=$(metric clinic_spool_replayed_total)

    say "crash: wrk ${KILL_SECS}s (POSTs for the first $(( KILL_SECS - 3 ))s);" \
        "kill -9 redis-server at ${KILL_AT}s, back ${KILL_DOWN}s later"
    t_wrk=$(date +%s%N)
    wrk -t1 -c"$CONNECTIONS" -d"${KILL_SECS}s" --timeout 10s --latency \
        -s "$URLENC" "$url" -- "$run" $(( KILL_SECS - 3 )) > "$out" &
    WRK_PID=$!

    sleep "$KILL_AT"
    R[kill.before]=$(xlen kill)
    kill -KILL "${REDIS[kill]}"
    wait "${REDIS[kill]}" 2>/dev/null || true
    say "crash: redis-server killed (the stream held ${R[kill.before]} entries)"
    sleep "$KILL_DOWN"
    R[kill.spooled_down]=$(( $(metric clinic_submissions_total \
        'tenant="bench-kill",outcome="spooled"') - sp0 ))
    start_redis kill "${REDIS_ARGS_kill[@]}"
    t_up=$(date +%s%N)
    R[kill.after_restart]=$(xlen kill)
    # while the spool holds submissions, new ones are spooled too: no 201
    # since the kill, so the entries beyond the 201s were stored by Redis
    # (and written to its append-only file) but their reply was cut off
    b=$(metric clinic_submissions_total 'tenant="bench-kill",outcome="stored"')
    R[kill.cut]=$(( ${R[kill.after_restart]} - x0 - (b - st0) ))
    say "crash: redis-server back, ${R[kill.after_restart]} entries in the stream" \
        "after loading its append-only file"

    # when the spool is empty again (its files: the worker empties its own
    # once every record in it is confirmed); the POSTs go on for a while
    R[kill.posts_end]=$(awk -v w="$t_wrk" -v u="$t_up" -v p=$(( KILL_SECS - 3 )) \
        'BEGIN { printf "%.1f to %.1f s", (w - u) / 1e9 + p - 1, (w - u) / 1e9 + p }')
    R[kill.caught_up]="not within ${DRAIN} s after wrk ended"
    t_empty=
    deadline=
    for (( ; ; )); do
        if [ "$(spool_files)" = 0 ]; then
            t_empty=$(date +%s%N)
            R[kill.depth_at]=$(metric clinic_spool_depth)
            R[kill.caught_up]=$(awk -v a="$t_up" -v b="$t_empty" \
                'BEGIN { printf "%.1f s", (b - a) / 1e9 }')
            break
        fi
        if [ -z "$deadline" ] && ! kill -0 "$WRK_PID" 2>/dev/null; then
            deadline=$(( $(date +%s) + DRAIN ))
        fi
        [ -n "$deadline" ] && [ "$(date +%s)" -ge "$deadline" ] && break
        sleep 0.1
    done

    # the gauge follows: how long clinic_spool_depth takes to say 0
    R[kill.depth_lag]="—"
    if [ -n "$t_empty" ]; then
        R[kill.depth_lag]=
        for _ in $(seq $(( DRAIN * 10 ))); do
            if [ "$(metric clinic_spool_depth)" = 0 ]; then
                R[kill.depth_lag]=$(awk -v a="$t_empty" -v b="$(date +%s%N)" \
                    'BEGIN { printf "%.1f s", (b - a) / 1e9 }')
                break
            fi
            sleep 0.1
        done
        : "${R[kill.depth_lag]:=still $(metric clinic_spool_depth) after ${DRAIN} s}"
    fi

    wait "$WRK_PID" || die "wrk failed: $out"
    WRK_PID=

    # all in: no non-empty *.spool file, the stream stays put
    a=$(xlen kill)
    for _ in $(seq $(( DRAIN * 2 ))); do
        sleep 0.5
        b=$(xlen kill)
        [ "$a" = "$b" ] && [ "$(spool_files)" = 0 ] && break
        a=$b
    done
    R[kill.left]=$(spool_files)
    R[kill.bad]=$(bad_files)
    R[kill.replayed]=$(( $(metric clinic_spool_replayed_total) - rp0 ))
    R[kill.m_spooled]=$(( $(metric clinic_submissions_total \
        'tenant="bench-kill",outcome="spooled"') - sp0 ))
    R[kill.m_stored]=$(( $(metric clinic_submissions_total \
        'tenant="bench-kill",outcome="stored"') - st0 ))
    R[kill.p50]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    R[kill.p99]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    R[kill.max]=$(to_ms "$(awk '$1 == "Latency" { print $4 }' "$out")")
    R[kill.errors]=$(socket_errors "$out")
    x1=$(xlen kill)
    verify kill kill "$run" "$out" "$x0" "$x1" "$id0"

    local s201=${R[kill.s201]} s202=${R[kill.s202]} s503=${R[kill.s503]}
    local accepted=$(( s201 + s202 ))
    R[kill.accepted]=$accepted

    [ "${R[kill.open]}" = 0 ] \
        || why+=("${R[kill.open]} POSTs without an answer (wrk: ${R[kill.errors]:-no socket errors})")
    [ "${R[kill.other]}" = 0 ] \
        || why+=("answers other than 201, 202, 503: ${R[kill.statuses]}")
    [ "${R[kill.dups]}" = 0 ] || why+=("${R[kill.dups]} submissions stored twice")
    [ "${R[kill.unknown]}" = 0 ] || why+=("${R[kill.unknown]} entries with tags never sent")
    [ "${R[kill.ours]}" = "${R[kill.added]}" ] \
        || why+=("${R[kill.added]} new entries, ${R[kill.ours]} of them this run's")
    [ "${R[kill.ours]}" = "$accepted" ] \
        || why+=("$accepted answered 201 or 202, ${R[kill.ours]} in the stream")
    [ "${R[kill.missing]}" = "$s503" ] \
        || why+=("${R[kill.missing]} tags missing from the stream, $s503 answered 503")
    [ "${R[kill.m_spooled]}" = "$s202" ] \
        || why+=("$s202 answered 202, clinic_submissions_total counts ${R[kill.m_spooled]} spooled")
    [ "${R[kill.left]}" = 0 ] \
        || why+=("${R[kill.left]} spool files not drained after ${DRAIN}s")
    [ "${R[kill.bad]}" = 0 ] || why+=("${R[kill.bad]} *.bad files in the spool")
    verdict kill "${why[@]+"${why[@]}"}"
}

kill_scenario

# --- report -----------------------------------------------------------------


report() {
    local k name
    echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
    echo "$(. /etc/os-release; echo "$PRETTY_NAME"), $("$NGINX" -v 2>&1 | sed 's/.*: //'),"
    echo "$(redis-server --version | awk '{ print "Redis " substr($3, 3) }'), $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "wrk -t1 -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up), on the same machine;"
    echo "nginx: one worker, access_log off, sendfile on; Redis on a loopback TCP port,"
    echo "no persistence; clinic_contact_limit client=off tenant=off."
    echo "Before the run, other processes kept the machine ${BUSY}% busy (of all cores)."
    echo
    echo "### Throughput"
    echo
    echo "| scenario | req/s | p50 ms | p99 ms | × static | worker CPU | µs/req | Redis CPU | wrk CPU |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for k in static urlenc json; do
        case $k in
        static) name="GET static file, 16 KB (sendfile)" ;;
        urlenc) name="POST /contact, urlencoded → 201" ;;
        json)   name="POST /contact, JSON → 201" ;;
        esac
        echo "| $name | ${R[$k.rps]} | ${R[$k.p50]} | ${R[$k.p99]} |" \
             "$(ratio "${R[$k.rps]}" "${R[static.rps]}") |" \
             "${R[$k.cpu]}% | ${R[$k.us]} | ${R[$k.redis]}% | ${R[$k.wrk]}% |"
    done
    echo
    echo "Target: a contact POST reaches at least 0.3× the static GET:" \
         "urlencoded $(ratio "${R[urlenc.rps]}" "${R[static.rps]}")×," \
         "JSON $(ratio "${R[json.rps]}" "${R[static.rps]}")×."
    echo
    echo "| run | POSTs sent | answered | answers | new stream entries | stored, no answer (in flight at the end) | stored twice | check |"
    echo "|---|---:|---:|---|---:|---:|---:|---|"
    for k in urlenc json; do
        echo "| $k | ${R[$k.sent]} | ${R[$k.answered]} | ${R[$k.statuses]} |" \
             "${R[$k.added]} | $(( R[$k.added] - R[$k.s201] )) of ${R[$k.open]} |" \
             "${R[$k.dups]} | ${R[$k.check]} |"
    done
    for k in static urlenc json; do
        if [ -n "${R[$k.errors]}" ]; then
            echo
            echo "- $k: ${R[$k.errors]}"
        fi
    done
    echo
    echo "### Redis killed under load"
    echo
    echo "wrk -t1 -c$CONNECTIONS -d${KILL_SECS}s, urlencoded POSTs for the first $(( KILL_SECS - 3 ))s;"
    echo "redis-server (--appendonly yes --appendfsync always) killed with SIGKILL"
    echo "${KILL_AT}s in, started again on the same port ${KILL_DOWN}s later."
    echo
    echo "| | |"
    echo "|---|---:|"
    echo "| POSTs sent | ${R[kill.sent]} |"
    echo "| answered | ${R[kill.answered]} |"
    echo "| 201 stored | ${R[kill.s201]} |"
    echo "| 202 queued in the spool | ${R[kill.s202]} |"
    echo "| 503 not accepted | ${R[kill.s503]} |"
    echo "| other answers | ${R[kill.other]} |"
    echo "| stream length read just before the kill / after the restart (append-only file) | ${R[kill.before]} / ${R[kill.after_restart]} |"
    echo "| clinic_submissions_total stored / spooled (the module's counters) | ${R[kill.m_stored]} / ${R[kill.m_spooled]} |"
    echo "| 202s while Redis was down (${KILL_DOWN}s) | ${R[kill.spooled_down]} |"
    echo "| replayed from the spool (clinic_spool_replayed_total) | ${R[kill.replayed]} |"
    echo "| stored by Redis, reply cut off by the kill: answered 202, found by the replay (dedupe) | ${R[kill.cut]} |"
    echo "| spool empty (no non-empty *.spool file), after the restart (the POSTs stopped ${R[kill.posts_end]} after it) | ${R[kill.caught_up]} |"
    echo "| clinic_spool_depth back to 0, after the spool was empty (it said ${R[kill.depth_at]:-?} then) | ${R[kill.depth_lag]} |"
    echo "| latency p50 / p99 / max, whole run (ms) | ${R[kill.p50]} / ${R[kill.p99]} / ${R[kill.max]} |"
    echo "| new stream entries of this run | ${R[kill.ours]} |"
    echo "| answered 201 or 202 and not in the stream | $(( ${R[kill.missing]} - ${R[kill.s503]} )) |"
    echo "| stored twice | ${R[kill.dups]} |"
    echo "| check | ${R[kill.check]} |"
    echo
    if [ "${R[kill.check]}" = PASS ]; then
        if [ "${R[kill.s503]}" = 0 ]; then
            echo "Zero submissions lost: each of the ${R[kill.accepted]} submissions" \
                 "answered 201 or 202 is in the stream exactly once."
        else
            echo "Zero accepted submissions lost: each of the ${R[kill.accepted]}" \
                 "submissions answered 201 or 202 is in the stream exactly once;" \
                 "${R[kill.s503]} were not accepted (503)."
        fi
    else
        echo "Submissions lost or duplicated: ${R[kill.check]}"
    fi
}

report > "$T/report.md"
echo
cat "$T/report.md"
if [ -n "${OUT:-}" ]; then
    cp "$T/report.md" "$OUT"
fi

# anything the error log says, counted, timestamps and pids removed
echo
echo "error log ($T/logs/error.log):"
sed -E 's/^[0-9\/]+ [0-9:]+ //; s/[0-9]+#[0-9]+: (\*[0-9]+ )?//; s/, client: .*//' \
    "$T/logs/error.log" | sort | uniq -c | sort -rn | head -20
if grep -qE '\[(alert|crit|emerg)\]|exited on signal' "$T/logs/error.log"; then
    echo "bench/contact.sh: the error log holds alerts or crashes (above)" >&2
    FAILED=1
fi

# the start and the reload of a node with thousands of tenants, under load
if [ "${START:-1}" = 1 ]; then
    echo
    say "start and reload under load: bench/contact-start.sh"
    OUT= bash "$ROOT/bench/contact-start.sh" || FAILED=1
fi
exit $FAILED
