# AUTH (from password_file, never logged) and SELECT db at connect.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_TOKEN} = 'test-token-0123456789abcdef';

$ClinicTest::Password = 'redis-secret-pw';
ClinicTest::redis_start('--requirepass', 'redis-secret-pw');

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


