package ClinicTest;

# Helpers shared by the suites, usable under both the compat runner and
# the real Test::Nginx::Socket: a private redis-server per .t file on a
# free loopback port, and ways to stop, kill and restart it from a block's
# "--- init" section.

use strict;
use warnings;

use IO::Socket::INET;
use POSIX ();
use File::Temp ();
use Time::HiRes qw(sleep time);

our ($RedisPid, $RedisPort, $RedisDir, $Password, $Blackhole);
my $owner = $$;

# a timeout for blocks that do not test timeouts: nginx under valgrind is
# slow enough to miss the default 200ms at start, the sanitizer build
# (t/run.sh --asan) two to three times slower than a plain one
$ENV{TEST_NGINX_REDIS_TIMEOUT} ||= $ENV{TEST_NGINX_USE_VALGRIND} ? '5s'
                                 : $ENV{TEST_CLINIC_ASAN} ? '2s' : '1s';

# ---------------------------------------------------------------- defaults
#
# Checks every block gets on top of its own (docs/testing.md, "The checks
# every block gets"): nginx logs no [alert] or [emerg] and no sanitizer
# report, neither while the block runs (--- no_error_log) nor when its
# nginx stops (--- no_shutdown_error_log: leaks are reported at the exit).
# nginx points its stderr, where the sanitizers write, at its error log.
# A crash is an [alert] ("worker process ... exited on signal") or, in the
# single process the runners start by default, requests that fail (and,
# in the sanitizer build, a report).
#
# A block that expects one of these lines says so: its own --- error_log
# (or --- shutdown_error_log) names it, or --- allow_error_log lists it,
# one per line.  A --- must_die block may log [emerg] and a leak.

our @NoErrorLog = ('[alert]', '[emerg]',
                   'ERROR: AddressSanitizer',   # also SEGV, double free, ...
                   'ERROR: LeakSanitizer',      # at exit
                   'runtime error:');           # UBSan

push @Test::Nginx::Util::ExtraSections, 'allow_error_log';

# the patterns of a section as both runners read it: lines of text, one
# qr//, or an array of either
sub _patterns {
    my ($v) = @_;
    return () unless defined $v;
    return @$v if ref $v eq 'ARRAY';
    return ($v) if ref $v;
    chomp $v;
    return split /\n+/, $v;
}

# the section's own patterns, then each default the block does not expect
sub _merge_defaults {
    my ($block, $section, $expect, @defaults) = @_;
    my @own = _patterns(scalar $block->$section);
    my @expected = map { "$_" } _patterns(scalar $block->$expect);
    my %allowed = map { $_ => 1 } _patterns(scalar $block->allow_error_log);

    # nginx that fails to start says [emerg], and leaves its first pool
    # to the exit
    @allowed{'[emerg]', 'ERROR: LeakSanitizer'} = (1, 1)
        if defined $block->must_die;

    my @add;
    for my $d (@defaults) {
        next if $allowed{$d};
        next if grep { !ref $_ && $_ eq $d } @own;
        next if grep { index($_, $d) >= 0 || index($_, quotemeta $d) >= 0 }
                     @expected;
        push @add, $d;
    }
    $block->set_value($section, [@own, @add]) if @add;
}

sub add_default_checks {
    my ($block) = @_;
    _merge_defaults($block, 'no_error_log', 'error_log', @NoErrorLog);
    _merge_defaults($block, 'no_shutdown_error_log', 'shutdown_error_log',
                    @NoErrorLog);
}

# registered once the suite is compiled, so after its own `use
# Test::Nginx::Socket`; a suite's own preprocessors, added later, run first
# (both runners put a new one in front), so these defaults see their result
INIT {
    Test::Nginx::Util::add_block_preprocessor(sub { add_default_checks(@_) })
        if defined &Test::Nginx::Util::add_block_preprocessor;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# starts redis-server; exports TEST_NGINX_REDIS_PORT for the configs
our @RedisArgs;

sub redis_start {
    @RedisArgs = @_ if @_;
    $RedisDir ||= File::Temp::tempdir('clinic-redis-XXXXXX', TMPDIR => 1,
                                      CLEANUP => 1);
    $RedisPort ||= free_port();
    $ENV{TEST_NGINX_REDIS_PORT} = $RedisPort;

    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>>', "$RedisDir/redis.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', '--port', $RedisPort, '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no', '--dir', $RedisDir,
             '--daemonize', 'no', @RedisArgs
            or POSIX::_exit(127);
    }
    $RedisPid = $pid;
    _write_pid($pid);

    my $deadline = time + 5;
    while (time < $deadline) {
        my $r = eval { redis_cmd('PING') };
        return $RedisPort if defined $r && $r eq 'PONG';
        sleep 0.02;
    }
    die "redis-server did not start on port $RedisPort";
}

