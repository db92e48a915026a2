#!/bin/bash
# Runs every suite: the Test::Nginx-format .t files and the C unit tests.
# Prefers the real Test::Nginx::Socket when it is installed, else the
# project's compat runner in t/compat.  Each .t file starts its own
# redis-server and nginx on free loopback ports; tini -s reaps whatever
# they leave behind, so nothing stays running.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES="$PWD/build/ngx_http_clinic_module.so"

jobs=${TEST_JOBS:-$(nproc)}

if perl -MTest::Nginx::Socket -e1 2>/dev/null; then
    echo "t/run.sh: using the real Test::Nginx::Socket"
    lib="t/lib"
    # the real runner listens on port 1984 in t/servroot unless told to
    # pick a free port and a server root per file
    if [ "$jobs" -gt 1 ]; then
        export TEST_NGINX_RANDOMIZE=${TEST_NGINX_RANDOMIZE:-1}
    fi
else
    echo "t/run.sh: using the compat runner in t/compat"
    lib="t/compat:t/lib"
fi

exec tini -s -- env PERL5LIB="$lib${PERL5LIB:+:$PERL5LIB}" \
    prove -j"$jobs" -r "${@:-t/}"
