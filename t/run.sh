#!/bin/bash
# Runs every suite: the Test::Nginx-format .t files and the C unit tests.
# Prefers the real Test::Nginx::Socket when it is installed, else the
# project's compat runner in t/compat.  Each .t file starts its own
# redis-server and nginx on free loopback ports; tini -s reaps whatever
# they leave behind, so nothing stays running.
#
#   bash t/run.sh [--asan] [prove arguments]
#
# --asan runs them against the sanitizer build of nginx and the module
# (build/asan/, "make asan"; docs/testing.md, "Sanitizers").
set -euo pipefail
cd "$(dirname "$0")/.."

mode=plain
if [ "${1:-}" = --asan ]; then
    mode=asan
    shift
fi

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}

if [ $mode = asan ]; then
    # nginx and the module of "make asan", nothing else: the instrumented
    # module needs the instrumented nginx
    for f in build/asan/nginx build/asan/ngx_http_clinic_module.so; do
        if [ ! -f "$f" ]; then
            echo "t/run.sh: $f is missing: run make asan" >&2
            exit 1
        fi
    done
    export TEST_NGINX_BINARY="$PWD/build/asan/nginx"
    export TEST_CLINIC_ASAN=1
    module="$PWD/build/asan/ngx_http_clinic_module.so"
else
    module="$PWD/build/ngx_http_clinic_module.so"
fi
export TEST_NGINX_LOAD_MODULES=$module

jobs=${TEST_JOBS:-$(nproc)}

if perl -MTest::Nginx::Socket -e1 2>/dev/null; then
    runner="the real Test::Nginx::Socket"
    lib="t/lib"
    # the real runner listens on port 1984 in t/servroot unless told to
    # pick a free port and a server root per file
    if [ "$jobs" -gt 1 ]; then
        export TEST_NGINX_RANDOMIZE=${TEST_NGINX_RANDOMIZE:-1}
    fi
else
    runner="the compat runner in t/compat"
    lib="t/compat:t/lib"
fi

if [ $mode = asan ]; then
    echo "t/run.sh: using $runner; sanitizer pass: $TEST_NGINX_BINARY"
else
    echo "t/run.sh: using $runner"
fi

exec tini -s -- env PERL5LIB="$lib${PERL5LIB:+:$PERL5LIB}" \
    prove -j"$jobs" -r "${@:-t/}"
