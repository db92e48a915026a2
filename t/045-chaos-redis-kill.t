# Chaos: kill -9 of Redis (appendonly yes, appendfsync always) under load,
# twice: it comes back on the same port from its append-only file, the
# second time while the spool of the first outage is being replayed. See
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
sleep 0.3;
# the second one while the spool is being replayed
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

$c->finish(extra => "two kill -9, $back entries after the first restart");
done_testing();
