# nginx -s reload: the L1 page cache (shared memory) and the Redis layer
# come through a reload; new workers serve cached pages at once.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

sub reload_nginx {
    my $pidfile = Test::Nginx::Util::server_root() . '/logs/nginx.pid';
    open my $fh, '<', $pidfile or die "no pid file $pidfile: $!";
    my $pid = <$fh>;
    close $fh;
    chomp $pid;
    kill 'HUP', $pid or die "cannot signal nginx $pid";
    # the new worker is up when the old one has gone
    select undef, undef, undef, 1.5;
}

master_on();
workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a page rendered once, then a hit
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
--- user_files
>>> articles/cupping.txt
Cupping Therapy

Cupping lifts the skin and the muscle under it.
--- request eval
["GET /treatments/cupping", "GET /treatments/cupping"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT"]
--- no_error_log
[error]



=== TEST 2: after a reload, the new worker finds the page in L1
--- skip_eval: 3: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
main::reload_nginx();
--- request
GET /treatments/cupping
--- response_headers
X-Clinic-Cache: HIT
--- response_body_like: <h1>Cupping Therapy</h1>
--- no_error_log
[error]
