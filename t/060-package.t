# The Debian package (docs/testing.md, "The package test"): make deb, the
# package's metadata and files, then installed for real with apt-get:
# Debian's /usr/sbin/nginx loads the module through the installed snippet
# and serves an article and the metrics from a temporary prefix on free
# loopback ports, nginx-clinic-add adds a clinic to that nginx (and
# refuses bad input, leaving nothing behind), and the package is purged
# again, leaving nothing behind either. A plain Test::More script.
#
# No system service is started, stopped or reloaded: the test's nginx has
# a pid file, logs and temporary folders of its own, and the reload that
# the package's trigger asks of the system nginx is denied by a
# policy-rc.d (a temporary one when the machine has none).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use ClinicTest ();

my $pkg = 'libnginx-mod-http-clinic';
my $so = '/usr/lib/nginx/modules/ngx_http_clinic_module.so';
my $snippet = '/usr/share/nginx/modules-available/mod-http-clinic.conf';
my $link = '/etc/nginx/modules-enabled/50-mod-http-clinic.conf';
my $policy = '/usr/sbin/policy-rc.d';
my $nginx = '/usr/sbin/nginx';

# in CI the test must run: what would make it skip elsewhere fails it
sub cannot {
    my ($why) = @_;
    plan skip_all => $why unless ($ENV{CI} // '') eq 'true';
    plan tests => 1;
    fail("CI=true, but the package test cannot run: $why");
    exit 1;
}

plan skip_all => 'the package holds the plain build: tested in the plain'
                 . ' pass only' if $ENV{TEST_CLINIC_ASAN};
cannot('not root: installing a package needs root') if $> != 0;
for my $cmd (qw(dpkg dpkg-deb dpkg-query apt-get dpkg-buildpackage)) {
    cannot("$cmd is missing") if system("command -v $cmd >/dev/null") != 0;
}
cannot("no $nginx") unless -x $nginx;

sub installed {
    my $s = `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null`;
    return $s =~ / installed$/;
}
cannot("$pkg is installed on this machine: the test leaves an operator's"
       . ' install alone') if installed();
for my $f ($so, $snippet, $link) {
    cannot("$f exists (make install?): the test does not overwrite it")
        if -e $f || -l $f;
}

# the system nginx: running or not, the test must leave it so
sub system_nginx_pid {
    open my $fh, '<', '/run/nginx.pid' or return 0;
    my $pid = <$fh> // '';
    chomp $pid;
    return $pid =~ /^\d+$/ && kill(0, $pid) ? $pid : 0;
}
my $system_pid = system_nginx_pid();
my $system_t_ok = system("$nginx -t -q >/dev/null 2>&1") == 0;

my $made_policy;
if (-e $policy) {
    # 101: "action forbidden"; then the trigger's "status" says unknown
    # and nothing is reloaded
    cannot("the system nginx is running and $policy allows reloading it")
        if $system_pid && system("$policy nginx reload >/dev/null 2>&1")
                          >> 8 != 101;
} else {
    open my $fh, '>', $policy or cannot("cannot write $policy: $!");
    print $fh "#!/bin/sh\n# t/060-package.t, removed when it ends\n"
              . "exit 101\n";
    close $fh;
    chmod 0755, $policy;
    $made_policy = 1;
}

my ($nginx_pid, $we_installed);
my $tmp = tempdir('clinic-pkg-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp;    # the workers (nobody) read the articles

sub run_out {        # runs a command; (exit status, stdout and stderr)
    my @cmd = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

sub purge {
    my ($st, $out) = run_out('apt-get', 'purge', '-y', '-q',
                             '-o', 'DPkg::Lock::Timeout=120', $pkg);
    diag($out) if $st;
    return $st == 0;
}

sub stop_nginx {
    return unless $nginx_pid;
    kill 'QUIT', $nginx_pid;
    my $deadline = time + 10;
    while (waitpid($nginx_pid, WNOHANG) == 0) {
        if (time > $deadline) {
            kill 'KILL', -$nginx_pid;
            waitpid($nginx_pid, 0);
            last;
        }
        sleep 0.05;
    }
    undef $nginx_pid;
}

END {
    my $status = $?;
    stop_nginx();
    purge() if $we_installed && installed();
    unlink $policy if $made_policy;
    $? = $status;
}

# ------------------------------------------------------------ the package

{
    local %ENV = %ENV;
    delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};
    my $t0 = time;
    my ($st, $out) = run_out('make', '-s', 'deb');
    is($st, 0, 'make deb') or diag($out);
    note(sprintf('make deb: %.1f s', time - $t0));
}
my @debs = grep { !/-dbgsym_/ } glob("build/deb/${pkg}_*_*.deb");
is(scalar @debs, 1, 'one package in build/deb') or BAIL_OUT('no .deb');
my $deb = $debs[0];
my ($version) = `dpkg-parsechangelog -l debian/changelog -S Version`;
chomp $version;
my $arch = `dpkg --print-architecture`;
chomp $arch;
is($deb, "build/deb/${pkg}_${version}_$arch.deb",
   'named by the version in debian/changelog and the architecture');

my %f = map { /^(\S+): (.*)$/ ? ($1, $2) : () } `dpkg-deb -f $deb`;
my ($abi) = `dpkg-query -W -f='\${Provides}' nginx` =~ /(nginx-abi-[\w.-]+)/;
ok($abi, "the nginx package provides an ABI ($abi)");
like($f{Depends} // '', qr/(^|, )\Q$abi\E(,|$)/,
     'Depends on the ABI of the nginx it was built for');
like($f{Depends} // '', qr/libhiredis/, 'Depends: hiredis (shlibs)');
like($f{Depends} // '', qr/libjansson/, 'Depends: jansson (shlibs)');
is($f{Package}, $pkg, 'Package');

my %files = map { m{ \./(\S+)} ? ("/$1", 1) : () } `dpkg-deb -c $deb`;
for my $p ($so, $snippet, '/usr/sbin/nginx-clinic-add',
           '/usr/sbin/nginx-clinic-remove',
           '/etc/nginx/clinic/server.conf.template',
           "/usr/share/doc/$pkg/examples/clinic.conf",
           "/usr/share/doc/$pkg/README.md.gz",
           "/usr/share/doc/$pkg/operations.md.gz") {
    ok($files{$p}, "the package holds $p");
}

# ----------------------------------------------------------- installed

{
    local $ENV{DEBIAN_FRONTEND} = 'noninteractive';
    $we_installed = 1;
    my ($st, $out) = run_out('apt-get', 'install', '-y', '-q',
        '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120',
        "./$deb");
    is($st, 0, 'apt-get install ./' . $deb) or BAIL_OUT("install:\n$out");
}
ok(installed(), "$pkg is installed");
ok(-f $so, "$so is there");
is(readlink($link), $snippet, "$link links to the snippet");
open my $sn, '<', $snippet or die "$snippet: $!";
is(scalar <$sn>, "load_module $so;\n", 'the snippet loads the module');
close $sn;
is(system_nginx_pid(), $system_pid,
   'the system nginx is as it was (' . ($system_pid ? "pid $system_pid"
                                                    : 'not running') . ')');
if ($system_t_ok) {
    is(system("$nginx -t -q"), 0,
       'the system configuration still passes nginx -t, module loaded');
}

# a prefix of the test's own: its pid file, logs and temporary folders
# (nginx would otherwise chown the system's /var/lib/nginx/*)
ClinicTest::redis_start();
my $port = ClinicTest::free_port();
my $status_port = ClinicTest::free_port();
mkdir "$tmp/$_" for qw(content clinics sites tokens);
mkdir "$tmp/content/fixture";
open my $art, '>', "$tmp/content/fixture/gentle-joint-mobilisation.txt"
    or die $!;
print $art "Gentle Joint Mobilisation\n\nSlow, small movements of a joint.\n";
close $art;

my $conf = "$tmp/nginx.conf";
open my $cf, '>', $conf or die $!;
print $cf <<"END";
include $link;
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    clinic_redis 127.0.0.1:$ClinicTest::RedisPort timeout=2s;
    clinic_cache_zone 1m;

    include $tmp/clinics/*.conf;

    server {
        listen 127.0.0.1:$port;
        server_name fixture.test;
        clinic_tenant fixture;
        clinic_content $tmp/content/fixture;
        location /treatments/ { clinic_articles; }
    }
    server {
        listen 127.0.0.1:$status_port;
        location = /status { clinic_status; }
    }
}
END
close $cf;

my @ngx = ($nginx, '-p', "$tmp/", '-c', $conf);
{
    my ($st, $out) = run_out(@ngx, '-t');
    is($st, 0, 'Debian\'s nginx -t, the module loaded by the installed'
               . ' snippet') or diag($out);
}

$nginx_pid = fork() // die "fork: $!";
if ($nginx_pid == 0) {
    POSIX::setpgid(0, 0);    # the workers go with it
    open STDERR, '>>', "$tmp/error.log";
    exec @ngx or POSIX::_exit(127);
}

sub request {        # one HTTP/1.0 GET; { status, content }, 599 if none
    my ($port, $path, $host) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or return { status => 599, content => "connect: $!" };
    print $s "GET $path HTTP/1.0\r\nHost: $host\r\n\r\n";
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($code, $body) = $raw =~ m{\AHTTP/1\.\d (\d{3}) .*?\r\n\r\n(.*)\z}s
        or return { status => 599, content => $raw };
    return { status => $code, content => $body };
}

sub get {            # waits up to 5 s for an answer other than $not
    my ($port, $path, $host, $not) = @_;
    my $deadline = time + 5;
    my $r;
    do {
        $r = request($port, $path, $host);
        return $r if $r->{status} != 599 && (!$not || $r->{status} != $not);
        sleep 0.05;
    } while (time < $deadline);
    return $r;
}
my $r = get($port, '/treatments/gentle-joint-mobilisation', 'fixture.test');
is($r->{status}, 200, 'an article page from the installed module');
like($r->{content}, qr{<h1>Gentle Joint Mobilisation</h1>}, 'its title');
$r = get($status_port, '/status', 'localhost');
is($r->{status}, 200, 'clinic_status answers');
like($r->{content}, qr/clinic_requests_total\{tenant="fixture",
                       handler="articles",code="2xx"\}\ 1\n/x,
     'and counted the request');

# ------------------------------------------------------ nginx-clinic-add

my @add = ('/usr/sbin/nginx-clinic-add', '--conf-dir', "$tmp/clinics",
           '--content-root', "$tmp/sites", '--token-dir', "$tmp/tokens",
           '-p', "$tmp/", '-c', $conf, '--listen', "127.0.0.1:$port");

sub tree {           # every path below $tmp that nginx-clinic-add may touch
    return join "\n", sort map { `find $tmp/$_` } qw(clinics sites tokens);
}

{
    my ($st, $out) = run_out('/usr/sbin/nginx-clinic-add', '--help');
    is($st, 0, 'nginx-clinic-add --help');
    like($out, qr/Usage: nginx-clinic-add \[options\] DOMAIN/, 'its usage');

    ($st, $out) = run_out(@add, '--name', 'Clinic One', 'Clinic-One.test');
    is($st, 0, 'nginx-clinic-add adds a clinic') or diag($out);
    like($out, qr/added clinic "clinic-one.test".*nginx reloaded/s,
         'and reloads the test\'s nginx');
    ok(-f "$tmp/clinics/clinic-one.test.conf", 'its server block');
    my @st = stat "$tmp/tokens/clinic-one.test.token";
    is(sprintf('%o', $st[2] & 07777), '640', 'its token file, mode 0640');
    my $gid = getgrnam('www-data');
    is($st[5], $gid, 'group www-data') if defined $gid;
    ok(-f "$tmp/sites/clinic-one.test/articles/welcome.md",
       'its starter article');

    ($st, $out) = run_out(@ngx, '-t');
    is($st, 0, 'nginx -t passes with the new clinic') or diag($out);
    $r = get($port, '/treatments/welcome', 'clinic-one.test', 404);
    is($r->{status}, 200, 'the new clinic answers after the reload');
    like($r->{content}, qr{<h1>Welcome to Clinic One</h1>}, 'its page');

    my $before = tree();
    ($st, $out) = run_out(@add, 'clinic-one.test');
    is($st, 1, 'a clinic that exists is refused');
    like($out, qr/clinic "clinic-one.test" exists already/, 'and says so');

    ($st, $out) = run_out(@add, 'bad_name!.test');
    is($st, 1, 'an invalid domain is refused');
    like($out, qr/invalid domain "bad_name!.test"/, 'and says so');

    ($st, $out) = run_out(@add, '--tenant', 'x/..', 'two.test');
    is($st, 1, 'an invalid tenant is refused');
    like($out, qr/invalid tenant "x\/.."/, 'and says so');

    # the fixture's tenant again: nginx -t fails, all of it goes again
    ($st, $out) = run_out(@add, '--tenant', 'fixture', 'three.test');
    is($st, 1, 'a clinic that fails nginx -t is refused');
    like($out, qr/nginx -t fails with the new clinic; nothing was added/,
         'and says why') or diag($out);
    is(tree(), $before, 'the refusals left nothing behind');

    ($st, $out) = run_out('/usr/sbin/nginx-clinic-remove', @add[1 .. 10],
                          'clinic-one.test');
    is($st, 0, 'nginx-clinic-remove') or diag($out);
    ok(!-e "$tmp/clinics/clinic-one.test.conf"
       && !-e "$tmp/tokens/clinic-one.test.token",
       'took its server block and token away');
    $r = get($port, '/treatments/welcome', 'clinic-one.test', 200);
    is($r->{status}, 404, 'and the clinic is gone after the reload');
}

# the example configuration, with its paths moved below $tmp
{
    my $ex = "$tmp/example";
    mkdir $ex;
    mkdir "$ex/$_" for qw(spool clinics etc srv srv/backcare
                          srv/backcare/articles);
    open my $in, '<', "/usr/share/doc/$pkg/examples/clinic.conf" or die $!;
    my $text = do { local $/; <$in> };
    close $in;
    my $p1 = ClinicTest::free_port();
    my $p2 = ClinicTest::free_port();
    $text =~ s{/var/spool/nginx-clinic}{$ex/spool}g;
    $text =~ s{/etc/nginx/clinics}{$ex/clinics}g;
    $text =~ s{/etc/nginx/clinic/}{$ex/etc/}g;
    $text =~ s{/srv/clinics}{$ex/srv}g;
    $text =~ s{listen\s+80;}{listen 127.0.0.1:$p1;}g;
    $text =~ s{127\.0\.0\.1:9145}{127.0.0.1:$p2}g;
    open my $out, '>', "$ex/clinic.conf" or die $!;
    print $out $text;
    close $out;
    open my $tok, '>', "$ex/etc/backcare.token" or die $!;
    print $tok "example-token-0123456789abcdef\n";
    close $tok;
    open my $c, '>', "$ex/nginx.conf" or die $!;
    print $c "include $link;\npid $ex/nginx.pid;\nerror_log $ex/error.log;\n"
        . "events {}\nhttp {\n    include $ex/clinic.conf;\n}\n";
    close $c;
    my ($st, $o) = run_out($nginx, '-p', "$ex/", '-c', "$ex/nginx.conf",
                           '-t');
    is($st, 0, 'the example configuration passes nginx -t') or diag($o);
}

stop_nginx();

# --------------------------------------------------------------- purged

ok(purge(), "apt-get purge $pkg");
ok(!installed(), 'the package is gone');
ok(!-e $so, "$so is gone");
ok(!-e $snippet, "$snippet is gone");
ok(!-e $link && !-l $link, "$link is gone");
ok(!-e '/etc/nginx/clinic/server.conf.template', 'the template is gone');
is(system_nginx_pid(), $system_pid, 'the system nginx is as it was');
if ($system_t_ok) {
    is(system("$nginx -t -q"), 0,
       'the system configuration passes nginx -t again');
}

done_testing();
