#!/bin/bash
# bench/scale.sh: thousands of clinics on one node, side by side with
# plain nginx serving the same pages as static files; one command.
#
#   make && bash bench/scale.sh
#
# For each N in $NS: N tenants (server blocks tI.example, I = 1..N), five
# plain-text articles each (bench/gen.pl scale), two workers, one shared
# Redis on a unix socket, access_log off. Two nginx instances, on free
# loopback ports, from one temporary folder:
#
#   module  each tenant: clinic_content, location /treatments/ {
#           clinic_articles; }, location = /contact { clinic_contact; }
#   plain   the same server blocks with "root": /treatments/SLUG is a file
#           holding the exact bytes the module serves for that page
#           (tenant t1's pages, rendered once by the module, with t1's
#           names replaced by each tenant's; checked with cmp)
#
# and measures, for both, interleaved (module, plain, module, plain, ...):
#
#   nginx -t     wall time, median of $ROUNDS
#   start        from launching nginx to the first 200 of the last
#                tenant's article, median of $ROUNDS
#   memory       private memory and PSS of the workers (smaps_rollup)
#                right after the start and after every tenant's every
#                article went once through each worker; the master's
#   warm load    wrk, $DURATION, random tenant and article per request,
#                median of $ROUNDS runs: req/s and p99
#   reload       back-to-back 1 s wrk runs for $RELOAD_SECS s, SIGHUP to
#                the master $HUP_AT s in: steady req/s before, the
#                lowest 1 s req/s and highest p99 in the 20 s after,
#                when it is back at 90% of steady, how many windows were
#                below; and the time from SIGHUP until a new connection
#                is served by a new worker; the new workers' private
#                memory once the load is over
#
# About 8 minutes with the defaults (docs/benchmarks.md, "10,000 clinics
# on one node", has the method and results).
#
# Environment:
#   NS="1000 10000 20000"  tenant counts to run
#   DURATION=10s           each warm-load run
#   ROUNDS=3               runs per side of nginx -t, start and warm load
#   RELOAD_SECS=30 HUP_AT=5
#   CONNECTIONS=64 THREADS=2   wrk (-c, -t)
#   OUT=file               also write the report (markdown) to file
#   KEEP=1                 keep the temporary folder
#
# Stops everything it started when it exits, however it exits (but SIGKILL).
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
ROOT=$PWD

