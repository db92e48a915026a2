# The clinic staff's inbox (docs/api.md, "Inbox"): the app's own files
# without a token, the strict headers of every answer, newest first with
# a cursor, the handled marks and the unread count, erasure dropping the
# mark, the CSV export, several tokens per tenant, tenants kept apart.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_TOKEN} = 'token-of-the-front-desk-0123';
$ENV{TEST_NGINX_TOKEN_2} = 'token-of-the-manager-0123456';
$ENV{TEST_NGINX_TOKEN_GONE} = 'token-of-a-former-employee-01';
$ENV{TEST_NGINX_TOKEN_B} = 'token-of-tenant-b-0123456789';

ClinicTest::redis_start();

our $A = 'clinic:{localhost}:submissions';
our $H = 'clinic:{localhost}:handled';
our $B = 'clinic:{b.example}:submissions';

our $CSP = "default-src 'none'; script-src 'self'; style-src 'self'; "
         . "img-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
         . "form-action 'self'; base-uri 'none'";

# the headers every answer of the location carries
our $STRICT = "Content-Security-Policy: $CSP\n"
            . "Cache-Control: no-store\n"
            . "X-Frame-Options: DENY\n"
            . "Referrer-Policy: no-referrer\n"
            . "X-Content-Type-Options: nosniff\n";

