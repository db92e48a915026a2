# Chaos: a Redis Cluster of 3 masters and 3 replicas behind 50 tenants
# (clinic_redis cluster=...). After a warm-up that checks the tenants'
# streams are spread over the 3 masters, each on the node owning its
# tenant's slot, and that pages are served: (a) kill -9 of a master under
# load, its replica promoted; (b) a slot holding one tenant's keys
# migrated to another master under load, by hand (through ASK, then
# MOVED). After each, every acknowledged submission is in its tenant's
# stream exactly once, the spool drains and every worker answers 201.
# See docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;
use ClinicCluster;

ClinicCluster::check_prerequisites('redis-cli');
ClinicChaos::skip_scenario('cluster');

my $NTENANTS = 50;

my $c = ClinicChaos->new(name => 'cluster');
my $k = ClinicCluster->new($c);
$k->cluster_start(masters => 3, replicas => 1, node_timeout => 1000);
$c->use_store($k);
my @masters = $k->masters;
diag(sprintf 'cluster: 6 nodes ready in %.1f s; %s', $k->{created_in},
     join('; ', map { "$_->{name} $_->{addr} slots "
                      . join(',', map { "$_->[0]-$_->[1]" } @{ $_->{slots} })
                      . " replica $_->{replicas}[0]" } @masters));

my @tenants = ($c->tenant, map { "chaos-$_" } 1 .. $NTENANTS);
my %host_of = ($c->tenant => 'chaos.example',
               map { ("chaos-$_" => "chaos-$_.example") } 1 .. $NTENANTS);
my @hosts = map { $host_of{$_} } @tenants;

# the harness itself: its slots are Redis's, the tenants spread
my @wrong = grep {
    $k->tenant_slot($_) != $c->redis('node1', 'CLUSTER', 'KEYSLOT',
                                     $c->stream_of($_))
} @tenants;
is(scalar(@wrong), 0, "cluster: the harness's CRC16 slots are Redis's "
                      . '(CLUSTER KEYSLOT) for the ' . @tenants . ' tenants')
    or diag("    @wrong");
my %on;
$on{ $k->node_for_key($c->stream_of($_)) }++ for @tenants;
is(scalar(keys %on), 3, 'cluster: the tenants\' slots are on the 3 masters')
    or diag('    ' . join ', ', map { "$_ x $on{$_}" } sort keys %on);

# one tenant per master, for the probes after each scenario
sub per_master {
    my %seen;
    my @h;
    for my $t (@tenants) {
        my $n = $k->node_for_key($c->stream_of($t));
        push @h, $host_of{$t} unless $seen{$n}++;
    }
    return \@h;
}

sub get {
    my ($path, $host) = @_;
    return $c->http("GET $path HTTP/1.1\r\nHost: $host\r\n"
                    . "Connection: close\r\n\r\n");
}

# two seeds only: nginx learns the third master from the slot map; the
# first seed is the master killed in (a)
my $seeds = join ',', map { $_->{addr} } @masters[0, 1];
my $line = "cluster=$seeds timeout=200ms";

# one more tenant with rate limits and the admin API: limits and purge
# generations work through the cluster (their keys in the tenant's slot,
# the purge log in a slot of its own)
my $TOKEN = 'cluster-admin-token-0123456789abcdef';
{
    open my $fh, '>', $c->dir . '/admin.token' or die $!;
    print $fh "$TOKEN\n";
    close $fh;
    chmod 0644, $c->dir . '/admin.token';
}
my $extra = <<"END";
    server {
        listen 127.0.0.1:\$PORT;
        server_name limits.example;
        clinic_tenant cluster-limits;
        clinic_contact_limit client=2/10m tenant=off;
        clinic_admin_token_file @{[ $c->dir ]}/admin.token;
        location = /contact { clinic_contact; }
        location /admin/ { clinic_admin; }
    }
END

my $started = eval {
    $c->nginx_start(redis_line => $line, tenants => $NTENANTS, content => 1,
                    extra => $extra);
    1;
};
ok($started, "cluster: nginx starts with clinic_redis $line and "
             . "$NTENANTS tenants, the endpoint up in both workers")
    or do {
        diag("    $@");
        done_testing();
        exit;
    };

