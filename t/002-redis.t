# The Redis layer: pipelined non-blocking connection per worker and
# endpoint, timeouts, fail-fast while down, reconnect with backoff,
# AUTH and SELECT at connect, replies larger than 16 KB.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';

use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();
ClinicTest::blackhole_port();

$ENV{TEST_NGINX_TOKEN} = 'test-token-0123456789abcdef';

our $BigValue = join '', map { sprintf "%08d\n", $_ } 1 .. 12000;  # 108000 bytes

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a stored submission is read back through Redis
--- init
ClinicTest::redis_cmd('DEL', 'clinic:{localhost}:submissions');
ClinicTest::redis_cmd('XADD', 'clinic:{localhost}:submissions', '1700000000000-0',
    'received', '2023-11-14T22:13:20Z', 'name', 'Ann Lee', 'message', 'Stiff neck');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
--- user_files
>>> token
test-token-0123456789abcdef
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request
GET /admin/submissions
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body
{"submissions":[{"id":"1700000000000-0","received":"2023-11-14T22:13:20Z","handled":false,"fields":{"name":"Ann Lee","message":"Stiff neck"}}],"next":null,"total":1,"unread":1}
--- no_error_log
[error]



=== TEST 2: a reply of more than 100 KB arrives whole
--- init
ClinicTest::redis_cmd('DEL', 'clinic:{localhost}:submissions');
ClinicTest::redis_cmd('XADD', 'clinic:{localhost}:submissions', '1-1',
    'received', '2023-11-14T22:13:20Z', 'message', $main::BigValue);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
--- user_files
>>> token
test-token-0123456789abcdef
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request
GET /admin/submissions/1-1
--- response_body eval
my $v = $main::BigValue; $v =~ s/\n/\\n/g;
qq{{"id":"1-1","received":"2023-11-14T22:13:20Z","handled":false,"fields":{"message":"$v"}}\n}
--- no_error_log
[error]



=== TEST 3: many requests share the pipelined connection
--- init
ClinicTest::redis_cmd('DEL', 'clinic:{localhost}:submissions');
ClinicTest::redis_cmd('XADD', 'clinic:{localhost}:submissions', '5-5', 'name', 'Bo');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
--- user_files
>>> token
test-token-0123456789abcdef
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- pipelined_requests eval
["GET /admin/submissions/5-5", "GET /admin/submissions/5-5", "GET /admin/submissions/9-9"]
--- error_code eval
[200, 200, 404]
--- response_body eval
[qq{{"id":"5-5","received":null,"handled":false,"fields":{"name":"Bo"}}\n},
 qq{{"id":"5-5","received":null,"handled":false,"fields":{"name":"Bo"}}\n},
 qq{{"error":{"status":404,"message":"no such submission"}}\n}]
--- no_error_log
[error]



=== TEST 4: clinic_status reports the endpoint's health
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
    location = /status { clinic_status; }
--- user_files
>>> token
test-token-0123456789abcdef
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions", "GET /status"]
--- response_body_like eval
[qr/"submissions"/,
 qr/clinic_redis_up\{endpoint="127\.0\.0\.1:\d+ timeout=\d+ms"\} 1\n(?s:.*)clinic_redis_commands_total\{endpoint="127\.0\.0\.1:\d+ timeout=\d+ms"\} 2\n(?s:.*)clinic_redis_latency_seconds_bucket\{endpoint="127\.0\.0\.1:\d+ timeout=\d+ms",le="0\.0005"\} \d+\nclinic_redis_latency_seconds_bucket\{endpoint="[^"]+",le="0\.001"\} \d+\n(?s:.*)le="0\.25"\} \d+\nclinic_redis_latency_seconds_bucket\{endpoint="[^"]+",le="1"\} \d+\n(?s:.*)clinic_redis_latency_seconds_count\{endpoint="127\.0\.0\.1:\d+ timeout=\d+ms"\} 2\n(?s:.*)clinic_requests_total\{tenant="localhost",handler="admin",code="2xx"\} 1\n/]
--- no_error_log
[error]



=== TEST 5: Redis stopped: Redis-bound requests fail after the timeout, then fail fast
--- init
ClinicTest::redis_stop();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=300ms;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
--- user_files
>>> token
test-token-0123456789abcdef
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions", "GET /admin/submissions"]
--- error_code eval
[503, 503]
--- response_body eval
[qq{{"error":{"status":503,"message":"submissions are temporarily unavailable, try again shortly"}}\n},
 qq{{"error":{"status":503,"message":"submissions are temporarily unavailable, try again shortly"}}\n}]



