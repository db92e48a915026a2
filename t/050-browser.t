# Browser journeys: a patient and the clinic's staff, in a real headless
# Chromium (Debian's chromium, driven by puppeteer-core from
# t/browser/node_modules, "make deps"). This file starts its own
# redis-server and nginx (2 workers) on free loopback ports with a
# configuration of two tenants, runs t/browser/journeys.mjs against them
# and turns each of its checks into a test here. A journey whose page is
# not built yet (GET on the contact location answers 405, GET on the admin
# prefix answers the JSON API's 401/404) is skipped with the reason; any
# other answer runs the journey, and a broken page fails it. Screenshots
# and the exported CSV go to build/browser/ (build/browser/asan/ in the
# sanitizer pass). See docs/testing.md, "Browser suite".
use strict;
use warnings;
use Test::More;
use Config ();
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);

my $owner = $$;
my $root = File::Spec->rel2abs(__FILE__);
$root =~ s{/t/[^/]+$}{};

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my @modules = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES}
                          || "$root/build/ngx_http_clinic_module.so");
my $chromium = $ENV{CLINIC_BROWSER_CHROMIUM} || '/usr/bin/chromium';
my $browser_dir = "$root/t/browser";
my $asan = $ENV{TEST_CLINIC_ASAN} ? 1 : 0;
for my $f ($nginx, @modules) {
    open my $fh, '<:raw', $f or next;
    local $/;
    my $bin = <$fh>;
    $asan = 1 if defined $bin && $bin =~ /__asan_init/;
}
# every wait is multiplied by this
my $slow = ($ENV{CLINIC_BROWSER_SLOW} || 1) * ($asan ? 3 : 1);
my $artifacts = $ENV{CLINIC_BROWSER_ARTIFACTS}
                || ($asan ? "$root/build/browser/asan" : "$root/build/browser");

# ------------------------------------------------------------ prerequisites

plan(skip_all => 'CLINIC_BROWSER_SKIP is set') if $ENV{CLINIC_BROWSER_SKIP};
plan(skip_all => 'the browser journeys do not run under valgrind')
    if $ENV{TEST_NGINX_USE_VALGRIND};

sub which {
    my ($prog) = @_;
    for my $d (split /:/, $ENV{PATH} || '/usr/bin:/bin') {
        return "$d/$prog" if -x "$d/$prog";
    }
    return undef;
}

# what "make deps" installs is missing: that is a failure, not a skip, so
# that a CI machine without a browser cannot pass by skipping
my @missing;
push @missing, "$chromium (Debian package chromium)" unless -x $chromium;
push @missing, 'node (Debian package nodejs)' unless which('node');
push @missing, "$browser_dir/node_modules/puppeteer-core (npm ci)"
    unless -f "$browser_dir/node_modules/puppeteer-core/package.json";
push @missing, 'redis-server' unless which('redis-server');
push @missing, "nginx at $nginx" unless -x $nginx;
push @missing, map { "module $_ (run make)" } grep { !-f $_ } @modules;
if (@missing) {
    plan(tests => 1);
    fail('browser suite prerequisites');
    diag("missing: $_") for @missing;
    diag('run "make deps" (and "make") first');
    exit 1;
}

# ------------------------------------------------------------ processes

my (%pids, $dir);

# in a child about to exec: the kernel sends it SIG when this test dies,
# even by SIGKILL (prctl PR_SET_PDEATHSIG on Linux x86_64, aarch64, i386)
sub die_with_parent {
    my ($sig) = @_;
    my $arch = $Config::Config{archname} || '';
    my $nr = $arch =~ /^x86_64/ ? 157
           : $arch =~ /^aarch64/ ? 167
           : $arch =~ /^i[3-6]86/ ? 172
           : return;
    eval { syscall($nr, 1, $sig) };
    POSIX::_exit(1) if getppid() != $owner;
}

sub spawn {
    my ($name, $out, $sig, $setpgrp, @cmd) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        POSIX::setpgid(0, 0) if $setpgrp;
        open STDIN, '<', '/dev/null';
        if (ref $out) {
            open STDOUT, '>&', $out or POSIX::_exit(126);
        } else {
            open STDOUT, '>>', $out or POSIX::_exit(126);
        }
        open STDERR, '>>', ref $out ? "$dir/logs/$name.stderr" : $out;
        die_with_parent($sig);
        exec @cmd or POSIX::_exit(127);
    }
    $pids{$name} = $pid;
    return $pid;
}

