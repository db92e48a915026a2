# Chaos: kill -9 of Redis (appendonly yes, appendfsync always) under load,
# twice: it comes back on the same port from its append-only file; the
# second kill comes as soon as every worker is connected again, while the
# spool of the first outage is being replayed. See
# docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('redis-kill');

my $c = ClinicChaos->new(name => 'redis-kill');
$c->redis_start('main', conf => { appendonly => 'yes',
                                  appendfsync => 'always' });
$c->nginx_start;

$c->load_start;
sleep 2;
$c->redis_kill('main', 'KILL');
sleep 1;
$c->redis_start('main');
my $back = $c->redis('main', 'XLEN', $c->stream);

# the second one once every worker is connected again and replaying
my ($up, $depth) = $c->wait_up;
ok($up, "redis-kill: the workers were up again after the first restart "
        . "($depth submissions in the spool)");
$c->redis_kill('main', 'KILL');
sleep 0.5;
$c->redis_start('main');
$c->chaos_over;
$c->wait_recovered;
sleep 1;
$c->load_stop;

my $spooled = $c->count_status(202);
ok($spooled > 0, "redis-kill: submissions were spooled meanwhile "
                 . "($spooled)");

$c->finish(extra => "two kill -9, $back entries after the first restart, "
                    . "the second with $depth submissions in the spool");
done_testing();
