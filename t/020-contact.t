# The contact form (docs/directives.md, docs/operations.md): methods, body types, limits, validation,
# spam defences, storage in Redis, idempotency and the spool.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;
use File::Temp ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_TOKEN} = 'test-token-0123456789abcdef';

ClinicTest::redis_start();

our $Spool = File::Temp::tempdir('clinic-spool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 01777, $Spool;
$ENV{TEST_NGINX_SPOOL} = $Spool;

our $Stream = 'clinic:{localhost}:submissions';

sub xlen { ClinicTest::redis_cmd('XLEN', $main::Stream) }

sub last_entry {
    my $r = ClinicTest::redis_cmd('XREVRANGE', $main::Stream, '+', '-', 'COUNT', 1);
    return {} unless $r && @$r;
    my %h = @{ $r->[0][1] };
    return \%h;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: GET, HEAD and POST only: 405 with Allow (JSON to a JSON client)
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Accept: application/json
--- request
DELETE /contact
--- error_code: 405
--- response_headers
Allow: GET, HEAD, POST
--- response_body
{"error":{"status":405,"message":"method not allowed"}}



=== TEST 2: an unsupported body type: 415
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: text/plain
Accept: application/json
--- request
POST /contact
name=Ann
--- error_code: 415
--- response_body_like: application/x-www-form-urlencoded, multipart/form-data or application/json



=== TEST 3: a plain HTML form is stored and redirected with 303
--- init
ClinicTest::redis_cmd('DEL', $main::Stream);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_redirect /thanks;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
User-Agent: TestBrowser/1.0
Referer: http://localhost/book
--- request
POST /contact
name=Ann+Lee&email=ann%40example.com&phone=%2B44+20+7946+0000&message=Stiff+neck%2C+since+Monday.&extra=ignored
--- error_code: 303
--- response_headers_like
Location: .*/thanks
--- no_error_log
[error]



=== TEST 4: the stored entry holds the declared fields and the request's data, nothing else
--- init
my $e = main::last_entry();
die "unexpected entry: " . join(',', %$e) unless
    $e->{name} eq 'Ann Lee' && $e->{email} eq 'ann@example.com'
    && $e->{phone} eq '+44 20 7946 0000' && $e->{message} eq 'Stiff neck, since Monday.'
    && $e->{ip} eq '127.0.0.1' && $e->{user_agent} eq 'TestBrowser/1.0'
    && $e->{page} eq 'http://localhost/book'
    && $e->{received} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/
    && !exists $e->{extra} && main::xlen() == 1;
--- config
    location = /t { return 200 "checked\n"; }
--- request
GET /t
--- response_body
checked



=== TEST 5: a JSON client gets 201 and the stream id
--- init
ClinicTest::redis_cmd('DEL', $main::Stream);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request
POST /contact
{"name":"Bo","email":"bo@example.com","message":"Hello"}
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$
--- no_error_log
[error]



=== TEST 6: multipart/form-data without files is accepted
--- init
ClinicTest::redis_cmd('DEL', $main::Stream);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: multipart/form-data; boundary=XyZ
Accept: application/json
--- request eval
"POST /contact\r\n--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nCy\r\n--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\ncy\@example.com\r\n--XyZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nLine one\r\nLine two\r\n--XyZ--\r\n"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 7: a file upload is refused: 415
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: multipart/form-data; boundary=XyZ
Accept: application/json
--- request eval
"POST /contact\r\n--XyZ\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\n\r\n%PDF\r\n--XyZ--\r\n"
--- error_code: 415



=== TEST 8: a truncated multipart body: 400
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: multipart/form-data; boundary=XyZ
Accept: application/json
--- request eval
"POST /contact\r\n--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nCy\r\n"
--- error_code: 400



=== TEST 9: bad percent-encoding: 400
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: application/json
--- request
POST /contact
name=A%G1&email=a%40b.co&message=x
--- error_code: 400



=== TEST 10: deeply nested JSON: 400, no crash
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request eval
"POST /contact\r\n" . ('{"a":' x 5000) . '1' . ('}' x 5000)
--- error_code: 400



=== TEST 11: a huge number of fields: 413
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; client_max_body_size 1m; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: application/json
--- request eval
"POST /contact\r\n" . CORE::join('&', map { "f$_=1" } 1 .. 20000)
--- error_code: 413



=== TEST 12: a body over the limit: 413
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; client_max_body_size 1k; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /contact\r\nmessage=" . ('x' x 5000)
--- error_code: 413



=== TEST 13: every failing field is listed in the 422
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact {
        clinic_contact;
        clinic_contact_field name required max=5;
        clinic_contact_field email required type=email;
        clinic_contact_field phone type=phone;
        clinic_contact_field postcode "pattern=[A-Z]{2}[0-9]";
        clinic_contact_field message required;
    }
--- more_headers
Content-Type: application/json
--- request
POST /contact
{"name":"Bartholomew","email":"not-an-email","phone":"call me","postcode":"ab1"}
--- error_code: 422
--- response_body
{"error":{"status":422,"message":"validation failed","fields":[{"field":"name","message":"must be at most 5 characters"},{"field":"email","message":"must be a valid email address"},{"field":"phone","message":"must be a valid phone number"},{"field":"postcode","message":"does not match the required format"},{"field":"message","message":"is required"}]}}



=== TEST 14: invalid UTF-8 in a value: 422
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: application/json
--- request
POST /contact
name=%C3%28&email=a%40b.co&message=hi
--- error_code: 422
--- response_body_like: "field":"name","message":"is not valid UTF-8"



=== TEST 15: a filled honeypot pretends success and stores nothing
--- init
ClinicTest::redis_cmd('DEL', $main::Stream);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; clinic_contact_honeypot website; }
    location = /len { return 200 "see init\n"; }
--- more_headers
Content-Type: application/json
--- request
POST /contact
{"name":"Bot","email":"bot@example.com","message":"Buy now","website":"http://spam.example"}
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$
--- error_log
honeypot filled, submission dropped



=== TEST 16: nothing was stored for the honeypot
--- init
die "stored a honeypot submission" if main::xlen() != 0;
--- config
    location = /t { return 200 "checked\n"; }
--- request
GET /t
--- response_body
checked



=== TEST 17: the client rate limit answers 429 with Retry-After
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; clinic_contact_limit client=2/1m; }
--- more_headers
Content-Type: application/json
--- request eval
[qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"one"}},
 qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"two"}},
 qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"three"}}]
