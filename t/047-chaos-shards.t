# Chaos: two tenants on two Redis servers (sharding by tenant); one
# server stops (SIGSTOP) while both tenants take submissions. Nothing may
# be lost or stored twice on either. The tenant whose Redis is up must
# not notice: a worker keeps one spool file, and one backlog, per Redis
# endpoint, so the stopped shard's records hold up nobody else's (this
# failed before: one file per worker, replayed in order, made the other
# tenant wait behind the stopped shard). See docs/testing.md.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('shards');

my $c = ClinicChaos->new(name => 'shards');
$c->redis_start('main');
my $other_port = $c->redis_start('other');
my $other_stream = 'clinic:{chaos-shard-b}:submissions';
$c->nginx_start(extra => <<"END");
    server {
        listen 127.0.0.1:\$PORT;
        server_name other.example;
        clinic_tenant chaos-shard-b;
        clinic_redis 127.0.0.1:$other_port timeout=200ms;
        clinic_contact_limit client=off tenant=off;

        location = /contact {
            clinic_contact;
            add_header X-Worker-Pid \$pid always;
        }
    }
END

$c->load_start(phase => 'before');
sleep 1;
$c->load_stop;

# the other shard stops; its tenant's submissions are spooled, by both
# workers
$c->redis_signal('other', 'STOP');
my (%other, %by_worker);
my $deadline = time + 20 * ClinicChaos::slow();
my $n = 0;
while (time < $deadline && $n < 200) {
    $n++;
    my $r = $c->http(ClinicChaos::submission("shard-b-$$-$n", $n % 2, 1,
                                             'other.example'));
    my $status = $r ? $r->{status} : 0;
    $other{"shard-b-$$-$n"} = $status;
    $by_worker{ $r->{headers}{'x-worker-pid'} }++ if $status == 202;
    last if keys %by_worker >= 2 && $n >= 10;
}
is(scalar(grep { $_ != 202 } values %other), 0,
   "shards: the stopped shard's tenant is answered 202 ($n submissions)");
is(scalar(keys %by_worker), 2, 'shards: both workers spooled some');

# the first tenant's Redis is up all along
$c->load_start(phase => 'other down');
sleep 3;
$c->load_stop;
sleep 2;
my $p = $c->phase_counts('other down');
my ($tags) = $c->read_stream;
my @waiting = grep { $_->{phase} eq 'other down' && $_->{status} == 202
                     && !$tags->{ $_->{tag} } } @{ $c->{results} };
ok(!$p->{202}, 'shards: the tenant whose Redis is up is answered 201 '
               . 'while the other shard is stopped')
    or diag('    answers: ' . join ', ', map { "$_ x $p->{$_}" }
                                         sort keys %$p);
is(scalar(@waiting), 0, 'shards: its spooled submissions reach its '
                        . 'Redis while the other shard is stopped');

$c->redis_signal('other', 'CONT');
$c->chaos_over;
$c->load_start(phase => 'after');
$c->wait_recovered;
sleep 1;
$c->load_stop;

# the stopped shard's tenant: each submission once
my %stored;
$deadline = time + 15 * ClinicChaos::slow();
while (time < $deadline) {
    %stored = ();
    my $r = $c->redis('other', 'XRANGE', $other_stream, '-', '+');
    for (@{ ref $r eq 'ARRAY' ? $r : [] }) {
        my %f = @{ $_->[1] };
        $stored{$1}++ if ($f{name} // '') =~ /^Chaos (\S+)$/;
    }
    last if keys %stored >= keys %other;
    sleep 0.2;
}
is(scalar(grep { !$stored{$_} } keys %other), 0,
   'shards: every submission of the stopped shard\'s tenant is in its '
   . 'stream once it is back');
is(scalar(grep { $_ > 1 } values %stored), 0,
   'shards: none of them twice');

$c->finish(extra => sprintf('the other tenant: %d submissions spooled, '
                            . '%d stored; while its Redis was stopped, '
                            . 'this tenant got 201 x %d, 202 x %d (median '
                            . 'answer %.1f ms, %.1f ms before), and %d of '
                            . 'those 202 were still not in its Redis 2 s '
                            . 'later', scalar(keys %other),
                            scalar(keys %stored), $p->{201} || 0,
                            $p->{202} || 0,
                            1000 * $c->phase_median('other down'),
                            1000 * $c->phase_median('before'),
                            scalar(@waiting)));
done_testing();