# pages, one tenant per master, each twice
for my $h (@{ per_master() }) {
    my $t = $c->tenant_of($h);
    for my $n (1, 2) {
        my $r = get('/treatments/first-visit', $h);
        ok($r && $r->{status} == 200
           && $r->{body} =~ /Your first visit to \Q$t\E/,
           "cluster: $h /treatments/first-visit answers 200 with its "
           . "article ($n)")
            or diag('    ' . ($r ? "$r->{status}: "
                                    . substr($r->{body} // '', 0, 200)
                                : 'no answer'));
    }
}

# the client limit (2 in 10 minutes) counted on the tenant's master
{
    my @codes;
    for my $n (1 .. 3) {
        my $body = "name=Limit+$n&email=limit%40example.com"
                 . "&message=Limit+test+number+$n";
        my $r = $c->http("POST /contact HTTP/1.1\r\nHost: limits.example\r\n"
                         . "Content-Type: application/x-www-form-urlencoded"
                         . "\r\nAccept: application/json\r\n"
                         . "Connection: close\r\n"
                         . 'Content-Length: ' . length($body)
                         . "\r\n\r\n$body");
        push @codes, $r ? $r->{status} : 0;
    }
    is("@codes", '201 201 429', 'cluster: a tenant\'s client limit holds '
                               . 'through the cluster (201 201 429)');
}

# a purge: the generation on the tenant's master, the log in its own slot
{
    my $r = $c->http("POST /admin/purge HTTP/1.1\r\nHost: limits.example\r\n"
                     . "Authorization: Bearer $TOKEN\r\n"
                     . "Content-Length: 0\r\nConnection: close\r\n\r\n");
    my ($gen) = ($r && $r->{body} // '') =~ /"generation":(\d+)/;
    ok($r && $r->{status} == 200 && $gen,
       'cluster: the admin API purges through the cluster')
        or diag('    ' . ($r ? "$r->{status} $r->{body}" : 'no answer'));
    my $stored = $k->cmd_key('clinic:{cluster-limits}:purge',
                             'GET', 'clinic:{cluster-limits}:purge');
    is($stored, $gen, 'cluster: the purge generation is on the tenant\'s '
                      . 'master');
    my $log = $k->cmd_key('clinic:{~purges}:log', 'XREVRANGE',
                          'clinic:{~purges}:log', '+', '-', 'COUNT', 1);
    my %f = (ref $log && ref $log->[0]) ? @{ $log->[0][1] } : ();
    is("t=" . ($f{t} // '') . " g=" . ($f{g} // ''),
       "t=cluster-limits g=" . ($gen // ''),
       'cluster: the purge is in the purge log, in its own slot');
}

# warm-up: every tenant's stream on the master of its slot
$c->load_start(hosts => \@hosts, phase => 'warm-up');
sleep 2;
$c->load_stop;
my ($up) = $c->wait_recovered(10);
my (%holds, @missing);
for my $t (@tenants) {
    my $n = $k->node_for_key($c->stream_of($t));
    my $len = $c->redis($n, 'XLEN', $c->stream_of($t));
    if (!ClinicChaos::is_error($len) && $len > 0) {
        $holds{$n}++;
    } else {
        push @missing, "$t on $n: "
            . (ClinicChaos::is_error($len) ? $len->message : 'empty');
    }
}
is(scalar(@missing), 0, 'cluster: after the warm-up every tenant\'s '
                        . 'stream is on the master owning its slot')
    or diag('    ' . join '; ', @missing[0 .. ($#missing < 9 ? $#missing
                                                            : 9)]);
is(scalar(keys %holds), 3, 'cluster: the streams are on all 3 masters')
    or diag('    ' . join ', ', map { "$_: $holds{$_} streams" }
                                sort keys %holds);

# the phase's figures, and the spool's replays from status ST0 to ST1
sub figures {
    my ($phase, $t0, $affected, $st0, $st1) = @_;
    my $f = $c->phase_figures($phase, $t0, $affected);
    $f->{replayed} = ($st1->{clinic_spool_replayed_total} // 0)
                   - ($st0->{clinic_spool_replayed_total} // 0);
    return $f;
}

# when the lost ones were answered, from T0 (the chaos), how many of them
# the killed master DEAD had in its append-only file, and what the harness
# saw happen
sub lost_note {
    my ($t0, $dead) = @_;
    return sub {
        my @lost = @_;
        my @at = sort { $a <=> $b } map { $_->{at} - $t0 }
                 grep { defined $_->{at} } @lost;
        my $in = '';
        if ($dead) {
            my $aof = $k->aof_tags($dead);
            $in = sprintf '%d of them in the append-only file of the killed '
                        . 'master %s (acknowledged by it, not replicated?); ',
                          scalar(grep { $aof->{ $_->{tag} } } @lost), $dead;
        }
        return (@at ? sprintf('answered from %+.2f s to %+.2f s after the '
                              . 'chaos began; ', $at[0], $at[-1]) : '')
               . $in . join('; ', $k->history);
    };
}

my $rec;

# ------------------------------------------------- (a) kill -9 of a master

# The promoted replica has no replica of its own until the killed master
# is back: with replicas=1 (the default for a cluster) none of its
# tenants' submissions counts as stored meanwhile, they are spooled. Its
# supervisor starts the killed server again 2 s after the promotion; it
# rejoins as the replica of the promoted one. The other masters keep
# their replicas: their tenants must be answered 201 again before that.
my $victim = $masters[0]{name};
my %affected = map { $_ => 1 }
               grep { $k->node_for_key($c->stream_of($_)) eq $victim }
               @tenants;
my $st0 = $c->status;
$c->load_start(hosts => \@hosts, phase => 'failover');
sleep 1.5;
my $tk = time;
my $f = $k->cluster_kill_master($victim);
sleep 2;
my $tr = time;
$k->cluster_restart_node($victim);
my $trb = time;
$c->chaos_over;
# a module that does not recover: the waits after this one are short
$rec = ($c->wait_recovered(20))[0];
sleep 1;
$c->load_stop;
my $st1 = eval { $c->status } || {};

my $promoted = $k->node_addr($f->{promoted});
my $nu = ClinicChaos::metric_where($st1, 'clinic_redis_node_up',
                                   node => $promoted, role => 'master');
ok(%$nu && !grep({ $_ != 1 } values %$nu),
   "cluster: clinic_redis_node_up of the promoted replica $promoted "
   . '(role master) is 1')
    or diag('    ' . join ', ', map { "$_ $st1->{$_}" }
                                grep { /^clinic_redis_node_up/ }
                                sort keys %$st1);

# from the kill to the restart: none of the dead master's tenants' stores
# counts, the others' do once the cluster is ok again
my @window = sort { $a->{at} <=> $b->{at} }
             grep { $_->{phase} eq 'failover' && $_->{status}
                    && $_->{at} < $tr && $_->{at} - $_->{secs} > $tk + 0.1 }
             @{ $c->{results} };
my @dead201 = grep { $_->{status} == 201
                     && $affected{ $c->tenant_of($_->{host}) } } @window;
is(scalar(@dead201), 0, 'cluster: while the promoted replica has no '
                        . 'replica, none of its tenants\' submissions is '
                        . 'answered 201 (replicas=1)')
    or diag('    ' . join ', ', map { "$_->{tag} ($_->{host})" }
                                @dead201[0 .. ($#dead201 < 4 ? $#dead201 : 4)]);
my @others = grep { !$affected{ $c->tenant_of($_->{host}) } } @window;
my @last = @others > 10 ? @others[-10 .. -1] : @others;
my %oc;
$oc{ $_->{status} }++ for grep { $_->{at} > $tk + $f->{ok_secs} } @others;
ok(@last == 10 && !grep({ $_->{status} != 201 } @last),
   'cluster: the other masters\' tenants are answered 201 again before '
   . 'the dead master is back (their last 10 answers)')
    or diag('    answers to the other masters\' tenants from the cluster '
            . 'ok again to the restart: '
            . join(', ', map { "$_ x $oc{$_}" } sort keys %oc)
            . '; last 10: ' . join(' ', map { $_->{status} } @last));

my $ca = $c->finish(label => 'failover', probe => 6,
                    probe_hosts => per_master(),
                    recover_secs => $rec ? 20 : 3,
                    lost_note => lost_note($tk, $victim));
my $fa = figures('failover', $tk, \%affected, $st0,
                 eval { $c->status } || {});
diag(sprintf 'cluster failover: %s (%s) killed, %s promoted %.1f s later '
     . '(cluster ok %.1f s), %s back as its replica %.1f s after the kill '
     . '(in sync %.1f s after); its %d tenants: first 201 again %s after '
     . 'the kill, last 202 %s after; %d submissions answered 202 '
     . '(spooled), %d replayed from the spool; duplicates %d, lost %d',
     $victim, $masters[0]{addr}, $f->{promoted}, $f->{promoted_secs},
     $f->{ok_secs}, $victim, $tr - $tk, $trb - $tk,
     scalar(keys %affected),
     defined $fa->{back} ? sprintf('%.2f s', $fa->{back}) : 'never',
     defined $fa->{last202} ? sprintf('%.2f s', $fa->{last202}) : '-',
     $fa->{spooled}, $fa->{replayed}, $ca->{duplicated}, $ca->{lost});

# ------------------------------------------------- (b) a slot migrated

# a tenant alone in its slot, moved to another master
my %per_slot;
$per_slot{ $k->tenant_slot($_) }++ for @tenants;
my ($mt) = grep { $per_slot{ $k->tenant_slot($_) } == 1 }
           @tenants[1 .. $#tenants];
my $slot = $k->tenant_slot($mt);
my $from = $k->node_for_slot($slot);
my ($to) = grep { $_ ne $from } map { $_->{name} } $k->masters;
my %moved_tenant = ($mt => 1);

my $st2 = $c->status;
my %r0 = map { $_ => ClinicChaos::metric_sum($st2,
                                             'clinic_redis_redirects_total',
                                             kind => $_) }
         qw(ask moved tryagain);
my @pages;
$c->load_start(hosts => [ @hosts, ($host_of{$mt}) x 12 ],
               phase => 'migration');
sleep 1;
my $tm = time;
my $mig = eval {
    $k->migrate_slot($slot, $to, pause => 0.5, ask_pause => 1, batch => 10,
                     on_step => sub {
        my ($step) = @_;
        return unless $step eq 'migrated' || $step eq 'node';
        my $r = get('/treatments/first-visit', $host_of{$mt});
        push @pages, [ $step, $r ];
    });
};
ok($mig, "cluster: slot $slot ($mt) migrated from $from to $to by hand")
    or diag("    $@");
$c->chaos_over;
# a module that does not recover: the waits after this one are short
$rec = ($c->wait_recovered(20))[0];
sleep 1;
$c->load_stop;
$c->wait_recovered($rec ? 15 : 1);
my $st3 = eval { $c->status } || {};
my %r1 = map { $_ => ClinicChaos::metric_sum($st3,
                                             'clinic_redis_redirects_total',
                                             kind => $_) }
         qw(ask moved tryagain);
ok($r1{ask} > $r0{ask}, "cluster: clinic_redis_redirects_total{kind=\"ask\"} "
                        . "grew during the migration ($r0{ask} -> $r1{ask})")
    or diag('    ' . join ', ', map { "$_ $st3->{$_}" }
                                grep { /^clinic_redis_redirects_total/ }
                                sort keys %$st3);
ok($r1{moved} > $r0{moved}, 'cluster: clinic_redis_redirects_total'
                            . "{kind=\"moved\"} grew after it ($r0{moved} -> "
                            . "$r1{moved})");
for my $p (@pages) {
    my ($step, $r) = @$p;
    ok($r && $r->{status} == 200
       && $r->{body} =~ /Your first visit to \Q$mt\E/,
       "cluster: $mt\'s page answers 200 with the slot "
       . ($step eq 'node' ? 'just moved' : 'still migrating'))
        or diag('    ' . ($r ? $r->{status} : 'no answer'));
}
my $there = $c->redis($to, 'XLEN', $c->stream_of($mt));
ok(!ClinicChaos::is_error($there) && $there > 0,
   "cluster: $mt\'s stream is on $to now");
my $cm = $c->finish(label => 'migration', probe => 6,
                    probe_hosts => [ @{ per_master() }, $host_of{$mt} ],
                    recover_secs => $rec ? 20 : 3,
                    lost_note => lost_note($tm));
my $fm = figures('migration', $tm, \%moved_tenant, $st2,
                 eval { $c->status } || {});
diag(sprintf 'cluster migration: slot %d (%s) %s -> %s, %d keys in %d '
     . 'batches, %.1f s; ASK %d, MOVED %d, TRYAGAIN %d; %s: first 201 after '
     . 'the start %s, last 202 %s; %d submissions answered 202, %d '
     . 'replayed; duplicates %d, lost %d',
     $slot, $mt, $from, $to, $mig ? $mig->{keys} : 0,
     $mig ? $mig->{batches} : 0, $mig ? $mig->{secs} : 0,
     $r1{ask} - $r0{ask}, $r1{moved} - $r0{moved},
     $r1{tryagain} - $r0{tryagain}, $mt,
     defined $fm->{back} ? sprintf('%.2f s', $fm->{back}) : 'never',
     defined $fm->{last202} ? sprintf('%.2f s', $fm->{last202}) : '-',
     $fm->{spooled}, $fm->{replayed}, $cm->{duplicated}, $cm->{lost});

# ------------------------------------------------- (c) a bigger reshard

# redis-cli --cluster reshard moves a source's lowest slots first: enough
# of them to carry at least two tenants, from the master holding the most
my @ms = $k->masters;
my %slots_of_master = map {
    my $m = $_;
    ($m->{name} => [ map { $_->[0] .. $_->[1] } @{ $m->{slots} } ]);
} @ms;
my %tenant_slot = map { $k->tenant_slot($_) => 1 } @tenants;
my ($src) = sort { scalar(grep { $tenant_slot{$_} } @{ $slots_of_master{$b} })
                   <=> scalar(grep { $tenant_slot{$_} }
                                   @{ $slots_of_master{$a} }) }
            map { $_->{name} } @ms;
my ($dst) = grep { $_ ne $src } map { $_->{name} } @ms;
my @ss = @{ $slots_of_master{$src} };
my ($n, $seen) = (0, 0);
for my $sl (@ss) {
    $n++;
    last if $tenant_slot{$sl} && ++$seen == 2;
}
my %owner0 = map { $_ => $k->node_for_key($c->stream_of($_)) } @tenants;
my $st4 = $c->status;
my %q0 = map { $_ => ClinicChaos::metric_sum($st4,
                                             'clinic_redis_redirects_total',
                                             kind => $_) } qw(ask moved);
$c->load_start(hosts => \@hosts, phase => 'reshard');
sleep 1;
my $ts = time;
my $rs = eval { $k->reshard($src, $dst, $n) };
ok(defined $rs, "cluster: redis-cli --cluster reshard of $n slots from "
                . "$src to $dst under load") or diag("    $@");
$c->chaos_over;
$rec = ($c->wait_recovered(20))[0];
sleep 1;
$c->load_stop;
my @moved = grep { $k->node_for_key($c->stream_of($_)) ne $owner0{$_} }
            @tenants;
cmp_ok(scalar(@moved), '>=', 2, 'cluster: at least two tenants\' slots '
                                . 'moved') or diag("    @moved");
my $st5 = eval { $c->status } || {};
my %q1 = map { $_ => ClinicChaos::metric_sum($st5,
                                             'clinic_redis_redirects_total',
                                             kind => $_) } qw(ask moved);
ok($q1{moved} > $q0{moved}, 'cluster: clinic_redis_redirects_total'
                            . "{kind=\"moved\"} grew ($q0{moved} -> "
                            . "$q1{moved})");
my $cr = $c->finish(label => 'reshard', probe => 6,
                    probe_hosts => per_master(),
                    recover_secs => $rec ? 20 : 3,
                    lost_note => lost_note($ts));
my $fr = figures('reshard', $ts, { map { $_ => 1 } @moved }, $st4,
                 eval { $c->status } || {});
diag(sprintf 'cluster reshard: %d slots %s -> %s in %.1f s, %d tenants '
     . 'moved (%s); ASK %d, MOVED %d; %d submissions answered 202, %d '
     . 'replayed; duplicates %d, lost %d',
     $n, $src, $dst, $rs // -1, scalar(@moved), "@moved",
     $q1{ask} - $q0{ask}, $q1{moved} - $q0{moved}, $fr->{spooled},
     $fr->{replayed}, $cr->{duplicated}, $cr->{lost});

done_testing();
