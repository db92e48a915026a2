#!/bin/bash
# bench/contact-start.sh: the contact form right after nginx starts and
# across a reload, under load, with many tenants; one command.
#
#   make && bash bench/contact-start.sh
#
# The backlog cliff: a worker that had to spool right after a
# start or reload (a spurious Redis timeout, measured from a clock read
# before the long configuration parse) used to send every later POST to
# the spool too, and under steady load never got out of it. This measures
# what the clients get instead:
#
#   start    wrk POSTs for $SECS s from the moment nginx accepts
#            connections (one worker, $TENANTS tenants besides the bench
#            one, all on one healthy Redis)
#   reload   wrk POSTs for $SECS s; $RELOAD_AT s in, the master gets
#            SIGHUP (a new configuration parse of all the tenants, new
#            workers, the old ones finish their requests)
#
# For each: the answers by status (201 stored, 202 spooled), requests per
# second, the "is unavailable" lines nginx logged, and, once the spool is
# drained, that the stream holds exactly one entry per acknowledged POST
# (contact-verify.pl, as bench/contact.sh does). Exits 1 when a check
# fails.
#
# Environment: MODULE=path (default: the one make builds), TENANTS=1000, SECS=10, RELOAD_AT=3, CONNECTIONS=32,
# WORKERS=1, KEEP=1 (keep the temporary folder), OUT=file (the report).
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
ROOT=$PWD

MODULE=${MODULE:-$ROOT/build/ngx_http_clinic_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
TENANTS=${TENANTS:-1000}
SECS=${SECS:-10}
RELOAD_AT=${RELOAD_AT:-3}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-1}
JSON=$ROOT/bench/contact-json.lua
STREAM='clinic:{bench}:submissions'

