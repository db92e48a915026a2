# Self test of the compat Test::Nginx::Socket runner (t/compat/) against
# stock nginx, no project module.
use Test::Nginx::Socket;

plan skip_all => 'self test of the compat runner (t/compat)'
    unless $Test::Nginx::Socket::VERSION =~ /compat/;

repeat_each(1);

plan tests => repeat_each() * 55;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

run_tests();

__DATA__

=== TEST 1: return a body
--- config
    location = /hello {
        return 200 "hello\n";
    }
--- request
    GET /hello
--- response_body
hello
--- error_code: 200
--- no_error_log
[error]



=== TEST 2: response headers, present and absent
--- config
    location = /h {
        add_header X-Foo "bar baz";
        add_header X-Num 42;
        return 200 "ok\n";
    }
--- request
GET /h
--- response_headers
X-Foo: bar baz
!X-Absent
Content-Length: 3
--- raw_response_headers_like: X-Num: 42\r\n
--- response_body
ok



=== TEST 3: response_headers_like
--- config
    location = /h {
        add_header X-Num 4242;
        return 204;
    }
--- request
GET /h
--- response_headers_like
X-Num: \d+
Server: nginx.*
--- error_code: 204
--- response_body:



=== TEST 4: POST body reaches nginx (trimmed, with Content-Length)
--- config
    location = /echo {
        client_body_in_single_buffer on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sink;
        proxy_set_header X-Body $request_body;
        proxy_set_header X-Len $content_length;
    }
    location = /sink {
        return 200 "got [$http_x_body] len $http_x_len\n";
    }
--- request
POST /echo
hello world
--- response_body
got [hello world] len 11



=== TEST 5: POST body over client_max_body_size
--- config
    location = /small {
        client_max_body_size 1;
        return 200 "not reached\n";
    }
--- more_headers
Content-Type: text/plain
--- request
POST /small
this body is too large
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log
client intended to send too large body: 22 bytes



=== TEST 6: must_die on an unknown directive
--- config
    location = /t {
        no_such_directive_here on;
    }
--- must_die
--- error_log
unknown directive "no_such_directive_here"



=== TEST 7: user_files served from $TEST_NGINX_HTML_DIR
--- config
    location /files/ {
        alias $TEST_NGINX_HTML_DIR/;
    }
--- user_files
>>> a.txt
file a
>>> sub/b.txt 200001020304.05
file b
--- request eval
["GET /files/a.txt", "GET /files/sub/b.txt"]
--- response_body eval
["file a\n", "file b\n"]
--- response_headers eval
["Content-Type: text/plain", "Last-Modified: Sun, 02 Jan 2000 03:04:05 GMT"]
--- no_error_log
[error]



=== TEST 8: pipelined requests, HEAD and GET
--- config
    location = /p {
        return 200 "pong\n";
    }
--- pipelined_requests eval
["HEAD /p", "GET /p", "GET /missing"]
--- error_code eval
[200, 200, 404]
--- response_body eval
["", "pong\n", qr/404 Not Found/]



=== TEST 9: HEAD alone
--- config
    location = /p {
        return 200 "pong\n";
    }
--- request
HEAD /p
--- response_headers
Content-Length: 5
--- response_body chomp



=== TEST 10: chunked response (sub_filter drops Content-Length)
--- config
    location = /c.txt {
        root $TEST_NGINX_HTML_DIR;
        sub_filter_types text/plain;
        sub_filter "world" "nginx";
    }
--- user_files
>>> c.txt
hello world
--- request
GET /c.txt
--- response_headers
Transfer-Encoding: chunked
--- response_body
hello nginx



=== TEST 11: raw_request, grep_error_log, error_log regex
--- config
    location = /r {
        return 200 "raw\n";
    }
--- raw_request eval
"GET /r?x=1 HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
raw
--- grep_error_log eval
qr/http args: "[^"]*"/
--- grep_error_log_out
http args: "x=1"
--- error_log eval
[qr/http request line: "GET \/r\?x=1 HTTP\/1\.0"/, "http finalize request"]



=== TEST 12: response_body_unlike, log_level, no_error_log array
--- config
    location = /u {
        return 200 "abc\n";
    }
--- log_level: warn
--- request
GET /u
--- response_body_unlike: xyz
--- no_error_log eval
["[debug]", qr/\[(?:error|alert|crit)\]/]



=== TEST 13: init runs after nginx has started, before the requests
--- config
    location = /i.txt {
        root $TEST_NGINX_HTML_DIR;
    }
--- init
my $f = html_dir() . "/i.txt";
open my $fh, '>', $f or die "$f: $!";
print $fh "made by init\n";
close $fh;
--- request
GET /i.txt
--- response_body
made by init



=== TEST 14: timeout with abort is not a failure
--- config
    location = /slow.txt {
        root $TEST_NGINX_HTML_DIR;
        limit_rate_after 300;
        limit_rate 1;
    }
--- user_files eval
[["slow.txt" => "a" x 2000]]
--- request
GET /slow.txt
--- timeout: 300ms
--- abort
--- response_body_like: ^a



=== TEST 15: skip_eval
--- config
--- request
GET /
--- skip_eval: 2: 1
--- response_body
never