=== TEST 6: Redis stopped: a request that does not need Redis answers while one that does waits
--- init
ClinicTest::redis_stop();
ClinicTest::background_request($ENV{TEST_NGINX_SERVER_PORT},
    "GET /admin/submissions HTTP/1.0\r\nAuthorization: Bearer $ENV{TEST_NGINX_TOKEN}\r\n\r\n", 4);
select undef, undef, undef, 0.3;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=2s;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
    location = /ping { return 200 "pong\n"; }
--- user_files
>>> token
test-token-0123456789abcdef
--- request
GET /ping
--- timeout: 1
--- response_body
pong
--- wait: 2.5
--- error_log
is unavailable (timed out)



=== TEST 7: after SIGCONT the same nginx recovers without a reload
--- init
ClinicTest::redis_stop();
ClinicTest::redis_cont_later(0.4);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
    location = /wait {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT;
        proxy_read_timeout 1500ms;
    }
--- user_files
>>> token
test-token-0123456789abcdef
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions/1-1", "GET /wait", "GET /admin/submissions/1-1"]
--- error_code eval
[503, 504, 404]
--- response_body_like eval
[qr/unavailable/, qr/504 Gateway/, qr/"no such submission"/]



=== TEST 8: Redis killed and restarted: the module reconnects without a reload
--- init
ClinicTest::redis_cont();
ClinicTest::redis_kill();
ClinicTest::redis_start_later(0.3);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
    location = /wait {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT;
        proxy_read_timeout 2s;
    }
--- user_files
>>> token
test-token-0123456789abcdef
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request eval
["GET /admin/submissions", "GET /wait", "GET /admin/submissions"]
--- error_code eval
[503, 504, 200]
--- response_body eval
[qq{{"error":{"status":503,"message":"submissions are temporarily unavailable, try again shortly"}}\n},
 qr/504 Gateway/,
 qq{{"submissions":[],"next":null,"total":0,"unread":0}\n}]



=== TEST 9: a client that gives up while its Redis operation is pending is detached safely
--- init
ClinicTest::redis_stop();
ClinicTest::background_request($ENV{TEST_NGINX_SERVER_PORT},
    "GET /admin/submissions HTTP/1.0\r\nAuthorization: Bearer $ENV{TEST_NGINX_TOKEN}\r\n\r\n", 0.2);
select undef, undef, undef, 0.5;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1s;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
    location = /ping { return 200 "pong\n"; }
--- user_files
>>> token
test-token-0123456789abcdef
--- request
GET /ping
--- response_body
pong
--- wait: 1
--- error_log
client prematurely closed connection
is unavailable (timed out)
--- no_error_log
[alert]
[crit]



=== TEST 10: clinic_status reports a down endpoint and its timeouts
--- init
ClinicTest::redis_stop();
ClinicTest::redis_cont_later(1.5);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
    location = /status { clinic_status; }
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- user_files
>>> token
test-token-0123456789abcdef
--- request eval
["GET /admin/submissions", "GET /status"]
--- error_code eval
[503, 200]
--- response_body_like eval
[qr/unavailable/,
 qr/clinic_redis_up\{endpoint="127\.0\.0\.1:\d+"\} 0\n(?s:.*)clinic_redis_timeouts_total\{endpoint="127\.0\.0\.1:\d+"\} [1-9]\d*\n(?s:.*)clinic_requests_total\{tenant="localhost",handler="admin",code="5xx"\} 1\n/]



=== TEST 11: the outage and the recovery are each logged once, not per request
--- init
ClinicTest::redis_stop();
ClinicTest::redis_cont_later(0.4);
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    location = /wait {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT;
        proxy_read_timeout 1500ms;
    }
--- request
GET /wait
--- error_code: 504
--- error_log eval
[qr/clinic: redis "127\.0\.0\.1:\d+" is unavailable \(timed out\); failing fast until it answers again/,
 qr/clinic: redis "127\.0\.0\.1:\d+" is up again/]
--- no_error_log
[alert]
[crit]



=== TEST 12: a tenant's clinic_status shows its own Redis endpoint, not another tenant's shard
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name other.example;
        clinic_redis 127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT timeout=300ms;
        clinic_tenant other;
    }
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_tenant mine;
    location = /status { clinic_status; }
--- request
GET /status
--- response_body_like eval
qr/\A(?!.*timeout=300ms)(?!.*tenant="other").*\nclinic_redis_up\{endpoint="127\.0\.0\.1:\d+ timeout=\d+ms"\} 1\n.*\nclinic_cache_total\{tenant="mine",layer="hit"\} 0\n/s
