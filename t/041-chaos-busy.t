# Chaos: a script that never ends keeps Redis busy; past
# busy-reply-threshold Redis answers -BUSY, until SCRIPT KILL. The
# workers' commands time out first (threshold above the endpoint's
# timeout), so they reconnect while Redis is busy and their PING is
# answered BUSY: each must come back after SCRIPT KILL (the bug of e42e0aa
# and before: it stayed down, spooling everything, until a reload). See
# docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('busy');

my $c = ClinicChaos->new(name => 'busy');
$c->redis_start('main', conf => { 'busy-reply-threshold' => 600 });
$c->nginx_start(timeout => '200ms');

$c->load_start;
sleep 1.5;

my $script = $c->redis_send('main', 'EVAL', 'while true do end', '0');
my $started = time;

# PING from the side: blocked, then BUSY once the threshold has passed
my ($busy, $first) = (0, undef);
while (time < $started + 3) {
    my $reply = eval { $c->redis('main', 'PING') };
    if (ClinicChaos::is_error($reply) && $reply->message =~ /^BUSY/) {
        $busy++;
        $first //= time - $started;
    }
    sleep 0.1;
}
my $kill = $c->redis('main', 'SCRIPT', 'KILL');
my $busy_secs = time - $started;
ok(!ClinicChaos::is_error($kill), 'busy: SCRIPT KILL ends the script')
    or diag('    ' . $kill->message);
my $end = eval { $c->redis_read($script) };
close $script;
ok(ClinicChaos::is_error($end), 'busy: the script was killed');
ok($busy > 0, sprintf('busy: Redis answered BUSY (from %.1f s on)',
                      $first // 0));

# the load goes on while the workers recover, and a second longer
$c->chaos_over;
$c->wait_recovered;
sleep 1;
$c->load_stop;

my $nginx = $c->errorstat('main', 'BUSY') - $busy;
ok($nginx > 0, "busy: nginx was answered BUSY ($nginx times)");
my $spooled = $c->count_status(202);
ok($spooled > 0, "busy: submissions were spooled meanwhile ($spooled)");
my $pings = $c->log_count(qr/answered PING with: BUSY/);

$c->finish(extra => sprintf('busy for %.1f s, %d BUSY replies to nginx '
                            . '(%d to its PING, from the error log)',
                            $busy_secs, $nginx, $pings));
done_testing();