die() { echo "bench/contact-start.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

[ -f "$MODULE" ] || die "$MODULE is missing: run 'make' first"
for tool in wrk redis-server redis-cli curl perl; do
    command -v $tool >/dev/null || die "'$tool' is missing: run 'make deps'"
done
for v in TENANTS SECS RELOAD_AT CONNECTIONS WORKERS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v: \"${!v}\" is not a number"
done

T=$(mktemp -d /tmp/clinic-start.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/conf" "$T/logs" "$T/tmp" "$T/spool" "$T/redis" "$T/wrk"
chmod 1777 "$T/spool"

NGINX_PID= REDIS_PID= FAILED=0


cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$NGINX_PID" ] && stop "$NGINX_PID" QUIT
    [ -n "$REDIS_PID" ] && stop "$REDIS_PID" TERM
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "bench/contact-start.sh: kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mapfile -t PORTS < <(perl "$ROOT/bench/gen.pl" ports 2)
PORT=${PORTS[0]} RPORT=${PORTS[1]}

redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$T/redis" --save '' \
    --appendonly no --logfile "$T/logs/redis.log" --daemonize no &
REDIS_PID=$!
for _ in $(seq 100); do
    [ "$(redis-cli -p "$RPORT" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
done

# the tenants: server blocks of their own, each with a contact form and an
# admin token file, as a hosting provider's configuration has them
{
    for i in $(seq "$TENANTS"); do
        cat <<END
    server {
        listen 127.0.0.1:$PORT;
        server_name clinic$i.example;
        clinic_name "Clinic $i";
        clinic_contact_field name required max=100;
        clinic_contact_field email required type=email;
        clinic_contact_field message required max=5000;
        location = /contact { clinic_contact; }
        location /admin/ { clinic_admin; }
        clinic_admin_token_file $T/conf/token;
    }
END
    done
} > "$T/conf/tenants.conf"
echo "token-0123456789abcdef0123456789" > "$T/conf/token"

cat > "$T/conf/nginx.conf" <<END
load_module $MODULE;
daemon off;
master_process on;
worker_processes $WORKERS;
pid $T/logs/nginx.pid;
error_log $T/logs/error.log notice;
events { worker_connections 1024; }
http {
$(http_common)
    server_names_hash_max_size 16384;
    clinic_redis 127.0.0.1:$RPORT timeout=200ms;
    clinic_spool $T/spool;
    server {
        listen 127.0.0.1:$PORT default_server;
        server_name bench.example;
        clinic_tenant bench;
        clinic_contact_limit client=off tenant=off;
        location = /contact { clinic_contact; }
        location = /status  { clinic_status; }
        location = /ping    { return 204; }
    }
    include $T/conf/tenants.conf;
}
END

"$NGINX" -p "$T/" -c "$T/conf/nginx.conf" -e "$T/logs/error.log" -t -q \
    || die "nginx -t failed"

declare -A R

# run KEY: wrk POSTs for SECS s (then GET /ping, so every POST is answered)
run() {
    local key=$1 out="$T/wrk/$1.txt"
    wrk -t1 -c"$CONNECTIONS" -d"$(( SECS + 2 ))s" -s "$JSON" \
        "http://127.0.0.1:$PORT" -- "$key-$$" "$SECS" > "$out"
}

status_of() {    # file code
    awk -v c="$2" '$1 == "contact:" && $2 == "status" && $3 == c { print $4; f = 1 }
                   END { if (!f) print 0 }' "$1"
}

sent_of() { awk '$1 == "contact:" && $2 == "sent" { print $3 }' "$1"; }

outages() { grep -c 'is unavailable' "$T/logs/error.log" || true; }

drained() {
    local _
    for _ in $(seq 300); do
        if [ -z "$(find "$T/spool" -name '*.spool' -size +0 2>/dev/null)" ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# report KEY: the answers, then every acknowledged POST in the stream once
report() {
    local key=$1 out="$T/wrk/$1.txt" s201 s202 sent answered other open
    local stored dups
    s201=$(status_of "$out" 201)
    s202=$(status_of "$out" 202)
    sent=$(sent_of "$out")
    answered=$(awk '$1 == "contact:" && $2 == "answered" { print $3 }' "$out")
    other=$(( answered - s201 - s202 ))
    # a reload closes idle keepalive connections: a POST written into one
    # just then gets no answer (wrk retries nothing); it may be stored
    open=$(( sent - answered ))
    drained || { echo "$key: the spool did not drain" >&2; FAILED=1; }
    sleep 0.5
    read -r stored dups < <(redis-cli -p "$RPORT" --raw XRANGE "$STREAM" - + \
        | grep "^Bench Patient $key-$$/" | sort | uniq -c \
        | awk '{ n++; if ($1 > 1) d++ } END { print n + 0, d + 0 }')
    R[$key]="| $key | $sent | $s201 | $s202 | $other | $open | $(awk -v a="$s201" -v b="$s202" -v s="$SECS" 'BEGIN { printf "%d", (a + b) / s }') | $2 | $stored | $dups |"
    if [ "$stored" -lt $(( s201 + s202 )) ] \
        || [ "$stored" -gt $(( s201 + s202 + open )) ] \
        || [ "$dups" -ne 0 ] || [ "$other" -ne 0 ]
    then
        echo "$key: $sent sent, $s201 + $s202 acknowledged, $open unanswered, $stored stored, $dups duplicated, $other other answers" >&2
        FAILED=1
    fi
}

say "start: $TENANTS tenants, $WORKERS worker(s), wrk from the first accepted connection"
"$NGINX" -p "$T/" -c "$T/conf/nginx.conf" -e "$T/logs/error.log" &
NGINX_PID=$!
t0=$(date +%s%N)
until curl -s -o /dev/null "http://127.0.0.1:$PORT/ping"; do
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx failed: $T/logs/error.log"
    sleep 0.01
done
t1=$(date +%s%N)
say "nginx accepted connections after $(( (t1 - t0) / 1000000 )) ms"
run start
n_start=$(outages)
report start "$n_start"

say "reload: SIGHUP $RELOAD_AT s into the run"
( sleep "$RELOAD_AT"; kill -HUP "$NGINX_PID" ) &
HUP_PID=$!
run reload
wait "$HUP_PID"
n_reload=$(( $(outages) - n_start ))
report reload "$n_reload"

{
    echo "| case | POSTs | 201 | 202 | other | no answer | acknowledged/s | \"unavailable\" logged | stored | duplicated |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    echo "${R[start]}"
    echo "${R[reload]}"
} | tee ${OUT:+"$OUT"}

exit $FAILED
