# Chaos: nginx's Redis is a read-only replica, then is promoted, then
# fails over to the other server and back (FAILOVER): while it is a
# replica, stores fail with -READONLY and are spooled; while it is the
# primary, the spool is replayed. See docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;

ClinicChaos::check_prerequisites();
ClinicChaos::skip_scenario('readonly');

my $c = ClinicChaos->new(name => 'readonly');
my $other = $c->redis_start('other');
my $main = $c->redis_start('main');

# waits until the redis-server NAME has ROLE (master or slave) and, for a
# replica, its link to the primary is up
sub role_is {
    my ($name, $role) = @_;
    my $deadline = time + 20 * ClinicChaos::slow();
    while (time < $deadline) {
        my $i = eval { $c->redis_info($name, 'replication') } || {};
        return 1 if ($i->{role} || '') eq $role
                    && ($role eq 'master'
                        || ($i->{master_link_status} || '') eq 'up');
        sleep 0.05;
    }
    return 0;
}

# 1. nginx starts in front of a replica
$c->redis('main', 'REPLICAOF', '127.0.0.1', $other);
ok(role_is('main', 'slave'), 'readonly: nginx\'s Redis is a replica');
$c->nginx_start(redis => 'main');
$c->load_start;
sleep 2;

# 2. it is promoted; the other one replicates it
$c->redis('main', 'REPLICAOF', 'NO', 'ONE');
$c->redis('other', 'REPLICAOF', '127.0.0.1', $main);
ok(role_is('main', 'master') && role_is('other', 'slave'),
   'readonly: promoted, the other server replicates it');
sleep 2.5;

# 3. a failover to the other server: nginx's Redis is a replica again
my $r = $c->redis('main', 'FAILOVER', 'TIMEOUT', 5000);
ok(!ClinicChaos::is_error($r) && role_is('main', 'slave'),
   'readonly: FAILOVER makes it a replica again')
    or diag('    ' . (ClinicChaos::is_error($r) ? $r->message : 'role'));
sleep 2;

# 4. and back
$r = $c->redis('other', 'FAILOVER', 'TIMEOUT', 5000);
ok(!ClinicChaos::is_error($r) && role_is('main', 'master'),
   'readonly: FAILOVER back makes it the primary again')
    or diag('    ' . (ClinicChaos::is_error($r) ? $r->message : 'role'));
$c->chaos_over;
$c->wait_recovered;
sleep 1;
$c->load_stop;

my $readonly = $c->errorstat('main', 'READONLY');
ok($readonly > 0, "readonly: Redis refused stores with READONLY "
                  . "($readonly times)");
my $spooled = $c->count_status(202);
ok($spooled > 0, "readonly: submissions were spooled meanwhile ($spooled)");

my $counts = $c->finish(extra => "$readonly READONLY replies to nginx");

# the replica has the same stream
my $deadline = time + 10 * ClinicChaos::slow();
my ($a, $b);
while (time < $deadline) {
    $a = $c->redis('main', 'XLEN', $c->stream);
    $b = $c->redis('other', 'XLEN', $c->stream);
    last if $a == $b;
    sleep 0.1;
}
is($b, $a, 'readonly: the replica holds the same stream');
done_testing();