sub reap {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $w = waitpid($pid, POSIX::WNOHANG());
        return 1 if $w == $pid || $w == -1;
        sleep 0.02;
    }
    return 0;
}

sub children_of {
    my ($ppid) = @_;
    my @c;
    opendir my $dh, '/proc' or return;
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh>;
        push @c, $p if $stat && $stat =~ /\)\s+\S\s+(\d+)/ && $1 == $ppid;
    }
    return @c;
}

# the browser's processes: whatever runs with our profile folder, which is
# unique to this run (Chromium exits by itself when its pipe to node
# closes; this is for a browser that did not)
sub browser_pids {
    return unless $dir;
    my $mark = "--user-data-dir=$dir/profile";
    my @p;
    opendir my $dh, '/proc' or return;
    for my $p (grep { /^\d+$/ } readdir $dh) {
        next if $p == $$;
        open my $fh, '<', "/proc/$p/cmdline" or next;
        my $cmd = do { local $/; <$fh> };
        push @p, $p if defined $cmd && index($cmd, $mark) >= 0;
    }
    return @p;
}

sub stop_all {
    if (my $pid = delete $pids{node}) {
        kill 'TERM', -$pid;
        kill 'TERM', $pid;
        reap($pid, 5) or do { kill 'KILL', -$pid; kill 'KILL', $pid;
                              waitpid $pid, 0 };
    }
    my $deadline = time + 5;
    while (my @b = browser_pids()) {
        kill(time < $deadline ? 'TERM' : 'KILL', @b);
        last if time > $deadline + 2;
        sleep 0.1;
    }
    if (my $pid = delete $pids{nginx}) {
        my @w = children_of($pid);
        kill 'QUIT', $pid;
        reap($pid, 10 * $slow) or do { kill 'KILL', $pid; waitpid $pid, 0 };
        kill 'KILL', grep { kill 0, $_ } @w;
    }
    if (my $pid = delete $pids{redis}) {
        kill 'TERM', $pid;
        reap($pid, 10) or do { kill 'KILL', $pid; waitpid $pid, 0 };
    }
}

for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub { diag("caught SIG$sig, cleaning up"); exit 1 };
}