sub seed {
    my ($n) = @_;
    ClinicTest::redis_cmd('FLUSHDB');
    ClinicTest::redis_cmd('XADD', $A, "1-$_", 'received',
                          "2026-01-0${_}T00:00:00Z", 'name', "A$_")
        for 1 .. ($n // 5);
    ClinicTest::redis_cmd('XADD', $B, '1-1', 'name', 'B-secret');
}

sub auth { "Authorization: Bearer " . ($_[0] // $ENV{TEST_NGINX_TOKEN}) }

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
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/tokens;
    location /admin/ { clinic_admin; }
CONF
    $block->set_value('user_files', <<'FILES');
>>> tokens
# front desk
token-of-the-front-desk-0123

  token-of-the-manager-0123456  
# token-of-a-former-employee-01 (left in May)
>>> token_b
token-of-tenant-b-0123456789
FILES
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the app's page, without a token, with the strict headers
--- request
GET /admin/
--- response_headers eval
"Content-Type: text/html; charset=utf-8\n$main::STRICT"
--- response_body_like eval
qr{^<!DOCTYPE html>(?=.*<span id="unread-count">)(?=.*<a id="export-csv" href="submissions.csv">)(?=.*<button id="signout" type="button">)(?=.*<form id="signin">.*<input id="token" name="token" type="password".*<button type="submit">.*</form>)(?=.*<ul id="inbox"></ul>)(?=.*<section id="lead" hidden>.*<button id="mark-handled" type="button">.*<button id="erase" type="button">.*</section>)}s
--- no_error_log
[error]



=== TEST 2: the app has no inline script or style and loads nothing from elsewhere
--- request
GET /admin/
--- response_body_unlike eval
qr{<script>|<script(?![^>]*src="inbox\.js")|<style|\sstyle=|\son[a-z]+=|https?:|//}i



=== TEST 3: the script and the style, with their types and the strict headers
--- request eval
["GET /admin/inbox.js", "GET /admin/inbox.css", "HEAD /admin/inbox.js"]
--- response_headers eval
["Content-Type: text/javascript; charset=utf-8\n$main::STRICT",
 "Content-Type: text/css; charset=utf-8\n$main::STRICT",
 "Content-Type: text/javascript; charset=utf-8\n$main::STRICT"]
--- response_body_like eval
[qr/sessionStorage.*'Authorization': 'Bearer ' \+ token\(\).*textContent/s,
 qr/#inbox \{/, qr/^$/]



=== TEST 4: the app's files take GET and HEAD only; other names are the API's
--- request eval
["POST /admin/", "DELETE /admin/inbox.js", "GET /admin/inbox.html", "GET /admin/inbox.js/x"]
--- error_code eval
[405, 405, 401, 401]
--- response_headers eval
["Allow: GET, HEAD", "Allow: GET, HEAD", "", ""]



=== TEST 5: the API's answers carry the strict headers too, a 401 as well
--- more_headers eval
[main::auth(), "", main::auth()]
--- request eval
["GET /admin/submissions", "GET /admin/submissions", "GET /admin/nothing"]
--- error_code eval
[200, 401, 404]
--- response_headers eval
["Content-Type: application/json; charset=utf-8\n$main::STRICT",
 "WWW-Authenticate: Bearer realm=\"clinic admin\"\n$main::STRICT",
 $main::STRICT]



=== TEST 6: every token of the file works; a commented-out one does not
--- init
main::seed();
--- more_headers eval
[main::auth($ENV{TEST_NGINX_TOKEN}), main::auth($ENV{TEST_NGINX_TOKEN_2}),
 main::auth($ENV{TEST_NGINX_TOKEN_GONE}), main::auth('# front desk'),
 main::auth(substr($ENV{TEST_NGINX_TOKEN_2}, 0, -1)),
 main::auth($ENV{TEST_NGINX_TOKEN} . $ENV{TEST_NGINX_TOKEN_2})]
--- request eval
["GET /admin/submissions?limit=1", "GET /admin/submissions?limit=1",
 "GET /admin/submissions?limit=1", "GET /admin/submissions?limit=1",
 "GET /admin/submissions?limit=1", "GET /admin/submissions?limit=1"]
--- error_code eval
[200, 200, 401, 401, 401, 401]
--- no_error_log
[error]



=== TEST 7: another tenant's token never works, nor ours in its server
--- init
main::seed();
--- more_headers eval
[main::auth($ENV{TEST_NGINX_TOKEN_B}),
 main::auth($ENV{TEST_NGINX_TOKEN}) . "\r\nHost: b.example",
 main::auth($ENV{TEST_NGINX_TOKEN_2}) . "\r\nHost: b.example",
 main::auth($ENV{TEST_NGINX_TOKEN_B}) . "\r\nHost: b.example"]
--- request eval
["GET /admin/submissions", "GET /admin/submissions", "GET /admin/submissions.csv", "GET /admin/submissions"]
--- error_code eval
[401, 401, 401, 200]
--- response_body_like eval
[qr/a valid bearer token is required/, qr/a valid bearer token is required/,
 qr/a valid bearer token is required/, qr/"B-secret"/]



=== TEST 8: newest first, with a cursor
--- init
main::seed();
--- more_headers eval
main::auth()
--- request eval
["GET /admin/submissions?order=desc&limit=2",
 "GET /admin/submissions?order=desc&limit=2&before=1-4",
 "GET /admin/submissions?order=desc&limit=2&before=1-2"]
--- response_body eval
[qq{{"submissions":[{"id":"1-5","received":"2026-01-05T00:00:00Z","handled":false,"fields":{"name":"A5"}},{"id":"1-4","received":"2026-01-04T00:00:00Z","handled":false,"fields":{"name":"A4"}}],"next":"1-4","total":5,"unread":5}\n},
 qq{{"submissions":[{"id":"1-3","received":"2026-01-03T00:00:00Z","handled":false,"fields":{"name":"A3"}},{"id":"1-2","received":"2026-01-02T00:00:00Z","handled":false,"fields":{"name":"A2"}}],"next":"1-2","total":5,"unread":5}\n},
 qq{{"submissions":[{"id":"1-1","received":"2026-01-01T00:00:00Z","handled":false,"fields":{"name":"A1"}}],"next":null,"total":5,"unread":5}\n}]
--- no_error_log
[error]



=== TEST 9: before and after bound either order; bad values answer 400
--- more_headers eval
main::auth()
--- request eval
["GET /admin/submissions?order=desc&after=1-2&before=1-5",
 "GET /admin/submissions?order=asc&after=1-2&before=1-5",
 "GET /admin/submissions?order=newest",
 "GET /admin/submissions?order=desc&before=abc",
 "GET /admin/submissions?order=desc&before=0-0",
 "GET /admin/submissions?before=1-99999999999999999999"]
--- error_code eval
[200, 200, 400, 400, 400, 400]
--- response_body_like eval
[qr/^\{"submissions":\[\{"id":"1-4".*\{"id":"1-3".*"next":null/,
 qr/^\{"submissions":\[\{"id":"1-3".*\{"id":"1-4".*"next":null/,
 qr/"order must be asc or desc"/, qr/"before must be a submission id"/,
 qr/"before must be a submission id"/, qr/"before must be a submission id"/]
--- no_error_log
[error]



=== TEST 10: marking handled and unread; the unread count follows
--- init
main::seed();
--- more_headers eval
main::auth()
--- request eval
["POST /admin/submissions/1-2/handled", "POST /admin/submissions/1-2/handled",
 "POST /admin/submissions/1-4/handled", "GET /admin/submissions/1-2",
 "GET /admin/submissions?order=desc&limit=5",
 "DELETE /admin/submissions/1-4/handled",
 "GET /admin/submissions?order=desc&limit=1"]
--- error_code eval
[204, 204, 204, 200, 200, 204, 200]
--- response_body_like eval
[qr/^$/, qr/^$/, qr/^$/,
 qr/^\{"id":"1-2","received":"2026-01-02T00:00:00Z","handled":true,"fields":\{"name":"A2"\}\}$/,
 qr/"id":"1-5","received":"[^"]+","handled":false.*"id":"1-4","received":"[^"]+","handled":true.*"id":"1-3","received":"[^"]+","handled":false.*"id":"1-2","received":"[^"]+","handled":true.*"next":null,"total":5,"unread":3\}$/,
 qr/^$/, qr/"total":5,"unread":4\}$/]
--- no_error_log
[error]



=== TEST 11: the marks are in the tenant's sorted set, scored by time
--- init
my $s = ClinicTest::redis_cmd('ZSCORE', $main::H, '1-2');
die "1-2 is not marked: " . ($s // 'nil') unless defined $s && $s == 1;
my $n = ClinicTest::redis_cmd('ZCARD', $main::H);
die "$n marks" unless $n == 1;
--- more_headers eval
main::auth()
--- request
GET /admin/submissions?limit=1
--- response_body_like eval
qr/"unread":4\}$/



=== TEST 12: marks of what is not there: 404; bad ids, routes and methods
--- init
main::seed();
--- more_headers eval
main::auth()
--- request eval
["POST /admin/submissions/1-9/handled", "DELETE /admin/submissions/1-9/handled",
 "POST /admin/submissions/abc/handled", "POST /admin/submissions/1-99999999999999999999/handled",
 "GET /admin/submissions/1-2/handled", "POST /admin/submissions/1-2/other",
 "POST /admin/submissions/1-2/handled/x", "POST /admin/submissions"]
--- error_code eval
[404, 404, 404, 400, 405, 404, 404, 405]
--- response_headers eval
["", "", "", "", "Allow: POST, DELETE", "", "", "Allow: GET, HEAD"]
--- response_body_like eval
[qr/no such submission/, qr/no such submission/, qr/no such submission/,
 qr/two numbers of at most 64 bits/, qr/method not allowed/,
 qr/no such admin resource/, qr/no such admin resource/, qr/method not allowed/]
--- no_error_log
[error]



=== TEST 13: erasure drops the handled mark
--- init
main::seed();
--- more_headers eval
main::auth()
--- request eval
["POST /admin/submissions/1-3/handled", "POST /admin/submissions/1-1/handled",
 "DELETE /admin/submissions/1-3", "GET /admin/submissions?order=desc&limit=1",
 "POST /admin/submissions/1-3/handled"]
--- error_code eval
[204, 204, 204, 200, 404]
--- response_body_like eval
[qr/^$/, qr/^$/, qr/^$/, qr/"total":4,"unread":3\}$/, qr/no such submission/]



=== TEST 14: after erasure only the other mark is left
--- init
my $s = ClinicTest::redis_cmd('ZSCORE', $main::H, '1-3');
die "the erased entry is still marked" if defined $s;
die "1-1 lost its mark" unless defined ClinicTest::redis_cmd('ZSCORE', $main::H, '1-1');
--- more_headers eval
main::auth()
--- request
GET /admin/submissions/1-1
--- response_body_like eval
qr/"handled":true/



=== TEST 15: marks of entries retention trimmed are not counted, and go
--- init
main::seed();
ClinicTest::redis_cmd('XADD', $main::A, "5-1", 'name', 'late');
ClinicTest::redis_cmd('XTRIM', $main::A, 'MINID', '5');
ClinicTest::redis_cmd('ZADD', $main::H, '1', '1-1', '1', '1-2');
--- more_headers eval
main::auth()
--- request eval
["GET /admin/submissions?order=desc", "POST /admin/submissions/5-1/handled",
 "GET /admin/submissions?order=desc"]
--- error_code eval
[200, 204, 200]
--- response_body_like eval
[qr/"total":1,"unread":1\}$/, qr/^$/, qr/"handled":true.*"total":1,"unread":0\}$/]



=== TEST 16: the trimmed entries' marks are gone from Redis
--- init
my $n = ClinicTest::redis_cmd('ZCARD', $main::H);
die "$n marks left" unless $n == 1;
--- more_headers eval
main::auth()
--- request
GET /admin/submissions?limit=1
--- response_body_like eval
qr/"unread":0\}$/



=== TEST 17: the CSV export: a header row, every cell quoted, formulas defused
--- init
ClinicTest::redis_cmd('FLUSHDB');
ClinicTest::redis_cmd('XADD', $main::A, '1-1', 'name', 'Ann, Lee',
    'message', 'He said "ouch"', 'received', '2026-01-01T00:00:00Z');
ClinicTest::redis_cmd('XADD', $main::A, '1-2', 'name', '=HYPERLINK("x")',
    'phone', '+44 1234', 'message', "line1\r\nline2",
    'received', '2026-01-02T00:00:00Z');
ClinicTest::redis_cmd('XADD', $main::A, '1-3', 'name', 'Bo');
ClinicTest::redis_cmd('ZADD', $main::H, '1', '1-2');
ClinicTest::redis_cmd('XADD', $main::B, '1-1', 'name', 'B-secret');
--- more_headers eval
main::auth()
--- request
GET /admin/submissions.csv
--- response_headers eval
"Content-Type: text/csv; charset=utf-8\nContent-Disposition: attachment; filename=\"submissions.csv\"\n$main::STRICT"
--- response_body eval
qq{"id","received","status","name","message","phone"\r\n}
. qq{"1-1","2026-01-01T00:00:00Z","unread","Ann, Lee","He said ""ouch""",""\r\n}
. qq{"1-2","2026-01-02T00:00:00Z","handled","'=HYPERLINK(""x"")","line1\r\nline2","'+44 1234"\r\n}
. qq{"1-3","","unread","Bo","",""\r\n}
--- no_error_log
[error]



=== TEST 18: the CSV export of many submissions, page after page, in order
--- init
ClinicTest::redis_cmd('FLUSHDB');
ClinicTest::redis_cmd('XADD', $main::A, "2-$_", 'name', "N$_",
                      ($_ == 250 ? ('late', 'x') : ()))
    for 1 .. 250;
--- more_headers eval
main::auth()
--- request
GET /admin/submissions.csv
--- response_body eval
qq{"id","received","status","name","late"\r\n}
. CORE::join('', map { qq{"2-$_","","unread","N$_","} . ($_ == 250 ? 'x' : '') . qq{"\r\n} } 1 .. 250)
--- no_error_log
[error]



=== TEST 19: the CSV export of an empty inbox is its header; HEAD; methods
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- more_headers eval
main::auth()
--- request eval
["GET /admin/submissions.csv", "HEAD /admin/submissions.csv", "POST /admin/submissions.csv"]
--- error_code eval
[200, 200, 405]
--- response_body eval
[qq{"id","received","status"\r\n}, "", qq{{"error":{"status":405,"message":"method not allowed"}}\n}]



=== TEST 20: a large export (600 KB) to a slow client: each page is taken before the next is read
--- http_config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
--- config
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/tokens;
    location /admin/ { clinic_admin; limit_rate 2m; }
--- user_files
>>> tokens
token-of-the-front-desk-0123
--- init
ClinicTest::redis_cmd('FLUSHDB');
ClinicTest::redis_cmd('XADD', $main::A, "3-$_", 'message', 'x' x 2000)
    for 1 .. 300;
--- more_headers eval
main::auth()
--- request
GET /admin/submissions.csv
--- response_body_like eval
qr/^"id","received","status","message"\r\n("3-\d+","","unread","x{2000}"\r\n){300}$/
--- error_log
CSV export waits for the client
--- no_error_log
[error]
