# ngx_http_clinic_module
#
#   make            build build/ngx_http_clinic_module.so (Debian's nginx-dev,
#                   or NGINX_SRC=<nginx source tree>)
#   make deps       install every Debian package needed to build, test, demo
#   make test       run every suite (Test::Nginx .t files and C unit tests),
#                   then every suite again with the sanitizer build
#   make test-asan  only the sanitizer pass: nginx and the module built with
#                   AddressSanitizer (and UBSan) into build/asan/
#   make asan       build that nginx and module
#   make demo       start Redis and nginx with conf/demo.conf; demo-stop
#   make unit       build the C unit tests
#   make fuzz       build the libFuzzer targets
#   make inbox      regenerate ngx_http_clinic_inbox.c from inbox/ (the
#                   inbox app's HTML, CSS and JS)
#   make test-browser  only the browser journeys (t/050-browser.t: headless
#                   chromium and puppeteer-core from t/browser/node_modules)
#   make deb        build the Debian package (debian/, dh_nginx) from a copy
#                   of the sources: build/deb/libnginx-mod-http-clinic_*.deb
#   make install    install the module, its load snippet and nginx-clinic-add
#                   where Debian's nginx looks for them (PREFIX=/usr,
#                   DESTDIR); make uninstall removes them again

SHELL      := /bin/bash
ROOT       := $(CURDIR)
NGINX_SRC  ?= /usr/share/nginx/src
NGINX_BIN  ?= /usr/sbin/nginx
BUILD      := build
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_clinic_module.so

# the sanitizer build (docs/testing.md, "Sanitizers"): nginx itself from
# its source with AddressSanitizer, pool allocations as heap blocks of
# their own, and the module with AddressSanitizer and UBSan
ASAN        := $(BUILD)/asan
ASAN_SRC    := $(ASAN)/src
ASAN_NGINX  := $(ASAN)/nginx
ASAN_MODULE := $(ASAN)/ngx_http_clinic_module.so
ASAN_CFLAGS := -fsanitize=address -fno-omit-frame-pointer -DNGX_DEBUG_PALLOC=1
UBSAN_CFLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined

SRCS       := $(sort $(wildcard ngx_clinic_module/*.c))
HDRS       := $(sort $(wildcard ngx_clinic_module/*.h))

# the parts that include no nginx header: unit tests and fuzzers link them
PURE_SRCS  := $(wildcard ngx_clinic_module/ngx_http_clinic_text.c \
                         ngx_clinic_module/ngx_http_clinic_article_ctx.c \
                         ngx_clinic_module/ngx_http_clinic_links.c \
                         ngx_clinic_module/ngx_http_clinic_markdown.c \
                         ngx_clinic_module/ngx_http_clinic_article.c \
                         ngx_clinic_module/ngx_http_clinic_form.c)
PURE_LIBS  := -lmd4c -ljansson -lpcre2-8
UNIT_SRCS  := $(wildcard t/unit/test_*.c)
UNIT_BINS  := $(patsubst t/unit/test_%.c,$(BUILD)/unit/test_%,$(UNIT_SRCS))
FUZZ_SRCS  := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(FUZZ_SRCS))

DEBS := build-essential nginx nginx-dev libhiredis-dev libjansson-dev \
        libpcre2-dev libmd4c-dev libmd4c-html0-dev redis-server \
        libtest-base-perl libcmocka-dev tini valgrind clang wrk curl \
        libipc-run3-perl libssl-dev zlib1g-dev libxml2-utils \
        chromium nodejs fonts-dejavu-core debhelper dpkg-dev openssl \
        redis-tools

# the browser journeys' npm packages (puppeteer-core, pinned by the lock
# file); puppeteer-core drives Debian's /usr/bin/chromium and downloads no
# browser of its own
BROWSER_DIR   := t/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.installed

.PHONY: all deps browser-deps test test-asan test-browser asan unit fuzz \
        inbox demo demo-stop clean deb install uninstall

all: $(MODULE)

# configure runs again only when the addon script (which lists the files)
# changes; editing a source file only recompiles that file
$(NGX_BUILD)/objs/Makefile: config
	rm -rf $(NGX_BUILD)
	mkdir -p $(NGX_BUILD)
	cp -a $(NGINX_SRC)/. $(NGX_BUILD)/
	cd $(NGX_BUILD) && \
	if [ -f conf_flags ]; then \
	    . ./conf_flags; \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(ROOT) >configure.log 2>&1 \
	        || { tail -20 configure.log; exit 1; }; \
	else \
	    ./configure --with-compat --add-dynamic-module=$(ROOT) \
	        >configure.log 2>&1 || { tail -20 configure.log; exit 1; }; \
	fi

$(MODULE): $(NGX_BUILD)/objs/Makefile $(SRCS) $(HDRS)
	$(MAKE) -s -C $(NGX_BUILD) -f objs/Makefile modules
	@# replaced, not rewritten: a running nginx keeps its mapping intact
	cp $(NGX_BUILD)/objs/ngx_http_clinic_module.so $@.tmp && mv -f $@.tmp $@

$(ASAN)/defaults.o: t/asan/defaults.c
	@mkdir -p $(dir $@)
	$(CC) -c -O2 -fPIC -Wall -Wextra -Werror -o $@ $<

# nginx's full source, of the version nginx-dev is, configured as the
# packaged nginx with the sanitizers and the module added (t/asan/prepare.sh)
$(ASAN_SRC)/objs/Makefile: config t/asan/prepare.sh $(ASAN)/defaults.o
	NGINX_SRC=$(NGINX_SRC) NGINX_BIN=$(NGINX_BIN) ROOT=$(ROOT) \
	ASAN_CFLAGS="$(ASAN_CFLAGS)" \
	ASAN_LDFLAGS="-fsanitize=address,undefined $(ROOT)/$(ASAN)/defaults.o" \
	    bash t/asan/prepare.sh $(ASAN)

$(ASAN_NGINX): $(ASAN_SRC)/objs/Makefile
	$(MAKE) -s -j$$(nproc) -C $(ASAN_SRC) -f objs/Makefile binary
	cp $(ASAN_SRC)/objs/nginx $@.tmp && mv -f $@.tmp $@

# nginx's own code is not free of what UBSan reports (memcpy() of NULL and
# 0 bytes): UBSan is for the module's objects only
$(ASAN_MODULE): $(ASAN_NGINX) $(SRCS) $(HDRS)
	cd $(ASAN_SRC) && $(MAKE) -s -f objs/Makefile modules \
	    CFLAGS="$$(sed -n 's/^CFLAGS = *//p' objs/Makefile) $(UBSAN_CFLAGS)"
	cp $(ASAN_SRC)/objs/ngx_http_clinic_module.so $@.tmp && mv -f $@.tmp $@

asan: $(ASAN_NGINX) $(ASAN_MODULE)

deps:
	@if ! dpkg -s $(DEBS) >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	        $(DEBS) >/dev/null; \
	fi
	@# npm: Debian's package, unless nodejs (NodeSource's) brings its own
	@if ! command -v npm >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends npm >/dev/null; \
	fi
	@# no service is touched: tests and the demo start their own nginx and
	@# Redis on ports of their own, beside whatever the machine runs
	@$(MAKE) -s browser-deps

# npm ci only when the lock file changed since the last install: no network
# once installed; --prefer-offline takes npm's cache over the registry
browser-deps: $(BROWSER_STAMP)

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefer-offline \
	    --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

inbox: ngx_clinic_module/ngx_http_clinic_inbox.c

ngx_clinic_module/ngx_http_clinic_inbox.c: inbox/gen.pl inbox/inbox.html \
        inbox/inbox.css inbox/inbox.js
	perl inbox/gen.pl inbox > $@.tmp && mv -f $@.tmp $@

unit: $(UNIT_BINS)

$(BUILD)/unit/test_%: t/unit/test_%.c $(PURE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	    -fno-omit-frame-pointer -Ingx_clinic_module -o $@ $< $(PURE_SRCS) \
	    $(PURE_LIBS) -lcmocka

fuzz: $(FUZZ_BINS)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) $(PURE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -Ingx_clinic_module \
	    -o $@ $< $(PURE_SRCS) $(PURE_LIBS)

# both passes run even when the first fails; either failing fails the target
test: $(MODULE) asan unit
	@bash t/run.sh; plain=$$?; \
	bash t/run.sh --asan; asan=$$?; \
	if [ $$plain -ne 0 ] || [ $$asan -ne 0 ]; then \
	    echo "make test: plain pass exit $$plain, sanitizer pass exit $$asan"; \
	    exit 1; \
	fi

test-asan: asan unit
	@bash t/run.sh --asan

test-browser: $(MODULE) $(BROWSER_STAMP)
	@bash t/run.sh t/050-browser.t

demo: $(MODULE)
	@bash conf/demo.sh start

demo-stop:
	@bash conf/demo.sh stop

# make install: where Debian's nginx and its module packages put things
# (docs/operations.md, "Installing"); DESTDIR stages them elsewhere
PREFIX       ?= /usr
SYSCONFDIR   ?= /etc
MODULES_DIR  ?= $(PREFIX)/lib/nginx/modules
SNIPPET_DIR  ?= $(PREFIX)/share/nginx/modules-available
SNIPPET      := mod-http-clinic.conf
CLINIC_ETC   ?= $(SYSCONFDIR)/nginx/clinic
TEMPLATE     := server.conf.template

# files of the installed package are dpkg's: install and uninstall leave
# them alone (they do write into a DESTDIR)
NO_PACKAGE = @if [ -z "$(DESTDIR)" ] && dpkg-query -W -f='$${Status}' \
    libnginx-mod-http-clinic 2>/dev/null | grep -q ' installed$$'; then \
    echo "make $@: the package libnginx-mod-http-clinic is installed:" \
        "remove it first, or give DESTDIR" >&2; \
    exit 1; \
fi

install: $(MODULE)
	$(NO_PACKAGE)
	install -d $(DESTDIR)$(MODULES_DIR) $(DESTDIR)$(SNIPPET_DIR) \
	    $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(CLINIC_ETC)
	install -m 0644 $(MODULE) $(DESTDIR)$(MODULES_DIR)/
	echo 'load_module $(MODULES_DIR)/ngx_http_clinic_module.so;' \
	    >$(DESTDIR)$(SNIPPET_DIR)/$(SNIPPET)
	install -m 0755 tools/nginx-clinic-add $(DESTDIR)$(PREFIX)/sbin/
	ln -sf nginx-clinic-add $(DESTDIR)$(PREFIX)/sbin/nginx-clinic-remove
	@# the operator's edits of the template are kept
	[ -e $(DESTDIR)$(CLINIC_ETC)/$(TEMPLATE) ] || \
	    install -m 0644 tools/$(TEMPLATE) $(DESTDIR)$(CLINIC_ETC)/

uninstall:
	$(NO_PACKAGE)
	rm -f $(DESTDIR)$(MODULES_DIR)/ngx_http_clinic_module.so \
	    $(DESTDIR)$(SNIPPET_DIR)/$(SNIPPET) \
	    $(DESTDIR)$(PREFIX)/sbin/nginx-clinic-add \
	    $(DESTDIR)$(PREFIX)/sbin/nginx-clinic-remove
	@# a link left to the snippet would fail nginx -t
	find $(DESTDIR)$(SYSCONFDIR)/nginx/modules-enabled -maxdepth 1 \
	    -lname '*/$(SNIPPET)' -delete 2>/dev/null || true
	cmp -s tools/$(TEMPLATE) $(DESTDIR)$(CLINIC_ETC)/$(TEMPLATE) && \
	    rm -f $(DESTDIR)$(CLINIC_ETC)/$(TEMPLATE) || true
	rmdir $(DESTDIR)$(CLINIC_ETC) 2>/dev/null || true

# make deb: dpkg-buildpackage runs in a copy of the sources and writes the
# package beside it, so nothing outside build/deb is written; debian/rules
# builds with this Makefile and installs with "make install"
DEB_DIR     := $(BUILD)/deb
DEB_STAMP   := $(DEB_DIR)/.built
DEB_SOURCES := config Makefile README.md ngx_clinic_module docs inbox \
               tools debian

deb: $(DEB_STAMP)

$(DEB_STAMP): $(shell find $(DEB_SOURCES) -type f 2>/dev/null)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	cp -a $(DEB_SOURCES) $(DEB_DIR)/src/
	cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc \
	    >../build.log 2>&1 || { tail -30 ../build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb
	@touch $@

clean:
	rm -rf $(BUILD) t/servroot*
