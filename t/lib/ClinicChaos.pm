package ClinicChaos;

# The chaos suite's harness (t/04x-chaos-*.t): real redis-server processes,
# an nginx of our own (2 workers, as a child of the test), a load generator
# that keeps contact-form submissions flowing while a scenario makes Redis
# misbehave, and the checks every scenario ends with:
#
#   * every submission answered 201 or 202 is in the tenant's stream
#     exactly once (matched by the unique tag in its name field), and a 201's
#     id is the id of that entry;
#   * no answer but 201 and 202 (5xx, and 503 on its own, are counted);
#   * after the chaos, within a bounded wait, the spool is drained
#     (clinic_spool_depth 0) and the endpoint is up (clinic_redis_up 1, and
#     clinic_redis_workers_down 0 once the status page has it); then the
#     last three answers of every worker to new submissions are 201 (a
#     worker left down answers 202 for ever);
#   * no spool file is left, none is set aside as .bad, no worker crashed
#     (but those the scenario killed), no sanitizer report.
#
# Plain Test::More: it does not need Test::Nginx, so the files behave the
# same under the compat runner and openresty's. See docs/testing.md,
# "Chaos suite".

use strict;
use warnings;

use Config ();
use Errno ();
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::More ();
use Time::HiRes qw(time sleep);

my $owner = $$;
my @Instances;

# a test stopped by a signal still runs its END blocks, which stop
# everything it started
for my $sig (qw(INT TERM HUP)) {
    next if $SIG{$sig};
    $SIG{$sig} = sub {
        Test::More::diag("caught SIG$sig, cleaning up") if $$ == $owner;
        exit 1;
    };
}

# in a child about to exec redis-server or nginx: the kernel sends it SIG
# when the test process dies, even by SIGKILL (prctl PR_SET_PDEATHSIG, on
# Linux x86_64, aarch64 and i386; elsewhere nothing)
sub _die_with_parent {
    my ($sig) = @_;
    my $arch = $Config::Config{archname} || '';
    my $nr = $arch =~ /^x86_64/ ? 157
           : $arch =~ /^aarch64/ ? 167
           : $arch =~ /^i[3-6]86/ ? 172
           : return;
    eval { syscall($nr, 1, $sig) };
    POSIX::_exit(1) if getppid() != $owner;
}

# how much slower than a plain build nginx is: waits are multiplied by it
our $Slow;

sub slow {
    return $Slow if defined $Slow;
    if ($ENV{CLINIC_CHAOS_SLOW}) {
        return $Slow = $ENV{CLINIC_CHAOS_SLOW};
    }
    return $Slow = 4 if $ENV{TEST_CLINIC_ASAN};
    $Slow = 1;
    for my $f (nginx_binary(), modules()) {
        open my $fh, '<:raw', $f or next;
        local $/;
        my $bin = <$fh>;
        close $fh;
        if ($bin =~ /__asan_init|__ubsan_handle|__tsan_init|__msan_init/) {
            $Slow = 4;
            last;
        }
    }
    return $Slow;
}

sub root_dir {
    my $here = File::Spec->rel2abs(__FILE__);
    $here =~ s{/t/lib/ClinicChaos\.pm$}{};
    return $here;
}

sub nginx_binary { $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx' }

sub modules {
    my $m = $ENV{TEST_NGINX_LOAD_MODULES};
    return split ' ', $m if defined $m && $m =~ /\S/;
    return root_dir() . '/build/ngx_http_clinic_module.so';
}

sub _which {
    my ($prog) = @_;
    return -x $prog ? $prog : undef if $prog =~ m{/};
    for my $d (split /:/, $ENV{PATH} || '/usr/bin:/bin') {
        return "$d/$prog" if -x "$d/$prog";
    }
    return undef;
}

# skips the whole file when it cannot run here; chaos => 0 for a file
# that is not a chaos scenario but uses the harness (CLINIC_CHAOS_SKIP
# does not skip it)
sub check_prerequisites {
    my (%o) = @_;
    my $chaos = $o{chaos} // 1;
    my $why;
    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        $why = $chaos
             ? 'the chaos suite does not run under valgrind (load tests)'
             : 'the chaos harness does not run nginx under valgrind';
    } elsif ($chaos && $ENV{CLINIC_CHAOS_SKIP}) {
        $why = 'CLINIC_CHAOS_SKIP is set';
    } elsif (!_which('redis-server')) {
        $why = 'no redis-server';
    } elsif (!-x nginx_binary()) {
        $why = 'no nginx binary at ' . nginx_binary();
    } elsif (my @missing = grep { !-f $_ } modules()) {
        $why = "module not built: @missing (run make)";
    }
    Test::More::plan(skip_all => $why) if $why;
}

# a scenario named in CLINIC_CHAOS_SKIP_SCENARIOS (comma or space
# separated, e.g. "loading,busy") is skipped
sub skip_scenario {
    my ($name) = @_;
    my $list = $ENV{CLINIC_CHAOS_SKIP_SCENARIOS} or return;
    for (split /[\s,]+/, $list) {
        Test::More::plan(skip_all =>
            "scenario \"$name\" is listed in CLINIC_CHAOS_SKIP_SCENARIOS")
            if $_ eq $name;
    }
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp',
                                  ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub new {
    my ($class, %o) = @_;
    my $name = $o{name} or die 'name';
    my $dir = File::Temp::tempdir("clinic-chaos-$name-XXXXXX", TMPDIR => 1,
                                  CLEANUP => 0);
    # the workers run as nobody when the test runs as root
    chmod 0755, $dir;
    mkdir "$dir/$_" for qw(logs tmp conf spool);
    chmod 01777, "$dir/spool";
    my $self = bless {
        name    => $name,
        tenant  => $o{tenant} || "chaos-$name",
        dir     => $dir,
        redis   => {},
        results => [],
        runs    => 0,
        killed  => [],
        t0      => time,
    }, $class;
    $self->{stream} = "clinic:{$self->{tenant}}:submissions";
    push @Instances, $self;
    return $self;
}

sub dir { $_[0]{dir} }
sub stream { $_[0]{stream} }

# ---------------------------------------------------------------- Redis

# starts (or starts again, on the same port and folder) the redis-server
# NAME. conf => { directive => value } on top of no persistence; wait =>
# 'pong' (default: until it answers PING), 'listen' (any answer, LOADING
# too) or 'none'. At its first start: host => the address to listen on
# (127.0.0.1; any 127.x.y.z works on Linux), port => a port of the test's
# choice (else a free one), args => [more redis-server arguments],
# tls => { cert, key, ca } (TLS only: --port 0 --tls-port; reached with
# redis_cli, not redis), sentinel => CONFIG_FILE (redis-server CONFIG_FILE
# --sentinel; the file must be writable, Sentinel rewrites it)
sub redis_start {
    my ($self, $name, %o) = @_;
    my $r = $self->{redis}{$name} ||= {
        host => $o{host} || '127.0.0.1',
        port => $o{port} || free_port(),
        dir  => "$self->{dir}/redis-$name",
        conf => {},
    };
    mkdir $r->{dir};
    $r->{conf} = $o{conf} if $o{conf};
    for my $k (qw(args tls sentinel)) {
        $r->{$k} = $o{$k} if $o{$k};
    }
    my %conf = $r->{sentinel} ? %{ $r->{conf} }
             : (save => '', appendonly => 'no', %{ $r->{conf} });
    my @args;
    push @args, $r->{sentinel}, '--sentinel' if $r->{sentinel};
    if (my $t = $r->{tls}) {
        push @args, '--port', 0, '--tls-port', $r->{port},
                    '--tls-cert-file', $t->{cert},
                    '--tls-key-file', $t->{key},
                    '--tls-ca-cert-file', $t->{ca},
                    '--tls-auth-clients', 'no';
    } else {
        push @args, '--port', $r->{port};
    }
    push @args, '--bind', $r->{host}, '--dir', $r->{dir},
                '--daemonize', 'no', '--logfile', "$r->{dir}/redis.log";
    push @args, "--$_", $conf{$_} for sort keys %conf;
    push @args, @{ $r->{args} } if $r->{args};

    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>>', "$r->{dir}/redis.stdout";
        open STDERR, '>&', \*STDOUT;
        _die_with_parent(POSIX::SIGKILL());
        exec 'redis-server', @args or POSIX::_exit(127);
    }
    $r->{pid} = $pid;

    my $wait = $o{wait} || 'pong';
    return $r->{port} if $wait eq 'none';
    my $deadline = time + 10 * slow();
    while (time < $deadline) {
        my $reply = $r->{tls} ? scalar $self->redis_cli($name, 'PING')
                  : eval { $self->redis($name, 'PING') };
        if (defined $reply) {
            return $r->{port} if !ref $reply && $reply =~ /^PONG\s*\z/;
            return $r->{port} if $wait eq 'listen'
                                 && ($reply ne '' || !$r->{tls});
        }
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $r->{pid};
            die "redis-server $name exited at start: "
                . _tail("$r->{dir}/redis.log", 10)
                . _tail("$r->{dir}/redis.stdout", 10);
        }
        sleep $r->{tls} ? 0.1 : 0.02;
    }
    die "redis-server $name did not answer on port $r->{port}";
}