END {
    if ($$ == $owner) {
        local $?;
        stop_all();
        if ($dir && -d $dir) {
            my $passing = eval { Test::More->builder->is_passing } // 1;
            if ($ENV{CLINIC_BROWSER_KEEP} || !$passing) {
                diag("browser: kept $dir (nginx.conf, error.log, "
                     . 'redis.log, node.stderr)');
            } else {
                File::Path::rmtree($dir);
            }
        }
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

sub tail {
    my ($file, $n) = @_;
    open my $fh, '<', $file or return '';
    my @l = <$fh>;
    splice @l, 0, @l - $n if @l > $n;
    return join '', @l;
}

sub redis_ping {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1) or return 0;
    print $s "*1\r\n\$4\r\nPING\r\n";
    my $line = <$s>;
    return defined $line && $line =~ /^\+PONG/;
}

sub http_get {
    my ($port, $host, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 2) or return;
    print $s "GET $path HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";
    my $line = <$s>;
    return defined $line && $line =~ m{^HTTP/1\.[01] (\d+)} ? $1 : undef;
}

# ------------------------------------------------------------ the servers

$dir = File::Temp::tempdir('clinic-browser-XXXXXX', TMPDIR => 1,
                           CLEANUP => 0);
chmod 0755, $dir;     # nginx's workers run as nobody when we are root
mkdir "$dir/$_" for qw(conf logs tmp content profile);

my $port = free_port();
my $redis_port = free_port();
my $dead_port = free_port();    # nobody listens: the second tenant's Redis
my $host = 'clinic.localhost';
my $down_host = 'down.localhost';
my $tenant = 'browser';
my $token = 'staff-token-' . join('', map { ('a'..'z', 0..9)[rand 36] }
                                           1 .. 24);
my $phone = '+44 20 7946 0321';
my $clinic = 'Lakeside Physiotherapy';

spawn('redis', "$dir/logs/redis.log", POSIX::SIGKILL(), 0,
      'redis-server', '--port', $redis_port, '--bind', '127.0.0.1',
      '--dir', "$dir/tmp", '--save', '', '--appendonly', 'no',
      '--daemonize', 'no');
{
    my $deadline = time + 10 * $slow;
    sleep 0.02 until redis_ping($redis_port) || time > $deadline;
    BAIL_OUT("redis-server did not start: " . tail("$dir/logs/redis.log", 5))
        unless redis_ping($redis_port);
}

# one article (the patient's way in), in the format of a .txt article
open my $fh, '>', "$dir/content/lower-back-pain.txt" or die $!;
print $fh <<'END';
Lower Back Pain

Most lower back pain settles within a few weeks, and the right exercises help it settle sooner. Our physiotherapists look at how you move, find what keeps the pain going, and give you a plan you can follow at home.

What to Expect

Your first visit takes 45 minutes: a conversation, an examination of how your back and hips move, and your first treatment.
END
close $fh;

open $fh, '>', "$dir/conf/staff.token" or die $!;
print $fh "$token\n";
close $fh;
chmod 0644, "$dir/conf/staff.token";

my $loads = join '', map { "load_module $_;\n" } @modules;

sub write_conf {
    my ($with_phone) = @_;
    my $ph = $with_phone ? "clinic_phone \"$phone\";" : '';
    open my $fh, '>', "$dir/conf/nginx.conf" or die $!;
    print $fh <<"END";
$loads
daemon off;
master_process on;
worker_processes 2;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error.log info;
events { worker_connections 256; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    clinic_cache_zone 8m;

    # the patient's and the staff's clinic
    server {
        listen 127.0.0.1:$port;
        server_name $host;
        clinic_tenant $tenant;
        clinic_redis 127.0.0.1:$redis_port timeout=2s;
        clinic_name "$clinic";
        $ph
        clinic_base_url http://$host:$port;
        clinic_content $dir/content;
        clinic_admin_token_file $dir/conf/staff.token;

        clinic_contact_field name    required max=100;
        clinic_contact_field email   required type=email;
        clinic_contact_field phone   type=phone;
        clinic_contact_field message required max=2000;
        clinic_contact_honeypot website;
        # the journeys send more than the default 5 per client
        clinic_contact_limit client=off tenant=off;

        location /treatments/ { clinic_articles; }
        location = /contact   { clinic_contact; }
        location /admin/      { clinic_admin; }
    }

    # a clinic whose Redis is down and which has no spool: its contact
    # form answers 503, whose page gives the phone number
    server {
        listen 127.0.0.1:$port;
        server_name $down_host;
        clinic_tenant browser-down;
        clinic_redis 127.0.0.1:$dead_port timeout=200ms;
        clinic_name "$clinic";
        $ph
        clinic_base_url http://$down_host:$port;
        clinic_content $dir/content;
        clinic_contact_limit client=off tenant=off;

        location /treatments/ { clinic_articles; }
        location = /contact   { clinic_contact; }
    }

    server {
        listen 127.0.0.1:$port default_server;
        server_name _;
        location = /ping { return 204; }
    }
}
END
    close $fh;
}

sub nginx_t {
    my $out = `'$nginx' -t -p '$dir/' -c '$dir/conf/nginx.conf' -e '$dir/logs/nginx-t.log' 2>&1`;
    return ($? == 0, $out);
}

# clinic_phone is newer than this suite may be: only set where nginx -t
# takes it
write_conf(1);
my ($has_phone, $t_out) = nginx_t();
if (!$has_phone) {
    write_conf(0);
    my ($ok, $out) = nginx_t();
    BAIL_OUT("nginx -t fails on the browser suite's configuration: $out")
        unless $ok;
    note('clinic_phone is not known to this module: left out, the 503 '
         . 'journey is skipped');
}

spawn('nginx', "$dir/logs/nginx.stderr", POSIX::SIGTERM(), 0,
      $nginx, '-p', "$dir/", '-c', "$dir/conf/nginx.conf",
      '-e', "$dir/logs/error.log");
{
    my $deadline = time + 15 * $slow;
    my $up = 0;
    while (time < $deadline) {
        if (waitpid($pids{nginx}, POSIX::WNOHANG()) == $pids{nginx}) {
            delete $pids{nginx};
            last;
        }
        if (children_of($pids{nginx}) >= 2
            && (http_get($port, 'ping', '/ping') || 0) == 204)
        {
            $up = 1;
            last;
        }
        sleep 0.05;
    }
    BAIL_OUT('nginx did not start: ' . tail("$dir/logs/error.log", 10))
        unless $up;
}

# ------------------------------------------------------------ the journeys

File::Path::make_path($artifacts);
my %env = (
    CLINIC_BROWSER_BASE      => "http://$host:$port",
    CLINIC_BROWSER_DOWN_BASE => "http://$down_host:$port",
    CLINIC_BROWSER_PORT      => $port,
    CLINIC_BROWSER_REDIS     => $redis_port,
    CLINIC_BROWSER_STREAM    => "clinic:{$tenant}:submissions",
    CLINIC_BROWSER_TOKEN     => $token,
    CLINIC_BROWSER_CLINIC    => $clinic,
    CLINIC_BROWSER_PHONE     => $has_phone ? $phone : '',
    CLINIC_BROWSER_OUT       => $artifacts,
    CLINIC_BROWSER_PROFILE   => "$dir/profile",
    CLINIC_BROWSER_CHROMIUM  => $chromium,
    CLINIC_BROWSER_SLOW      => $slow,
);
local @ENV{keys %env} = values %env;

pipe(my $rd, my $wr) or die "pipe: $!";
my $t0 = time;
spawn('node', $wr, POSIX::SIGKILL(), 1,
      'node', "$browser_dir/journeys.mjs");
close $wr;

# the whole run is bounded; journeys.mjs bounds each step itself
my $limit = 150 * $slow;
my $json = JSON::PP->new;
my ($results, $done, $timed_out) = (0, 0, 0);
my $sel_deadline = time + $limit;
my $buf = '';
my @log;
while (1) {
    my $left = $sel_deadline - time;
    if ($left <= 0) {
        $timed_out = 1;
        last;
    }
    my $rin = '';
    vec($rin, fileno($rd), 1) = 1;
    my $n = select(my $rout = $rin, undef, undef, $left);
    next if $n <= 0;
    my $got = sysread($rd, $buf, 65536, length $buf);
    last if !$got;
    while ($buf =~ s/\A([^\n]*)\n//) {
        my $line = $1;
        if ($line !~ s/^\@\@ //) {
            push @log, $line;
            next;
        }
        my $r = eval { $json->decode($line) };
        if (!$r) {
            push @log, $line;
            next;
        }
        $results++;
        if ($r->{type} eq 'skip') {
            Test::More->builder->skip("$r->{name}: $r->{reason}");
        } elsif ($r->{type} eq 'ok') {
            ok($r->{ok}, $r->{name}) or diag($r->{diag} // '');
        } elsif ($r->{type} eq 'note') {
            note($r->{msg});
        } elsif ($r->{type} eq 'done') {
            $done = 1;
        }
    }
}
close $rd;
my $elapsed = time - $t0;
if ($timed_out) {
    my $pid = $pids{node};
    kill 'KILL', -$pid if $pid;
}
my $node_pid = delete $pids{node};
unless (reap($node_pid, 10 * $slow)) {
    kill 'KILL', -$node_pid;
    waitpid $node_pid, 0;
}
my $status = $? & 127 ? 128 + ($? & 127) : $? >> 8;
ok(!$timed_out, "the journeys ended within $limit s")
    or diag("stopped after $limit s");
ok($done && $status == 0, 'journeys.mjs ran to its end and exited 0')
    or diag("exit status $status; its output:\n"
            . join("\n", @log[($#log > 40 ? $#log - 40 : 0) .. $#log])
            . "\n" . tail("$dir/logs/node.stderr", 40));
ok($results > 0, 'journeys.mjs reported results');
note(sprintf 'browser journeys: %.1f s', $elapsed);

# Chromium exits by itself once its pipe to node is closed
my @left = browser_pids();
for (my $end = time + 5; @left && time < $end; @left = browser_pids()) {
    sleep 0.1;
}
ok(!@left, 'no browser process is left when the journeys end')
    or diag("left: @left");

# nginx: no crash, no sanitizer report while the browser used it
stop_all();
my @bad;
if (open my $log, '<', "$dir/logs/error.log") {
    while (<$log>) {
        push @bad, $_ if /\[(?:alert|emerg)\]|exited on signal|ERROR: (?:Address|Leak)Sanitizer|runtime error:/;
    }
}
ok(!@bad, 'nginx logged no alert, crash or sanitizer report')
    or diag(join '', @bad[0 .. ($#bad > 20 ? 20 : $#bad)]);

done_testing();
