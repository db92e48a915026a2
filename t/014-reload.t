# nginx -s reload: the L1 page cache (shared memory) and the Redis layer
# come through a reload; new workers serve cached pages at once; a reload
# that adds a clinic keeps the other clinics' counters.
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

# adds a server block (a new tenant) to the running nginx's configuration,
# then reloads it
sub add_tenant_and_reload {
    my $conf = Test::Nginx::Util::server_root() . '/conf/nginx.conf';
    open my $in, '<', $conf or die "$conf: $!";
    local $/;
    my $text = <$in>;
    close $in;
    my $block = "    server {\n        listen $ENV{TEST_NGINX_SERVER_PORT};\n"
              . "        server_name added.example;\n"
              . "        clinic_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};\n"
              . "        location = /contact { clinic_contact; }\n"
              . "    }\n";
    $text =~ s/^(\s*http\s*\{[^\n]*\n)/$1$block/m
        or die "no http block in $conf";
    open my $out, '>', $conf or die "$conf: $!";
    print $out $text;
    close $out;
    reload_nginx();
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



=== TEST 3: a tenant's counters before a reload
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location = /status { clinic_status; }
--- user_files
>>> articles/cupping.txt
Cupping Therapy

Cupping lifts the skin and the muscle under it.
--- request eval
["GET /treatments/cupping", "GET /treatments/cupping", "GET /treatments/cupping", "GET /status"]
--- response_body_like eval
[qr/Cupping/, qr/Cupping/, qr/Cupping/,
 qr/clinic_requests_total\{tenant="localhost",handler="articles",code="2xx"\} 3\n/]
--- no_error_log
[error]



=== TEST 4: a reload that adds a clinic keeps the other clinics' counters
--- skip_eval: 2: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
main::add_tenant_and_reload();
--- request
GET /status
--- response_body_like eval
qr/clinic_requests_total\{tenant="localhost",handler="articles",code="2xx"\} 3\n/
--- no_error_log
[error]



=== TEST 5: the folder read once, and its index published in shared memory
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
--- user_files
>>> articles/cupping.txt
Cupping Therapy

Cupping lifts the skin and the muscle under it.
>>> articles/massage.txt
Massage

Kneading.
--- request
GET /treatments/cupping
--- response_body_like: <h1>Cupping Therapy</h1>
--- error_log eval
qr/clinic: index of "[^"]*articles" published, serial \d+, \d+ bytes/



=== TEST 6: after a reload, the new worker starts from that index: nothing is read
--- skip_eval: 4: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
ClinicTest::log_mark();
main::reload_nginx();
--- request eval
["GET /treatments/cupping", "GET /treatments/massage"]
--- response_headers eval
["X-Clinic-Cache: HIT", "X-Clinic-Cache: MISS"]



=== TEST 7: (checks TEST 6) then an edit during a reload: the index is not used, the folder is read again
--- skip_eval: 3: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
my $log = ClinicTest::log_since_mark();
Test::More::like($log, qr/clinic: index of "[^"]*articles" from shared memory/, 'TEST 6 started from the saved index');
Test::More::unlike($log, qr/clinic: indexed "/, 'TEST 6 read no folder');
my $f = "$ENV{TEST_NGINX_HTML_DIR}/articles/cupping.txt";
open my $fh, '>', $f or die "$f: $!";
print $fh "Cupping Therapy\n\nCups, edited while nginx reloaded.\n";
close $fh;
utime time + 7, time + 7, $f or die;
ClinicTest::log_mark();
main::reload_nginx();
--- request
GET /treatments/cupping
--- response_body_like: Cups, edited while nginx reloaded\.



=== TEST 8: (checks TEST 7)
--- skip_eval: 3: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
my $log = ClinicTest::log_since_mark();
Test::More::unlike($log, qr/from shared memory/, 'TEST 7 did not use the stale index');
Test::More::like($log, qr/clinic: indexed "[^"]*articles"/, 'TEST 7 read the folder');
--- request
GET /treatments/cupping
--- response_body_like: Cups, edited while nginx reloaded\.



=== TEST 9: a folder with a file that is not served is read by the new workers after a reload
--- skip_eval: 3: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
my $f = "$ENV{TEST_NGINX_HTML_DIR}/articles/broken.txt";
open my $fh, '>', $f or die "$f: $!";
print $fh "Broken\n\nNot \xff UTF-8.\n";
close $fh;
ClinicTest::log_mark();
main::reload_nginx();
--- request
GET /treatments/cupping
--- response_body_like: Cups, edited while nginx reloaded\.



=== TEST 10: (checks TEST 9: read, then again after a second reload)
--- skip_eval: 3: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
Test::More::like(ClinicTest::log_since_mark(), qr/clinic: indexed "[^"]*articles"/, 'TEST 9 read the folder');
ClinicTest::log_mark();
main::reload_nginx();
--- request
GET /treatments/cupping
--- response_body_like: Cups, edited while nginx reloaded\.



=== TEST 11: (checks TEST 10)
--- skip_eval: 3: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
my $log = ClinicTest::log_since_mark();
Test::More::like($log, qr/clinic: indexed "[^"]*articles"/, 'a folder with a problem is read on first use, not taken from shared memory');
Test::More::unlike($log, qr/from shared memory/, '... even when nothing changed');
--- request
GET /treatments/cupping
--- response_body_like: Cups, edited while nginx reloaded\.