sub redis_port { $_[0]{redis}{$_[1]}{port} }
sub redis_host { $_[0]{redis}{$_[1]}{host} || '127.0.0.1' }
sub redis_pid { $_[0]{redis}{$_[1]}{pid} }
sub redis_log { "$_[0]{redis}{$_[1]}{dir}/redis.log" }
sub redis_dir { $_[0]{redis}{$_[1]}{dir} }
sub redis_addr { $_[0]->redis_host($_[1]) . ':' . $_[0]->redis_port($_[1]) }

# one command through redis-cli (--raw: one line per string, an error as
# "ERR ..." on the same output), which speaks TLS to a server started with
# tls => {...}: --tls --cacert CA (cacert => FILE for another CA, sni =>
# NAME). In list context (output, exit status); the output is '' when
# redis-cli could not connect
sub redis_cli {
    my ($self, $name, @cmd) = @_;
    my %o;
    %o = %{ shift @cmd } if ref $cmd[0] eq 'HASH';
    my $r = $self->{redis}{$name} or die "no redis $name";
    my @args = ('-h', $r->{host}, '-p', $r->{port});
    if ($r->{tls}) {
        push @args, '--tls', '--cacert', $o{cacert} || $r->{tls}{ca};
        push @args, '--sni', $o{sni} if $o{sni};
    }
    push @args, '--raw' unless $o{noraw};
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec 'redis-cli', @args, @cmd or POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    my $rc = $? >> 8;
    $out = '' if $out =~ /^Could not connect to Redis/;
    return wantarray ? ($out, $rc) : $out;
}

sub redis_signal {
    my ($self, $name, $sig) = @_;
    my $pid = $self->{redis}{$name}{pid} or return;
    kill $sig, $pid;
}

# sends SIG (KILL by default) and reaps it
sub redis_kill {
    my ($self, $name, $sig) = @_;
    my $r = $self->{redis}{$name};
    my $pid = $r->{pid} or return;
    kill 'CONT', $pid;
    kill $sig || 'KILL', $pid;
    _reap($pid, 10 * slow());
    delete $r->{pid};
}

# waits for a redis-server that is exiting by itself (SHUTDOWN)
sub redis_wait_exit {
    my ($self, $name, $secs) = @_;
    my $r = $self->{redis}{$name};
    my $pid = $r->{pid} or return 1;
    my $deadline = time + ($secs || 30) * slow();
    while (time < $deadline) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $r->{pid};
            return 1;
        }
        sleep 0.02;
    }
    return 0;
}

sub _reap {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $w = waitpid($pid, POSIX::WNOHANG());
        return 1 if $w == $pid || $w == -1;
        sleep 0.01;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return 0;
}

# an error reply
package ClinicChaos::Error {
    sub new { my ($c, $m) = @_; bless \$m, $c }
    sub message { ${ $_[0] } }
}

sub is_error { ref $_[0] && ref $_[0] eq 'ClinicChaos::Error' }

# one command on a new connection; an error reply is a ClinicChaos::Error,
# a lost connection dies
sub redis {
    my ($self, $name, @cmd) = @_;
    my $s = $self->redis_socket($name);
    print $s _format(@cmd);
    my $r = _reply($s);
    close $s;
    return $r;
}