# the pid lives in a file: a child of the test may have restarted redis
sub _write_pid {
    open my $fh, '>', "$RedisDir/redis.pid" or die $!;
    print $fh $_[0];
    close $fh;
}

sub _pid {
    open my $fh, '<', "$RedisDir/redis.pid" or return $RedisPid;
    my $pid = <$fh>;
    close $fh;
    return $pid;
}

sub redis_stop { my $p = _pid(); kill 'STOP', $p if $p }
sub redis_cont { my $p = _pid(); kill 'CONT', $p if $p }

sub redis_kill {
    my $pid = _pid();
    return unless $pid;
    kill 'CONT', $pid;
    kill 'KILL', $pid;
    waitpid $pid, 0;
    # not our child after a restart by a child: wait until it is gone
    my $deadline = time + 5;
    sleep 0.01 while kill(0, $pid) && time < $deadline;
    undef $RedisPid;
    unlink "$RedisDir/redis.pid";
}

# runs $code in a child after $delay seconds, without waiting for it
sub later {
    my ($delay, $code) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    return if $pid;
    sleep $delay;
    eval { $code->() };
    POSIX::_exit(0);
}

sub redis_cont_later { later($_[0], \&redis_cont) }
sub redis_start_later { later($_[0], \&redis_start) }

# a port that accepts connections and never answers: a slow upstream
sub blackhole_port {
    $Blackhole ||= IO::Socket::INET->new(Listen => 128,
                                         LocalAddr => '127.0.0.1',
                                         LocalPort => 0, Proto => 'tcp',
                                         ReuseAddr => 1)
        or die "blackhole: $!";
    $ENV{TEST_NGINX_BLACKHOLE_PORT} = $Blackhole->sockport;
    return $Blackhole->sockport;
}

sub redis_restart {
    redis_kill();
    redis_start();
}

# one command over a plain socket; returns a scalar, an array ref or undef
sub redis_cmd { redis_cmd_db(undef, @_) }

# the same, after SELECT db when db is defined
sub redis_cmd_db {
    my ($db, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $RedisPort, Proto => 'tcp',
                                  Timeout => 2)
        or die "cannot connect to redis: $!";
    if (defined $Password) {
        print $s _format('AUTH', $Password);
        _read_reply($s);
    }
    if (defined $db) {
        print $s _format('SELECT', $db);
        _read_reply($s);
    }
    print $s _format(@args);
    my $r = _read_reply($s);
    close $s;
    return $r;
}

sub _format {
    my $cmd = '*' . scalar(@_) . "\r\n";
    $cmd .= '$' . length($_) . "\r\n$_\r\n" for @_;
    return $cmd;
}

sub _read_reply {
    my ($s) = @_;
    my $line = <$s>;
    die "redis closed the connection" unless defined $line;
    $line =~ s/\r\n$//;
    my ($t, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $t eq '+' || $t eq ':';
    die "redis error: $rest" if $t eq '-';
    if ($t eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length($buf) < $rest + 2) {
            my $n = read($s, $buf, $rest + 2 - length($buf), length($buf));
            die "short read" unless $n;
        }
        return substr($buf, 0, $rest);
    }
    if ($t eq '*') {
        return undef if $rest < 0;
        return [ map { _read_reply($s) } 1 .. $rest ];
    }
    die "bad redis reply: $line";
}

# sends a raw HTTP request from a child process and returns at once; the
# child keeps the connection open until the answer or $hold seconds
sub background_request {
    my ($port, $raw, $hold) = @_;
    $hold ||= 5;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    return $pid if $pid;
    my $deadline = time + 5;
    my $s;
    while (!($s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                        PeerPort => $port, Proto => 'tcp')))
    {
        POSIX::_exit(1) if time > $deadline;
        sleep 0.01;
    }
    print $s $raw;
    my $end = time + $hold;
    $s->blocking(0);
    while (time < $end) {
        my $n = sysread($s, my $buf, 4096);
        last if defined $n && $n == 0;
        sleep 0.01;
    }
    POSIX::_exit(0);
}

END {
    local $?;
    if ($$ == $owner && $RedisDir) {
        my $pid = _pid();
        if ($pid) {
            kill 'CONT', $pid;
            kill 'TERM', $pid;
            waitpid $pid, 0;
        }
    }
}


# the running nginx's error log from the place log_mark() noted: for blocks
# that share one nginx, whatever the runner does with the log between them
my $log_mark = 0;

sub _error_log { Test::Nginx::Util::server_root() . '/logs/error.log' }

sub log_mark { $log_mark = -s _error_log() || 0 }

sub log_since_mark {
    my $log = _error_log();
    open my $fh, '<', $log or die "$log: $!";
    seek $fh, $log_mark, 0;
    local $/;
    return scalar(<$fh>) // '';
}

1;