--- error_code eval
[201, 201, 429]
--- response_headers_like eval
["", "", "Retry-After: [1-6]?[0-9]"]



=== TEST 18: the tenant rate limit counts every client
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; clinic_contact_limit client=off tenant=1/1h; }
--- more_headers
Content-Type: application/json
--- request eval
[qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"one"}},
 qq{POST /contact\r\n{"name":"B","email":"b\@example.com","message":"two"}}]
--- error_code eval
[201, 429]



=== TEST 18a: a submission the client's limit refuses does not count against the tenant's
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; clinic_contact_limit client=1/1h tenant=5/1h; }
    location = /t { return 200 "checked\n"; }
--- more_headers
Content-Type: application/json
--- request eval
[qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"one"}},
 qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"two"}},
 qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"three"}}]
--- error_code eval
[201, 429, 429]



=== TEST 18b: ... the tenant's counter holds the one it let through
--- init
my $n = ClinicTest::redis_cmd('GET', 'clinic:{localhost}:limit:tenant');
die "tenant counter: " . ($n // 'none') unless defined $n && $n == 1;
--- request
GET /t
--- response_body
checked



=== TEST 19: an Origin naming another site: 403
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
Origin: https://evil.example
--- request
POST /contact
{"name":"A","email":"a@example.com","message":"x"}
--- error_code: 403
--- response_body_like: only be sent from the clinic's own site



=== TEST 19a: two Origin headers that disagree: 403, whichever comes first
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
Origin: http://localhost
Origin: https://evil.example
--- request
POST /contact
{"name":"A","email":"a@example.com","message":"two origins"}
--- error_code: 403
--- response_body_like: only be sent from the clinic's own site



=== TEST 19b: the same Origin twice passes
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
Origin: http://localhost
Origin: http://localhost
--- request
POST /contact
{"name":"A","email":"a@example.com","message":"same origin twice"}
--- error_code: 201



=== TEST 20: without Origin, a Referer naming another site: 403
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
Referer: http://localhost.evil.example/form
--- request
POST /contact
{"name":"A","email":"a@example.com","message":"x"}
--- error_code: 403



=== TEST 21: the tenant's own Origin passes
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
Origin: http://localhost:8080
--- request
POST /contact
{"name":"A","email":"a@example.com","message":"x"}
--- error_code: 201



=== TEST 22: a double submit and a retried Idempotency-Key are stored once
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; clinic_contact_limit client=off tenant=off; }
--- more_headers
Content-Type: application/json
Idempotency-Key: 5f1c2a
--- request eval
[qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"first try"}},
 qq{POST /contact\r\n{"name":"A","email":"a\@example.com","message":"first try, edited"}}]