sub redis_socket {
    my ($self, $name) = @_;
    my $port = $self->{redis}{$name}{port} or die "no redis $name";
    my $s = IO::Socket::INET->new(PeerAddr => $self->redis_host($name),
                                  PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "cannot connect to redis $name: $!";
    $s->autoflush(1);
    return $s;
}

# sends a command without reading its answer: the socket, to read later
sub redis_send {
    my ($self, $name, @cmd) = @_;
    my $s = $self->redis_socket($name);
    print $s _format(@cmd);
    return $s;
}

sub redis_read { _reply($_[1]) }

sub redis_info {
    my ($self, $name, $section) = @_;
    my $r = $self->redis($name, 'INFO', $section || 'default');
    die 'INFO: ' . $r->message if is_error($r);
    my %h;
    for (split /\r?\n/, $r) {
        $h{$1} = $2 if /^([^#:][^:]*):(.*)$/;
    }
    return \%h;
}

# how many error replies of one kind (LOADING, BUSY, OOM, READONLY,
# NOSCRIPT) the redis-server NAME has sent since it started
sub errorstat {
    my ($self, $name, $kind) = @_;
    my $h = eval { $self->redis_info($name, 'errorstats') } or return 0;
    my $v = $h->{"errorstat_$kind"} or return 0;
    return $v =~ /count=(\d+)/ ? $1 : 0;
}

sub _format {
    my $cmd = '*' . scalar(@_) . "\r\n";
    $cmd .= '$' . length($_) . "\r\n$_\r\n" for @_;
    return $cmd;
}

sub _reply {
    my ($s) = @_;
    my $line = <$s>;
    die "redis closed the connection\n" unless defined $line;
    $line =~ s/\r\n\z//;
    my ($t, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $t eq '+' || $t eq ':';
    return ClinicChaos::Error->new($rest) if $t eq '-';
    if ($t eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length($buf) < $rest + 2) {
            my $n = read($s, $buf, $rest + 2 - length($buf), length($buf));
            die "redis: short read\n" unless $n;
        }
        return substr($buf, 0, $rest);
    }
    if ($t eq '*') {
        return undef if $rest < 0;
        return [ map { _reply($s) } 1 .. $rest ];
    }
    die "bad redis reply: $line\n";
}

# ------------------------------------------------------ other processes

# runs CODE in a child process named NAME (a Perl loop of the test's own:
# the DNS responder); the kernel kills it when the test dies, cleanup()
# stops it. Returns its pid.
sub child_start {
    my ($self, $name, $code) = @_;
    die "child $name runs already" if $self->{children}{$name};
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        _die_with_parent(POSIX::SIGKILL());
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        eval { $code->(); 1 } or print STDERR "child $name: $@";
        POSIX::_exit(0);
    }
    $self->{children}{$name} = $pid;
    return $pid;
}

sub child_stop {
    my ($self, $name) = @_;
    my $pid = delete $self->{children}{$name} or return;
    kill 'TERM', $pid;
    _reap($pid, 5);
}

# ---------------------------------------------------------------- nginx

# writes the configuration (conf/nginx.conf) and returns its path. By
# default one server, chaos.example (the tenant chaos-NAME), in front of
# the redis-server NAME (redis => NAME, 'main' by default). Options:
#   redis_line => 'ARGS'  the whole clinic_redis of every tenant instead,
#                         at the http{} level: "cluster=... timeout=200ms"
#   http_extra => TEXT    more http{}-level lines (a resolver, ...)
#   tenants => N          N more tenants chaos-1 .. chaos-N, server blocks
#                         on the same port named chaos-I.example, each
#                         with its contact form (a list of names instead
#                         of N: those tenants, named TENANT.example)
#   tenant_redis => CODE  a tenant's own clinic_redis: CODE->(TENANT)
#                         returns its arguments, or undef for none
#   content => 1          every tenant gets a folder of one article,
#                         /treatments/first-visit, from clinic_content
#   extra => TEXT         more server blocks ($PORT: nginx's port)
sub nginx_config {
    my ($self, %o) = @_;
    my $redis = $o{redis} || 'main';
    my $timeout = $o{timeout} || '200ms';
    my $d = $self->{dir};
    $self->{port} ||= free_port();
    $self->{redis_for_nginx} = $redis;
    my ($http_redis, $main_redis) = ('', '');
    if (defined $o{redis_line}) {
        $http_redis = "    clinic_redis $o{redis_line};\n";
    } else {
        my $rport = $self->redis_port($redis);
        $main_redis = "        clinic_redis 127.0.0.1:$rport "
                    . "timeout=$timeout;\n";
    }
    my $loads = join '', map { "load_module $_;\n" } modules();
    # more server blocks (other tenants), on the same port
    my $extra = $o{extra} || '';
    $extra =~ s/\$PORT\b/$self->{port}/g;
    my $http_extra = $o{http_extra} || '';

    my @tenants = !$o{tenants} ? ()
                : ref $o{tenants} ? @{ $o{tenants} }
                : map { "chaos-$_" } 1 .. $o{tenants};
    $self->{hosts} = { 'chaos.example' => $self->{tenant},
                       map { ("$_.example" => $_) } @tenants };
    $self->{tenant_hosts} = [ map { "$_.example" } @tenants ];

    my $content = sub {
        my ($tenant) = @_;
        return '' unless $o{content};
        my $folder = "$d/content/$tenant";
        File::Path::mkpath($folder);
        chmod 0755, "$d/content", $folder;
        open my $a, '>', "$folder/first-visit.txt" or die $!;
        print $a "Your first visit to $tenant\n\n"
               . "What happens at your first appointment with $tenant.\n";
        close $a;
        chmod 0644, "$folder/first-visit.txt";
        return "        clinic_content $folder;\n"
             . "        location /treatments/ {\n"
             . "            clinic_articles;\n"
             . "            add_header X-Worker-Pid \$pid always;\n"
             . "        }\n";
    };
    my $main_content = $content->($self->{tenant});
    my $servers = '';
    for my $t (@tenants) {
        my $c = $content->($t);
        my $tr = $o{tenant_redis} ? $o{tenant_redis}->($t) : undef;
        $c .= "        clinic_redis $tr;\n" if defined $tr;
        $servers .= <<"END";
    server {
        listen 127.0.0.1:$self->{port};
        server_name $t.example;
        clinic_tenant $t;
        clinic_contact_limit client=off tenant=off;
$c
        location = /contact {
            clinic_contact;
            add_header X-Worker-Pid \$pid always;
        }
    }
END
    }

    open my $fh, '>', "$d/conf/nginx.conf" or die $!;
    print $fh <<"END";
$loads
daemon off;
master_process on;
worker_processes 2;
pid $d/logs/nginx.pid;
error_log $d/logs/error.log info;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    clinic_spool $d/spool;
$http_extra$http_redis
    server {
        # one listening socket per worker: new connections are spread
        # over both workers, so each of them gets submissions
        listen 127.0.0.1:$self->{port} reuseport;
        server_name chaos.example;
        clinic_tenant $self->{tenant};
$main_redis        clinic_contact_limit client=off tenant=off;
$main_content
        location = /contact {
            clinic_contact;
            add_header X-Worker-Pid \$pid always;
        }
        location = /status { clinic_status; }
        location = /ping { return 204; }
    }
$servers$extra
}
END
    close $fh;
    return "$d/conf/nginx.conf";
}

# nginx -t of the configuration nginx_config(%o) writes (nginx is not
# started); returns (passed, its output)
sub nginx_test {
    my ($self, %o) = @_;
    my $conf = $self->nginx_config(%o);
    my $d = $self->{dir};
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec nginx_binary(), '-t', '-p', "$d/", '-c', $conf,
             '-e', "$d/logs/error-t.log"
            or POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    return ($? == 0, $out);
}

# writes the configuration (nginx_config(%o)) and starts nginx (2
# workers); waits until both workers run and, unless wait => 'workers',
# until the Redis endpoint is up in both
sub nginx_start {
    my ($self, %o) = @_;
    my $d = $self->{dir};
    $self->nginx_config(%o);
    my $wait = $o{wait} || 'up';

    my $pid = $self->nginx_spawn('-p', "$d/", '-c', "$d/conf/nginx.conf");

    my $deadline = time + 15 * slow();
    while (time < $deadline) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $self->{nginx_pid};
            die "nginx exited at start: "
                . _tail("$d/logs/error.log", 10)
                . _tail("$d/logs/nginx.stderr", 10);
        }
        my @w = $self->workers;
        if (@w == 2) {
            my $st = eval { $self->status };
            return 1 if $st && ($wait eq 'workers' || $self->_up($st));
        }
        sleep 0.05;
    }
    die "nginx did not start with 2 workers"
        . ($wait eq 'workers' ? '' : ' and Redis up')
        . ' within ' . 15 * slow() . " s: "
        . _tail("$d/logs/error.log", 10);
}

# the hosts of the tenants (chaos-I.example) of nginx_start(tenants => N)
sub tenant_hosts { @{ $_[0]{tenant_hosts} || [] } }

# the tenant of a host name (chaos.example: the instance's own)
sub tenant_of {
    my ($self, $host) = @_;
    return $self->{hosts}{ $host || 'chaos.example' } // $self->{tenant};
}

sub tenant { $_[0]{tenant} }

sub stream_of { "clinic:{$_[1]}:submissions" }

# starts nginx (in the foreground: "daemon off") with ARGS, as a child
# that the kernel stops when the test dies; its stderr and error log go
# to logs/. nginx_stop() and cleanup() stop it.
sub nginx_spawn {
    my ($self, @args) = @_;
    my $d = $self->{dir};
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>>', "$d/logs/nginx.stderr";
        open STDERR, '>&', \*STDOUT;
        # the master stops its workers on SIGTERM
        _die_with_parent(POSIX::SIGTERM());
        exec nginx_binary(), @args, '-e', "$d/logs/error.log"
            or POSIX::_exit(127);
    }
    return $self->{nginx_pid} = $pid;
}

