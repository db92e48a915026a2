# Chaos: Redis forgets the store script (SCRIPT FLUSH) again and again
# while submissions run. The module sends EVALSHA and, on NOSCRIPT, the
# script itself with EVAL: no submission may be spooled for it while
# Redis is up, and none lost or stored twice, neither live nor replayed
# from the spool. See docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('noscript');

my $c = ClinicChaos->new(name => 'noscript');
$c->redis_start('main');
# a generous timeout: with Redis up, no submission should be spooled
$c->nginx_start(timeout => '1s');

sub flush_for {
    my ($secs, $every) = @_;
    my ($n, $end) = (0, time + $secs);
    while (time < $end) {
        my $r = $c->redis('main', 'SCRIPT', 'FLUSH');
        $n++ unless ClinicChaos::is_error($r);
        sleep $every;
    }
    return $n;
}

# 1. Redis up, its scripts flushed every 50 ms
$c->load_start(phase => 'flush');
sleep 0.5;
my $flushes = flush_for(3, 0.05);
$c->load_stop;
my $noscript = $c->errorstat('main', 'NOSCRIPT');
ok($noscript > 0, "noscript: EVALSHA met NOSCRIPT ($noscript times, "
                  . "$flushes flushes)");
my $p = $c->phase_counts('flush');
ok(($p->{201} || 0) > 0 && !$p->{202},
   'noscript: with Redis up, every submission is stored at once (201), '
   . 'none spooled')
    or diag('    answers: ' . join ', ', map { "$_ x $p->{$_}" } sort keys %$p);

# 2. Redis stopped: submissions spooled; then replayed while the scripts
#    keep being flushed
$c->load_start(phase => 'replay');
sleep 1;
$c->redis_signal('main', 'STOP');
sleep 2.5;
$c->redis_signal('main', 'CONT');
$flushes += flush_for(3, 0.03);
$c->chaos_over;
$c->wait_recovered;
sleep 1;
$c->load_stop;
my $spooled = $c->count_status(202);
ok($spooled > 0, "noscript: submissions were spooled while Redis was "
                 . "stopped ($spooled)");
$noscript = $c->errorstat('main', 'NOSCRIPT');

$c->finish(extra => "$flushes SCRIPT FLUSH, $noscript NOSCRIPT replies "
                    . "to nginx");
done_testing();
