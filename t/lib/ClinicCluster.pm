package ClinicCluster;

# The harness of "Redis beyond one server" (SPEC.md section 10) for the
# chaos suite: a Redis Cluster (t/048-chaos-cluster.t), a Sentinel set
# (t/049-chaos-sentinel.t), a DNS responder (t/008-redis-dns.t) and a
# throwaway certificate authority (t/004-redis-tls.t).
#
# It works on a ClinicChaos instance: every redis-server and Sentinel is
# one of its servers (ClinicChaos::redis_start: a child of the test that
# the kernel kills when the test dies, on a free loopback port, in the
# instance's temporary folder) and the DNS responder one of its child
# processes, so the instance's cleanup stops them all, also on failure.
#
#   my $c = ClinicChaos->new(name => 'cluster');
#   my $k = ClinicCluster->new($c);
#   $k->cluster_start(masters => 3, replicas => 1);
#   $c->use_store($k);                  # finish() reads streams through it
#   $c->nginx_start(redis_line => 'cluster=' . $k->seeds . ' timeout=200ms',
#                   tenants => 50);
#
# Plain Perl: the Redis protocol is ClinicChaos's, TLS goes through
# redis-cli and openssl, DNS is a few lines of pack/unpack.

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket qw(inet_aton inet_ntoa);
use Test::More ();
use Time::HiRes qw(time sleep);

use ClinicChaos;

# skips the file unless ClinicChaos can run and PROGRAMS are here
# (redis-cli by default); a first argument { chaos => 0 }: not a chaos
# scenario (see ClinicChaos::check_prerequisites)
sub check_prerequisites {
    my (@progs) = @_;
    my $o = ref $progs[0] ? shift @progs : {};
    ClinicChaos::check_prerequisites(%$o);
    for my $p (@progs ? @progs : 'redis-cli') {
        Test::More::plan(skip_all => "no $p") unless ClinicChaos::_which($p);
    }
}

sub new {
    my ($class, $c) = @_;
    return bless { c => $c, dead => {}, log => [] }, $class;
}

sub chaos { $_[0]{c} }

# what happened, with times since the start: for a diag on failure
sub note {
    my ($self, $what) = @_;
    push @{ $self->{log} }, sprintf('%6.2f %s', time - $self->{c}{t0}, $what);
}

sub history { @{ $_[0]{log} } }

sub _ok {
    my ($r, $what) = @_;
    die "$what: " . $r->message . "\n" if ClinicChaos::is_error($r);
    return $r;
}

# waits up to SECS (times slow()) until COND returns true, and returns
# that; while PAUSED (optional) is true, the time is not counted, up to
# 60 s more
sub _wait {
    my ($secs, $what, $cond, $paused) = @_;
    my $deadline = time + $secs * ClinicChaos::slow();
    my $cap = $deadline + 60;
    my $last;
    while (time < $deadline) {
        my $r = eval { $cond->() };
        return $r if $r;
        $last = $@ if $@;
        sleep 0.05;
        $deadline += 0.05 if $paused && $deadline < $cap && $paused->();
    }
    die "$what: not within " . $secs * ClinicChaos::slow() . ' s'
        . ($last ? " (last error: $last)" : '') . "\n";
}

# ------------------------------------------------------------- hash slots

my @CRC16;
for my $i (0 .. 255) {
    my $crc = $i << 8;
    for (1 .. 8) {
        $crc = $crc & 0x8000 ? (($crc << 1) ^ 0x1021) : ($crc << 1);
    }
    $CRC16[$i] = $crc & 0xffff;
}

# CRC16-XMODEM, as Redis Cluster hashes keys
sub crc16 {
    my ($s) = @_;
    my $crc = 0;
    for my $b (unpack 'C*', $s) {
        $crc = (($crc << 8) & 0xff00) ^ $CRC16[(($crc >> 8) ^ $b) & 0xff];
    }
    return $crc;
}

# the key's slot: the part between the first "{" and the next "}" when it
# is not empty, else the whole key (as CLUSTER KEYSLOT)
sub slot_of {
    my $key = ref $_[0] ? $_[1] : $_[0];
    my $s = index($key, '{');
    if ($s >= 0) {
        my $e = index($key, '}', $s + 1);
        $key = substr($key, $s + 1, $e - $s - 1) if $e > $s + 1;
    }
    return crc16($key) % 16384;
}

# the slot of a tenant's keys (clinic:{TENANT}:...)
sub tenant_slot { slot_of("clinic:{$_[1]}:submissions") }

# ---------------------------------------------------------------- cluster

