# A worker's private memory does not grow with the tenants it serves, at
# the start and after reloads (issue 12, docs/operations.md "Memory per
# tenant"): one worker, N tenants with five articles each, every article
# requested once; the worker's private memory (smaps, its own mappings)
# before and after.
#
# What it guards: the heap a worker inherits from the master.  nginx
# frees its temporary configuration pool after the parse, leaving a 16 KB
# hole between every few server blocks, and a reload frees the whole old
# configuration; a worker's malloc() handed those holes out again and each
# write copied a page: about 2 KB per tenant per worker at the start, and
# 0.8 KB more after a reload.  The module keeps both allocated in the
# master until the next configuration is read (ngx_http_clinic_mem.c).
# The bounds asserted: 1 KB per tenant from the start, and after a reload
# 0.4 KB per tenant above the first worker.
#
# The reloads (one of them of a configuration that fails) run in both
# passes: the sanitizer build checks what the master keeps and frees.  The
# memory figures are asserted in the plain pass only: the sanitizer build
# has its own allocator.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $asan = $ENV{TEST_CLINIC_ASAN};
plan skip_all => 'no /proc/self/smaps' unless -r '/proc/self/smaps';

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $module = $ENV{TEST_NGINX_LOAD_MODULES}
             || "$ENV{PWD}/build/ngx_http_clinic_module.so";
plan skip_all => "no module at $module (run make)" unless -f $module;

my $n = $ENV{TEST_CLINIC_MEMORY_N} || ($asan ? 300 : 3000);
my $gen = "$ENV{PWD}/bench/gen.pl";
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;    # the worker runs as nobody when we are root

my @slugs = split /\n/, `perl $gen scale $n $dir/content`;
die "bench/gen.pl scale failed" if $? || @slugs != 5;
my ($port) = split /\n/, `perl $gen ports 1`;

sub write_conf {
    my ($extra) = @_;
    open my $fh, '>', "$dir/nginx.conf" or die "$dir/nginx.conf: $!";
    print $fh <<"END";
load_module $module;
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
    server_names_hash_max_size @{[ 2 * $n + 1024 ]};
    server_names_hash_bucket_size 64;
    access_log off;
    client_body_temp_path $dir;
    proxy_temp_path $dir;
    fastcgi_temp_path $dir;
    uwsgi_temp_path $dir;
    scgi_temp_path $dir;
    clinic_cache_zone @{[ int($n * 5 * 8448 * 5 / 4 / 1048576) + 8 ]}m;
    server {
        listen 127.0.0.1:$port default_server;
        location = /pid { return 200 "\$pid\\n"; }
    }
END
    for my $i (1 .. $n) {
        print $fh "    server { listen 127.0.0.1:$port; ",
                  "server_name t$i.example; ",
                  "clinic_content $dir/content/t$i; ",
                  "location /treatments/ { clinic_articles; } }\n";
    }
    print $fh "$extra}\n";
    close $fh;
}

write_conf('');

my $master = fork // die "fork: $!";
if ($master == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>>', "$dir/stderr.log";
    exec $nginx, '-p', "$dir/", '-c', "$dir/nginx.conf", '-e', "$dir/error.log";
    die "exec $nginx: $!";
}

sub stop {
    kill 'QUIT', $master;
    for (1 .. 100) {
        return if waitpid($master, WNOHANG) == $master;
        sleep 0.1;
    }
    kill 'KILL', $master;
    waitpid $master, 0;
}

END { stop() if $master }

sub worker {
    my $deadline = time + 120;
    while (time < $deadline) {
        my $pid = `curl -s -m 5 http://127.0.0.1:$port/pid`;
        return $1 if $pid =~ /^(\d+)$/;
        die "nginx exited: " . `cat $dir/stderr.log $dir/error.log`
            if waitpid($master, WNOHANG) == $master;
        sleep 0.1;
    }
    die "nginx did not answer in 120 s";
}

# private memory of the process's own mappings: with one worker, the pages
# of the cache zone it wrote are its alone too, but that is the cache
sub private_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/smaps" or die "smaps: $!";
    my ($kb, $shared) = (0, 0);
    while (<$fh>) {
        if (/^[0-9a-f]+-[0-9a-f]+ (\S+)/) {
            $shared = $1 =~ /s/;
        } elsif (!$shared && /^Private_(?:Clean|Dirty):\s+(\d+)/) {
            $kb += $1;
        }
    }
    return $kb;
}

# touch WORKER: every article once through the one worker; its private
# memory before and after, in KB
sub touch {
    my ($worker, $what) = @_;
    my $before = private_kb($worker);
    my @touch = split /\n/, `perl $gen touch $port 1 $n @slugs`;
    my ($pid, $requests, $ok) = split ' ', $touch[0] // '';
    is $pid, $worker, "$what: the worker measured served the requests";
    is $ok, 5 * $n, "$what: all $n tenants' five articles answered 200";
    my $after = private_kb($worker);
    diag sprintf "%s: worker private memory %.1f MB at its start, %.1f MB "
                 . "after %d tenants (%.0f bytes per tenant)", $what,
                 $before / 1024, $after / 1024, $n,
                 ($after - $before) * 1024 / $n;
    return ($before, $after);
}

# reload: SIGHUP, then the pid of a new worker answering, once the old
# one has exited (until then it may still accept a connection)
sub reload {
    my ($old) = @_;
    kill 'HUP', $master;
    my $deadline = time + 120;
    while (time < $deadline) {
        my $pid = worker();
        if ($pid != $old) {
            sleep 0.1 while kill(0, $old) && time < $deadline;
            return $pid;
        }
        sleep 0.1;
    }
    die "no new worker 120 s after SIGHUP";
}

my $worker = worker();
my ($before, $after) = touch($worker, 'first worker');

SKIP: {
    skip 'the sanitizer build has its own allocator', 1 if $asan;
    cmp_ok(($after - $before) * 1024 / $n, '<', 1024,
           'the first worker gained less than 1 KB per tenant');
}

# a reload of a configuration that fails: the worker goes on serving
write_conf("    clinic_no_such_directive on;\n");
kill 'HUP', $master;
my $deadline = time + 60;
sleep 0.2 until `cat $dir/error.log` =~ /clinic_no_such_directive/
                || time > $deadline;
like `cat $dir/error.log`, qr/unknown directive "clinic_no_such_directive"/,
     'a failed reload is reported';
is worker(), $worker, 'after a failed reload the same worker answers';

# two reloads: the second frees what the master kept from the first
write_conf('');
my $second = reload($worker);
my $third = reload($second);
my ($before3, $after3) = touch($third, 'worker after two reloads');

SKIP: {
    skip 'the sanitizer build has its own allocator', 1 if $asan;
    cmp_ok(($after3 - $after) * 1024 / $n, '<', 400,
           'after two reloads a worker holds at most 0.4 KB per tenant '
           . 'more than the first one');
}

# nginx exits (the sanitizer build checks for leaks then)
stop();
$master = 0;

my @bad = grep { /\[(?:alert|crit|emerg)\]|exited on signal|Sanitizer|runtime error:/
                 && !/clinic_no_such_directive/ }
          split /\n/, `cat $dir/error.log $dir/stderr.log`;
is "@bad", '', 'no other alert, crash or sanitizer report in the logs';

done_testing;