sub nginx_pid { $_[0]{nginx_pid} }
sub port { $_[0]{port} }

# the worker processes: the nginx master's children
sub workers {
    my ($self) = @_;
    my $m = $self->{nginx_pid} or return;
    my @w;
    opendir my $dh, '/proc' or return;
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh>;
        close $fh;
        next unless defined $stat && $stat =~ /\)\s+(\S)\s+(\d+)/;
        next unless $2 == $m && $1 ne 'Z';
        open my $ch, '<', "/proc/$p/cmdline" or next;
        my $cmd = do { local $/; <$ch> };
        close $ch;
        push @w, $p if defined $cmd && $cmd =~ /worker process/
                       && $cmd !~ /shutting down/;
    }
    closedir $dh;
    return sort { $a <=> $b } @w;
}

# kill -9 of one worker (the first one, or PID); waits until the master
# has started its replacement. Returns the pid killed.
sub kill_worker {
    my ($self, $pid) = @_;
    my @before = $self->workers;
    $pid ||= $before[0];
    die 'no worker to kill' unless $pid;
    kill 'KILL', $pid;
    push @{ $self->{killed} }, $pid;
    my $deadline = time + 10 * slow();
    while (time < $deadline) {
        my @w = $self->workers;
        last if @w == 2 && !grep { $_ == $pid } @w;
        sleep 0.02;
    }
    return $pid;
}

sub nginx_stop {
    my ($self) = @_;
    my $pid = delete $self->{nginx_pid} or return;
    my @w = do { local $self->{nginx_pid} = $pid; $self->workers };
    kill 'QUIT', $pid;
    unless (_reap_quietly($pid, 10 * slow())) {
        kill 'TERM', $pid;
        _reap_quietly($pid, 5) or do { kill 'KILL', $pid; waitpid $pid, 0 };
    }
    # the workers are the master's children: make sure none outlives it
    for my $w (@w) {
        kill 'KILL', $w if kill 0, $w;
    }
}

sub _reap_quietly {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $w = waitpid($pid, POSIX::WNOHANG());
        return 1 if $w == $pid || $w == -1;
        sleep 0.02;
    }
    return 0;
}

# ---------------------------------------------------------------- HTTP

# one request on a new connection (Connection: close); returns
# { status, headers => {lowercase name => value}, body }, or undef
sub http {
    my ($self, $raw, $timeout) = @_;
    $timeout ||= 10 * slow();
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{port}, Proto => 'tcp',
                                  Timeout => $timeout)
        or return undef;
    $s->autoflush(1);
    print $s $raw;
    my $in = '';
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($s);
    while (time < $deadline) {
        next unless $sel->can_read(0.2);
        my $n = sysread($s, $in, 65536, length $in);
        last if defined $n && $n == 0;
        next unless defined $n;
        my $r = _parse_response(\$in);
        return $r if $r;
    }
    close $s;
    return _parse_response(\$in, 1);
}

sub status {
    my ($self) = @_;
    my $r = $self->http("GET /status HTTP/1.1\r\nHost: chaos.example\r\n"
                        . "Connection: close\r\n\r\n", 5 * slow());
    die "GET /status failed\n" unless $r && $r->{status} == 200;
    my %m;
    for (split /\n/, $r->{body}) {
        next if /^#/;
        $m{$1} = $2 if /^([A-Za-z_:][A-Za-z0-9_:]*(?:\{.*\})?)\s+(\S+)$/;
    }
    return \%m;
}

# the values of a metric, by its labels (the whole {...}, or '' for none)
sub metric {
    my ($st, $name) = @_;
    my %v;
    for my $k (keys %$st) {
        next unless index($k, $name) == 0;
        my $rest = substr($k, length $name);
        next unless $rest eq '' || $rest =~ /^\{/;
        $v{$rest} = $st->{$k};
    }
    return \%v;
}

# the labels of a metric's key: '{a="b",c="d"}' => { a => 'b', c => 'd' }
sub labels {
    my ($k) = @_;
    my %l;
    while ($k =~ /(\w+)="((?:[^"\\]|\\.)*)"/g) {
        my ($n, $v) = ($1, $2);
        $v =~ s/\\(.)/$1/g;
        $l{$n} = $v;
    }
    return \%l;
}

# the values of a metric whose labels include LABELS (name => value, or
# name => qr//): { '{...}' => value }; whatever its other labels (the
# endpoint's label text is the module's business)
sub metric_where {
    my ($st, $name, %want) = @_;
    my $all = metric($st, $name);
    my %v;
    KEY: for my $k (keys %$all) {
        my $l = labels($k);
        for my $n (keys %want) {
            next KEY unless defined $l->{$n};
            if (ref $want{$n}) {
                next KEY unless $l->{$n} =~ $want{$n};
            } else {
                next KEY unless $l->{$n} eq $want{$n};
            }
        }
        $v{$k} = $all->{$k};
    }
    return \%v;
}

# the sum of those values (0 when there is none)
sub metric_sum {
    my ($st, $name, %want) = @_;
    my $v = metric_where($st, $name, %want);
    my $sum = 0;
    $sum += $_ for values %$v;
    return $sum;
}

# endpoint up: clinic_redis_up 1 and, when the status page has it,
# clinic_redis_workers_down 0, for every endpoint shown
sub _up {
    my ($self, $st) = @_;
    my $up = metric($st, 'clinic_redis_up');
    return 0 unless %$up;
    return 0 if grep { $_ != 1 } values %$up;
    my $down = metric($st, 'clinic_redis_workers_down');
    return 0 if grep { $_ != 0 } values %$down;
    return 1;
}

