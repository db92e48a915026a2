# The admin API (docs/api.md): bearer tokens per tenant, submissions with a
# cursor, get and delete, purge and lint; tenants kept apart.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_TOKEN} = 'token-of-localhost-0123456789';
$ENV{TEST_NGINX_TOKEN_B} = 'token-of-tenant-b-0123456789';

ClinicTest::redis_start();

our $A = 'clinic:{localhost}:submissions';
our $B = 'clinic:{b.example}:submissions';

sub seed {
    ClinicTest::redis_cmd('FLUSHDB');
    ClinicTest::redis_cmd('XADD', $A, "1-$_", 'received', '2026-01-01T00:00:00Z',
                          'name', "A$_") for 1 .. 3;
    ClinicTest::redis_cmd('XADD', $B, '1-1', 'name', 'B-secret');
}

add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->config;
    $block->set_value('http_config', <<'CONF');
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name b.example;
        clinic_admin_token_file $TEST_NGINX_HTML_DIR/token_b;
        location /admin/ { clinic_admin; }
    }
CONF
    $block->set_value('config', <<'CONF');
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /admin/ { clinic_admin; }
CONF
    $block->set_value('user_files', <<'FILES');
>>> token
token-of-localhost-0123456789
>>> token_b
token-of-tenant-b-0123456789
>>> articles/joint-manipulation.txt
Joint Manipulation

Joint manipulation restores movement. Ask about spinal decompression [LINK] or cupping [LINK].
>>> articles/spinal-decompression.txt
Spinal Decompression Therapy

A gentle stretch for the spine.
FILES
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no token: 401 with WWW-Authenticate
--- request
GET /admin/submissions
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="clinic admin"
--- response_body
{"error":{"status":401,"message":"a valid bearer token is required"}}



=== TEST 2: another tenant's token: 401
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN_B}"
--- request
GET /admin/submissions
--- error_code: 401



=== TEST 3: a token differing in its last character: 401
--- more_headers eval
"Authorization: Bearer " . substr($ENV{TEST_NGINX_TOKEN}, 0, -1) . "X"
--- request
GET /admin/submissions
--- error_code: 401



=== TEST 4: oldest first, with a cursor
--- init
main::seed();
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions?limit=2", "GET /admin/submissions?limit=2&after=1-2"]
--- response_body eval
[qq{{"submissions":[{"id":"1-1","received":"2026-01-01T00:00:00Z","handled":false,"fields":{"name":"A1"}},{"id":"1-2","received":"2026-01-01T00:00:00Z","handled":false,"fields":{"name":"A2"}}],"next":"1-2","total":3,"unread":3}\n},
 qq{{"submissions":[{"id":"1-3","received":"2026-01-01T00:00:00Z","handled":false,"fields":{"name":"A3"}}],"next":null,"total":3,"unread":3}\n}]
--- no_error_log
[error]



=== TEST 5: bad parameters: 400
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions?limit=0", "GET /admin/submissions?limit=101", "GET /admin/submissions?after=abc"]
--- error_code eval
[400, 400, 400]



=== TEST 5a: ids out of Redis's range: 400, not a Redis error
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions?after=99999999999999999999-0",
 "GET /admin/submissions?after=1-18446744073709551616",
 "GET /admin/submissions?after=18446744073709551615-18446744073709551615",
 "GET /admin/submissions/99999999999999999999-0",
 "DELETE /admin/submissions/1-99999999999999999999",
 "GET /admin/submissions?after=18446744073709551615-18446744073709551614"]
--- error_code eval
[400, 400, 400, 400, 400, 200]
--- response_body_like eval
[qr/after must be a submission id/, qr/after must be a submission id/,
 qr/after must be a submission id/, qr/"status":400/, qr/"status":400/,
 qr/^\{"submissions":\[\],"next":null,"total":\d+,"unread":\d+\}$/]
--- no_error_log
[error]



=== TEST 6: get, delete (erasure), then gone
--- init
main::seed();
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions/1-2", "DELETE /admin/submissions/1-2", "GET /admin/submissions/1-2", "DELETE /admin/submissions/1-2"]
--- error_code eval
[200, 204, 404, 404]
--- response_body eval
[qq{{"id":"1-2","received":"2026-01-01T00:00:00Z","handled":false,"fields":{"name":"A2"}}\n}, "",
 qq{{"error":{"status":404,"message":"no such submission"}}\n},
 qq{{"error":{"status":404,"message":"no such submission"}}\n}]