# MASTERS masters with REPLICAS replicas each (6 redis-servers by
# default), cluster-enabled, appendonly yes and appendfsync always, made a
# cluster by redis-cli --cluster create; returns once every node says
# cluster_state:ok, all agree on the slot map and every replica's link to
# its master is up. conf => {...} adds redis-server settings to each node
# (full_coverage => 'no': cluster-require-full-coverage no)
sub cluster_start {
    my ($self, %o) = @_;
    my $c = $self->{c};
    my $masters = $o{masters} || 3;
    my $replicas = $o{replicas} // 1;
    my $timeout = $o{node_timeout} || 1000;
    $self->{mode} = 'cluster';
    my @names = map { "node$_" } 1 .. $masters * (1 + $replicas);
    for my $n (@names) {
        $c->redis_start($n, conf => {
            'cluster-enabled'      => 'yes',
            'cluster-config-file'  => 'nodes.conf',
            'cluster-node-timeout' => $timeout,
            # the bus port is the port + 10000 unless told: free ports
            # may be above 55535
            'cluster-port'         => ClinicChaos::free_port(),
            'cluster-require-full-coverage' => $o{full_coverage} || 'yes',
            # a replica syncs at once, not after 5 s
            'repl-diskless-sync-delay' => 0,
            appendonly             => 'yes',
            appendfsync            => 'always',
            %{ $o{conf} || {} },
        });
        $self->{by_port}{ $c->redis_port($n) } = $n;
        $self->{id}{$n} = _ok($c->redis($n, 'CLUSTER', 'MYID'), 'MYID');
        $self->{by_id}{ $self->{id}{$n} } = $n;
    }
    $self->{nodes} = \@names;
    my $t0 = time;
    my ($out, $rc) = _run('redis-cli', '--cluster', 'create',
                          (map { $c->redis_addr($_) } @names),
                          '--cluster-replicas', $replicas, '--cluster-yes');
    _spew("$c->{dir}/cluster-create.log", $out);
    die "redis-cli --cluster create failed ($rc):\n$out" if $rc;
    $self->wait_cluster_ok(30);
    $self->{created_in} = time - $t0;
    $self->note(sprintf 'cluster of %d nodes ready in %.1f s', scalar @names,
                $self->{created_in});
    return $self;
}

sub nodes { @{ $_[0]{nodes} || [] } }
sub live_nodes { grep { !$_[0]{dead}{$_} } $_[0]->nodes }
sub node_id { $_[0]{id}{$_[1]} }
sub node_addr { $_[0]{c}->redis_addr($_[1]) }

# the nodes' addresses, comma separated, for clinic_redis cluster=... (the
# masters only with masters => 1)
sub seeds {
    my ($self, %o) = @_;
    my @n = $o{masters} ? map { $_->{name} } $self->masters
                        : $self->live_nodes;
    return join ',', map { $self->node_addr($_) } @n;
}

