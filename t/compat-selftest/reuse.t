# Self test of the compat runner: repeat_each, master + workers, blocks
# without --- config reusing the running nginx, shutdown_error_log, packets.
use Test::Nginx::Socket;

plan skip_all => 'self test of the compat runner (t/compat)'
    unless $Test::Nginx::Socket::VERSION =~ /compat/;

repeat_each(2);
no_shuffle();
master_on();
workers(2);

plan tests => repeat_each() * 7 + 1;

run_tests();

__DATA__

=== TEST 1: master + 2 workers, more_headers, body filters, access_log
--- config
    location = /hdr {
        return 200 "ua=$http_user_agent x=$http_x_foo\n";
    }
--- more_headers
X-Foo: bar
User-Agent: compat-selftest
--- request
GET /hdr
--- response_body_filters
uc
--- response_body
UA=COMPAT-SELFTEST X=BAR
--- error_code_like: ^2\d\d$
--- access_log
"GET /hdr HTTP/1.1" 200



=== TEST 2: no --- config: runs against the previous block's nginx
--- request
GET /hdr
--- response_body_like: ^ua=\s
--- shutdown_error_log
exiting



=== TEST 3: request split in packets with a delay; --- server_name
--- config
    location = /echo {
        client_body_in_single_buffer on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sink;
        proxy_set_header X-Body $request_body;
        proxy_set_header Host $host;
    }
    location = /sink {
        return 200 "[$http_x_body] $server_name\n";
    }
--- server_name: example.test
--- request eval
[["POST /echo\nhel", {value => "lo", delay_before => 0.05}]]
--- response_body
[hello] example.test