=== TEST 7: a tenant sees only its own stream, whatever the id
--- init
main::seed();
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN_B}\r\nHost: b.example"
--- request eval
["GET /admin/submissions", "GET /admin/submissions/1-3"]
--- error_code eval
[200, 404]
--- response_body eval
[qq{{"submissions":[{"id":"1-1","received":null,"handled":false,"fields":{"name":"B-secret"}}],"next":null,"total":1,"unread":1}\n},
 qq{{"error":{"status":404,"message":"no such submission"}}\n}]



=== TEST 8: a crafted id cannot leave the tenant's stream
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions/..%2F..%2Fb.example", "GET /admin/submissions/1-1%20clinic:{b.example}:submissions", "GET /admin/other"]
--- error_code eval
[404, 404, 404]



=== TEST 9: purge drops the tenant's pages: the next request renders again
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /treatments/joint-manipulation", "GET /treatments/joint-manipulation", "POST /admin/purge", "GET /treatments/joint-manipulation"]
--- response_headers_like eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT", "", "X-Clinic-Cache: MISS"]
--- response_body_like eval
[qr/Joint Manipulation/, qr/Joint Manipulation/, qr/^\{"purged":1,"generation":1\}$/, qr/Joint Manipulation/]



=== TEST 10: purge removed the pages from Redis too, and purge/<slug> works
--- init
my $n = ClinicTest::redis_cmd('SCARD', 'clinic:{localhost}:pages');
die "pages set has $n members" unless $n == 1;
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["POST /admin/purge/joint-manipulation", "GET /admin/purge"]
--- error_code eval
[200, 405]
--- response_body_like eval
[qr/^\{"purged":\d+,"generation":2\}$/, qr/method not allowed/]



=== TEST 11: lint reports unresolved links and unreadable files
--- init
open my $fh, '>', "$ENV{TEST_NGINX_HTML_DIR}/articles/broken.txt" or die $!;
print $fh "Broken\n\n\xff\xfe not utf-8\n";
close $fh;
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request
GET /admin/lint
--- response_body_like eval
qr/^\{"articles":\[\{"slug":"joint-manipulation","file":"joint-manipulation\.txt","title":"Joint Manipulation","warnings":\[\],"unresolved_links":\["or cupping"\]\},\{"slug":"spinal-decompression",.*"problems":\[\{"file":"broken\.txt","reason":"[^"]+"\}\],"ok":false\}$/



=== TEST 12: purge of something that cannot be a slug: 404, nothing purged
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["POST /admin/purge/-leading-dash", "POST /admin/purge/Upper", "POST /admin/purge/" . ('a' x 129)]
--- error_code eval
[404, 404, 404]
--- response_body eval
[qq{{"error":{"status":404,"message":"no such article"}}\n}, qq{{"error":{"status":404,"message":"no such article"}}\n}, qq{{"error":{"status":404,"message":"no such article"}}\n}]



=== TEST 13: lint: redirect_from that cannot work (an article's own slug, a slug two articles claim, not a slug) and a removed: that is neither yes nor no
--- http_config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
--- config
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /admin/ { clinic_admin; }
--- user_files
>>> token
token-of-localhost-0123456789
>>> articles/alpha.txt
---
redirect_from: shared-old, Not A Slug, beta
---
Alpha
>>> articles/beta.txt
---
redirect_from: shared-old
---
Beta
>>> articles/kept.txt
---
removed: maybe
---
Kept
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request
GET /admin/lint
--- response_body eval
'{"articles":[{"slug":"alpha","file":"alpha.txt","title":"Alpha","warnings":["line 2: redirect_from \"Not A Slug\" is not a slug (a-z, 0-9 and \"-\"), left out"],"unresolved_links":[]},'
. '{"slug":"beta","file":"beta.txt","title":"Beta","warnings":[],"unresolved_links":[]},'
. '{"slug":"kept","file":"kept.txt","title":"Kept","warnings":["line 2: removed \"maybe\" is neither yes nor no, the article is not removed"],"unresolved_links":[]}],'
. '"problems":[{"file":"alpha.txt","reason":"redirect_from \"beta\" is the slug of beta.txt and is ignored, the article is served"},'
. '{"file":"beta.txt","reason":"redirect_from \"shared-old\" is also claimed by alpha.txt, which wins"}],"ok":false}' . "\n"
--- no_error_log
[error]
