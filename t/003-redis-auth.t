# AUTH (from password_file, never logged) and SELECT db at connect.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_TOKEN} = 'test-token-0123456789abcdef';

$ClinicTest::Password = 'redis-secret-pw';
ClinicTest::redis_start('--requirepass', 'redis-secret-pw');

# TEST 3's ACL user, before any nginx connects: every command the module
# sends and those its scripts call (docs/operations.md, "Redis"), on its
# keys only
ClinicTest::redis_cmd('ACL', 'SETUSER', 'clinic-node', 'reset', 'on',
    '>acl-secret-pw', '~clinic:*',
    map { "+$_" } qw(auth ping select get set sadd eval evalsha
                     del expire incr persist pexpire smembers time ttl
                     unlink xadd xdel xlen xrange xrevrange xtrim zadd zcount
                     zrem zremrangebyscore zscore));

no_shuffle();
run_tests();

__DATA__

=== TEST 1: AUTH and SELECT are sent at connect
--- init
ClinicTest::redis_cmd_db(3, 'DEL', 'clinic:{localhost}:submissions');
ClinicTest::redis_cmd_db(3, 'XADD', 'clinic:{localhost}:submissions', '7-7', 'name', 'db3');
ClinicTest::redis_cmd_db(0, 'DEL', 'clinic:{localhost}:submissions');
ClinicTest::redis_cmd_db(0, 'XADD', 'clinic:{localhost}:submissions', '7-7', 'name', 'db0');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT db=3 password_file=$TEST_NGINX_HTML_DIR/redis.pass;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
--- user_files
>>> token
test-token-0123456789abcdef
>>> redis.pass
redis-secret-pw
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request
GET /admin/submissions/7-7
--- response_body
{"id":"7-7","received":null,"handled":false,"fields":{"name":"db3"}}
--- no_error_log
[error]



=== TEST 2: a wrong Redis password is logged without the password, and requests fail cleanly
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT password_file=$TEST_NGINX_HTML_DIR/redis.pass;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    location /admin/ { clinic_admin; }
--- user_files
>>> token
test-token-0123456789abcdef
>>> redis.pass
not-the-password
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"
--- request
GET /admin/submissions
--- error_code: 503
--- error_log
refused the connection setup
--- no_error_log
not-the-password



=== TEST 3: a Redis 6 ACL user (user=) with only the commands and keys the module uses
--- init
ClinicTest::redis_cmd_db(0, 'DEL', 'clinic:{localhost}:submissions');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT user=clinic-node password_file=$TEST_NGINX_HTML_DIR/acl.pass;
    clinic_admin_token_file $TEST_NGINX_HTML_DIR/token;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location = /contact { clinic_contact; }
    location /admin/ { clinic_admin; }
--- user_files
>>> token
test-token-0123456789abcdef
>>> acl.pass
acl-secret-pw
>>> articles/cupping.txt
Cupping Therapy

Suction cups.
--- more_headers eval
["Content-Type: application/json",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN}",
 "",
 "Authorization: Bearer $ENV{TEST_NGINX_TOKEN}"]
--- request eval
["POST /contact\n{\"name\":\"Ann Lee\",\"email\":\"ann\@example.com\",\"message\":\"Stiff neck\"}",
 "GET /admin/submissions",
 "GET /treatments/cupping",
 "POST /admin/purge"]
--- error_code eval
[201, 200, 200, 200]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/"name":"Ann Lee"/, qr/Cupping Therapy/,
 qr/"purged":\d+,"generation":\d+/]
--- no_error_log
[error]
acl-secret-pw



=== TEST 4: user= needs a password_file
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT user=clinic-node;
    location = /contact { clinic_contact; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"user=clinic-node" needs "password_file=" in .*nginx\.conf:\d+/
