#!/bin/bash
# bench/contact-page.sh: GET of a contact page against a static file of the
# same bytes, one command.
#
#   make && bash bench/contact-page.sh
#
# Starts one nginx (one worker, access_log off, sendfile on) from a
# temporary folder on free loopback ports, and measures with wrk:
#
#   static     the contact page's exact bytes as a static file
#   L1 hit     GET /contact, clinic_cache_zone 8m     X-Clinic-Cache: HIT
#   rendered   GET /contact, clinic_cache_zone off    (rendered per request)
#
# No Redis is involved: a GET never touches it (the endpoint below is
# closed; the worker logs that once).
#
# Environment:
#   DURATION=10s  wrk duration of each measurement (plus a 1s warm-up)
#   CONNECTIONS=32  wrk connections (one wrk thread)
#   KEEP=1        keep the temporary folder
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
ROOT=$PWD

MODULE=$ROOT/build/ngx_http_clinic_module.so
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
CONNECTIONS=${CONNECTIONS:-32}

die() { echo "bench/contact-page.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

[ -f "$MODULE" ] || die "$MODULE is missing: run 'make' first"
for tool in wrk curl perl; do
    command -v $tool >/dev/null || die "'$tool' is missing: run 'make deps'"
done

T=$(mktemp -d /tmp/clinic-bench-contact.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/www" "$T/logs" "$T/tmp"
PIDFILES=("$T/logs/cached.pid" "$T/logs/rendered.pid")

cleanup() {
    local rc=$? f pid
    trap - EXIT INT TERM
    for f in "${PIDFILES[@]}"; do
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        kill -QUIT "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    done
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "bench/contact-page.sh: kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BUSY=$(cpu_busy)
if [ "$BUSY" -gt 10 ]; then
    say "warning: the machine is already ${BUSY}% busy;" \
        "the numbers will be noisy"
fi

read -r P1 P2 P3 < <(perl -MIO::Socket::INET -e '
    my @s = map { IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                        LocalPort => 0) } 1 .. 3;
    print join(" ", map { $_->sockport } @s), "\n"')

# conf NAME ZONE PORT [STATIC_PORT]: one nginx, one worker, one tenant
conf() {
    cat <<END
load_module $MODULE;
worker_processes 1;
error_log $T/logs/$1.log warn;
pid $T/logs/$1.pid;
events { worker_connections 1024; }
http {
$(http_common)
    clinic_redis 127.0.0.1:1 timeout=100ms;
    clinic_cache_zone $2;
    server {
        listen 127.0.0.1:$3;
        server_name clinic.example;
        clinic_tenant bench;
        clinic_name "Northside Chiropractic";
        clinic_phone "+44 161 496 0000";
        clinic_contact_honeypot website;
        location = /contact { clinic_contact; }
    }
END
    if [ -n "${4:-}" ]; then
        cat <<END
    server {
        listen 127.0.0.1:$4;
        root $T/www;
        location / { }
    }
END
    fi
    echo "}"
}

conf cached 8m "$P1" "$P2" > "$T/cached.conf"
conf rendered off "$P3" > "$T/rendered.conf"

for c in cached rendered; do
    "$NGINX" -p "$T/" -c "$T/$c.conf" -t -q
    "$NGINX" -p "$T/" -c "$T/$c.conf"
done
for _ in $(seq 50); do
    [ -s "$T/logs/cached.pid" ] && [ -s "$T/logs/rendered.pid" ] && break
    sleep 0.1
done

curl -sf "http://127.0.0.1:$P1/contact" -o "$T/www/contact.html" \
    || die "GET /contact failed: $T/logs/cached.log"
SIZE=$(stat -c %s "$T/www/contact.html")
cmp -s "$T/www/contact.html" <(curl -s "http://127.0.0.1:$P3/contact") \
    || die "the rendered page differs from the cached one"
curl -sI "http://127.0.0.1:$P1/contact" | grep -q 'X-Clinic-Cache: HIT' \
    || die "the second GET was not an L1 hit"

measure() {    # label url
    local out
    wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$2" >/dev/null
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
    printf '| %-9s | %8s | %8s | %8s |\n' "$1" \
        "$(awk '/^Requests\/sec/ { printf "%d", $2 }' <<<"$out")" \
        "$(awk '$1 == "50%" { print $2 }' <<<"$out")" \
        "$(awk '$1 == "99%" { print $2 }' <<<"$out")"
}

echo
echo "contact page: $SIZE bytes; wrk -t1 -c$CONNECTIONS -d$DURATION," \
     "one nginx worker; machine ${BUSY}% busy before"
echo
echo "| GET       | req/s    | p50      | p99      |"
echo "|-----------|----------|----------|----------|"
measure static   "http://127.0.0.1:$P2/contact.html"
measure "L1 hit" "http://127.0.0.1:$P1/contact"
measure rendered "http://127.0.0.1:$P3/contact"
