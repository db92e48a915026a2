# clinic_redis with a host name, resolved at run time through nginx's
# resolver (SPEC.md section 10): two redis-servers on the same port of
# 127.0.0.1 and 127.0.0.2, a DNS responder of the test's own whose answer
# for redis.test moves from the first to the second. New submissions
# follow the DNS within seconds, without a reload, and the old connection
# is closed. A name that does not resolve at start: nginx -t passes,
# nginx starts, submissions are spooled until the name appears, then
# replayed. Plain Test::More with the chaos suite's harness (see
# docs/testing.md, "Chaos suite").
use strict;
use warnings;
use lib 't/lib';
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;
use ClinicCluster;

# both redis-servers' streams as one, for ClinicChaos::finish: XRANGE of
# each, merged by id
package MergedStore {
    sub new { my ($class, $c, @n) = @_; bless { c => $c, n => \@n }, $class }

    sub _cmp {
        my ($x, $y) = map { [ split /-/, $_->[0] ] } @_;
        return $x->[0] <=> $y->[0] || $x->[1] <=> $y->[1];
    }

    sub cmd_key {
        my ($self, $key, @cmd) = @_;
        die "MergedStore: XRANGE only\n" unless uc $cmd[0] eq 'XRANGE';
        my ($count) = $cmd[-2] && uc $cmd[-2] eq 'COUNT' ? $cmd[-1] : ();
        my @all;
        for my $n (@{ $self->{n} }) {
            my $r = $self->{c}->redis($n, @cmd);
            return $r if ClinicChaos::is_error($r);
            push @all, @{ $r || [] };
        }
        @all = sort { _cmp($a, $b) } @all;
        splice @all, $count if defined $count && @all > $count;
        return \@all;
    }
}

ClinicChaos::check_prerequisites(chaos => 0);

my $c = ClinicChaos->new(name => 'dns');
my $k = ClinicCluster->new($c);
my $slow = ClinicChaos::slow();

# a port free on both addresses
my $port;
for (1 .. 20) {
    $port = ClinicChaos::free_port();
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.2', LocalPort => $port,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1);
    last if $s && close $s;
    undef $port;
}
die 'no port free on both 127.0.0.1 and 127.0.0.2' unless $port;
$c->redis_start('first', host => '127.0.0.1', port => $port);
$c->redis_start('second', host => '127.0.0.2', port => $port);
$c->use_store(MergedStore->new($c, 'first', 'second'));

sub xlen {
    my $n = $c->redis($_[0], 'XLEN', $c->stream);
    return ClinicChaos::is_error($n) ? -1 : $n;
}

# the responder itself
my $dport = $k->dns_start('redis.test' => '127.0.0.1');
my $q = $k->dns_query('redis.test');
is_deeply([ $q->{rcode}, $q->{ips}, $q->{ttls}, $q->{id_ok} ],
          [ 0, ['127.0.0.1'], [1], 1 ],
          'dns: the responder answers redis.test A 127.0.0.1, TTL 1');
$q = $k->dns_query('REDIS.test', 'AAAA');
is_deeply([ $q->{rcode}, scalar @{ $q->{ips} } ], [ 0, 0 ],
          'dns: and AAAA with an empty NOERROR');
is($k->dns_query('nowhere.test')->{rcode}, 3,
   'dns: an unknown name is NXDOMAIN');

my $resolver = "    resolver 127.0.0.1:$dport valid=1s ipv6=off;\n"
             . "    resolver_timeout 2s;\n";
my %conf = (http_extra => $resolver,
            redis_line => "redis.test:$port timeout=200ms");
my ($t_ok, $t_out) = $c->nginx_test(%conf);
ok($t_ok, 'dns: nginx -t passes with clinic_redis redis.test:PORT and a '
          . 'resolver') or diag("    $t_out");
my $started = eval { $c->nginx_start(%conf); 1 };
ok($started, "dns: nginx starts with clinic_redis redis.test:$port, the "
             . 'endpoint up in both workers')
    or do {
        diag("    $@");
        done_testing();
        exit;
    };

