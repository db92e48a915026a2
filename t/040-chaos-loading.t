# Chaos: Redis restarts with a dataset to load and answers -LOADING for a
# few seconds, while submissions keep coming. A worker whose reconnect
# PING is answered LOADING must come back once the dataset is loaded (the
# bug of e42e0aa and before: it stayed down, spooling everything, until a
# reload). See docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('loading');

my $c = ClinicChaos->new(name => 'loading');
my %conf = ('enable-debug-command' => 'local');
$c->redis_start('main', conf => \%conf);

# the dataset: 30,000 keys besides the submissions; loading it is slowed
# down to at least 50 us a key (key-load-delay, a Redis testing knob), so
# LOADING lasts 1.5 s or more without millions of keys, and Redis answers
# clients during the load every 1 KB it reads
my $keys = 30000;
my $r = $c->redis('main', 'DEBUG', 'POPULATE', $keys, 'chaos:fill', 100);
die 'DEBUG POPULATE: ' . $r->message if ClinicChaos::is_error($r);
$c->nginx_start;

$c->load_start;
sleep 1.5;

# SHUTDOWN SAVE writes every submission Redis acknowledged to the RDB file
my $s = $c->redis_send('main', 'SHUTDOWN', 'SAVE');
ok($c->redis_wait_exit('main', 30), 'loading: Redis saved its dataset and '
                                    . 'exited');
close $s;

$c->redis_start('main', wait => 'none', conf => {
    %conf,
    'key-load-delay'                        => 50,
    'loading-process-events-interval-bytes' => 1024,
});

# PING from the side until Redis is done loading
my ($first, $last, $ours, $pong) = (undef, undef, 0, 0);
my $deadline = time + 60 * ClinicChaos::slow();
while (time < $deadline) {
    my $reply = eval { $c->redis('main', 'PING') };
    if (ClinicChaos::is_error($reply) && $reply->message =~ /^LOADING/) {
        $ours++;
        $first //= time;
        $last = time;
    } elsif (defined $reply && !ref $reply && $reply eq 'PONG') {
        $pong = 1;
        last;
    }
    sleep 0.05;
}
my $loading = defined $first ? $last - $first : 0;
ok($pong, 'loading: Redis finished loading');
ok($ours && $loading >= 1, sprintf('loading: Redis answered LOADING for '
                                   . '%.1f s', $loading));
my $dbsize = $c->redis('main', 'DBSIZE');
ok($dbsize > $keys, "loading: the dataset came back ($dbsize keys)");

# the load goes on while the workers recover, and a second longer
$c->chaos_over;
$c->wait_recovered;
sleep 1;
$c->load_stop;

my $nginx = $c->errorstat('main', 'LOADING') - $ours;
ok($nginx > 0, "loading: nginx was answered LOADING ($nginx times)");
my $spooled = $c->count_status(202);
ok($spooled > 0, "loading: submissions were spooled meanwhile ($spooled)");
my $pings = $c->log_count(qr/answered PING with: LOADING/);

$c->finish(extra => sprintf('LOADING for %.1f s, %d LOADING replies to '
                            . 'nginx (%d to its PING, from the error log)',
                            $loading, $nginx, $pings));
done_testing();
