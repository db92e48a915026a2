# The spool with several workers: submissions accepted while Redis is
# down are replayed into Redis exactly once, by whichever worker holds
# their file, across a restart of nginx.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;
use File::Temp ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

our $Spool = File::Temp::tempdir('clinic-spool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 01777, $Spool;
$ENV{TEST_NGINX_SPOOL} = $Spool;

our $Stream = 'clinic:{localhost}:submissions';

# the names in the stream, each must appear once
sub names {
    my $r = ClinicTest::redis_cmd('XRANGE', $main::Stream, '-', '+');
    return map { my %h = @{ $_->[1] }; $h{name} } @$r;
}

sub check_once {
    my ($want) = @_;
    my @names = names();
    my %seen;
    $seen{$_}++ for @names;
    my @dups = grep { $seen{$_} > 1 } keys %seen;
    die "duplicates: @dups" if @dups;
    die "expected $want entries, found " . scalar(@names) . ": @names"
        if @names != $want;
    my @files = grep { -s $_ } glob("$main::Spool/*.spool");
    die "spool not drained: @files" if @files;
}

sub posts {
    my ($from, $to) = @_;
    return [ map { qq{POST /contact\r\n{"name":"Patient $_","email":"p$_\@example.com","message":"Hello $_"}} } $from .. $to ];
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: Redis down: twenty submissions are queued by two workers
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
main::posts(1, 20)
--- error_code eval
[(202) x 20]



=== TEST 2: Redis back: the same nginx replays each of them once
--- init
ClinicTest::redis_cont();
sleep 4;
main::check_once(20);
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_contact_limit client=off tenant=off;
    location = /contact { clinic_contact; }
    location = /t { return 200 "checked\n"; }
--- request
GET /t
--- response_body
checked



=== TEST 3: an outage midway: accepted while Redis is down ...
--- init
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
main::posts(21, 30)
--- error_code eval
[(202) x 10]



=== TEST 4: ... then nginx restarts and Redis returns: every submission is in Redis exactly once
--- init
ClinicTest::redis_cont();
sleep 4;
main::check_once(30);
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
    location = /status { clinic_status; }
--- request
GET /status
--- response_body_like eval
qr/\nclinic_spool_depth 0\n(?s:.*)\nclinic_spool_replayed_total 10\n/