# the first address
my @s = map { $c->submit_one(undef, 'first') } 1 .. 20;
is(scalar(grep { $_ != 201 } @s), 0, 'dns: 20 submissions answered 201')
    or diag("    @s");
is(xlen('first'), 20, 'dns: they are on 127.0.0.1');
is(xlen('second'), 0, 'dns: none on 127.0.0.2');
my $master = $c->nginx_pid;
my @workers = $c->workers;
my $queries0 = () = $k->dns_queries('redis.test');

# the DNS moves redis.test: new submissions follow, polled (no fixed
# wait): 10 in a row on new connections, on both workers, land on the
# second
my $tc = time;
$k->dns_set('redis.test' => '127.0.0.2');
my ($run, $n, %by) = (0, 0);
my $deadline = time + 15 * $slow;
while (time < $deadline && ($run < 10 || keys %by < 2)) {
    my $before = xlen('second');
    my $st = $c->submit_one(undef, 'switch');
    $n++;
    if ($st == 201 && xlen('second') == $before + 1) {
        $run++;
        $by{ $c->{results}[-1]{pid} } = 1;
    } else {
        ($run, %by) = (0);
    }
    sleep 0.05;
}
my $switched = time - $tc;
ok($run >= 10 && keys %by == 2,
   sprintf('dns: %.1f s after the change, new submissions of both workers '
           . 'land on 127.0.0.2 (%d sent)', $switched, $n))
    or diag("    $run in a row, workers @{[ sort keys %by ]}; "
            . join '; ', $k->history);
is($c->nginx_pid, $master, 'dns: no restart (the same nginx master)');
is_deeply([ $c->workers ], \@workers, 'dns: no reload (the same workers)');

my $first = xlen('first');
my $second = xlen('second');
@s = map { $c->submit_one(undef, 'after') } 1 .. 10;
is(scalar(grep { $_ != 201 } @s), 0, 'dns: 10 more submissions answered 201')
    or diag("    @s");
is(xlen('second') - $second, 10, 'dns: all on 127.0.0.2');
is(xlen('first') - $first, 0, 'dns: none on 127.0.0.1');

# the old connections are closed (INFO clients counts this one)
my $clients;
$deadline = time + 5 * $slow;
while (time < $deadline) {
    $clients = $c->redis_info('first', 'clients')->{connected_clients};
    last if $clients == 1;
    sleep 0.1;
}
is($clients - 1, 0, 'dns: nginx has no connection left to 127.0.0.1');
my $queries = () = $k->dns_queries('redis.test');
diag(sprintf 'dns: the workers followed the DNS in %.1f s; the responder '
     . 'was asked about redis.test %d times (%d before the change)',
     $switched, $queries, $queries0);

# a name nobody has heard of yet
$c->nginx_stop;
my %late = (http_extra => $resolver,
            redis_line => "late.test:$port timeout=200ms");
($t_ok, $t_out) = $c->nginx_test(%late);
ok($t_ok, 'dns: nginx -t passes with a name that does not resolve '
          . '(late.test), with a resolver') or diag("    $t_out");
$started = eval { $c->nginx_start(%late, wait => 'workers'); 1 };
ok($started, 'dns: nginx starts with it') or do {
    diag("    $@");
    done_testing();
    exit;
};
@s = map { $c->submit_one(undef, 'late') } 1 .. 10;
is(scalar(grep { $_ != 202 } @s), 0, 'dns: while late.test does not '
                                     . 'resolve, submissions are spooled (202)')
    or diag("    @s");
my $before = xlen('first');
sleep 1;
$k->dns_set('late.test' => '127.0.0.1');
$c->chaos_over;
my ($ok, $why) = $c->wait_recovered(15);
ok($ok, 'dns: once late.test resolves, the spool drains and the endpoint '
        . 'is up') or diag("    $why");
cmp_ok(xlen('first') - $before, '>=', 10, 'dns: the spooled submissions '
                                          . 'are replayed to 127.0.0.1');

my $counts = $c->finish(label => 'late', recover_secs => 15,
                        lost_note => sub { join '; ', $k->history });
diag(sprintf 'dns: late.test resolved, the spool drained %.1f s later',
     $c->{recovered_in} // -1);

done_testing();