# parses a response in $$buf; returns it once complete (or at EOF)
sub _parse_response {
    my ($buf, $eof) = @_;
    my $end = index($$buf, "\r\n\r\n");
    return undef if $end < 0;
    my $head = substr($$buf, 0, $end);
    my ($line, @h) = split /\r\n/, $head;
    return undef unless $line =~ m{^HTTP/1\.[01] (\d{3})};
    my %r = (status => $1, headers => {});
    for (@h) {
        $r{headers}{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    my $body_at = $end + 4;
    my $cl = $r{headers}{'content-length'};
    if (defined $cl) {
        return undef if length($$buf) < $body_at + $cl;
        $r{body} = substr($$buf, $body_at, $cl);
        $r{used} = $body_at + $cl;
    } elsif (($r{headers}{'transfer-encoding'} || '') =~ /chunked/i) {
        my $i = index($$buf, "\r\n0\r\n\r\n", $body_at - 2);
        return undef if $i < 0;
        my $raw = substr($$buf, $body_at, $i + 7 - $body_at);
        my $body = '';
        while ($raw =~ /\G([0-9a-fA-F]+)[^\r\n]*\r\n/gc) {
            my $n = hex $1;
            last if $n == 0;
            $body .= substr($raw, pos($raw), $n);
            pos($raw) = pos($raw) + $n + 2;
        }
        $r{body} = $body;
        $r{used} = $i + 7;
    } elsif ($r{status} == 204 || $r{status} == 304) {
        $r{body} = '';
        $r{used} = $body_at;
    } else {
        return undef unless $eof;
        $r{body} = substr($$buf, $body_at);
        $r{used} = length $$buf;
    }
    return \%r;
}

# ---------------------------------------------------------------- load

# a contact submission carrying TAG in its name; JSON or urlencoded
sub submission {
    my ($tag, $json, $close, $host) = @_;
    $host ||= 'chaos.example';
    my ($type, $body);
    if ($json) {
        $type = 'application/json';
        $body = qq({"name":"Chaos $tag","email":"chaos\@example.com",)
              . qq("message":"Chaos test submission $tag"});
    } else {
        $type = 'application/x-www-form-urlencoded';
        $body = "name=Chaos+$tag&email=chaos%40example.com"
              . "&phone=%2B44+20+7946+0000&message=Chaos+test+submission+$tag";
    }
    return "POST /contact HTTP/1.1\r\nHost: $host\r\n"
         . "Content-Type: $type\r\nAccept: application/json\r\n"
         . "User-Agent: clinic-chaos/1\r\n"
         . ($close ? "Connection: close\r\n" : '')
         . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
}

# starts the load generator in a child process: CONNS keepalive
# connections (each closed after about PER_CONN requests, so new ones
# spread over the workers), RATE submissions a second in all, until
# load_stop; hosts => [names] spreads them over those Host headers (the
# tenants of nginx_start(tenants => N)), by turns
sub load_start {
    my ($self, %o) = @_;
    die 'load already running' if $self->{load};
    my $run = ++$self->{runs};
    my %cfg = (
        port     => $self->{port},
        conns    => $o{conns} || 6,
        rate     => $o{rate} || 150,
        per_conn => $o{per_conn} || 20,
        prefix   => sprintf('%s-%d-%d', $self->{name}, $$, $run),
        max_secs => $o{max_secs} || 180,
        timeout  => 30 * slow(),
        file     => "$self->{dir}/load-$run.txt",
        hosts    => $o{hosts} && @{ $o{hosts} } ? $o{hosts}
                                                 : ['chaos.example'],
    );
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        eval { _load_child(\%cfg); 1 } or do {
            open my $e, '>', "$cfg{file}.err";
            print $e $@;
        };
        POSIX::_exit(0);
    }
    $self->{load} = { pid => $pid, file => $cfg{file}, run => $run,
                      phase => $o{phase} || "run $run" };
    return $run;
}

# stops sending, waits for the answers in flight, collects the results of
# the run: a list of { tag, status (0: no answer), pid, id, secs (to the
# answer), host, at (when it was answered, or given up) }
sub load_stop {
    my ($self) = @_;
    my $l = delete $self->{load} or return [];
    kill 'USR1', $l->{pid};
    _reap($l->{pid}, 60 * slow());
    if (-s "$l->{file}.err") {
        die "load generator failed: " . _slurp("$l->{file}.err");
    }
    my @res;
    open my $fh, '<', $l->{file} or die "load generator left no results: $!";
    while (<$fh>) {
        chomp;
        my ($tag, $status, $pid, $id, $secs, $host, $at) = split /\t/;
        push @res, { tag => $tag, status => $status, pid => $pid,
                     id => $id, secs => $secs, phase => $l->{phase},
                     host => $host || 'chaos.example', at => $at };
    }
    close $fh;
    push @{ $self->{results} }, @res;
    return \@res;
}

sub _load_child {
    my ($cfg) = @_;
    my $stopping = 0;
    local $SIG{USR1} = sub { $stopping ||= 1 };
    local $SIG{TERM} = sub { $stopping = 2 };
    local $SIG{INT} = sub { $stopping = 2 };
    local $SIG{HUP} = sub { $stopping = 2 };
    local $SIG{PIPE} = 'IGNORE';
    my $ppid = getppid();
    my $start = time;
    my $next = $start;
    my $stop_deadline;
    my $seq = 0;
    my @res;
    my @c = map { { n => 0 } } 1 .. $cfg->{conns};

    my $done = sub {
        my ($c, $status, $pid, $id) = @_;
        my $q = delete $c->{req};
        push @res, join("\t", $q->{tag}, $status, $pid // '-', $id // '-',
                        sprintf('%.4f', time - $q->{t0}), $q->{host},
                        sprintf('%.4f', time));
    };
    my $drop = sub {
        my ($c) = @_;
        $done->($c, 0) if $c->{req};
        close $c->{sock} if $c->{sock};
        delete @$c{qw(sock in out)};
        $c->{retry_at} = time + 0.02;
    };

    for (;;) {
        my $now = time;
        $stopping ||= 1 if $now - $start > $cfg->{max_secs}
                           || getppid() != $ppid;
        if ($stopping && !$stop_deadline) {
            $stop_deadline = $now + ($stopping == 2 ? 0 : $cfg->{timeout});
        }

        for my $c (@c) {
            next if $c->{req} || $stopping || $now < $next;
            next if $c->{retry_at} && $now < $c->{retry_at};
            if (!$c->{sock}) {
                my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                              PeerPort => $cfg->{port},
                                              Proto => 'tcp', Timeout => 3);
                if (!$s) {
                    $c->{retry_at} = $now + 0.05;
                    next;
                }
                $s->blocking(0);
                $c->{sock} = $s;
                $c->{in} = '';
                $c->{n} = 0;
                # a little jitter: the connections do not all close at once
                $c->{max} = $cfg->{per_conn} + int(rand($cfg->{per_conn}));
            }
            $seq++;
            my $tag = sprintf '%s-%06d', $cfg->{prefix}, $seq;
            my $close = ++$c->{n} >= $c->{max};
            my $host = $cfg->{hosts}[ $seq % @{ $cfg->{hosts} } ];
            $c->{req} = { tag => $tag, t0 => $now, close => $close,
                          host => $host };
            $c->{out} = submission($tag, $seq % 2, $close, $host);
            $next += 1 / $cfg->{rate};
            $next = $now if $next < $now - 0.2;
        }

        my $rsel = IO::Select->new;
        my $wsel = IO::Select->new;
        my %by;
        for my $c (@c) {
            next unless $c->{sock};
            $by{ fileno $c->{sock} } = $c;
            $rsel->add($c->{sock});
            $wsel->add($c->{sock}) if defined $c->{out} && length $c->{out};
        }

        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, 0.005);
        for my $s (@{ $w || [] }) {
            my $c = $by{ fileno $s } or next;
            my $n = syswrite($s, $c->{out});
            if (defined $n) {
                substr($c->{out}, 0, $n, '');
            } elsif ($! != Errno::EAGAIN() && $! != Errno::EINTR()) {
                $drop->($c);
            }
        }
        for my $s (@{ $r || [] }) {
            my $c = $by{ fileno $s } or next;
            next unless $c->{sock};
            my $n = sysread($s, $c->{in}, 65536, length $c->{in});
            if (!defined $n) {
                next if $! == Errno::EAGAIN() || $! == Errno::EINTR();
                $drop->($c);
                next;
            }
            if ($n == 0) {
                $drop->($c);
                next;
            }
            my $resp = _parse_response(\$c->{in}) or next;
            if (!$c->{req}) {
                $drop->($c);     # an answer to nothing: give up the connection
                next;
            }
            my $id = '-';
            $id = $1 if ($resp->{body} // '') =~ /"id":"([^"]*)"/;
            $done->($c, $resp->{status},
                    $resp->{headers}{'x-worker-pid'}, $id);
            substr($c->{in}, 0, $resp->{used}, '');
            my $conn = lc($resp->{headers}{connection} || '');
            if ($conn eq 'close' || $c->{n} >= $c->{max}) {
                close $c->{sock};
                delete @$c{qw(sock in out)};
            }
        }

        $now = time;
        for my $c (@c) {
            $drop->($c) if $c->{req} && $now - $c->{req}{t0} > $cfg->{timeout};
        }

        if ($stopping) {
            $stop_deadline //= $now + $cfg->{timeout};
            last unless grep { $_->{req} } @c;
            if ($now > $stop_deadline) {
                $drop->($_) for grep { $_->{req} } @c;
                last;
            }
        }
    }

    close $_->{sock} for grep { $_->{sock} } @c;
    open my $fh, '>', "$cfg->{file}.tmp" or die "$cfg->{file}.tmp: $!";
    print $fh map { "$_\n" } @res;
    close $fh or die $!;
    rename "$cfg->{file}.tmp", $cfg->{file} or die $!;
}

