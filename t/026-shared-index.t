# One index of a folder per node (docs/caching.md, "Versions"): the worker
# that reads the folder first publishes its index in the page cache's
# zone; the other workers use it in place, without reading the folder;
# an edit makes a new one, which the others take.
#
# The blocks after the first run against its nginx (no --- config).
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

use File::Temp ();
use IO::Socket::INET ();
use Time::HiRes ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

our $Dir = File::Temp::tempdir('clinic-shared-XXXXXX', TMPDIR => 1,
                               CLEANUP => 1);
mkdir "$Dir/articles" or die;
$ENV{TEST_NGINX_CONTENT} = "$Dir/articles";

sub put {
    my ($name, $text, $mtime) = @_;
    my $f = "$Dir/articles/$name";
    open my $fh, '>', "$f.tmp" or die "$f.tmp: $!";
    print $fh $text;
    close $fh;
    utime $mtime, $mtime, "$f.tmp" or die;
    rename "$f.tmp", $f or die "rename $f: $!";
}

put('cupping.txt', "Cupping Therapy\n\nSuction cups.\n", time - 3600);
put('massage.txt', "Massage\n\nKneading.\n", time - 3600);

# n requests on connections of their own, so that both workers get some;
# returns the bodies
sub spread {
    my ($uri, $n) = @_;
    my @bodies;
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                      Proto => 'tcp', Timeout => 5)
            or die "connect: $!";
        print $s "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
        local $/;
        push @bodies, scalar(<$s>) // '';
    }
    return @bodies;
}

# the pids of the log's lines matching re
sub pids {
    my ($log, $re) = @_;
    my %p;
    for (split /\n/, $log) {
        $p{$1} = 1 if /\[\w+\] (\d+)#\d+: .*$re/;
    }
    return sort keys %p;
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the starting point
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    clinic_content $TEST_NGINX_CONTENT;
    location /treatments/ { clinic_articles; }
--- init
ClinicTest::log_mark();
--- request
GET /treatments/cupping
--- response_body_like: <h1>Cupping Therapy</h1>



=== TEST 2: requests spread over both workers: the folder is read once on the node
--- init
my @b = main::spread('/treatments/massage', 40);
Test::More::is(scalar(grep { m{<h1>Massage</h1>} } @b), 40, 'every answer is the page');
my $log = ClinicTest::log_since_mark();
my @served = main::pids($log, qr/http request line/);
my @read = main::pids($log, qr/clinic: indexed "/);
my @took = main::pids($log, qr/clinic: index of "[^"]*" from shared memory/);
my $builds = () = $log =~ /clinic: indexed "/g;
Test::More::is($builds, 1, 'one worker read the folder');
if (@served == 2) {
    Test::More::is(scalar(@took), 1, 'the other took its index from shared memory');
    Test::More::isnt($took[0], $read[0], '... and it is the other worker');
} else {
    Test::More::diag('one worker served every request: no second worker to check');
}
ClinicTest::log_mark();
main::put('massage.txt', "Massage\n\nKneading, edited.\n", time);
Time::HiRes::sleep(0.1);
--- request
GET /treatments/massage
--- response_body_like: Kneading, edited\.



=== TEST 3: after the edit, both workers serve it, and the folder was read once more
--- init
my @b = main::spread('/treatments/massage', 40);
Test::More::is(scalar(grep { /Kneading, edited\./ } @b), 40, 'every worker serves the edit');
my $log = ClinicTest::log_since_mark();
my $builds = () = $log =~ /clinic: indexed "/g;
Test::More::cmp_ok($builds, '>=', 1, "the edit was read ($builds)");
Test::More::cmp_ok($builds, '<=', 2, "by at most one read per worker ($builds)");
--- request
GET /treatments/cupping
--- response_body_like: <h1>Cupping Therapy</h1>