--- error_code eval
[201, 201]



=== TEST 23: ... and the stream holds one entry
--- init
die "expected one entry, found " . main::xlen() if main::xlen() != 1;
--- config
    location = /t { return 200 "checked\n"; }
--- request
GET /t
--- response_body
checked



=== TEST 24: clinic_contact_store_ip off leaves the address out
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_store_ip off;
    clinic_contact_retention 30d;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request
POST /contact
{"name":"A","email":"a@example.com","message":"no ip please"}
--- error_code: 201



=== TEST 25: ... no ip stored, and the stream expires with the retention
--- init
my $e = main::last_entry();
die "ip stored" if exists $e->{ip};
die "no message" unless $e->{message} eq 'no ip please';
my $ttl = ClinicTest::redis_cmd('PTTL', $main::Stream);
die "retention not applied: pttl $ttl" unless $ttl > 29 * 86400 * 1000 && $ttl <= 30 * 86400 * 1000;
--- config
    location = /t { return 200 "checked\n"; }
--- request
GET /t
--- response_body
checked



=== TEST 26: Redis down and no spool: 503 asking to call the clinic
--- init
ClinicTest::redis_stop();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request
POST /contact
{"name":"A","email":"a@example.com","message":"hello"}
--- error_code: 503
--- response_body_like: please call the clinic



=== TEST 27: Redis down with a spool: 202 queued, fsync'd to disk
--- init
ClinicTest::redis_cont();
ClinicTest::redis_cmd('DEL', $main::Stream);
ClinicTest::redis_stop();
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request eval
[qq{POST /contact\r\n{"name":"Spool One","email":"s1\@example.com","message":"queued 1"}},
 qq{POST /contact\r\n{"name":"Spool Two","email":"s2\@example.com","message":"queued 2"}}]
--- error_code eval
[202, 202]
--- response_body_like eval
[qr/^\{"id":"[^"]+","status":"queued"\}$/, qr/^\{"id":"[^"]+","status":"queued"\}$/]



=== TEST 28: after a restart of nginx with Redis back, the spool is replayed once and in order
--- init
ClinicTest::redis_cont();
sleep 3;
my $r = ClinicTest::redis_cmd('XRANGE', $main::Stream, '-', '+');
my @names = map { my %h = @{ $_->[1] }; $h{name} } @$r;
die "replayed: @names" unless "@names" eq "Spool One Spool Two";
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
    location = /t { return 200 "checked\n"; }
--- request
GET /t
--- response_body
checked



=== TEST 29: a plain form without clinic_contact_redirect gets a thank-you page
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=Dee&email=dee%40example.com&message=Hello
--- error_code: 200
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body_like: ^<!DOCTYPE html>\n.*<h1>Message sent</h1>\n<div class="clinic-notice" id="thank-you">\n<p>Thank you, we have received your message and will get back to you soon\.</p>\n.*</html>\n$



=== TEST 30: a plain form with mistakes gets an HTML page naming each field
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=%3Cb%3EDee&email=nope
--- error_code: 422
--- response_body_like: <h1>Contact us</h1>\n.*<div id="error-summary" role="alert" tabindex="-1">\n<h2>Please check the form</h2>\n<ul>\n<li><a href="#field-email">Email must be a valid email address</a></li>\n<li><a href="#field-message">Message is required</a></li>\n</ul>\n.*value="&lt;b&gt;Dee".*</html>\n$