# ---------------------------------------------------------------- checks

# waits (bounded) until the endpoint is up in every worker, whatever the
# spool holds; returns (up, clinic_spool_depth then)
sub wait_up {
    my ($self, $secs) = @_;
    my $deadline = time + ($secs || 15) * slow();
    my $depth = 0;
    while (time < $deadline) {
        my $st = eval { $self->status };
        if ($st) {
            $depth = $st->{clinic_spool_depth} // 0;
            return (1, $depth) if $self->_up($st);
        }
        sleep 0.02;
    }
    return (0, $depth);
}

# the scenario's chaos is over (Redis is back): recovery is timed from here
sub chaos_over {
    delete $_[0]{recovered_in};
    $_[0]{chaos_over} = time;
}

# waits (bounded) until the spool is drained and the endpoint is up in
# every worker; returns (ok, description). The first wait after
# chaos_over records how long the recovery took.
sub wait_recovered {
    my ($self, $secs) = @_;
    $secs ||= 15;
    my $deadline = time + $secs * slow();
    my ($st, $why);
    for (;;) {
        $st = eval { $self->status };
        if ($st) {
            my $depth = $st->{clinic_spool_depth};
            my @files = $self->spool_files;
            $why = _describe($st, \@files);
            if (defined $depth && $depth == 0 && !@files && $self->_up($st)) {
                $self->{recovered_in} //= time - $self->{chaos_over}
                    if $self->{chaos_over};
                return (1, $why);
            }
        } else {
            $why = "GET /status failed: $@";
        }
        last if time > $deadline;
        sleep 0.1;
    }
    return (0, "not within " . $secs * slow() . " s: $why");
}

sub _describe {
    my ($st, $files) = @_;
    my @d;
    push @d, "clinic_spool_depth " . ($st->{clinic_spool_depth} // '?');
    for my $m (qw(clinic_redis_up clinic_redis_workers_down)) {
        my $v = metric($st, $m);
        push @d, "$m$_ $v->{$_}" for sort keys %$v;
    }
    my $old = $st->{clinic_spool_oldest_seconds};
    push @d, "clinic_spool_oldest_seconds $old" if defined $old;
    push @d, scalar(@$files) . ' non-empty spool file(s)';
    return join ', ', @d;
}

# the tags of the submissions in the spool folder's files (replayed or
# not: a file taken over keeps its records until it is through)
sub spool_tags {
    my ($self) = @_;
    my @tags;
    for my $f (glob("$self->{dir}/spool/*.spool*")) {
        open my $fh, '<', $f or next;
        while (<$fh>) {
            push @tags, $1 while /"Chaos ([^"\s]+)"/g;
        }
    }
    return @tags;
}

# the spool files that still hold records
sub spool_files {
    my ($self) = @_;
    return grep { -s $_ } glob("$self->{dir}/spool/*.spool");
}