MODULE=${MODULE:-$ROOT/build/ngx_http_clinic_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
NS=${NS:-"1000 10000 20000"}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
RELOAD_SECS=${RELOAD_SECS:-30}
HUP_AT=${HUP_AT:-5}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WORKERS=2
GEN="perl $ROOT/bench/gen.pl"
LUA=$ROOT/bench/scale-wrk.lua

die() { echo "bench/scale.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

[ -f "$MODULE" ] || die "$MODULE is missing: run 'make' first"
[ -x "$NGINX" ] || die "$NGINX is missing: run 'make deps' (Debian's nginx)"
for tool in wrk redis-server redis-cli curl perl; do
    command -v $tool >/dev/null || die "'$tool' is missing: run 'make deps'"
done
for v in ROUNDS RELOAD_SECS HUP_AT CONNECTIONS THREADS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v: \"${!v}\" is not a number"
done
MAXN=0
for n in $NS; do
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 4 ] || die "NS: \"$n\" is not a number of at least 4"
    [ "$n" -gt $MAXN ] && MAXN=$n
done
[ $((HUP_AT + 20)) -le "$RELOAD_SECS" ] || die "RELOAD_SECS must be at least HUP_AT + 20"

# descriptors: as many as the hard limit allows (nginx cannot raise it)
NOFILE=$(ulimit -Hn)
[ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 65536 ] && NOFILE=65536
ulimit -n "$NOFILE"

T=$(mktemp -d /tmp/clinic-scale.XXXXXX)
chmod 755 "$T"      # the workers run as nobody when we are root
mkdir -p "$T/conf" "$T/logs" "$T/tmp" "$T/wrk" "$T/pages"

declare -A MASTER=()    # the running nginx master of each side
REDIS_PID=
BG_PID=                 # the reload test's wrk loop

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    [ -n "$BG_PID" ] && stop "$BG_PID" TERM
    for pid in "${MASTER[@]}"; do
        stop "$pid" QUIT
    done
    [ -n "$REDIS_PID" ] && stop "$REDIS_PID" TERM
    keep_or_remove $rc
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START_TIME=$(date +%s)
BUSY=$(cpu_busy)
[ "$BUSY" -gt 10 ] && say "warning: the machine is already ${BUSY}% busy; the numbers will be noisy"

say "starting redis-server"
start_redis "$T"

say "generating $MAXN tenants x 5 articles"
mapfile -t SLUGS < <($GEN scale "$MAXN" "$T/content")
LAST_SLUG=${SLUGS[4]}
mapfile -t PORTS < <($GEN ports 2)
declare -A PORT=([module]=${PORTS[0]} [plain]=${PORTS[1]})

# --- configurations -------------------------------------------------------

# conf SIDE N: the whole nginx.conf of one side for N tenants
conf() {
    local side=$1 n=$2 port=${PORT[$1]} zone i
    # the working set: 5 N pages of 4.5-7 KB, each 8 KB of the zone plus a
    # 256-byte node (docs/caching.md, "Sizing"), and a quarter to spare
    zone=$(( (n * 5 * (8192 + 256) * 5 / 4 + 1048575) / 1048576 ))
    [ "$zone" -lt 32 ] && zone=32
    [ "$side" = module ] && echo "load_module $MODULE;"
    cat <<END
daemon off;
master_process on;
worker_processes $WORKERS;
worker_rlimit_nofile $NOFILE;
pid $T/logs/$side.pid;
error_log $T/logs/$side-$n-error.log warn;
events { worker_connections 4096; }
http {
    server_names_hash_max_size $(( n * 2 + 1024 ));
    server_names_hash_bucket_size 64;
END
    http_common
    if [ "$side" = module ]; then
        echo "    clinic_redis unix:$T/redis.sock timeout=200ms;"
        echo "    clinic_cache_zone ${zone}m;"
    else
        echo "    types { } default_type text/html; charset utf-8;"
    fi
    # not a tenant: which worker answered (bench/gen.pl touch), the status
    cat <<END
    server {
        listen 127.0.0.1:$port default_server;
        location = /pid { return 200 "\$pid\n"; }
END
    [ "$side" = module ] && echo "        location = /status { clinic_status tenants=off; }"
    echo "    }"
    for (( i = 1; i <= n; i++ )); do
        if [ "$side" = module ]; then
            printf '    server {\n        listen 127.0.0.1:%s;\n        server_name t%s.example;\n        clinic_name "Clinic %s";\n        clinic_content %s;\n        location /treatments/ { clinic_articles; }\n        location = /contact { clinic_contact; }\n    }\n' \
                "$port" "$i" "$i" "$T/content/t$i"
        else
            printf '    server {\n        listen 127.0.0.1:%s;\n        server_name t%s.example;\n        root %s;\n        location /treatments/ { }\n        location = /contact { return 204; }\n    }\n' \
                "$port" "$i" "$T/www/t$i"
        fi
    done
    echo "}"
}

ngx() {    # SIDE [ARGS]: nginx with that side's configuration
    local side=$1
    shift
    "$NGINX" -p "$T/" -c "$T/conf/$side.conf" -e "$T/logs/$side-error.log" "$@"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# get SIDE TENANT SLUG [CURL ARGS]: the status of one article
get() {
    local side=$1 t=$2 slug=$3
    shift 3
    curl -s -m 10 -o /dev/null -w '%{http_code}' "$@" -H "Host: t$t.example" \
        "http://127.0.0.1:${PORT[$side]}/treatments/$slug" || true
}

# start SIDE [N]: stops that side if it runs, starts it; VALS: the ms
# until the last tenant (N, default $n) answered 200
start() {
    local side=$1 n=${2:-$n} t0 pid
    if [ -n "${MASTER[$side]:-}" ]; then
        stop "${MASTER[$side]}" QUIT
        unset "MASTER[$side]"
    fi
    t0=$(now_ms)
    # nginx itself, not a function: $! must be the master
    "$NGINX" -p "$T/" -c "$T/conf/$side.conf" -e "$T/logs/$side-error.log" \
        > /dev/null 2>> "$T/logs/$side-stderr.log" &
    pid=$!
    MASTER[$side]=$pid
    until [ "$(get "$side" "$n" "$LAST_SLUG")" = 200 ]; do
        kill -0 "$pid" 2>/dev/null || die "nginx ($side) failed: $T/logs/$side-$n-error.log"
        [ $(( $(now_ms) - t0 )) -lt 300000 ] || die "nginx ($side) did not answer in 300 s"
        sleep 0.01
    done
    VALS=($(( $(now_ms) - t0 )))
}

# mem SIDE: "private pss" of the workers, in MB per worker, and of the master
mem() {
    local master=${MASTER[$1]} w
    { for w in $(children_of "$master"); do
          echo "w $(awk '/^Private_(Clean|Dirty)/ { p += $2 } /^Pss:/ { s = $2 }
                         END { print p, s }' "/proc/$w/smaps_rollup")"
      done
      echo "m $(awk '/^Private_(Clean|Dirty)/ { p += $2 } /^Pss:/ { s = $2 }
                     END { print p, s }' "/proc/$master/smaps_rollup")"
    } | awk '$1 == "w" { n++; p += $2; s += $3 } $1 == "m" { mp = $2; ms = $3 }
             END { printf "%.1f %.1f %.1f %.1f\n", p / n / 1024, s / n / 1024,
                   mp / 1024, ms / 1024 }'
}

wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
wrk_p99() { to_ms "$(awk '$1 == "99%" { print $2 }' "$1")"; }
wrk_bad() {
    awk '/Non-2xx/ { n += $NF } /^  Socket errors/ { gsub(/[^0-9 ]/, " ");
         split($0, e, " "); n += e[1] + e[2] + e[3] + e[4] } END { print n + 0 }' "$1"
}

load() {    # SIDE N DURATION OUT
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --latency -s "$LUA" \
        "http://127.0.0.1:${PORT[$1]}" -- "$2" "${SLUGS[@]}" > "$4"
}

# reload SIDE N: the reload test; sets R[N.SIDE.*]
reload() {
    local side=$1 n=$2 dir="$T/wrk/reload-$1-$2" old t_hup t_new pid
    mkdir -p "$dir"
    old=" $(children_of "${MASTER[$side]}" | tr '\n' ' ') "
    (
        for (( k = 1; k <= RELOAD_SECS; k++ )); do
            t0=$(now_ms)
            load "$side" "$n" 1s "$dir/$k.txt" || true
            echo "$t0 $(now_ms) $(wrk_rps "$dir/$k.txt") $(wrk_p99 "$dir/$k.txt") $(wrk_bad "$dir/$k.txt")"
        done > "$dir/windows"
    ) &
    BG_PID=$!
    sleep "$HUP_AT"
    t_hup=$(now_ms)
    kill -HUP "${MASTER[$side]}"
    # a new connection served by a new worker: the new configuration is in
    t_new=
    while [ -z "$t_new" ]; do
        pid=$(curl -s -m 5 "http://127.0.0.1:${PORT[$side]}/pid" || true)
        if [ -n "$pid" ] && [[ $old != *" $pid "* ]]; then
            t_new=$(now_ms)
        else
            [ $(( $(now_ms) - t_hup )) -lt 120000 ] || die "no new worker 120 s after SIGHUP ($side)"
            sleep 0.01
        fi
    done
    wait "$BG_PID"
    BG_PID=
    R[$n.$side.newworker]=$(( t_new - t_hup ))
    # the windows: start, end, req/s, p99, errors
    read -r R[$n.$side.before] R[$n.$side.min] R[$n.$side.back] R[$n.$side.below] R[$n.$side.p99max] R[$n.$side.p99before] R[$n.$side.errors] < <(
        awk -v h="$t_hup" '
            function med(a, n,   i, j, x) {    # sorts a[1..n]
                for (i = 2; i <= n; i++) {
                    x = a[i]
                    for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]
                    a[j + 1] = x
                }
                return a[int((n + 1) / 2)]
            }
            { s[NR] = $1; e[NR] = $2; r[NR] = $3; p[NR] = $4; b[NR] = $5 }
            END {
                # steady: the windows that ended before the SIGHUP, but the first
                nb = 0
                for (i = 2; i <= NR; i++) if (e[i] <= h) { v[++nb] = r[i]; q[nb] = p[i] }
                if (nb == 0) { v[++nb] = r[1]; q[nb] = p[1] }
                before = med(v, nb); pb = med(q, nb)
                min = -1; pmax = 0; below = 0; err = 0; imin = 0
                for (i = 1; i <= NR; i++) {
                    if (e[i] <= h || s[i] > h + 20000) continue
                    if (min < 0 || r[i] < min) { min = r[i]; imin = i }
                    if (p[i] > pmax) pmax = p[i]
                    if (r[i] < 0.9 * before) below++
                    err += b[i]
                }
                # back: no dip below 90%, or the end of the first window
                # at 90% after the lowest one
                back = 0
                if (min < 0.9 * before) {
                    back = -1
                    for (i = imin + 1; i <= NR && back < 0; i++)
                        if (r[i] >= 0.9 * before) back = (e[i] - h) / 1000
                    if (back < 0) back = (e[NR] - h) / 1000
                }
                printf "%.0f %.0f %.1f %d %.2f %.2f %d\n", before, min, back, below, pmax, pb, err
            }' "$dir/windows")
}

# the measurements that are taken ROUNDS times per side, interleaved

check_conf() {    # SIDE: VALS, the ms nginx -t takes
    local t0
    t0=$(now_ms)
    ngx "$1" -t -q || die "nginx -t failed ($1, N=$n)"
    VALS=($(( $(now_ms) - t0 )))
}

warm() {    # SIDE: VALS, req/s, p99 and errors of one warm-load run
    local out="$T/wrk/load-$1-$n-$r.txt"
    load "$1" "$n" "$DURATION" "$out"
    VALS=("$(wrk_rps "$out")" "$(wrk_p99 "$out")" "$(wrk_bad "$out")")
}

# interleaved "KEY..." FUNC: FUNC SIDE, ROUNDS times for module then
# plain, sets VALS, a value for each KEY; R[$n.SIDE.KEY] is the median,
# R[$n.SIDE.KEYall] every value
interleaved() {
    local -a keys
    local -A all=()
    local i side
    read -r -a keys <<< "$1"
    for (( r = 1; r <= ROUNDS; r++ )); do
        for side in module plain; do
            "$2" $side
            for i in "${!keys[@]}"; do
                all[$side.$i]+=" ${VALS[$i]}"
            done
        done
    done
    for side in module plain; do
        for i in "${!keys[@]}"; do
            R[$n.$side.${keys[$i]}]=$(echo "${all[$side.$i]}" | median)
            R[$n.$side.${keys[$i]}all]=${all[$side.$i]# }
        done
    done
}

declare -A R
VALS=()

say "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the plain side's files: tenant t1's pages as the module serves them --

conf module 1 > "$T/conf/module.conf"
start module 1
for s in "${SLUGS[@]}"; do
    curl -sS -m 10 -H "Host: t1.example" -o "$T/pages/$s" \
        "http://127.0.0.1:${PORT[module]}/treatments/$s"
done
stop "${MASTER[module]}" QUIT
unset "MASTER[module]"
say "writing the plain side's $((MAXN * 5)) pages"
$GEN scale-html "$MAXN" "$T/pages" "$T/www"
PAGE_SIZES=$(for s in "${SLUGS[@]}"; do stat -c %s "$T/pages/$s"; done | tr '\n' ' ')

# --- each N ----------------------------------------------------------------

for n in $NS; do
    say "N=$n: configurations"
    for side in module plain; do
        [ -n "${MASTER[$side]:-}" ] && { stop "${MASTER[$side]}" QUIT; unset "MASTER[$side]"; }
        conf $side "$n" > "$T/conf/$side.conf"
    done
    R[$n.zone]=$(awk '/clinic_cache_zone/ { print $2 }' "$T/conf/module.conf" | tr -d ';')

    say "N=$n: nginx -t"
    interleaved t check_conf
    say "N=$n: start"
    interleaved start start
    sleep 1
    for side in module plain; do
        read -r R[$n.$side.wpriv0] R[$n.$side.wpss0] R[$n.$side.mpriv] R[$n.$side.mpss] < <(mem $side)
    done

    # the same bytes on both sides, for a few tenants
    for t in 1 $((n / 2)) "$n"; do
        for s in "${SLUGS[@]}"; do
            for side in module plain; do
                curl -sS -m 10 -H "Host: t$t.example" -o "$T/tmp/$side.html" \
                    "http://127.0.0.1:${PORT[$side]}/treatments/$s"
            done
            cmp -s "$T/tmp/module.html" "$T/tmp/plain.html" \
                || die "t$t/$s: the module and the plain file differ ($T/tmp)"
        done
    done

    say "N=$n: every tenant's every article through each worker"
    for side in module plain; do
        t0=$(now_ms)
        $GEN touch "${PORT[$side]}" $WORKERS "$n" "${SLUGS[@]}" > "$T/wrk/touch-$side-$n.txt"
        R[$n.$side.touchms]=$(( $(now_ms) - t0 ))
        awk -v want=$((n * 5)) '$2 != want || $3 != want { exit 1 }' "$T/wrk/touch-$side-$n.txt" \
            || die "touch ($side, N=$n): not every request answered 200: $(cat "$T/wrk/touch-$side-$n.txt")"
    done
    sleep 1
    for side in module plain; do
        read -r R[$n.$side.wpriv] R[$n.$side.wpss] _ _ < <(mem $side)
    done
    R[$n.zoneused]=$(curl -s -m 30 "http://127.0.0.1:${PORT[module]}/status" | awk '
        /^clinic_cache_zone_bytes\{state="size"\}/ { s = $2 }
        /^clinic_cache_zone_bytes\{state="free"\}/ { f = $2 }
        /^clinic_cache_entries / { p = $2 }
        END { printf "%.0f MB of %.0f MB, %d pages", (s - f) / 1048576, s / 1048576, p }')
    R[$n.redis]=$(redis-cli -s "$T/redis.sock" info memory | awk -F: '/^used_memory_human/ { print $2 }' | tr -d '\r')

    say "N=$n: warm load, $ROUNDS x $DURATION per side"
    interleaved "rps p99 bad" warm
    say "N=$n: reload under load, SIGHUP $HUP_AT s into $RELOAD_SECS s"
    for side in module plain; do
        reload $side "$n"
        # the new workers, after serving the load of the reload test
        read -r R[$n.$side.wpriv2] _ _ _ < <(mem $side)
    done
done

for side in module plain; do
    [ -n "${MASTER[$side]:-}" ] && { stop "${MASTER[$side]}" QUIT; unset "MASTER[$side]"; }
done
ELAPSED=$(( $(date +%s) - START_TIME ))

# --- report ------------------------------------------------------------------

row() {    # LABEL KEY [lower-is-better marker]
    local m=${R[$2.module.$3]} p=${R[$2.plain.$3]} x=—
    awk -v p="$p" 'BEGIN { exit !(p + 0 > 0) }' && x=$(ratio "$m" "$p")
    echo "| $1 | $m | $p | $x |"
}

report() {
    local n
    echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
    echo "$(. /etc/os-release; echo "$PRETTY_NAME"), $("$NGINX" -v 2>&1 | sed 's/.*: //'),"
    echo "$(redis-server --version | awk '{ print "Redis " substr($3, 3) }'), $(date -u '+%Y-%m-%d %H:%M UTC'); ${BUSY}% busy before the run."
    echo "$WORKERS workers, access_log off; 5 articles per tenant, pages of $PAGE_SIZES bytes;"
    echo "wrk -t$THREADS -c$CONNECTIONS, random tenant and article per request. Whole run: $ELAPSED s."
    for n in $NS; do
        echo
        echo "### $n tenants"
        echo
        echo "| | module | plain | module ÷ plain |"
        echo "|---|---:|---:|---:|"
        row "\`nginx -t\`, ms (median of $ROUNDS)" "$n" t
        row "start to the last tenant's first 200, ms (median of $ROUNDS)" "$n" start
        row "reload: SIGHUP to a new worker's first answer, ms" "$n" newworker
        row "worker private memory after start, MB per worker" "$n" wpriv0
        row "worker private memory after touching all tenants, MB per worker" "$n" wpriv
        row "worker PSS after touching all tenants, MB per worker" "$n" wpss
        row "worker private memory after the reload and $((RELOAD_SECS - HUP_AT)) s of load, MB per worker" "$n" wpriv2
        row "master private memory, MB" "$n" mpriv
        row "first pass over all $((n * 5)) pages through both workers, ms" "$n" touchms
        row "warm load, req/s (median of $ROUNDS × $DURATION)" "$n" rps
        row "warm load, p99 ms (median)" "$n" p99
        row "reload: steady req/s before SIGHUP (1 s windows)" "$n" before
        row "reload: lowest 1 s req/s in the 20 s after" "$n" min
        row "reload: seconds from SIGHUP until a 1 s window is back at ≥ 90% of steady (0: no dip)" "$n" back
        row "reload: 1 s windows below 90% of steady in the 20 s after" "$n" below
        row "reload: p99 ms before SIGHUP (median window)" "$n" p99before
        row "reload: highest 1 s p99 ms in the 20 s after" "$n" p99max
        echo
        echo "- runs: \`nginx -t\` ms module ${R[$n.module.tall]}, plain ${R[$n.plain.tall]};" \
             "start ms module ${R[$n.module.startall]}, plain ${R[$n.plain.startall]};" \
             "req/s module ${R[$n.module.rpsall]}, plain ${R[$n.plain.rpsall]}"
        echo "- module: clinic_cache_zone ${R[$n.zone]}, in use after the touch: ${R[$n.zoneused]};" \
             "Redis used_memory ${R[$n.redis]} (every N so far)"
        echo "- errors (non-2xx, socket errors): warm load module ${R[$n.module.badall]}, plain ${R[$n.plain.badall]} (each run);" \
             "reload module ${R[$n.module.errors]}, plain ${R[$n.plain.errors]}"
        echo
        echo "**$n tenants**: \`nginx -t\` $(ratio "${R[$n.module.t]}" "${R[$n.plain.t]}")×," \
             "start $(ratio "${R[$n.module.start]}" "${R[$n.plain.start]}")×," \
             "reload to new workers $(ratio "${R[$n.module.newworker]}" "${R[$n.plain.newworker]}")×," \
             "worker private memory $(ratio "${R[$n.module.wpriv]}" "${R[$n.plain.wpriv]}")×" \
             "($(awk -v a="${R[$n.module.wpriv]}" -v b="${R[$n.plain.wpriv]}" -v n="$n" \
                 'BEGIN { printf "%.1f KB", (a - b) * 1024 / n }') more per tenant per worker)," \
             "warm req/s $(ratio "${R[$n.module.rps]}" "${R[$n.plain.rps]}")×," \
             "lowest req/s after reload $(ratio "${R[$n.module.min]}" "${R[$n.plain.min]}")× (target for the costs: ≤ 1.25×)."
    done
}

report > "$T/report.md"
echo
cat "$T/report.md"
[ -n "${OUT:-}" ] && cp "$T/report.md" "$OUT"

echo
echo "error logs ($T/logs):"
cat "$T"/logs/*error.log 2>/dev/null \
    | sed -E 's/^[0-9\/]+ [0-9:]+ //; s/[0-9]+#[0-9]+: (\*[0-9]+ )?//; s/, client: .*//' \
    | sort | uniq -c | sort -rn | head -20
if grep -qE '\[(alert|crit|emerg)\]|exited on signal' "$T"/logs/*error.log; then
    echo "bench/scale.sh: the error logs hold alerts or crashes (above)" >&2
    exit 1
fi
exit 0
