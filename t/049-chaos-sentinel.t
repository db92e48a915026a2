# Chaos: Redis behind Sentinel (clinic_redis sentinel=... master=clinic):
# a master, a replica and 3 Sentinels. (a) SENTINEL FAILOVER under load;
# (b) kill -9 of the new master under load. After each, the workers write
# to the new master (its stream grows, clinic_redis_master_changes_total
# grew), every acknowledged submission is in its tenant's stream exactly
# once, the spool drains and every worker answers 201. See
# docs/testing.md, "Chaos suite".
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use ClinicChaos;
use ClinicCluster;

ClinicCluster::check_prerequisites();
ClinicChaos::skip_scenario('sentinel');

my $NTENANTS = 4;

my $c = ClinicChaos->new(name => 'sentinel');
my $k = ClinicCluster->new($c);
$k->sentinel_start(master_name => 'clinic');
$c->use_store($k);
is($k->sentinel_master, 'data-a', 'sentinel: the 3 Sentinels agree on the '
                                  . 'master, data-a');

my @hosts = ('chaos.example', map { "chaos-$_.example" } 1 .. $NTENANTS);
my $line = 'sentinel=' . $k->sentinel_addrs . ' master=clinic timeout=200ms';
my $started = eval {
    $c->nginx_start(redis_line => $line, tenants => $NTENANTS);
    1;
};
ok($started, "sentinel: nginx starts with clinic_redis $line, the "
             . 'endpoint up in both workers')
    or do {
        diag("    $@");
        done_testing();
        exit;
    };

# clinic_redis_node_up: the master NAME's address with role master, and
# a Sentinel, each 1
sub nodes_up {
    my ($label, $name) = @_;
    my $st = eval { $c->status } || {};
    my $m = ClinicChaos::metric_where($st, 'clinic_redis_node_up',
                                      node => $c->redis_addr($name),
                                      role => 'master');
    my $s = ClinicChaos::metric_where($st, 'clinic_redis_node_up',
                                      role => 'sentinel');
    my @all = map { "$_ $st->{$_}" } grep { /^clinic_redis_node_up/ }
              sort keys %$st;
    ok(%$m && !grep({ $_ != 1 } values %$m),
       "sentinel $label: clinic_redis_node_up of $name ("
       . $c->redis_addr($name) . ', role master) is 1')
        or diag("    @all");
    ok(grep({ $_ == 1 } values %$s),
       "sentinel $label: clinic_redis_node_up of a Sentinel is 1")
        or diag("    @all");
}

nodes_up('start', 'data-a');

sub changes {
    my $st = eval { $c->status } || {};
    return (ClinicChaos::metric_sum($st, 'clinic_redis_master_changes_total'),
            $st);
}

# the stream of the instance's tenant on the server NAME, read there
sub xlen {
    my ($name) = @_;
    my $n = eval { $c->redis($name, 'XLEN', $c->stream) };
    return defined $n && !ClinicChaos::is_error($n) ? $n : -1;
}

# after a switch to NEW: new submissions are stored, on NEW
sub writes_to {
    my ($label, $new, $old_changes) = @_;
    my $before = xlen($new);
    my @s = map { $c->submit_one('chaos.example', "$label after") } 1 .. 10;
    my $after = xlen($new);
    is(scalar(grep { $_ != 201 } @s), 0, "sentinel $label: 10 new "
                                         . 'submissions answered 201')
        or diag("    @s");
    cmp_ok($after - $before, '>=', 10, "sentinel $label: the stream grows "
                                       . "on the new master $new");
    my ($changes) = changes();
    cmp_ok($changes, '>', $old_changes, "sentinel $label: "
           . 'clinic_redis_master_changes_total grew');
    return $changes;
}

# when the lost ones were answered, from T0 (the chaos), and what the
# harness saw happen
sub lost_note {
    my ($t0) = @_;
    return sub {
        my @at = sort { $a <=> $b } map { $_->{at} - $t0 }
                 grep { defined $_->{at} } @_;
        return (@at ? sprintf('answered from %+.2f s to %+.2f s after the '
                              . 'chaos began; ', $at[0], $at[-1]) : '')
               . join('; ', $k->history);
    };
}