# new submissions on new connections until the last N answers of each
# worker are 201 (a worker left down answers 202 for ever); HOSTS (a list,
# by turns; chaos.example by default) spreads them over tenants, so that
# with a Redis Cluster each worker's run goes through every node; returns
# { pid => { 201 => n, 202 => n, other => n, run => 201s in a row at the
# end } }
sub probe_workers {
    my ($self, $n, $hosts) = @_;
    $n ||= 3;
    my @hosts = $hosts && @$hosts ? @$hosts : ('chaos.example');
    my %by;
    my $deadline = time + 20 * slow();
    my $i = 0;
    my @workers = $self->workers;
    my $max = 400 > 40 * $n ? 400 : 40 * $n;
    while (time < $deadline && $i < $max) {
        last if @workers
             && !grep { ($by{$_}{run} || 0) < $n } @workers;
        $i++;
        # unique over the calls: an identical body would be a duplicate
        my $tag = sprintf '%s-%d-probe-%04d', $self->{name}, $$,
                          ++$self->{probes};
        my $host = $hosts[ $i % @hosts ];
        my $r = $self->http(submission($tag, $i % 2, 1, $host));
        my $status = $r ? $r->{status} : 0;
        my $pid = $r ? $r->{headers}{'x-worker-pid'} // '-' : '-';
        my $id = '-';
        $id = $1 if $r && ($r->{body} // '') =~ /"id":"([^"]*)"/;
        push @{ $self->{results} }, { tag => $tag, status => $status,
                                      pid => $pid, id => $id,
                                      phase => 'probe', host => $host };
        my $k = $status == 201 || $status == 202 ? $status : 'other';
        $by{$pid}{$k}++;
        $by{$pid}{run} = $status == 201 ? ($by{$pid}{run} || 0) + 1 : 0;
    }
    $self->{probe_workers} = \@workers;
    return \%by;
}

# where the tenants' streams are read from: by default the redis-server
# nginx was started in front of; with a Redis Cluster or Sentinel set
# (t/lib/ClinicCluster.pm), an object whose cmd_key(KEY, COMMAND...) sends
# a command to the server that holds KEY
sub use_store { $_[0]{store} = $_[1] }

# one command about KEY where it is (see use_store); REDIS: the server's
# name when there is no store
sub redis_key {
    my ($self, $redis, $key, @cmd) = @_;
    return $self->{store}->cmd_key($key, @cmd) if $self->{store};
    return $self->redis($redis || $self->{redis_for_nginx} || 'main', @cmd);
}

# the tenant's stream (TENANT, the instance's own by default): { tag =>
# [entry ids] }, and entries not ours
sub read_stream {
    my ($self, $redis, $tenant) = @_;
    my $stream = $tenant ? $self->stream_of($tenant) : $self->{stream};
    my (%tags, @foreign);
    my $start = '-';
    for (;;) {
        my $page = $self->redis_key($redis, $stream, 'XRANGE', $stream,
                                    $start, '+', 'COUNT', 5000);
        die 'XRANGE: ' . $page->message if is_error($page);
        last unless $page && @$page;
        for my $e (@$page) {
            my ($id, $pairs) = @$e;
            my %f = @$pairs;
            if (($f{name} // '') =~ /^Chaos (\S+)$/) {
                push @{ $tags{$1} }, $id;
            } else {
                push @foreign, $id;
            }
            $start = "($id";
        }
    }
    return (\%tags, \@foreign);
}

# the standard ending of a scenario; returns the counts. Every tenant that
# was sent submissions (the load's hosts => [...]) is checked in its own
# stream: a submission in another tenant's stream counts as one "not
# sent" there and as lost in its own. Options: recover_secs => the bounded
# wait, probe => N 201s in a row per worker, probe_hosts => [hosts] for
# the probe (by turns), extra => text for the summary line, lost_note =>
# sub { my (@results_lost) = @_; return a line to print }, label => a
# word after the scenario's name in every test's name (a file that calls
# finish more than once)
sub finish {
    my ($self, %o) = @_;
    my $name = $self->{name} . (defined $o{label} ? " $o{label}" : '');
    $self->load_stop if $self->{load};

    my ($ok, $why) = $self->wait_recovered($o{recover_secs});
    Test::More::ok($ok, "$name: the spool drains and Redis is up in every "
                        . "worker after the chaos")
        or Test::More::diag("    $why");
    my $st = eval { $self->status } || {};
    my $has_new = exists $st->{clinic_spool_oldest_seconds}
        || %{ metric($st, 'clinic_redis_workers_down') };
    if ($has_new) {
        my $down = metric($st, 'clinic_redis_workers_down');
        Test::More::ok(%$down && !grep({ $_ != 0 } values %$down),
                       "$name: clinic_redis_workers_down is 0")
            or Test::More::diag('    ' . _describe($st, [$self->spool_files]));
        my $old = $st->{clinic_spool_oldest_seconds};
        Test::More::ok(defined $old && $old == 0,
                       "$name: clinic_spool_oldest_seconds is 0")
            or Test::More::diag('    ' . _describe($st, [$self->spool_files]));
    }

    my $want = $o{probe} || 3;
    my $probe = $self->probe_workers($want, $o{probe_hosts});
    my @workers = @{ $self->{probe_workers} };
    my (@bad, @note);
    my $say = sub {
        my ($who, $p) = @_;
        sprintf('%s answered 201 x %d, 202 x %d, other x %d', $who,
                $p->{201} || 0, $p->{202} || 0, $p->{other} || 0);
    };
    for my $w (@workers) {
        my $p = $probe->{$w} || {};
        if (($p->{run} || 0) < $want || $p->{other}) {
            push @bad, $say->("worker $w", $p);
        } elsif ($p->{202}) {
            push @note, $say->("worker $w", $p);
        }
    }
    for my $w (grep { my $x = $_; !grep { $_ eq $x } @workers } keys %$probe) {
        my $p = $probe->{$w};
        push @bad, $say->($w eq '-' ? 'no worker (no answer)'
                                    : "worker $w (gone)", $p)
            if $p->{other} || $p->{202};
    }
    Test::More::ok(@workers == 2 && !@bad,
                   "$name: every worker answers new submissions with 201")
        or Test::More::diag('    ' . join('; ', @workers == 2 ? () :
                                           'workers: ' . join(',', @workers),
                                           @bad));
    # a 202 before the 201s in a row: a Redis timeout in between
    Test::More::diag("    $name: probe: @note") if @note;

    my %c = (sent => 0, 201 => 0, 202 => 0, 503 => 0, '5xx' => 0,
             other => 0, none => 0);
    my %status;
    for my $r (@{ $self->{results} }) {
        $c{sent}++;
        $status{ $r->{tag} } = $r;
        my $s = $r->{status};
        if ($s == 201 || $s == 202 || $s == 503) { $c{$s}++ }
        elsif ($s == 0) { $c{none}++ }
        elsif ($s >= 500) { $c{'5xx'}++ }
        else { $c{other}++ }
    }
    my %codes;
    $codes{ $_->{status} }++ for grep { $_->{status} != 201
                                        && $_->{status} != 202
                                        && $_->{status} != 0 }
                                 @{ $self->{results} };
    my $codes = join ', ', map { "$_ x $codes{$_}" } sort keys %codes;

    Test::More::is($c{503}, 0, "$name: no 503 (a spool is configured)");
    Test::More::is($c{'5xx'}, 0, "$name: no other 5xx")
        or Test::More::diag("    answers: $codes");
    Test::More::is($c{other}, 0, "$name: no answer but 201 and 202")
        or Test::More::diag("    answers: $codes");

    # every tenant sent to, each in its own stream
    my %tenants = ($self->{tenant} => 1);
    $tenants{ $self->tenant_of($_->{host}) } = 1 for @{ $self->{results} };
    my (%tags, @foreign, $misplaced);
    $misplaced = 0;
    my @read_errors;
    for my $t (sort keys %tenants) {
        my ($tt, $ff) = eval { $self->read_stream(undef, $t) };
        if (!$tt) {
            push @read_errors, "$t: $@";
            next;
        }
        push @foreign, @$ff;
        for my $tag (keys %$tt) {
            my $r = $status{$tag};
            if ($r && $self->tenant_of($r->{host}) ne $t) {
                $misplaced += @{ $tt->{$tag} };
                push @foreign, @{ $tt->{$tag} };
                next;
            }
            push @{ $tags{$tag} }, @{ $tt->{$tag} };
        }
    }
    Test::More::is(scalar(@read_errors), 0, "$name: every tenant's stream "
                                            . 'could be read')
        or Test::More::diag("    @read_errors");
    my ($stored, $dups, $lost, $unknown, $stored_unanswered, $badid)
        = (0, 0, 0, 0, 0, 0);
    my (@lost, @lost_r);
    for my $tag (keys %tags) {
        my $n = @{ $tags{$tag} };
        $stored += $n;
        $dups += $n - 1;
        my $r = $status{$tag};
        if (!$r) { $unknown += $n; next }
        $stored_unanswered++ if $r->{status} == 0;
        $badid++ if $r->{status} == 201 && $r->{id} ne $tags{$tag}[0];
    }
    for my $r (@{ $self->{results} }) {
        next unless $r->{status} == 201 || $r->{status} == 202;
        next if $tags{ $r->{tag} };
        $lost++;
        push @lost_r, $r;
        push @lost, "$r->{tag} ($r->{status}, worker $r->{pid}"
                    . (($r->{host} // 'chaos.example') eq 'chaos.example'
                       ? '' : ", $r->{host}") . ')';
    }
    my $acked = $c{201} + $c{202};
    my $in_spool = 0;
    if ($lost) {
        my %spooled = map { $_ => 1 } $self->spool_tags;
        $in_spool = grep { $spooled{ (split / /)[0] } } @lost;
    }
    my $ntenants = keys %tenants;
    Test::More::is($lost, 0, "$name: every acknowledged submission is in "
                             . ($ntenants > 1 ? "its tenant's stream "
                                                . "($ntenants tenants)"
                                              : 'the stream'))
        or Test::More::diag("    $lost missing, $in_spool of them still in "
                            . 'the spool: '
                            . join(', ', @lost[0 .. ($#lost < 9 ? $#lost : 9)])
                            . (@lost > 10 ? ', ...' : '')
                            . ($o{lost_note}
                               ? "\n    " . $o{lost_note}->(@lost_r) : ''));
    Test::More::is($dups, 0, "$name: no submission is stored twice");
    Test::More::is($unknown + @foreign, 0,
                   "$name: the stream holds nothing that was not sent"
                   . ($ntenants > 1 ? ' (to that tenant)' : ''))
        or Test::More::diag("    $unknown unknown, $misplaced in another "
                            . "tenant's stream, "
                            . (@foreign - $misplaced) . ' not ours');
    Test::More::is($badid, 0, "$name: each 201 carried its entry's id");

    my @bad_files = glob("$self->{dir}/spool/*.bad");
    Test::More::is(scalar(@bad_files), 0, "$name: no spool file set aside "
                                          . "as unreadable")
        or Test::More::diag("    @bad_files");

    my @crash = $self->log_problems;
    Test::More::is(scalar(@crash), 0, "$name: no crash, alert or sanitizer "
                                      . "report")
        or Test::More::diag(join '', map { "    $_\n" } @crash[0 .. ($#crash < 19
                                                               ? $#crash : 19)]);

    my %counts = (
        %c,
        acked             => $acked,
        stored            => $stored,
        duplicated        => $dups,
        lost              => $lost,
        lost_in_spool     => $in_spool,
        stored_unanswered => $stored_unanswered,
        misplaced         => $misplaced,
        tenants           => $ntenants,
    );
    $self->{counts} = \%counts;
    Test::More::diag(sprintf(
        '%s: %d submissions sent; acknowledged %d (201 x %d, 202 x %d); '
        . '503 x %d, other 5xx x %d, no answer x %d; stored %d (%d of them '
        . 'unanswered), duplicated %d, lost %d%s; %s%s',
        $name, $c{sent}, $acked, $c{201}, $c{202}, $c{503}, $c{'5xx'},
        $c{none}, $stored, $stored_unanswered, $dups, $lost,
        $lost ? " ($in_spool of them still in the spool)" : '',
        defined $self->{recovered_in}
            ? sprintf('recovered %.1f s after the chaos', $self->{recovered_in})
            : 'did not recover',
        $o{extra} ? "; $o{extra}" : ''));
    return \%counts;
}

# lines of the error log or of nginx's stderr that mean trouble: alerts,
# crashes (but the workers the scenario killed), sanitizer reports (the
# sanitizer build writes them to stderr, which nginx points at its error
# log); a leak counts only with a frame in the module, as nginx leaves
# some of its own memory to the exit
sub log_problems {
    my ($self) = @_;
    my @p;
    my %killed = map { $_ => 1 } @{ $self->{killed} };
    for my $f ("$self->{dir}/logs/error.log", "$self->{dir}/logs/nginx.stderr") {
        open my $fh, '<', $f or next;
        my ($leak, $record, $ours);
        my $end_record = sub {
            push @p, "LeakSanitizer, in the module: $record" if $record && $ours;
            undef $record;
            $ours = 0;
        };
        while (my $l = <$fh>) {
            chomp $l;
            if ($l =~ /ERROR: LeakSanitizer/) {
                $leak = 1;
                next;
            }
            if ($leak) {
                if ($l =~ /^(?:Direct|Indirect) leak of/) {
                    $end_record->();
                    $record = $l;
                    next;
                }
                if ($record && $l =~ /^\s+#\d+ /) {
                    $ours = 1 if $l =~ /ngx_http_clinic|ngx_clinic/;
                    next;
                }
                if ($l =~ /^SUMMARY: /) {
                    $end_record->();
                    $leak = 0;
                    next;
                }
                $end_record->() if $l =~ /^\s*$/;
            }
            if ($l =~ /ERROR: AddressSanitizer|runtime error:/) {
                push @p, $l;
                next;
            }
            next unless $f =~ /error\.log$/;
            next unless $l =~ /\[(alert|emerg|crit)\]|exited on signal/;
            next if $l =~ /process (\d+) exited on signal 9\b/
                    && $killed{$1};
            push @p, $l;
        }
        $end_record->();
    }
    return @p;
}

# how many error log lines match RE
sub log_count {
    my ($self, $re) = @_;
    my $n = 0;
    open my $fh, '<', "$self->{dir}/logs/error.log" or return 0;
    while (<$fh>) { $n++ if /$re/ }
    return $n;
}

# statuses of the results of one phase: { 201 => n, ... }
sub phase_counts {
    my ($self, $phase) = @_;
    my %c;
    $c{ $_->{status} }++ for grep { $_->{phase} eq $phase }
                                 @{ $self->{results} };
    return \%c;
}

# the median time to an answer in a phase, in seconds
sub phase_median {
    my ($self, $phase) = @_;
    my @t = sort { $a <=> $b } map { $_->{secs} }
            grep { $_->{phase} eq $phase && $_->{status} && defined $_->{secs} }
            @{ $self->{results} };
    return @t ? $t[$#t / 2] : 0;
}

# one submission on a new connection to HOST (chaos.example), recorded
# with the results under PHASE ('single'): its status (0: no answer)
sub submit_one {
    my ($self, $host, $phase) = @_;
    $host ||= 'chaos.example';
    my $tag = sprintf '%s-%d-one-%05d', $self->{name}, $$, ++$self->{ones};
    my $r = $self->http(submission($tag, $self->{ones} % 2, 1, $host));
    my $status = $r ? $r->{status} : 0;
    my $id = '-';
    $id = $1 if $r && ($r->{body} // '') =~ /"id":"([^"]*)"/;
    push @{ $self->{results} }, {
        tag => $tag, status => $status, id => $id, host => $host,
        pid => $r ? $r->{headers}{'x-worker-pid'} // '-' : '-',
        phase => $phase || 'single', at => time,
    };
    return $status;
}

# figures of a phase of the load, for the tenants in AFFECTED ({ tenant
# => 1 }; all when undef), from the time T0 of the chaos: back => seconds
# from T0 to the first 201 sent after the first 202 (after T0; when none
# was answered 202, the first 201 sent after T0), last202 => seconds from
# T0 to the last 202, spooled => the phase's 202s (all tenants), answered
# => the affected tenants' answers
sub phase_figures {
    my ($self, $phase, $t0, $affected) = @_;
    my @r = sort { $a->{at} <=> $b->{at} }
            grep { $_->{phase} eq $phase && $_->{status} && defined $_->{at}
                   && (!$affected
                       || $affected->{ $self->tenant_of($_->{host}) }) }
            @{ $self->{results} };
    my ($first202) = grep { $_->{status} == 202 && $_->{at} >= $t0 } @r;
    my $from = $first202 ? $first202->{at} : $t0;
    my ($back) = grep { $_->{status} == 201
                        && $_->{at} - ($_->{secs} // 0) > $from } @r;
    my @late = grep { $_->{status} == 202 && $_->{at} >= $t0 } @r;
    my $spooled = grep { $_->{phase} eq $phase && $_->{status} == 202 }
                  @{ $self->{results} };
    return {
        back     => $back ? $back->{at} - $t0 : undef,
        last202  => @late ? $late[-1]{at} - $t0 : undef,
        spooled  => $spooled,
        answered => scalar(@r),
    };
}

# how many submissions answered with STATUS so far (load generator runs
# already stopped)
sub count_status {
    my ($self, $status) = @_;
    return scalar grep { $_->{status} == $status } @{ $self->{results} };
}

sub _slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    return scalar <$fh>;
}

sub _tail {
    my ($f, $n) = @_;
    open my $fh, '<', $f or return '';
    my @l = <$fh>;
    splice @l, 0, @l - $n if @l > $n;
    return join '', "\n--- $f\n", @l;
}

# stops everything this instance started; keeps the folder when a test
# failed (or CLINIC_CHAOS_KEEP=1) and says where it is
sub cleanup {
    my ($self) = @_;
    return if $self->{cleaned}++;
    if (my $l = delete $self->{load}) {
        kill 'TERM', $l->{pid};
        _reap($l->{pid}, 5);
    }
    $self->nginx_stop;
    $self->child_stop($_) for keys %{ $self->{children} || {} };
    for my $name (keys %{ $self->{redis} }) {
        my $r = $self->{redis}{$name};
        my $pid = delete $r->{pid} or next;
        kill 'CONT', $pid;
        kill 'TERM', $pid;
        _reap($pid, 10);
    }
    my $passing = eval { Test::More->builder->is_passing } // 1;
    if ($ENV{CLINIC_CHAOS_KEEP} || !$passing) {
        Test::More::diag("$self->{name}: kept $self->{dir} (logs, "
                         . "configuration, spool)");
    } else {
        File::Path::rmtree($self->{dir}) if -d $self->{dir};
    }
}

END {
    local $?;
    if ($$ == $owner) {
        $_->cleanup for @Instances;
    }
}

1;
