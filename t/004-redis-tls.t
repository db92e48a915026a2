# clinic_redis ... tls (SPEC.md section 10): a redis-server that speaks
# only TLS, with a certificate of a throwaway CA (subjectAltName
# IP:127.0.0.1 and DNS:redis.test). A submission is stored (201, the
# entry read back with redis-cli --tls), a page served; with tls_ca= the
# wrong CA the endpoint stays down (202, an [error] about the
# certificate); tls_verify=off talks to it anyway (and replays what was
# spooled); tls_ca= a missing file fails nginx -t with its file and line.
# Plain Test::More with the chaos suite's harness: it starts its own
# redis-server and nginx (2 workers), so it runs the same under either
# Test::Nginx runner. See docs/testing.md.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;
use ClinicCluster;

ClinicCluster::check_prerequisites({ chaos => 0 }, 'redis-cli', 'openssl');

my $c = ClinicChaos->new(name => 'tls');
my $k = ClinicCluster->new($c);
my $t = $k->tls_make;

# Debian's redis-server is built with TLS; another may not be
my $port = eval {
    $c->redis_start('tls', tls => { cert => $t->{cert}, key => $t->{key},
                                    ca => $t->{ca} });
};
if (!$port) {
    my $why = $@;
    plan(skip_all => 'this redis-server does not speak TLS: '
                     . ($why =~ /(Bad directive[^\n]*|[^\n]*TLS[^\n]*)/
                        ? $1 : 'it did not start with --tls-port'));
}

# the harness: redis-cli reaches it with the CA, not with the other one
is(scalar $c->redis_cli('tls', 'PING'), "PONG\n",
   'tls: redis-cli --tls --cacert CA reaches the server');
my ($out, $rc) = $c->redis_cli('tls', { cacert => $t->{wrong_ca} }, 'PING');
isnt($out, "PONG\n", 'tls: not with the other CA');

my $timeout = 'timeout=1s';

# { tag => [ids] } of the instance's tenant's stream, read with redis-cli
sub stream_tags {
    my ($o) = $c->redis_cli('tls', 'XRANGE', $c->stream, '-', '+');
    my (%tags, $id);
    for (split /\n/, $o) {
        if (/^(\d+-\d+)$/) { $id = $1; next }
        push @{ $tags{$1} }, $id if /^Chaos (\S+)$/ && defined $id;
    }
    return \%tags;
}

sub get {
    my ($path) = @_;
    return $c->http("GET $path HTTP/1.1\r\nHost: chaos.example\r\n"
                    . "Connection: close\r\n\r\n");
}

sub start {
    my ($what, %o) = @_;
    $c->nginx_stop;
    my $ok = eval { $c->nginx_start(content => 1, %o); 1 };
    ok($ok, "tls: nginx starts with clinic_redis $o{redis_line}"
            . ($o{wait} ? '' : ', the endpoint up in both workers'))
        or diag("    $@");
    return $ok;
}

my $ca_line = "127.0.0.1:$port tls tls_ca=$t->{ca} $timeout";

# ------------------------------------------------------- the right CA
if (start('ca', redis_line => $ca_line)) {
    my $st = $c->submit_one(undef, 'ca');
    my $r = $c->{results}[-1];
    is($st, 201, 'tls: a submission is stored (201)');
    my $tags = stream_tags();
    is_deeply($tags->{ $r->{tag} }, [ $r->{id} ],
              'tls: its entry, with its id, is in the stream (read with '
              . 'redis-cli --tls --cacert)');
    for my $n (1, 2) {
        my $p = get('/treatments/first-visit');
        ok($p && $p->{status} == 200
           && $p->{body} =~ /Your first visit to/,
           "tls: an article page answers 200 ($n)")
            or diag('    ' . ($p ? $p->{status} : 'no answer'));
    }
    is($c->log_count(qr/\[error\]/), 0, 'tls: no [error] logged');
}

# the name checked and sent: redis.test is in the certificate
if (start('name', redis_line => "127.0.0.1:$port tls tls_ca=$t->{ca} "
                                . "tls_name=redis.test $timeout")) {
    is($c->submit_one(undef, 'name'), 201,
       'tls: tls_name=redis.test: a submission is stored (201)');
}

# ------------------------------------------------------- the wrong CA
my $lines = $c->log_count(qr/\[error\].*certificate/i);
if (start('wrong', redis_line => "127.0.0.1:$port tls "
                                 . "tls_ca=$t->{wrong_ca} $timeout",
          wait => 'workers'))
{
    my @s = map { $c->submit_one(undef, 'wrong') } 1 .. 4;
    is(scalar(grep { $_ != 202 } @s), 0, 'tls: with the wrong CA, '
                                         . 'submissions are spooled (202)')
        or diag("    @s");
    my $deadline = time + 5 * ClinicChaos::slow();
    my $now = $lines;
    while (time < $deadline) {
        $now = $c->log_count(qr/\[error\].*certificate/i);
        last if $now > $lines;
        sleep 0.1;
    }
    ok($now > $lines, 'tls: an [error] line about the certificate is logged')
        or diag('    ' . ClinicChaos::_tail("$c->{dir}/logs/error.log", 8));
    my $st = $c->status;
    my $up = ClinicChaos::metric($st, 'clinic_redis_up');
    ok(%$up && !grep({ $_ != 0 } values %$up),
       'tls: clinic_redis_up is 0');
}

# ----------------------------------------- the wrong CA, not verified
if (start('off', redis_line => "127.0.0.1:$port tls tls_ca=$t->{wrong_ca} "
                               . "tls_verify=off $timeout")) {
    is($c->submit_one(undef, 'off'), 201,
       'tls: tls_verify=off with the wrong CA: a submission is stored (201)');
    my ($ok, $why) = $c->wait_recovered(10);
    ok($ok, 'tls: and the spool drains') or diag("    $why");
}

# every submission answered 201 or 202 in the stream once
my $tags = stream_tags();
my @acked = grep { $_->{status} == 201 || $_->{status} == 202 }
            @{ $c->{results} };
my @lost = grep { !$tags->{ $_->{tag} } } @acked;
my @twice = grep { @{ $tags->{$_} } > 1 } keys %$tags;
is(scalar(@lost), 0, 'tls: every acknowledged submission ('
                     . scalar(@acked) . ') is in the stream')
    or diag('    ' . join ', ', map { "$_->{tag} ($_->{status})" } @lost);
is(scalar(@twice), 0, 'tls: none twice');
my @crash = $c->log_problems;
is(scalar(@crash), 0, 'tls: no crash, alert or sanitizer report')
    or diag(join '', map { "    $_\n" } @crash);

# ------------------------------------------------ nginx -t: a missing CA
$c->nginx_stop;
my ($pass, $msg) = $c->nginx_test(redis_line => "127.0.0.1:$port tls "
                                  . "tls_ca=/nonexistent/ca.crt $timeout");
my $conf = "$c->{dir}/conf/nginx.conf";
my $lineno = 0;
open my $fh, '<', $conf or die $!;
while (<$fh>) {
    if (/clinic_redis/) { $lineno = $.; last }
}
close $fh;
ok(!$pass, 'tls: nginx -t fails with tls_ca=/nonexistent/ca.crt');
like($msg, qr/\[emerg\].*nonexistent.* in \Q$conf\E:$lineno\b/,
     'tls: its [emerg] names the file and the line of clinic_redis');

done_testing();