sub report {
    my ($what, $sw, $fig, $counts) = @_;
    diag(sprintf 'sentinel %s: %s -> %s in %.1f s; first 201 again %s '
         . 'after it began, last 202 %s after; %d submissions answered 202 '
         . '(spooled), %d replayed from the spool; duplicates %d, lost %d',
         $what, $sw->{from}, $sw->{to}, $sw->{secs},
         defined $fig->{back} ? sprintf('%.2f s', $fig->{back}) : 'never',
         defined $fig->{last202} ? sprintf('%.2f s', $fig->{last202}) : '-',
         $fig->{spooled}, $fig->{replayed}, $counts->{duplicated},
         $counts->{lost});
}

my $rec;
my $tilts0 = $k->sentinel_tilts;

# the workers recovered (bounded); when a Sentinel went into TILT mode (a
# machine too busy stalled it over 2 s: it acts again 30 s later), the
# wait starts again once it is out, and the TILT is said
sub recovered {
    my ($ok) = $c->wait_recovered(20);
    return $ok if $ok;
    my $tilts = $k->sentinel_tilts - $tilts0;
    return $ok unless $tilts;
    my $waited = $k->wait_tilt_over(45);
    diag(sprintf '    the Sentinels went into TILT mode %d times (this '
         . 'machine stalled them over 2 s); waited %.1f s for them', $tilts,
         $waited);
    ($ok) = $c->wait_recovered(20);
    return $ok;
}

# ------------------------------------------------- (a) SENTINEL FAILOVER

my ($changes0, $st0) = changes();
$c->load_start(hosts => \@hosts, phase => 'failover');
sleep 1.5;
my $ta = time;
my $fa = $k->sentinel_failover(wait_old => 0);
$c->chaos_over;
# a module that does not recover: the waits after this one are short
$rec = recovered();
sleep 1;
$c->load_stop;
writes_to('failover', $fa->{to}, $changes0);
nodes_up('failover', $fa->{to});
my $ca = $c->finish(label => 'failover', recover_secs => $rec ? 20 : 3,
                    probe_hosts => \@hosts,
                    lost_note => lost_note($ta));
my (undef, $st1) = changes();
my $figa = $c->phase_figures('failover', $ta);
$figa->{replayed} = ($st1->{clinic_spool_replayed_total} // 0)
                  - ($st0->{clinic_spool_replayed_total} // 0);
report('failover', $fa, $figa, $ca);

# ------------------------------------------------- (b) kill -9 of the master

# The promoted replica has no replica of its own until the killed server
# is back: with replicas=1 (the default with Sentinel) no submission
# counts as stored meanwhile, they are spooled. Its supervisor starts the
# killed server again 1 s after the switch; the Sentinels make it a
# replica of the new master.

# the old master is a replica in sync before its master is killed
my $synced = $k->wait_replica($fa->{from});
my ($changes2, $st2) = changes();
$c->load_start(hosts => \@hosts, phase => 'kill');
sleep 1.5;
my $tb = time;
my $fb = $k->sentinel_kill_master;
sleep 1;
my $tr = time;
$k->sentinel_restart($fb->{from});
my $trb = time;
$c->chaos_over;
# a module that does not recover: the waits after this one are short
$rec = recovered();
sleep 1;
$c->load_stop;
my @window = grep { $_->{phase} eq 'kill' && $_->{status} == 201
                    && $_->{at} < $tr && $_->{at} - $_->{secs} > $tb + 0.1 }
             @{ $c->{results} };
is(scalar(@window), 0, 'sentinel kill: while the new master has no '
                       . 'replica, no submission is answered 201 '
                       . '(replicas=1)')
    or diag('    ' . join ', ', map { $_->{tag} }
                                @window[0 .. ($#window < 4 ? $#window : 4)]);
writes_to('kill', $fb->{to}, $changes2);
nodes_up('kill', $fb->{to});
my $cb = $c->finish(label => 'kill', recover_secs => $rec ? 20 : 3,
                    probe_hosts => \@hosts,
                    lost_note => lost_note($tb));
my (undef, $st3) = changes();
my $figb = $c->phase_figures('kill', $tb);
$figb->{replayed} = ($st3->{clinic_spool_replayed_total} // 0)
                  - ($st2->{clinic_spool_replayed_total} // 0);
report('kill -9', $fb, $figb, $cb);
diag(sprintf 'sentinel: the old master was a replica in sync %.1f s after '
     . 'the failover\'s end; after the kill, the killed server was started '
     . 'again %.1f s after the kill, a replica in sync %.1f s after',
     $synced, $tr - $tb, $trb - $tb);

my $tilts = $k->sentinel_tilts - $tilts0;
diag("sentinel: the Sentinels went into TILT mode $tilts times (a machine "
     . 'too busy: they stop acting for 30 s)') if $tilts;

done_testing();
