# Chaos: Redis runs out of memory (maxmemory, noeviction) while
# submissions come in: stores fail with -OOM and are spooled, nothing is
# half-written; once maxmemory is raised, the spool is replayed. See
# docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('oom');

my $c = ClinicChaos->new(name => 'oom');
$c->redis_start('main', conf => { 'maxmemory-policy' => 'noeviction' });
$c->nginx_start;

$c->load_start;
sleep 1.5;

# room for a few more submissions, then Redis is full
my $used = $c->redis_info('main', 'memory')->{used_memory};
my $max = $used + 256 * 1024;
my $r = $c->redis('main', 'CONFIG', 'SET', 'maxmemory', $max);
ok(!ClinicChaos::is_error($r), "oom: maxmemory set to $max bytes "
                               . "($used used)");
my $set = time;
my $deadline = $set + 20 * ClinicChaos::slow();
sleep 0.1 while $c->errorstat('main', 'OOM') == 0 && time < $deadline;
my $full = time - $set;
sleep 2.5;
my $oom = $c->errorstat('main', 'OOM');
ok($oom > 0, "oom: Redis refused stores with OOM ($oom times)");

$c->redis('main', 'CONFIG', 'SET', 'maxmemory', 0);
$c->chaos_over;
$c->wait_recovered;
sleep 1;
$c->load_stop;

my $spooled = $c->count_status(202);
ok($spooled > 0, "oom: submissions were spooled meanwhile ($spooled)");
my $refusing = $c->log_count(qr/keeps refusing the spooled submission/);

$c->finish(extra => sprintf('full %.1f s after maxmemory was set; %d OOM '
                            . 'replies to nginx; "keeps refusing" logged %d '
                            . 'times', $full, $oom, $refusing));
done_testing();
