# The spool's order and its defences: files of a process that is gone are
# replayed before the new worker's own, the limits still hold while Redis
# is out of reach, and clinic_status shows a worker that cannot reach
# Redis and the age of what waits in the spool.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;
use File::Temp ();
use Time::HiRes ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

our $Spool = File::Temp::tempdir('clinic-spool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 01777, $Spool;
$ENV{TEST_NGINX_SPOOL} = $Spool;

our $Stream = 'clinic:{localhost}:submissions';

sub names {
    my $r = ClinicTest::redis_cmd('XRANGE', $main::Stream, '-', '+');
    return map { my %h = @{ $_->[1] }; $h{name} } @$r;
}

# waits (bounded) until the stream has $n entries and the spool is empty
sub drained {
    my ($n) = @_;
    my $deadline = Time::HiRes::time() + 20;
    while (Time::HiRes::time() < $deadline) {
        my @files = grep { -s $_ } glob("$main::Spool/*.spool");
        my $len = ClinicTest::redis_cmd('XLEN', $main::Stream) || 0;
        return if $len >= $n && !@files;
        Time::HiRes::sleep(0.1);
    }
    die "not drained: " . join(' ', names());
}

sub posts {
    my ($tag, $from, $to) = @_;
    return [ map { qq{POST /contact\r\n{"name":"$tag $_","email":"p$_\@example.com","message":"Hello $_"}} } $from .. $to ];
}

master_on();
workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: Redis out of reach: five submissions are spooled
--- init
ClinicTest::redis_cmd('DEL', $main::Stream);
ClinicTest::redis_stop();
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_contact_limit client=off tenant=off;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request eval
main::posts('Old', 1, 5)
--- error_code eval
[(202) x 5]



=== TEST 2: nginx restarted, Redis still out: five more go to the new worker's own file
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_contact_limit client=off tenant=off;
    location = /contact { clinic_contact; }
    location = /status { clinic_status; }
--- more_headers
Content-Type: application/json
--- request eval
main::posts('New', 6, 10)
--- error_code eval
[(202) x 5]



=== TEST 3: Redis back: the older file is replayed first, every record once
--- init
ClinicTest::redis_cont();
main::drained(10);
my $got = join ',', main::names();
my $want = join ',', (map { "Old $_" } 1 .. 5), (map { "New $_" } 6 .. 10);
die "replayed out of order: $got" unless $got eq $want;
--- request
GET /status
--- response_body_like eval
qr/\nclinic_redis_up\{[^}]*\} 1\n(?s:.*)\nclinic_redis_workers_down\{[^}]*\} 0\n(?s:.*)\nclinic_spool_depth 0\n(?s:.*)\nclinic_spool_oldest_seconds 0\n/



=== TEST 4: while Redis is out of reach, this node applies the client limit itself
--- init
ClinicTest::redis_stop();
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_contact_limit client=3/10m tenant=off;
    location = /contact { clinic_contact; }
    location = /status { clinic_status; }
--- more_headers
Content-Type: application/json
--- request eval
main::posts('Limited', 11, 15)
--- error_code eval
[202, 202, 202, 429, 429]
--- response_body_like eval
[(qr/"status":"queued"/) x 3, (qr/too many messages/) x 2]



=== TEST 5: the 429 carries Retry-After
--- more_headers
Content-Type: application/json
--- request
POST /contact
{"name":"Limited 16","email":"p16@example.com","message":"Hello 16"}
--- error_code: 429
--- response_headers_like
Retry-After: ^\d+$



=== TEST 6: clinic_status shows the stuck worker and the age of the spool
--- init
Time::HiRes::sleep(2.2);
--- request
GET /status
--- response_body_like eval
qr/\nclinic_redis_up\{[^}]*\} 0\n(?s:.*)\nclinic_redis_workers_down\{[^}]*\} 1\n(?s:.*)\nclinic_spool_depth 3\n(?s:.*)\nclinic_spool_oldest_seconds [2-9]\n/



=== TEST 7: Redis back: the three accepted ones are stored, the refused ones are not
--- init
ClinicTest::redis_cont();
main::drained(13);
my @names = grep { /^Limited/ } main::names();
die "stored: @names" unless "@names" eq "Limited 11 Limited 12 Limited 13";
--- request
GET /status
--- response_body_like eval
qr/\nclinic_spool_oldest_seconds 0\n/
