# Variables for logs (docs/directives.md, "Variables"): $clinic_tenant on
# any request of a tenant, $clinic_cache (the page cache layer a page came
# from) and $clinic_article (the slug asked for) on article pages; empty
# where they do not apply.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->config;
    $block->set_value('config', <<'CONF');
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    add_header X-Vars "t=$clinic_tenant c=$clinic_cache a=$clinic_article" always;
    location /treatments/ { clinic_articles; }
    location = /plain { return 200 "plain\n"; }
CONF
    $block->set_value('user_files', <<'FILES');
>>> articles/neck-pain.txt
Neck Pain

Gentle movement helps.
FILES
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an article rendered, then from shared memory: the layer and the slug
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- request eval
["GET /treatments/neck-pain", "GET /treatments/neck-pain"]
--- response_headers eval
["X-Vars: t=localhost c=MISS a=neck-pain", "X-Vars: t=localhost c=HIT a=neck-pain"]
--- no_error_log
[error]



=== TEST 2: the listing has a layer but no slug; another location of the tenant only the tenant
--- request eval
["GET /treatments/", "GET /plain"]
--- response_headers eval
["X-Vars: t=localhost c=MISS a=", "X-Vars: t=localhost c= a="]
--- no_error_log
[error]
