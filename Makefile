# ngx_http_clinic_module
#
#   make            build build/ngx_http_clinic_module.so (Debian's nginx-dev,
#                   or NGINX_SRC=<nginx source tree>)
#   make deps       install every Debian package needed to build, test, demo
#   make test       run every suite (Test::Nginx .t files and C unit tests)
#   make demo       start Redis and nginx with conf/demo.conf; demo-stop
#   make unit       build the C unit tests
#   make fuzz       build the libFuzzer targets

SHELL      := /bin/bash
ROOT       := $(CURDIR)
NGINX_SRC  ?= /usr/share/nginx/src
NGINX_BIN  ?= /usr/sbin/nginx
BUILD      := build
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_clinic_module.so

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
        libipc-run3-perl

.PHONY: all deps test unit fuzz demo demo-stop clean

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

deps:
	@if ! dpkg -s $(DEBS) >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	        $(DEBS) >/dev/null; \
	fi
	@# the packaged services are not ours: tests and the demo start their own
	@-service nginx stop >/dev/null 2>&1; service redis-server stop \
	    >/dev/null 2>&1; true

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

test: $(MODULE) unit
	@bash t/run.sh

demo: $(MODULE)
	@bash conf/demo.sh start

demo-stop:
	@bash conf/demo.sh stop

clean:
	rm -rf $(BUILD) t/servroot*
