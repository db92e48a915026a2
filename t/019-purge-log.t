# The blocks after the first have no --- config: they run against the
# first block's nginx, whose shared memory holds what it learnt.
#
# The purge poll is off the request path (docs/caching.md, "Purges on
# other nodes"): a node reads the purge log of its Redis once per interval,
# whatever the number of tenants and requests, and asks for a tenant's
# generation only while it does not know it.  Another node's purge is
# written here as that node writes it (the log's format is in
# docs/caching.md): the generation, the log's sequence and the entry.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;
use Time::HiRes qw(sleep);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

our $N = 20;

our $Tenants = join '', map {
    "server { listen \$TEST_NGINX_SERVER_PORT; server_name t$_.example; "
    . "clinic_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT; "
    . "clinic_revalidate 200ms; "
    . "clinic_content \$TEST_NGINX_HTML_DIR/articles; "
    . "location /treatments/ { clinic_articles; } }\n"
} 1 .. $N;

# each tenant's page, through the test's own server (Host: tN.example)
our $Proxies = join '', map {
    "location = /t$_ { proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT"
    . "/treatments/cupping; proxy_set_header Host t$_.example; }\n"
} 1 .. $N;

our @All = map { "GET /t$_" } 1 .. $N;

# calls of a command since the last CONFIG RESETSTAT
sub calls {
    my ($cmd) = @_;
    my $info = ClinicTest::redis_cmd('INFO', 'commandstats');
    return $info =~ /^cmdstat_$cmd:calls=(\d+)/m ? $1 : 0;
}

# another node's purge of tenant $t, as the module writes it
sub purge_elsewhere {
    my ($t, $skip) = @_;
    my $gen = ClinicTest::redis_cmd('INCR', "clinic:{$t}:purge");
    my $seq = ClinicTest::redis_cmd('INCRBY', 'clinic:purges:seq',
                                    1 + ($skip || 0));
    ClinicTest::redis_cmd('XADD', 'clinic:purges', '*', 's', $seq, 't', $t,
                          'g', $gen);
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: every tenant's page, twice: the node learns each generation
--- http_config eval: $::Tenants
--- config eval: $::Proxies
--- user_files
>>> articles/cupping.txt
Cupping Therapy

Cupping lifts the skin and the muscle under it.
--- init
ClinicTest::redis_cmd('FLUSHALL');
--- request eval
[@::All, @::All]
--- error_code eval
[(200) x (2 * $::N)]
--- response_body_like eval
[(qr/Cupping Therapy/) x (2 * $::N)]



=== TEST 2: then pages for a second: no generation asked for again, the log read a few times
--- init
sleep 0.3;
ClinicTest::redis_cmd('CONFIG', 'RESETSTAT');
$main::T0 = Time::HiRes::time();
--- request eval
[@::All, @::All, @::All]
--- response_headers_like eval
[(("X-Clinic-Cache: HIT") x (3 * $::N))]



=== TEST 3: (checks TEST 2's Redis commands)
--- init
my ($get, $eval) = (main::calls('get'), main::calls('eval'));
my $most = int((Time::HiRes::time() - $main::T0) / 0.2) + 1;
# the log's script reads its sequence with a GET of its own
Test::More::cmp_ok($get, '<=', $eval, "no tenant's generation was asked for again ($get GET, $eval EVAL)");
Test::More::cmp_ok($eval, '<=', $most, "the log was read at most once per 200 ms of TEST 2 ($eval EVAL, 60 requests of $::N tenants)");
--- request
GET /t1
--- response_headers
X-Clinic-Cache: HIT



=== TEST 4: another node purges tenant t3: this node's page of t3 is rendered again, t4's is not
--- init
main::purge_elsewhere('t3.example');
sleep 0.3;
--- request eval
["GET /t1", "GET /t1", "GET /t1", "GET /t3", "GET /t4"]
--- response_headers_like eval
["X-Clinic-Cache: HIT", "X-Clinic-Cache: HIT", "X-Clinic-Cache: HIT",
 "X-Clinic-Cache: (?:MISS|REDIS)", "X-Clinic-Cache: HIT"]



=== TEST 5: a gap in the log: the node asks for the generations again
--- init
ClinicTest::redis_cmd('INCR', 'clinic:{t5.example}:purge');
main::purge_elsewhere('t6.example', 3);
sleep 0.3;
ClinicTest::redis_cmd('CONFIG', 'RESETSTAT');
--- request eval
["GET /t1", "GET /t1", "GET /t1", "GET /t5", "GET /t5", "GET /t5"]
--- error_code eval
[200, 200, 200, 200, 200, 200]



=== TEST 6: (checks TEST 5: t5's generation was asked for, and is kept)
--- init
my ($get, $eval) = (main::calls('get'), main::calls('eval'));
Test::More::cmp_ok($get, '>', $eval, "generations asked for after the gap ($get GET, $eval EVAL)");
my $log = Test::Nginx::Util::server_root() . '/logs/error.log';
open my $fh, '<', $log or die "$log: $!";
my $text = do { local $/; <$fh> };
Test::More::like($text, qr/\[notice\] .*the purge log of "127\.0\.0\.1:\d+" is at \d+, this node was at \d+: every tenant's purge generation is asked for again/, 'the gap is logged');
sleep 0.3;
--- request eval
["GET /t5", "GET /t5"]
--- response_headers_like eval
["X-Clinic-Cache: [A-Z]+", "X-Clinic-Cache: HIT"]
