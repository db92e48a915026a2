#!/bin/bash
# make demo / make demo-stop: a local Redis on a unix socket and nginx with
# conf/demo.conf, both run from the repository root and kept in demo/run/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
run=demo/run

stop() {
    if [ -f $run/nginx.pid ]; then
        kill -QUIT "$(cat $run/nginx.pid)" 2>/dev/null || true
    fi
    if [ -f $run/redis.pid ]; then
        kill "$(cat $run/redis.pid)" 2>/dev/null || true
    fi
    for _ in $(seq 50); do
        [ -e $run/nginx.pid ] || [ -e $run/redis.sock ] || break
        sleep 0.1
    done
    rm -f $run/nginx.pid $run/redis.pid
}

case "${1:-start}" in
start)
    stop
    mkdir -p $run/spool
    # workers run as an unprivileged user: let them write the spool
    chmod 1777 $run/spool
    redis-server --unixsocket "$root/$run/redis.sock" --unixsocketperm 777 \
        --port 0 --dir "$root/$run" --save 60 1 --appendonly yes \
        --daemonize yes --pidfile "$root/$run/redis.pid" \
        --logfile "$root/$run/redis.log"
    for _ in $(seq 50); do [ -S $run/redis.sock ] && break; sleep 0.1; done
    # the workers run as nobody; a clone in a private folder (/root, a
    # mktemp -d) is out of their reach: then they run as root, and say so
    user=()
    if [ "$(id -u)" = 0 ] \
       && ! runuser -u nobody -- test -r "$root/demo/site/northside/index.html"
    then
        user=(-g "user root;")
        echo "make demo: nobody cannot read $root; the demo's nginx workers" \
             "run as root" >&2
    fi
    /usr/sbin/nginx -p "$root/" -c conf/demo.conf "${user[@]}" -t -q
    /usr/sbin/nginx -p "$root/" -c conf/demo.conf "${user[@]}"
    cat <<END

The demo is running: two clinics on http://127.0.0.1:8080 (by name), one
Redis on $run/redis.sock.  Logs are in $run/.

  curl http://northside.localhost:8080/          # the clinics' home pages
  curl http://harbour.localhost:8080/
  curl http://northside.localhost:8080/treatments/
  curl http://northside.localhost:8080/treatments/joint-manipulation
  curl http://harbour.localhost:8080/massage/deep-tissue-massage
  curl http://northside.localhost:8080/api/articles
  curl -H 'Accept: application/json' \\
       -d 'name=Ann Lee&email=ann@example.com&message=Stiff neck' \\
       http://northside.localhost:8080/contact
  curl -H "Authorization: Bearer northside-demo-token-change-me-0001" \\
       'http://northside.localhost:8080/admin/submissions?order=desc'
  curl http://status.localhost:8081/status

The clinics' inboxes, in a browser (a token of demo/*.token to sign in):

  http://northside.localhost:8080/admin/   northside-demo-token-change-me-0001
  http://harbour.localhost:8080/admin/     harbour-demo-token-change-me-0002

Stop it with: make demo-stop
END
    ;;
stop)
    stop
    echo "demo stopped"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
