# Chaos: kill -9 of nginx workers under load: one while Redis is up, one
# with submissions waiting on a stopped Redis, one that holds a spool of
# submissions, one as soon as Redis is back (the spool being replayed).
# The master starts a new worker each time; the dead worker's spool file
# is taken over and replayed by another. A submission whose connection
# died with its worker got no answer: it may or may not be stored, but
# never twice. See docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('worker-kill');

my $c = ClinicChaos->new(name => 'worker-kill');
$c->redis_start('main');
$c->nginx_start;

$c->load_start;
sleep 1.5;

# 1. Redis up
my @killed = ($c->kill_worker);
sleep 1.5;

# 2. Redis stopped: a worker dies with submissions waiting on Redis (their
#    commands are in Redis' socket buffer: it may still store them)
$c->redis_signal('main', 'STOP');
sleep 0.1;
push @killed, $c->kill_worker;

# 3. a worker with submissions in its spool file
sleep 1.5;
my ($victim) = grep {
    my $pid = $_;
    grep { -s $_ } glob($c->dir . "/spool/$pid-*.spool");
} $c->workers;
ok($victim, 'worker-kill: a worker holds spooled submissions');
push @killed, $c->kill_worker($victim);
sleep 0.5;
$c->redis_signal('main', 'CONT');

# 4. while the spool is being replayed: as soon as both workers are
#    connected again
my ($up, $depth) = $c->wait_up;
ok($up, "worker-kill: the workers were up again ($depth submissions in "
        . 'the spool)');
push @killed, $c->kill_worker;
$c->chaos_over;
$c->wait_recovered;
sleep 1;
$c->load_stop;

is(scalar(grep { defined } @killed), 4, 'worker-kill: four workers killed');
my $spooled = $c->count_status(202);
ok($spooled > 0, "worker-kill: submissions were spooled meanwhile "
                 . "($spooled)");
my $taken = $c->log_count(qr/left by a process that is gone/);
ok($taken > 0, "worker-kill: the dead workers' spool files were taken "
               . "over ($taken)");

$c->finish(extra => "4 workers killed, the last with $depth submissions "
                    . "in the spool; $taken spool files taken over");
done_testing();