# the slot map according to NODE (the first live node by default), from
# CLUSTER NODES (CLUSTER SLOTS leaves out a replica that has not synced
# yet): [ { start, end, master => name, replicas => [names] } ], by slot.
# Replicas flagged fail or fail? are left out.
sub slots_of {
    my ($self, $node) = @_;
    $node ||= ($self->live_nodes)[0];
    my $r = _ok($self->{c}->redis($node, 'CLUSTER', 'NODES'), 'CLUSTER NODES');
    my (%reps, @own);
    for my $line (split /\r?\n/, $r) {
        my ($id, $addr, $flags, $master, $ping, $pong, $epoch, $link, @slots)
            = split ' ', $line;
        next unless defined $link;
        my $name = $self->{by_id}{$id} // "?$id";
        if ($flags =~ /\bslave\b/) {
            push @{ $reps{$master} }, $name
                unless $flags =~ /\bfail\??\b|noaddr/;
            next;
        }
        for (@slots) {
            next if /^\[/;             # [slot->-id], [slot-<-id]: migrations
            my ($s, $e) = /^(\d+)(?:-(\d+))?$/ or next;
            push @own, [ $s, $e // $s, $id, $name ];
        }
    }
    my @ranges = map { { start => $_->[0], end => $_->[1], master => $_->[3],
                         replicas => [ sort @{ $reps{ $_->[2] } || [] } ] } }
                 sort { $a->[0] <=> $b->[0] } @own;
    return \@ranges;
}

sub _signature {
    my ($ranges) = @_;
    return join ' ', map { "$_->{start}-$_->{end}:$_->{master}/"
                           . join(',', @{ $_->{replicas} }) } @$ranges;
}

# reads the slot map again (from a live node)
sub refresh {
    my ($self) = @_;
    my $ranges = $self->slots_of;
    my @owner;
    for my $r (@$ranges) {
        $owner[$_] = $r->{master} for $r->{start} .. $r->{end};
    }
    $self->{ranges} = $ranges;
    $self->{owner} = \@owner;
    return $ranges;
}

# waits (bounded) until every live node says cluster_state:ok with all
# slots assigned, all agree on the slot map and the replicas, and every
# live node is a master of slots or a replica connected to its master;
# reads the map
sub wait_cluster_ok {
    my ($self, $secs) = @_;
    my $c = $self->{c};
    my $why = '';
    my $deadline = time + ($secs || 20) * ClinicChaos::slow();
    while (time < $deadline) {
        my $ok = eval {
            my %sig;
            for my $n ($self->live_nodes) {
                my $info = $c->redis($n, 'CLUSTER', 'INFO');
                die "$n: CLUSTER INFO failed\n"
                    if !defined $info || ClinicChaos::is_error($info);
                die "$n: not ok\n" unless $info =~ /cluster_state:ok/
                    && $info =~ /cluster_slots_assigned:16384/;
                $sig{ _signature($self->slots_of($n)) }++;
            }
            die "the nodes disagree on the slot map\n" if keys %sig != 1;
            my $ranges = $self->refresh;
            my %placed = map { ($_->{master} => 1,
                                map { $_ => 1 } @{ $_->{replicas} }) }
                         @$ranges;
            for my $n ($self->live_nodes) {
                die "$n: neither a master of slots nor a replica\n"
                    unless $placed{$n};
            }
            for my $r (@$ranges) {
                for my $rep (@{ $r->{replicas} }) {
                    my $i = $c->redis_info($rep, 'replication');
                    die "$rep: link to its master not up\n"
                        unless ($i->{master_link_status} // '') eq 'up';
                }
            }
            1;
        };
        return 1 if $ok;
        $why = $@;
        sleep 0.1;
    }
    die "the cluster is not ok within " . ($secs || 20) * ClinicChaos::slow()
        . " s: $why";
}

# the masters, by their first slot: { name, addr, port, id, slots =>
# [[start, end], ...], replicas => [names] }
sub masters {
    my ($self) = @_;
    my $ranges = $self->{ranges} || $self->refresh;
    my (%m, @order);
    for my $r (@$ranges) {
        my $n = $r->{master};
        push @order, $n unless $m{$n};
        $m{$n} ||= { name => $n, addr => $self->node_addr($n),
                     port => $self->{c}->redis_port($n),
                     id => $self->{id}{$n}, replicas => $r->{replicas},
                     slots => [] };
        push @{ $m{$n}{slots} }, [ $r->{start}, $r->{end} ];
    }
    return map { $m{$_} } @order;
}

# the first replica of the master NAME
sub replica_of {
    my ($self, $master) = @_;
    my ($m) = grep { $_->{name} eq $master } $self->masters;
    return $m ? $m->{replicas}[0] : undef;
}

sub node_for_slot {
    my ($self, $slot) = @_;
    $self->refresh unless $self->{owner};
    return $self->{owner}[$slot];
}

sub node_for_key { $_[0]->node_for_slot(slot_of($_[1])) }

# a command about KEY on the node that holds it, following MOVED (the map
# read again) and ASK (ASKING first, on one connection), and waiting out
# TRYAGAIN, CLUSTERDOWN and a node that is gone; in Sentinel mode, on the
# master. ClinicChaos::finish reads the streams with it (use_store).
sub cmd_key {
    my ($self, $key, @cmd) = @_;
    my $c = $self->{c};
    return $self->master_cmd(@cmd) if ($self->{mode} // '') eq 'sentinel';
    my $node = $self->node_for_key($key);
    my $last;
    my $deadline = time + 15 * ClinicChaos::slow();
    while (time < $deadline) {
        my $r = eval { $c->redis($node, @cmd) };
        if ($@) {
            $last = $@;
            sleep 0.1;
            eval { $self->refresh };
            $node = $self->node_for_key($key);
            next;
        }
        return $r unless ClinicChaos::is_error($r);
        my $m = $r->message;
        if ($m =~ /^MOVED \d+ \S+:(\d+)/) {
            $self->{moved_seen}++;
            $self->refresh;
            $node = $self->{by_port}{$1} // $self->node_for_key($key);
            next;
        }
        if ($m =~ /^ASK \d+ \S+:(\d+)/) {
            $self->{ask_seen}++;
            my $s = $c->redis_socket($self->{by_port}{$1});
            print $s ClinicChaos::_format('ASKING'),
                     ClinicChaos::_format(@cmd);
            ClinicChaos::_reply($s);
            my $r2 = ClinicChaos::_reply($s);
            close $s;
            return $r2 unless ClinicChaos::is_error($r2)
                              && $r2->message =~ /^TRYAGAIN/;
            sleep 0.05;
            next;
        }
        if ($m =~ /^(TRYAGAIN|CLUSTERDOWN|LOADING)/) {
            $last = $m;
            sleep 0.1;
            next;
        }
        return $r;
    }
    die "$cmd[0] $key: gave up (last: " . ($last // '?') . ")\n";
}

# kill -9 of a master (its index in masters(), from 0, or its name) and
# the wait until its replica is promoted and the cluster is ok again;
# returns { killed, promoted, promoted_secs (kill to the replica's ROLE
# master), ok_secs (kill to cluster_state:ok everywhere) }
sub cluster_kill_master {
    my ($self, $which) = @_;
    my $c = $self->{c};
    my @m = $self->masters;
    my $victim = $which =~ /^\d+$/ ? $m[$which]{name} : $which;
    my $replica = $self->replica_of($victim)
        or die "$victim has no replica";
    my $t0 = time;
    $c->redis_kill($victim, 'KILL');
    $self->{dead}{$victim} = 1;
    $self->note("kill -9 of master $victim (" . $self->node_addr($victim)
                . "), its replica $replica");
    _wait(20, "$replica promoted", sub {
        my $role = $c->redis($replica, 'ROLE');
        ref $role && $role->[0] eq 'master';
    });
    my $promoted = time - $t0;
    $self->note(sprintf '%s is a master %.2f s after the kill', $replica,
                $promoted);
    $self->wait_cluster_ok(20);
    my $ok = time - $t0;
    $self->note(sprintf 'cluster ok %.2f s after the kill', $ok);
    return $self->{failover} = { killed => $victim, promoted => $replica,
                                 promoted_secs => $promoted,
                                 ok_secs => $ok };
}

# starts a killed node again (it rejoins as a replica of whoever took its
# slots) and waits until the cluster is ok with it
sub cluster_restart_node {
    my ($self, $name) = @_;
    $self->{c}->redis_start($name);
    delete $self->{dead}{$name};
    $self->note("$name started again");
    $self->wait_cluster_ok(20);
}

# moves SLOT to the master TO by hand, one step at a time, so that a
# client in the middle meets ASK, then MOVED: SETSLOT IMPORTING on TO,
# SETSLOT MIGRATING on the owner, MIGRATE of the keys BATCH at a time
# (10) with PAUSE (0.5 s) between the steps and after the last one (the
# slot is still MIGRATING: every key is gone, so the owner answers ASK),
# then SETSLOT NODE on TO, the owner and the other masters (ask_pause =>
# SECS: a longer last pause, the ASK window). on_step =>
# sub { my ($step, $detail) = @_ } is called at each step ('importing',
# 'migrating', 'batch', 'migrated', 'node'). Returns { from, to, keys,
# batches, secs }
sub migrate_slot {
    my ($self, $slot, $to, %o) = @_;
    my $c = $self->{c};
    my $from = $self->node_for_slot($slot);
    die "slot $slot is on $to already" if $from eq $to;
    my $pause = $o{pause} // 0.5;
    my $batch = $o{batch} || 10;
    my $step = $o{on_step} || sub {};
    my ($fid, $tid) = ($self->{id}{$from}, $self->{id}{$to});
    my $t0 = time;

    _ok($c->redis($to, 'CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $fid),
        "SETSLOT $slot IMPORTING on $to");
    $step->('importing');
    _ok($c->redis($from, 'CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $tid),
        "SETSLOT $slot MIGRATING on $from");
    $self->note("slot $slot: $from MIGRATING to $to");
    $step->('migrating');
    sleep $pause;

    my ($keys, $batches) = (0, 0);
    for (;;) {
        my $k = _ok($c->redis($from, 'CLUSTER', 'GETKEYSINSLOT', $slot,
                              $batch), 'GETKEYSINSLOT');
        last unless @$k;
        my $r = $c->redis($from, 'MIGRATE', $c->redis_host($to),
                          $c->redis_port($to), '', 0, 5000, 'KEYS', @$k);
        die "MIGRATE: " . $r->message if ClinicChaos::is_error($r);
        $keys += @$k;
        $batches++;
        $step->('batch', $k);
        sleep $pause;
    }
    $self->note("slot $slot: $keys keys migrated in $batches batches");
    $step->('migrated');
    sleep $o{ask_pause} // $pause;

    # the new owner first, so that it never answers MOVED to the old one
    _ok($c->redis($to, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $tid),
        "SETSLOT $slot NODE on $to");
    _ok($c->redis($from, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $tid),
        "SETSLOT $slot NODE on $from");
    for my $m (grep { $_->{name} ne $to && $_->{name} ne $from }
               $self->masters)
    {
        _ok($c->redis($m->{name}, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $tid),
            "SETSLOT $slot NODE on $m->{name}");
    }
    $self->note("slot $slot: now on $to");
    $step->('node');
    $self->wait_cluster_ok(20);
    return { from => $from, to => $to, keys => $keys, batches => $batches,
             secs => time - $t0 };
}

# a bigger move: redis-cli --cluster reshard of N slots from the master
# FROM to the master TO; waits until the cluster agrees
sub reshard {
    my ($self, $from, $to, $n) = @_;
    my $c = $self->{c};
    my $t0 = time;
    my ($out, $rc) = _run('redis-cli', '--cluster', 'reshard',
                          $self->node_addr($to),
                          '--cluster-from', $self->{id}{$from},
                          '--cluster-to', $self->{id}{$to},
                          '--cluster-slots', $n, '--cluster-yes',
                          '--cluster-pipeline', 20);
    _spew("$c->{dir}/cluster-reshard.log", $out);
    die "redis-cli --cluster reshard failed ($rc):\n$out" if $rc;
    $self->note("reshard: $n slots from $from to $to");
    $self->wait_cluster_ok(30);
    return time - $t0;
}

# the tags ("Chaos TAG" names) in the append-only files of the server
# NAME: what it acknowledged to nginx, replicated or not
sub aof_tags {
    my ($self, $name) = @_;
    my $dir = $self->{c}->redis_dir($name);
    my %tags;
    for my $f (glob("$dir/appendonlydir/*"), glob("$dir/*.aof")) {
        open my $fh, '<:raw', $f or next;
        while (<$fh>) {
            $tags{$1}++ if /^Chaos (\S+)\r?$/;
        }
    }
    return \%tags;
}

# --------------------------------------------------------------- Sentinel

# a master and a replica (appendonly yes, appendfsync always), and
# SENTINELS Sentinels (3) that monitor them as MASTER_NAME ("clinic"),
# quorum 2, down-after-milliseconds 1000, failover-timeout 3000,
# parallel-syncs 1, each with a configuration file of its own (Sentinel
# rewrites it); returns once each Sentinel knows the replica and the
# other Sentinels
sub sentinel_start {
    my ($self, %o) = @_;
    my $c = $self->{c};
    my $name = $o{master_name} || 'clinic';
    my $n = $o{sentinels} || 3;
    $self->{mode} = 'sentinel';
    $self->{master_name} = $name;
    my %data = (appendonly => 'yes', appendfsync => 'always',
                'repl-diskless-sync-delay' => 0,
                %{ $o{conf} || {} });
    my @data = ('data-a', 'data-b');
    $c->redis_start('data-a', conf => { %data });
    $c->redis_start('data-b', conf => { %data, replicaof => '127.0.0.1 '
                                                . $c->redis_port('data-a') });
    $self->{data} = \@data;
    $self->{by_port}{ $c->redis_port($_) } = $_ for @data;
    _wait(15, 'data-b replicating data-a', sub {
        ($c->redis_info('data-b', 'replication')->{master_link_status}
         // '') eq 'up';
    });

    my $t0 = time;
    my $mport = $c->redis_port('data-a');
    my @s;
    for my $i (1 .. $n) {
        my $sn = "sentinel$i";
        my $dir = "$c->{dir}/redis-$sn";
        mkdir $dir;
        my $file = "$dir/sentinel.conf";
        _spew($file, "sentinel monitor $name 127.0.0.1 $mport 2\n"
                   . "sentinel down-after-milliseconds $name 1000\n"
                   . "sentinel failover-timeout $name 3000\n"
                   . "sentinel parallel-syncs $name 1\n");
        chmod 0666, $file;
        $c->redis_start($sn, sentinel => $file);
        push @s, $sn;
    }
    $self->{sentinels} = \@s;
    for my $sn (@s) {
        _wait(20, "$sn to see the replica and the other Sentinels", sub {
            my %m = @{ _ok($c->redis($sn, 'SENTINEL', 'MASTER', $name),
                           'SENTINEL MASTER') };
            return 0 unless ($m{'num-other-sentinels'} // 0) == $n - 1;
            my $reps = _ok($c->redis($sn, 'SENTINEL', 'REPLICAS', $name),
                           'SENTINEL REPLICAS');
            return grep { my %r = @$_; $r{flags} eq 'slave'
                          && ($r{'master-link-status'} // '') eq 'ok' }
                   @$reps;
        });
    }
    $self->{sentinels_ready_in} = time - $t0;
    $self->note(sprintf 'Sentinels ready in %.1f s',
                $self->{sentinels_ready_in});
    return $self;
}

sub sentinels { @{ $_[0]{sentinels} || [] } }
sub data_nodes { @{ $_[0]{data} || [] } }
sub master_name { $_[0]{master_name} }

# the Sentinels' addresses, comma separated, for clinic_redis sentinel=...
sub sentinel_addrs {
    my ($self) = @_;
    return join ',', map { $self->{c}->redis_addr($_) } $self->sentinels;
}

# the master according to the Sentinel S (every Sentinel that answers
# must agree, unless S is named): its server's name, or undef
sub sentinel_master {
    my ($self, $s) = @_;
    my $c = $self->{c};
    my %seen;
    for my $sn ($s ? ($s) : $self->sentinels) {
        next if $self->{dead}{$sn};
        my $r = eval { $c->redis($sn, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME',
                                 $self->{master_name}) };
        next unless ref $r eq 'ARRAY';
        $seen{ $self->{by_port}{ $r->[1] } // "?$r->[1]" }++;
    }
    return undef if keys %seen != 1;
    return (keys %seen)[0];
}

# the data server whose ROLE is master (undef: none, or both)
sub current_master {
    my ($self) = @_;
    my @m = grep {
        my $n = $_;
        !$self->{dead}{$n} && do {
            my $r = eval { $self->{c}->redis($n, 'ROLE') };
            ref $r && $r->[0] eq 'master';
        }
    } $self->data_nodes;
    return @m == 1 ? $m[0] : undef;
}

# a command on the current master (Sentinel mode)
sub master_cmd {
    my ($self, @cmd) = @_;
    my $m = _wait(15, 'a master', sub {
        my $s = $self->sentinel_master;
        my $m = $self->current_master;
        defined $s && defined $m && $s eq $m ? $m : undef;
    });
    return $self->{c}->redis($m, @cmd);
}

# how many times the Sentinels entered TILT mode so far (from their logs):
# a Sentinel whose event loop stalled over 2 s (a machine too busy) stops
# acting, failovers and reconfigurations included, until 30 s after
sub sentinel_tilts {
    my ($self) = @_;
    my $n = 0;
    for my $sn ($self->sentinels) {
        open my $fh, '<', $self->{c}->redis_log($sn) or next;
        while (<$fh>) { $n++ if /\+tilt\b/ }
    }
    return $n;
}

# a Sentinel in TILT mode now (INFO sentinel)
sub sentinel_in_tilt {
    my ($self) = @_;
    for my $sn ($self->sentinels) {
        next if $self->{dead}{$sn};
        my $i = eval { $self->{c}->redis_info($sn, 'sentinel') } or next;
        return $sn if $i->{sentinel_tilt};
    }
    return undef;
}

# waits (bounded: SECS, 45 by default) until no Sentinel is in TILT mode;
# returns the seconds waited
sub wait_tilt_over {
    my ($self, $secs) = @_;
    my $t0 = time;
    return 0 unless $self->sentinel_in_tilt;
    $self->note('a Sentinel is in TILT mode: waiting for it to end');
    eval { _wait($secs || 45, 'the Sentinels out of TILT mode', sub {
        !$self->sentinel_in_tilt;
    }) };
    $self->note(sprintf 'TILT over after %.1f s', time - $t0);
    return time - $t0;
}

# _wait, but the time a Sentinel spends in TILT mode (doing nothing) is
# not counted, up to 60 s more
sub _wait_sentinels {
    my ($self, $secs, $what, $cond) = @_;
    return _wait($secs, $what, $cond, sub { $self->sentinel_in_tilt });
}

# waits until every Sentinel names NEW as the master and NEW's ROLE is
# master; with the old master alive, until it replicates NEW
sub _wait_switch {
    my ($self, $old, $secs) = @_;
    my $c = $self->{c};
    my $new = $self->_wait_sentinels($secs,
                                     "the Sentinels to name a master other "
                                     . "than $old", sub {
        my $m = $self->sentinel_master;
        defined $m && $m ne $old && $m !~ /^\?/ ? $m : undef;
    });
    _wait($secs, "$new to be a master", sub {
        my $r = $c->redis($new, 'ROLE');
        ref $r && $r->[0] eq 'master';
    });
    return $new;
}

# SENTINEL FAILOVER through the first Sentinel, and the wait for the
# switch; returns { from, to, secs (to every Sentinel naming the new
# master, its ROLE master) }. Unless wait_old => 0, also waits until the
# old master replicates the new one (Sentinel turns it into a replica
# some 10 s later: it waits for two of its INFO periods); see
# wait_replica
sub sentinel_failover {
    my ($self, %o) = @_;
    my $c = $self->{c};
    my $old = $self->sentinel_master or die 'the Sentinels disagree';
    my $t0 = time;
    _wait(15, 'SENTINEL FAILOVER accepted', sub {
        my $r = $c->redis(($self->sentinels)[0], 'SENTINEL', 'FAILOVER',
                          $self->{master_name});
        # NOGOODSLAVE (a replica not ready yet) or INPROG: again
        !ClinicChaos::is_error($r);
    });
    $self->note("SENTINEL FAILOVER of $old");
    my $new = $self->_wait_switch($old, 20);
    my $secs = time - $t0;
    $self->note(sprintf '%s is the master %.2f s after SENTINEL FAILOVER',
                $new, $secs);
    $self->wait_replica($old) unless defined $o{wait_old} && !$o{wait_old};
    return { from => $old, to => $new, secs => $secs };
}

# waits (bounded: SECS, 60 by default) until the data server NAME is a
# replica of the Sentinels' master, its link up and its offset at least the
# master's of a moment before (in sync, under load too); returns the
# seconds it waited
sub wait_replica {
    my ($self, $name, $secs) = @_;
    my $c = $self->{c};
    my $t0 = time;
    my $m = $self->sentinel_master;
    my $seen = 'nothing';
    eval { $self->_wait_sentinels($secs || 60, "$name to replicate $m", sub {
        # the master's offset first: the replica has caught up with it
        my $mi = $c->redis_info($m, 'replication');
        my $i = $c->redis_info($name, 'replication');
        $seen = join ', ', map { "$_ " . ($i->{$_} // '-') }
                    qw(role master_port master_link_status slave_repl_offset);
        $seen .= ", the master's offset " . ($mi->{master_repl_offset} // '-');
        return 0 unless ($i->{role} // '') eq 'slave'
            && ($i->{master_link_status} // '') eq 'up'
            && $i->{master_port} == $c->redis_port($m);
        return ($i->{slave_repl_offset} // -1)
            >= ($mi->{master_repl_offset} // 0);
    }) };
    if ($@) {
        chomp(my $e = $@);
        die "$e; last seen of $name: $seen; the Sentinels name "
            . ($self->sentinel_master // 'no master') . "\n";
    }
    $self->note(sprintf '%s replicates %s, in sync (%.1f s)', $name, $m,
                time - $t0);
    return time - $t0;
}

# kill -9 of the current master, and the wait until the Sentinels have
# promoted the replica; returns { from, to, secs }
sub sentinel_kill_master {
    my ($self) = @_;
    my $c = $self->{c};
    my $old = $self->sentinel_master or die 'the Sentinels disagree';
    my $t0 = time;
    $c->redis_kill($old, 'KILL');
    $self->{dead}{$old} = 1;
    $self->note("kill -9 of the master $old");
    my $new = $self->_wait_switch($old, 30);
    my $secs = time - $t0;
    $self->note(sprintf '%s is the master %.2f s after the kill', $new,
                $secs);
    return { from => $old, to => $new, secs => $secs };
}

# starts a killed data server again; the Sentinels make it a replica of
# the current master.  That takes a Sentinel's INFO period or two before
# the full sync, and longer when the suites beside this one keep the
# machine busy (a CI run once needed more than 30 s): up to 90 s
sub sentinel_restart {
    my ($self, $name) = @_;
    my $c = $self->{c};
    $c->redis_start($name);
    delete $self->{dead}{$name};
    $self->note("$name started again");
    $self->wait_replica($name, 90);
}

# ------------------------------------------------------------------- DNS

# a DNS responder on a free UDP port of 127.0.0.1, in a child process: A
# queries for the names of TABLE (name => address, or [addresses]) are
# answered with TTL 1, AAAA queries for them with an empty NOERROR, any
# other name NXDOMAIN. The table is a file, read again at every query:
# dns_set changes it at run time. Each query is a line of dns/queries.log
# (time, name, type, answer). Returns the port.
sub dns_start {
    my ($self, %table) = @_;
    my $c = $self->{c};
    my $dir = "$c->{dir}/dns";
    mkdir $dir;
    $self->{dns_table} = "$dir/table";
    $self->{dns_log} = "$dir/queries.log";
    $self->{dns} = {};
    $self->dns_set(%table);
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                     Proto => 'udp')
        or die "DNS responder: no UDP socket: $!";
    my $port = $sock->sockport;
    my ($table, $log) = @$self{qw(dns_table dns_log)};
    $c->child_start('dns', sub { _dns_serve($sock, $table, $log) });
    close $sock;
    $self->{dns_port} = $port;
    $self->note("DNS responder on 127.0.0.1:$port");
    return $port;
}

sub dns_port { $_[0]{dns_port} }

# changes the table: name => address, [addresses], or undef (NXDOMAIN)
sub dns_set {
    my ($self, %set) = @_;
    for my $n (keys %set) {
        if (defined $set{$n}) {
            $self->{dns}{ lc $n } = ref $set{$n} ? $set{$n} : [ $set{$n} ];
        } else {
            delete $self->{dns}{ lc $n };
        }
    }
    my $t = $self->{dns_table};
    _spew("$t.tmp", join '', map { "$_ @{ $self->{dns}{$_} }\n" }
                             sort keys %{ $self->{dns} });
    rename "$t.tmp", $t or die "$t: $!";
    $self->note('DNS: ' . join(', ', map { "$_ => "
                                   . (defined $set{$_}
                                      ? join(' ', ref $set{$_}
                                                  ? @{ $set{$_} } : $set{$_})
                                      : 'NXDOMAIN') } sort keys %set));
}

# the queries the responder was asked: [ time, name, type, answer ], of
# NAME only when given
sub dns_queries {
    my ($self, $name) = @_;
    open my $fh, '<', $self->{dns_log} or return ();
    my @q;
    while (<$fh>) {
        chomp;
        my @f = split / /, $_, 4;
        push @q, \@f if !defined $name || lc $f[1] eq lc $name;
    }
    return @q;
}

my %QTYPE = (1 => 'A', 28 => 'AAAA', 5 => 'CNAME', 6 => 'SOA', 33 => 'SRV');

sub _dns_serve {
    my ($sock, $table, $log) = @_;
    $0 = 'clinic-chaos dns';
    open my $lf, '>>', $log or die "$log: $!";
    $lf->autoflush(1);
    for (;;) {
        my $peer = $sock->recv(my $pkt, 4096, 0);
        next unless defined $peer && length $pkt >= 12;
        my ($id, $flags, $qd) = unpack 'n3', $pkt;
        next if $flags & 0x8000 || $qd != 1;
        my ($off, @labels) = (12);
        my $bad = 0;
        for (;;) {
            if ($off >= length $pkt) { $bad = 1; last }
            my $len = ord substr($pkt, $off++, 1);
            last if $len == 0;
            if ($len & 0xc0 || $off + $len > length $pkt) { $bad = 1; last }
            push @labels, substr($pkt, $off, $len);
            $off += $len;
        }
        next if $bad || $off + 4 > length $pkt;
        my ($qtype, $qclass) = unpack 'n2', substr($pkt, $off, 4);
        $off += 4;
        my $question = substr($pkt, 12, $off - 12);
        my $name = lc join '.', @labels;

        my %t;
        if (open my $tf, '<', $table) {
            while (<$tf>) {
                my ($n, @a) = split ' ';
                $t{ lc $n } = \@a if defined $n;
            }
        }
        my ($rcode, @ans) = (0);
        if (!$t{$name}) {
            $rcode = 3;                          # NXDOMAIN
        } elsif ($qtype == 1 && $qclass == 1) {
            @ans = @{ $t{$name} };
        }
        my $answers = join '', map {
            pack('n', 0xc00c) . pack('nnNn', 1, 1, 1, 4) . inet_aton($_)
        } @ans;
        # QR, the opcode and RD as asked, AA, RA
        my $rflags = 0x8000 | ($flags & 0x7900) | 0x0400 | 0x0080 | $rcode;
        $sock->send(pack('n6', $id, $rflags, 1, scalar @ans, 0, 0)
                    . $question . $answers, 0, $peer);
        printf $lf "%.3f %s %s %s\n", time, $name,
            $QTYPE{$qtype} // $qtype,
            $rcode == 3 ? 'NXDOMAIN' : @ans ? join(',', @ans) : 'NOERROR';
    }
}

# a DNS query to the responder (a tiny client, for the self-check):
# { rcode, ips => [...], ttls => [...], id_ok }
sub dns_query {
    my ($self, $name, $type) = @_;
    my $qtype = ($type || 'A') eq 'AAAA' ? 28 : 1;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{dns_port},
                                  Proto => 'udp') or die "udp: $!";
    my $id = int rand 65536;
    my $q = pack('n6', $id, 0x0100, 1, 0, 0, 0)
          . join('', map { chr(length $_) . $_ } split /\./, $name) . "\0"
          . pack('n2', $qtype, 1);
    $s->send($q);
    my $sel = IO::Select->new($s);
    die "no DNS answer\n" unless $sel->can_read(2);
    $s->recv(my $pkt, 4096);
    my ($rid, $flags, $qd, $an) = unpack 'n4', $pkt;
    my $off = 12;
    for (1 .. $qd) {
        while ((my $len = ord substr($pkt, $off++, 1)) != 0) {
            $off += $len;
        }
        $off += 4;
    }
    my (@ips, @ttls);
    for (1 .. $an) {
        my $b = ord substr($pkt, $off, 1);
        if ($b & 0xc0) { $off += 2 }
        else {
            while ((my $len = ord substr($pkt, $off++, 1)) != 0) {
                $off += $len;
            }
        }
        my ($t, $cl, $ttl, $rdlen) = unpack 'nnNn', substr($pkt, $off, 10);
        $off += 10;
        push @ips, inet_ntoa(substr($pkt, $off, 4)) if $t == 1 && $rdlen == 4;
        push @ttls, $ttl;
        $off += $rdlen;
    }
    return { rcode => $flags & 0xf, ips => \@ips, ttls => \@ttls,
             id_ok => $rid == $id, aa => ($flags & 0x0400) ? 1 : 0 };
}

# ------------------------------------------------------------------- TLS

# a throwaway CA and a server certificate it signs (subjectAltName
# IP:127.0.0.1 and DNS:redis.test), and a second CA that signs nothing of
# ours, with a self-signed certificate for the same names (the untrusted
# ones). P-256 keys: quick to make. Returns { dir, ca, cert, key,
# wrong_ca, wrong_cert, wrong_key }
sub tls_make {
    my ($self) = @_;
    my $d = "$self->{c}{dir}/tls";
    mkdir $d;
    chmod 0755, $d;
    my @key = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
               '-nodes');
    _spew("$d/server.ext", "subjectAltName=IP:127.0.0.1,DNS:redis.test\n"
                         . "basicConstraints=CA:FALSE\n"
                         . "keyUsage=digitalSignature,keyEncipherment\n"
                         . "extendedKeyUsage=serverAuth\n");
    for my $cmd (
        [ 'req', '-x509', @key, '-keyout', "$d/ca.key", '-out', "$d/ca.crt",
          '-days', 2, '-subj', '/CN=Clinic chaos test CA' ],
        [ 'req', @key, '-keyout', "$d/server.key", '-out', "$d/server.csr",
          '-subj', '/CN=redis.test' ],
        [ 'x509', '-req', '-in', "$d/server.csr", '-CA', "$d/ca.crt",
          '-CAkey', "$d/ca.key", '-CAcreateserial', '-out', "$d/server.crt",
          '-days', 2, '-extfile', "$d/server.ext" ],
        [ 'req', '-x509', @key, '-keyout', "$d/wrong-ca.key",
          '-out', "$d/wrong-ca.crt", '-days', 2,
          '-subj', '/CN=Untrusted chaos test CA' ],
        [ 'req', '-x509', @key, '-keyout', "$d/wrong-server.key",
          '-out', "$d/wrong-server.crt", '-days', 2, '-subj', '/CN=redis.test',
          '-addext', 'subjectAltName=IP:127.0.0.1,DNS:redis.test' ],
    ) {
        my ($out, $rc) = _run('openssl', @$cmd);
        die "openssl @$cmd: $out" if $rc;
    }
    chmod 0644, glob("$d/*");
    return $self->{tls} = {
        dir        => $d,
        ca         => "$d/ca.crt",
        cert       => "$d/server.crt",
        key        => "$d/server.key",
        wrong_ca   => "$d/wrong-ca.crt",
        wrong_cert => "$d/wrong-server.crt",
        wrong_key  => "$d/wrong-server.key",
    };
}

# ------------------------------------------------------------------ util

# runs a program; (its output, stderr included, and its exit status)
sub _run {
    my (@cmd) = @_;
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    return ($out, $? >> 8);
}

sub _spew {
    my ($f, $text) = @_;
    open my $fh, '>', $f or die "$f: $!";
    print $fh $text;
    close $fh or die "$f: $!";
}

1;
