#!/bin/bash
# Makes DIR/src a configured nginx source tree for the sanitizer build
# (make asan; docs/testing.md, "Sanitizers"):
#
#   bash t/asan/prepare.sh DIR
#
# with, from the environment (the Makefile sets them):
#
#   NGINX_SRC     nginx-dev's tree (/usr/share/nginx/src), or a full nginx
#                 source tree, which is then used as it is
#   NGINX_BIN     the packaged nginx, whose configure arguments are reused
#   ROOT          this repository, added with --add-dynamic-module
#   ASAN_CFLAGS   the compiler options of nginx and the module
#   ASAN_LDFLAGS  the linker options
#
# nginx-dev has nginx's headers, not its code, so the source of the same
# version is Debian's nginx_VERSION.orig.tar.gz (the upstream tarball the
# package is built from), fetched once into DIR with apt-get source.  apt
# runs with a state of its own under DIR/apt: the machine's apt sources
# are read, as deb-src, and never changed.
set -euo pipefail

mkdir -p "$1"
dir=$(cd "$1" && pwd)
src=$dir/src
: "${NGINX_SRC:?}" "${NGINX_BIN:?}" "${ROOT:?}" "${ASAN_CFLAGS:?}"
: "${ASAN_LDFLAGS:?}"

version=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' \
              "$NGINX_SRC/src/core/nginx.h")
tarball=$dir/nginx_$version.orig.tar.gz

fetch() {
    local apt=$dir/apt n=0 f w installed
    local -a opts want

    rm -rf "$apt"
    mkdir -p "$apt/sources.list.d" "$apt/lists/partial" \
             "$apt/cache/archives/partial"
    : > "$apt/sources.list"

    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" \
            > "$apt/sources.list.d/$n.list"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        sed 's/^Types:.*/Types: deb-src/' "$f" \
            > "$apt/sources.list.d/$n.sources"
    done

    opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
          -o "Dir::Etc::SourceParts=$apt/sources.list.d"
          -o "Dir::State::Lists=$apt/lists"
          -o "Dir::Cache=$apt/cache"
          -o "APT::Sandbox::User=root")

    # a source without deb-src (a third-party repository) does not matter
    # as long as Debian's have theirs
    apt-get "${opts[@]}" -qq update || true

    # the installed package's own revision first; every Debian revision
    # of a version shares the upstream tarball, the only file fetched
    installed=$(dpkg-query -W -f='${source:Version}' nginx 2>/dev/null || true)
    want=()
    case $installed in
    "$version"-*) want+=("nginx=$installed") ;;
    esac
    want+=(nginx)

    for w in "${want[@]}"; do
        (cd "$dir" && apt-get "${opts[@]}" -qq source --download-only \
                          --tar-only "$w") || true
        if [ -s "$tarball" ]; then
            rm -rf "$apt"
            return 0
        fi
    done

    echo "t/asan/prepare.sh: apt-get source could not fetch $tarball;" \
         "put nginx-$version's source tarball there, or set NGINX_SRC to" \
         "an nginx $version source tree" >&2
    return 1
}

rm -rf "$src"
mkdir -p "$src"

if [ -f "$NGINX_SRC/src/core/nginx.c" ]; then
    cp -a "$NGINX_SRC/." "$src/"
else
    [ -s "$tarball" ] || fetch
    tar -xzf "$tarball" --strip-components=1 -C "$src"
fi

# the packaged nginx's modules, so that the suites find the same nginx;
# its compiler options and dynamic modules are left out
flags=()
if out=$("$NGINX_BIN" -V 2>&1) \
   && grep -q "^nginx version: nginx/$version\$" <<< "$out"
then
    eval "all=($(sed -n 's/^configure arguments: //p' <<< "$out"))"
    for f in "${all[@]}"; do
        case $f in
        --with-cc-opt=* | --with-ld-opt=* | *=dynamic | --add-*) ;;
        *) flags+=("$f") ;;
        esac
    done
elif [ -f "$NGINX_SRC/conf_flags" ]; then
    . "$NGINX_SRC/conf_flags"
    flags=("${NGX_CONF_FLAGS[@]}")
else
    flags=(--with-compat)
fi

cd "$src"
./configure "${flags[@]}" --with-cc-opt="$ASAN_CFLAGS" \
    --with-ld-opt="$ASAN_LDFLAGS" --add-dynamic-module="$ROOT" \
    >configure.log 2>&1 || { tail -20 configure.log >&2; exit 1; }
