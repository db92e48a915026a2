package Test::Nginx::Util;

# Engine of the project's compat runner for the Test::Nginx::Socket .t format.
# Written for this project; follows the documented behaviour of
# openresty/test-nginx (Test::Nginx::Socket 0.29) for the subset described in
# t/compat/README.md.  Test::Nginx::Socket (Socket.pm) is the Test::Base
# front end; everything that runs nginx, talks HTTP and checks lives here.

use strict;
use warnings;

our $VERSION = '0.29_compat';

use Config ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle min);
use POSIX qw(:sys_wait_h SIGQUIT SIGTERM SIGKILL);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);
use Digest::MD5 ();
use Digest::SHA ();
use Test::More ();

use Exporter 'import';

our @EXPORT = qw(
    run_tests run_test repeat_each no_shuffle no_long_string no_root_location
    master_on master_off master_process_enabled workers worker_connections
    log_level env_to_nginx add_block_preprocessor add_cleanup_handler
    add_response_body_check check_accum_error_log use_hup no_nginx_manager
    config_preamble timeout bail_out is_str server_name server_addr
    server_root html_dir server_port server_port_for_client
    $ServerPort $ServerPortForClient $ServRoot $ServerAddr $ServerName
    $NoLongString $RepeatEach $NginxVersion $PidFile $ConfFile
);

# ---------------------------------------------------------------- settings

our $NginxBinary        = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $LoadModules        = $ENV{TEST_NGINX_LOAD_MODULES};
our $UseValgrind        = $ENV{TEST_NGINX_USE_VALGRIND};
our $Verbose            = $ENV{TEST_NGINX_VERBOSE};
our $Timeout            = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep     = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $LogLevel           = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $NoShuffle          = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $CheckAccumErrLog   = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $StartTimeout       = $UseValgrind ? 60 : 5;   # seconds to wait for listen
our $StopTimeout        = $UseValgrind ? 60 : 5;   # seconds to wait after QUIT
our $ValgrindFrames     = $ENV{TEST_NGINX_VALGRIND_FRAMES} || 'ngx_(?:http_)?clinic';

our $Workers            = 1;
our $WorkerConnections  = 64;
our $RepeatEach         = 1;
our $NoLongString;
our $NoRootLocation     = 0;
our $ServerAddr         = '127.0.0.1';
our $ServerName         = 'localhost';
our $ConfigPreamble     = '';
our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers, @ResponseBodyChecks);

# Sections a suite (or its add_block_preprocessor) invents on top of ours:
#   push @Test::Nginx::Util::ExtraSections, 'my_section';
# (a harmless no-op under the real Test::Nginx).
our @ExtraSections;

srand $$;

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || gen_rand_port() || die "no free TCP port found\n";
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;

# Deviation: without TEST_NGINX_SERVROOT each .t file gets its own server
# root, t/servroot_<file tag>, so that `prove -j` never shares one.
our $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT}
                                    || 't/servroot_' . file_tag($0));
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $StderrFile = "$LogDir/nginx.stderr";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";

# ---------------------------------------------------------------- state

our $NginxVersion;       # canonical, e.g. 1.022001
our $OpenSSLVersion;
our $ChildPid;           # the nginx we started (master or single process)
our $InstanceBlock;      # last block that ran against that nginx
our $LastConfigBlock;    # [block, config, rand_ports] that started it
our $ErrLogFilePos = 0;
our $StderrFilePos = 0;
our $MustDie;            # in a --- must_die block
our $VgEmitted;          # valgrind test already emitted for this block
our $CleanedUp;

# ---------------------------------------------------------------- API

sub file_tag {
    my $f = shift // 'test';
    $f = File::Spec->abs2rel(File::Spec->rel2abs($f));
    $f =~ s{^(?:\./)+}{};
    $f =~ s{^t/}{};
    $f =~ s{\.t$}{};
    $f =~ s{[^\w.-]+}{_}g;
    return $f;
}

sub repeat_each (@)   { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle ()     { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub master_on ()      { $MasterProcessEnabled = 'on' }
sub master_off ()     { $MasterProcessEnabled = 'off' }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub html_dir ()       { $HtmlDir }
sub server_root ()    { $ServRoot }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)    { unshift @CleanupHandlers, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

sub workers (@)            { return $Workers unless @_; $Workers = shift }
sub worker_connections (@) { return $WorkerConnections unless @_; $WorkerConnections = shift }
sub log_level (@)          { return $LogLevel unless @_; $LogLevel = shift }
sub timeout (@)            { return $Timeout unless @_; $Timeout = shift }
sub server_name (@)        { return $ServerName unless @_; $ServerName = shift }
sub server_addr (@)        { return $ServerAddr unless @_; $ServerAddr = shift }
sub server_port (@)        { return $ServerPort unless @_; $ServerPort = shift }
sub server_port_for_client (@) {
    return $ServerPortForClient unless @_;
    $ServerPortForClient = shift;
}

sub use_hup () {
    Test::More::diag("use_hup(): HUP reload mode is not supported by the "
                     . "compat runner; nginx is restarted per block instead");
}

sub no_nginx_manager () {
    die "no_nginx_manager() is not supported by the compat runner\n";
}

sub env_to_nginx (@) {
    die "env_to_nginx: no arguments specified\n" unless @_;
    for my $v (@_) {
        die "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(@_);
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc)
        if ref $expected && ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc);
}

sub parse_time ($) {
    my $tm = shift;
    return undef unless defined $tm;
    $tm =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $tm =~ /^([\d.]+)ms$/;
    return $1 if $tm =~ /^([\d.]+)s?$/;
    return $tm;
}

sub gen_rand_port {
    my ($used) = @_;
    for (1 .. 200) {
        my $port = 20000 + int rand 12000;   # below the ephemeral range
        next if $used && $used->{$port};
        my $sock = IO::Socket::INET->new(LocalAddr => '0.0.0.0',
                                          LocalPort => $port, Proto => 'tcp',
                                          Listen => 1);
        next unless $sock;
        close $sock;
        return $port;
    }
    return undef;
}

# ---------------------------------------------------------------- sections

my %Supported = map { $_ => 1 } qw(
    config http_config main_config post_main_config server_name init
    request request_eval raw_request raw_request_middle_delay
    pipelined_requests more_headers
    error_code error_code_like
    response_body response_body_eval response_body_like response_body_unlike
    response_body_filters charset
    response_headers response_headers_like
    raw_response_headers_like raw_response_headers_unlike
    error_log no_error_log grep_error_log grep_error_log_out
    shutdown_error_log no_shutdown_error_log access_log no_access_log
    log_level user_files timeout abort shutdown wait must_die
    ignore_response http09 server_addr_for_client no_check_leak
    skip_nginx skip_nginx2 skip_eval skip_openssl
    ONLY LAST SKIP
);

# Known to the real Test::Nginx::Socket but not implemented here.
my %RealOnly = map { $_ => 1 } qw(
    http2 http3 curl curl_protocol curl_options curl_error
    stap stap_out stap_out_like stap_out_unlike
    udp_listen udp_reply udp_reply_delay udp_query
    tcp_listen tcp_no_close tcp_reply tcp_reply_delay tcp_query tcp_query_len
    tcp_shutdown tcp_shutdown_delay todo todo_nginx skip_slave reload_fails
    error_log_file quic_max_idle_timeout
);

# Combinations the real runner silently resolves by ignoring one section.
my @Conflicts = (
    [qw(raw_request request)], [qw(raw_request pipelined_requests)],
    [qw(request_eval request)], [qw(pipelined_requests request)],
    [qw(error_code_like error_code)],
    [qw(response_headers response_headers_like)],
    [qw(response_body response_body_eval)],
    [qw(response_body response_body_like)],
    [qw(response_body response_body_unlike)],
    [qw(response_body_eval response_body_like)],
    [qw(response_body_eval response_body_unlike)],
    [qw(response_body_like response_body_unlike)],
);

sub validate_block {
    my $block = shift;
    my $name = $block->name;
    my $order = $block->{_section_order} ? $block->{_section_order}[0] : [];
    my $map = $block->{_section_map} ? $block->{_section_map}[0] : {};
    my %extra = map { $_ => 1 } @ExtraSections;
    my (@unknown, @realonly);
    for my $s (@$order) {
        next if $Supported{$s} || $extra{$s};
        if ($RealOnly{$s}) { push @realonly, $s } else { push @unknown, $s }
    }
    abort_block($name, "unknown section(s): " . join(', ', map "--- $_", @unknown)
                . " (typo? the real Test::Nginx would silently ignore them)")
        if @unknown;
    abort_block($name, "section(s) not supported by the compat runner: "
                . join(', ', map "--- $_", @realonly)) if @realonly;

    for my $s (@$order) {
        my $filters = $map->{$s} && $map->{$s}{filters} // '';
        next unless $filters =~ /\beval\b/;
        my $v = $block->{$s} && $block->{$s}[0];
        abort_block($name, "--- $s eval: Perl error: $v")
            if defined $v && !ref $v && $v =~ /\bat \(eval \d+\) line \d+\b/;
    }
    for my $c (@Conflicts) {
        my ($keep, $lost) = @$c;
        abort_block($name, "--- $keep and --- $lost together: the real "
                    . "Test::Nginx ignores --- $lost")
            if defined $block->$keep && defined $block->$lost;
    }
    if (defined $block->grep_error_log xor defined $block->grep_error_log_out) {
        abort_block($name, "--- grep_error_log and --- grep_error_log_out "
                    . "must be used together");
    }
}

# ---------------------------------------------------------------- errors

{ package Test::Nginx::Util::Abort; }

# Fails loudly and abandons the rest of the current block.
sub abort_block {
    my ($name, $msg, $details) = @_;
    Test::More::fail("$name - $msg");
    Test::More::diag($details) if defined $details && length $details;
    die bless { msg => $msg }, 'Test::Nginx::Util::Abort';
}

# ---------------------------------------------------------------- running

sub run_tests () {
    $NginxVersion = get_nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
        unless defined $ENV{TEST_NGINX_SERVER_PORT};

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;
    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value("name", "$0 " . $block->name);
        run_test($block);
    }
    stop_nginx();
    cleanup();
}

sub run_test ($) {
    my $block = shift;
    $VgEmitted = 0;
    local $LogLevel = $LogLevel;
    my $ok = eval { run_block($block); 1 };
    if (!$ok) {
        my $err = $@;
        die $err unless ref $err && ref $err eq 'Test::Nginx::Util::Abort';
    }
    if ($UseValgrind) {
        # one "valgrind" test per block, always (Socket::plan counts on it)
        stop_nginx(name => $block->name) if $ChildPid;
        Test::More->builder->skip($block->name . " - valgrind: nginx not run")
            unless $VgEmitted;
    }
    if (my $total = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile && open my $out, '>>', $total) {
            open my $in, '<', $ErrLogFile;
            print $out "\n=== $0 ", $block->name, "\n", <$in>;
        }
    }
}

sub run_block {
    my $block = shift;
    validate_block($block);
    my $name = $block->name;
    $LogLevel = $block->log_level if $block->log_level;

    my $rand_ports = {};
    my $config = $block->config;
    $config = expand_env_in_text($config, $name, $rand_ports);

    my ($skip_n, $skip_reason) = skip_spec($block);
    if (defined $skip_n) {
        for (1 .. $RepeatEach) {
            Test::More->builder->skip("$name - $skip_reason") for 1 .. $skip_n;
        }
        return;
    }

    if (defined $block->must_die) {
        return run_must_die($block, $config, $rand_ports);
    }

    if (!defined $config && !$ChildPid && $UseValgrind && $LastConfigBlock) {
        # valgrind mode stops nginx after every block: restart the last config
        my ($b, $c, $p) = @$LastConfigBlock;
        setup_server_root();
        write_user_files($b, $p);
        write_config_file($b, $c, $p);
        start_or_abort($block);
    } elsif (defined $config) {
        stop_nginx();
        setup_server_root();
        write_user_files($block, $rand_ports);
        write_config_file($block, $config, $rand_ports);
        start_or_abort($block);
        $LastConfigBlock = [$block, $config, $rand_ports];
    } elsif (!$ChildPid) {
        abort_block($name, "no --- config section and no nginx left running "
                    . "by a previous block (blocks without --- config reuse "
                    . "the previous block's nginx; use no_shuffle())");
    }
    $InstanceBlock = $block;

    if (my $code = $block->init) {
        my $ok = eval "$code\n;1";
        abort_block($name, "--- init failed: $@") unless $ok;
    }

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        write_user_files($block, $rand_ports) if $i > 0;
        run_test_helper($block, $i);
    }
}

sub skip_spec {
    my $block = shift;
    my $name = $block->name;
    my ($n, $reason, $skip);
    if (defined(my $spec = $block->skip_eval)) {
        $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or abort_block($name, "invalid --- skip_eval spec: $spec");
        ($n, my $code) = ($1, $2);
        $skip = eval $code;
        abort_block($name, "--- skip_eval: $@") if $@;
        $reason = "skip_eval";
    }
    if (defined(my $spec = $block->skip_nginx)) {
        $spec =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)\s*(?::\s*(.*?))?\s*$}
            or abort_block($name, "invalid --- skip_nginx spec: $spec");
        $n = $1;
        $reason = $6 || "nginx version $2 $3.$4.$5";
        $skip = cmp_version($NginxVersion, $2, canon_version($3, $4, $5));
    } elsif (defined(my $spec2 = $block->skip_nginx2)) {
        $spec2 =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)\s*(or|and)\s*
                    ([<>]=?)\s*(\d+)\.(\d+)\.(\d+)\s*(?::\s*(.*?))?\s*$}x
            or abort_block($name, "invalid --- skip_nginx2 spec: $spec2");
        $n = $1;
        $reason = $11 || "nginx version";
        my $a = cmp_version($NginxVersion, $2, canon_version($3, $4, $5));
        my $b = cmp_version($NginxVersion, $7, canon_version($8, $9, $10));
        $skip = $6 eq 'or' ? ($a || $b) : ($a && $b);
    }
    if (defined(my $spec = $block->skip_openssl)) {
        $spec =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)([a-z])?\s*(?::\s*(.*?))?\s*$}
            or abort_block($name, "invalid --- skip_openssl spec: $spec");
        $n = $1;
        $reason = $7 || "OpenSSL version $2 $3.$4.$5" . ($6 // '');
        my $want = canon_version($3, $4, $5)
                   . (defined $6 ? sprintf('%03d', ord($6) - ord('a')) : '');
        $skip = !defined $OpenSSLVersion
                || cmp_version($OpenSSLVersion, $2, $want);
    }
    return $skip && defined $n ? ($n, $reason) : ();
}

sub canon_version { sprintf "%d.%03d%03d", @_[0 .. 2] }

sub cmp_version {
    my ($have, $op, $want) = @_;
    return 0 unless defined $have;
    return $op eq '<'  ? $have <  $want : $op eq '<=' ? $have <= $want
         : $op eq '>'  ? $have >  $want :               $have >= $want;
}

sub get_nginx_version {
    my $out = `$NginxBinary -V 2>&1`;
    bail_out("Failed to run \"$NginxBinary -V\": " . ($out // ''))
        if !defined $out || $? != 0;
    if ($out =~ /built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?/) {
        $OpenSSLVersion = canon_version($1, $2, $3)
            . (defined $4 ? sprintf('%03d', ord($4) - ord('a')) : '');
    }
    return canon_version($1, $2, $3) if $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)};
    bail_out("Failed to parse the output of \"$NginxBinary -V\": $out");
}

sub run_must_die {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;
    stop_nginx();
    setup_server_root();
    write_user_files($block, $rand_ports);
    write_config_file($block, $config // '', $rand_ports);
    ($ErrLogFilePos, $StderrFilePos) = (0, 0);
    local $MustDie = 1;
    for my $i (0 .. $RepeatEach - 1) {
        my ($state, $status) = start_nginx(no_valgrind => 1);
        my $exit_code = 0;
        if ($state eq 'exited') {
            $exit_code = $status >> 8;
            if ($exit_code == 127) {
                Test::More::fail("$name - failed to execute the nginx command line");
            } elsif ($status & 127) {
                Test::More::fail("$name - nginx killed by signal " . ($status & 127));
            }
        }
        if ($state ne 'exited' || !($exit_code == 127 || $status & 127)) {
            if (looks_like_number($must_die)) {
                Test::More::is($exit_code, $must_die,
                               "$name - die with the expected exit code");
            } else {
                Test::More::isnt($exit_code, 0, "$name - die as expected");
            }
        }
        check_error_log($block, $i);
        if ($ChildPid) {
            warn "WARNING: $name - nginx must die but it does not; stopping it\n";
            stop_nginx(quiet => 1);
        }
    }
}

sub start_or_abort {
    my $block = shift;
    my ($state, $status) = start_nginx();
    return if $state eq 'running';
    my $why = $state eq 'exited' ? "exited with status " . ($status >> 8)
                                   . (($status & 127) ? " (signal " . ($status & 127) . ")" : '')
            : $state eq 'timeout' ? "not listening on port $ServerPort after ${StartTimeout}s"
            : "port $ServerPort is in use by another process";
    stop_nginx(quiet => 1) if $ChildPid;
    check_valgrind($block->name) if $UseValgrind;
    abort_block($block->name, "nginx failed to start: $why", startup_details());
}

sub startup_details {
    my $out = '';
    for my $f ($StderrFile, $ErrLogFile) {
        open my $in, '<', $f or next;
        my @lines = grep { $f eq $StderrFile || /\[(?:emerg|alert|crit|error)\]/ } <$in>;
        next unless @lines;
        splice @lines, 0, @lines - 20 if @lines > 20;
        $out .= "--- $f (tail):\n" . join '', @lines;
    }
    return $out;
}

# ---------------------------------------------------------------- servroot

sub setup_server_root {
    if (-d $ServRoot) {
        # like the real runner: only remove what it creates, then insist the
        # root is empty, so a mis-set TEST_NGINX_SERVROOT never wipes data
        remove_tree($ConfDir, $HtmlDir, $LogDir,
                    glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"));
        rmdir $ServRoot
            or bail_out("Can't remove $ServRoot (not empty?): $!");
    }
    make_path($ServRoot, $LogDir, $HtmlDir, $ConfDir);
    open my $out, '>', "$HtmlDir/index.html"
        or bail_out("Can't open $HtmlDir/index.html for writing: $!");
    print $out '<html><head><title>It works!</title></head>'
             . '<body>It works!</body></html>';
    close $out;
}

sub expand_env_in_text {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            $rand_ports->{$var} //= gen_rand_port(
                { $ServerPort => 1, map { $_ => 1 } values %$rand_ports })
                // abort_block($name, "no free port for \$$var");
        } else {
            defined $ENV{$var}
                or abort_block($name, "No environment $var defined");
            $ENV{$var};
        }
    }ge;
    return $text;
}

sub write_user_files {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return unless $files;
    if (!ref $files) {
        my @list;
        for my $line (split /^/m, $files) {
            if ($line =~ /^\s*>>> (\S+)(?:[ \t]+(\S+))?/) {
                push @list, [$1, undef, $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        abort_block($name, "--- user_files: only a string or an ARRAY is accepted");
    }
    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body = expand_env_in_text($body // '', $name, $rand_ports);
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1);
        }
        open my $out, '>', $path
            or abort_block($name, "Cannot open $path for writing: $!");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            local $ENV{TZ} = 'GMT';
            system('touch', '-t', $date, $path) == 0
                or abort_block($name, "touch -t '$date' $path failed");
        }
    }
}

sub write_config_file {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;
    my $http_config = expand_env_in_text(scalar($block->http_config), $name, $rand_ports) // '';
    my $main_config = $block->main_config // '';
    if ($LoadModules) {
        # appended to main_config, as the real runner does
        $main_config .= join '', map { "load_module $_;\n" }
                                 grep { length } split /\s+/, $LoadModules;
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);
    my $post_main_config = expand_env_in_text(scalar($block->post_main_config),
                                              $name, $rand_ports) // '';
    my $server_name = $block->server_name // $ServerName;
    $server_name =~ s/\\/\\\\/g;
    $server_name =~ s/'/\\'/g;
    my $env = join '', map { my $v = $_; $v = "'$v'" if $v =~ /\s/; "env $v;\n" }
        qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN MOCKEAGAIN_WRITE_TIMEOUT_PATTERN
           LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS), @EnvToNginx;
    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_
    my $user = $> == 0 ? "user root;\n" : '';

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!");
    print $out <<"_EOC_";
worker_processes  $Workers;
daemon off;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $LogLevel;
pid       $PidFile;
$env
$main_config

http {
    access_log $AccLogFile;
    default_type text/plain;
    keepalive_timeout  68;

$http_config

    server {
        listen          $ServerPort;
        server_name     '$server_name';

        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post_main_config

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}
$user
_EOC_
    close $out;
}

# ---------------------------------------------------------------- processes

sub port_listening {
    my $port = shift;
    my $hex = sprintf '%04X', $port;
    my $have_proc;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $have_proc = 1;
        while (<$in>) {
            my @f = split ' ';
            return 1 if @f > 3 && $f[3] eq '0A' && $f[1] =~ /:\Q$hex\E$/;
        }
    }
    return 0 if $have_proc;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Proto => 'tcp', Timeout => 0.2);
    return $sock ? 1 : 0;
}

sub valgrind_cmd {
    my @cmd = ('valgrind');
    if ($UseValgrind =~ /^\d+$/) {
        push @cmd, '--tool=memcheck', '--leak-check=full',
                   '--show-leak-kinds=definite,indirect',
                   '--errors-for-leak-kinds=definite,indirect',
                   '--num-callers=30';
    } else {
        push @cmd, split ' ', $UseValgrind;
    }
    push @cmd, "--log-file=$LogDir/valgrind.%p.log";
    for my $supp ('t/valgrind.suppress', 'valgrind.suppress') {
        push @cmd, "--suppressions=$supp" if -f $supp;
    }
    return @cmd;
}

sub set_pdeathsig {
    # so that nginx (daemon off, our child) dies with a killed runner
    my %nr = ('x86_64-linux' => 157, 'aarch64-linux' => 167);
    my ($arch) = $Config::Config{archname} =~ /^(x86_64-linux|aarch64-linux)/;
    eval { syscall($nr{$arch}, 1, SIGTERM) } if $arch;   # PR_SET_PDEATHSIG
}

# Returns ('running'), ('exited', $status), ('timeout') or ('busy').
sub start_nginx {
    my %opt = @_;
    my $valgrind = $UseValgrind && !$opt{no_valgrind};
    my $until = time + 2;
    while (port_listening($ServerPort)) {
        return ('busy') if time > $until;
        sleep 0.01;
    }
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    # startup errors into error.log like a prefix-relative default would
    push @cmd, '-e', $ErrLogFile if $NginxVersion && $NginxVersion >= 1.019005;
    unshift @cmd, valgrind_cmd() if $valgrind;
    warn "starting: @cmd\n" if $Verbose;

    open my $err, '>>', $StderrFile or bail_out("Cannot open $StderrFile: $!");
    my $pid = fork;
    bail_out("fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        set_pdeathsig();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>&', $err;
        open STDERR, '>&', $err;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    close $err;
    $ChildPid = $pid;
    my $deadline = time + ($valgrind ? 60 : $StartTimeout);
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            undef $ChildPid;
            return ('exited', $?);
        }
        if (port_listening($ServerPort)) {
            sleep $TestNginxSleep;
            if (waitpid($pid, WNOHANG) == $pid) {
                undef $ChildPid;
                return ('exited', $?);
            }
            return ('running');
        }
        return ('timeout') if time > $deadline;
        sleep 0.01;
    }
}

sub wait_child {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        return 1 if $r == $pid || $r == -1;
        sleep 0.01;
    }
    return 0;
}

# Stops the nginx child (QUIT, then TERM, then KILL of its process group),
# then runs the checks due at shutdown: --- shutdown_error_log of the last
# block that used it, and in valgrind mode the "valgrind clean" test.
sub stop_nginx {
    my %opt = @_;
    my $pid = $ChildPid or return;
    kill SIGQUIT, $pid;
    if (!wait_child($pid, $StopTimeout)) {
        warn "WARNING: nginx $pid did not quit in ${StopTimeout}s; sending TERM\n";
        kill SIGTERM, -$pid;
        if (!wait_child($pid, 2)) {
            kill SIGKILL, -$pid;
            waitpid($pid, 0);
        }
    }
    undef $ChildPid;
    my $block = $InstanceBlock;
    undef $InstanceBlock;
    return if $opt{quiet};
    check_shutdown_error_log($block)
        if $block && (defined $block->shutdown_error_log
                      || defined $block->no_shutdown_error_log);
    check_valgrind($opt{name} // ($block ? $block->name : "$0 nginx"))
        if $UseValgrind;
}

sub cleanup {
    return if $CleanedUp++;
    stop_nginx(quiet => 1);
    $_->() for @CleanupHandlers;
}

our $MainPid = $$;

END {
    # not in processes forked by a suite's Perl code (init, preprocessors)
    if (defined $MainPid && $$ == $MainPid) {
        local $?;
        cleanup();
    }
}

sub check_valgrind {
    my $name = shift;
    $VgEmitted = 1;
    my $frames = qr/$ValgrindFrames/;
    my $kind = join '|', 'Invalid (?:read|write|free)', 'uninitialised',
        'Mismatched free', 'Source and destination overlap',
        'are (?:definitely|indirectly) lost';
    $kind = qr/$kind/;
    my (@bad, $nfiles);
    for my $file (sort glob "$LogDir/valgrind.*.log") {
        $nfiles++;
        open my $in, '<', $file or next;
        my @rec;
        my $flush = sub {
            push @bad, "$file:\n" . join('', @rec)
                if @rec && $rec[0] =~ $kind && grep { $_ =~ $frames } @rec;
            @rec = ();
        };
        while (my $line = <$in>) {
            if ($line =~ /^==\d+==\s*$/) { $flush->(); next }
            push @rec, $line;
        }
        $flush->();
    }
    Test::More::ok(!@bad, "$name - valgrind clean");
    if (@bad) {
        Test::More::diag(scalar(@bad) . " valgrind record(s) with a frame "
                         . "matching /$ValgrindFrames/:\n"
                         . join("\n", @bad[0 .. min(4, $#bad)]));
    } elsif (!$nfiles) {
        Test::More::diag("$name - no valgrind log found in $LogDir");
    }
}

# ---------------------------------------------------------------- requests

sub parse_more_headers {
    my $in = shift;
    my ($out, $chunked) = ('', 0);
    for my $header (split /\n+/, $in) {
        next if $header =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        $val //= '';
        $chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

sub headers_for {
    my ($name, $more_headers, $i) = @_;
    if (ref $more_headers eq 'ARRAY') {
        defined $more_headers->[$i]
            or abort_block($name, "--- more_headers lacks data for request $i");
        return parse_more_headers($more_headers->[$i]);
    }
    return parse_more_headers($more_headers);
}

# Turns "METH [URI [VERSION]]\nBODY" (possibly split into packets) into a
# full HTTP request: Host/Connection headers, more_headers, Content-Length.
# Packet boundaries inside the body are kept.
sub build_request {
    my ($name, $hdr, $chunked, $conn, $packets) = @_;
    my @pk = map { ref $_ ? {%$_} : { value => $_ } } @$packets;
    my $whole = join '', map { $_->{value} // '' } @pk;
    my ($first, $rest) = $whole =~ /\A([^\n]*\n?)(.*)\z/s;
    abort_block($name, "Request line should be non-empty") unless $first;
    $first =~ /^(\s*)(\S+)( *)((\S+)( *))?((\S+)( *))?(\s*)$/
        or abort_block($name, "Request line is not valid. Should be "
                       . "'meth [url [version]]' but got \"$first\".");
    my ($meth, $url, $ver) = ($2, $5 // '/', $8 // 'HTTP/1.1');

    my ($content, $lead, $len_header) = ($rest, 0, '');
    if (!$chunked && $content ne '' && $hdr !~ /(?:^|\n)Content-Length:/) {
        (my $t = $content) =~ s/^\s+//;
        $lead = length($content) - length($t);
        $t =~ s/\s+$//;
        $content = $t;
        $len_header = "Content-Length: " . length($content) . "\r\n";
    }
    $hdr =~ s/(?<!\r)\n/\r\n/g;
    my $head = "$meth $url $ver\r\n";
    $head .= "Host: $ServerName\r\n" if $hdr !~ /(?:^|\n)Host:/msi;
    $head .= "Connection: $conn\r\n" if $hdr !~ /(?:^|\n)Connection/msi;
    $head .= "$hdr$len_header\r\n";

    my $new = $head . $content;
    my ($off, $prev) = (0, 0);
    for my $i (0 .. $#pk) {
        my $end;
        if ($i == $#pk) {
            $end = length $new;
        } else {
            $off += length($pk[$i]{value} // '');
            my $b = $off - length($first) - $lead;
            $b = 0 if $b < 0;
            $b = length $content if $b > length $content;
            $end = length($head) + $b;
        }
        $pk[$i]{value} = substr $new, $prev, $end - $prev;
        $prev = $end;
    }
    return \@pk;
}

sub is_head_req { ($_[0] // '') =~ /^\s*HEAD\s+/ ? 1 : 0 }

# Returns a list of { packets => [...], heads => [...], pipelined => N }.
sub get_req_from_block {
    my $block = shift;
    my $name = $block->name;
    if (defined(my $raw = $block->raw_request)) {
        my @pk = ref $raw eq 'ARRAY'
               ? map { ref $_ eq 'HASH' ? {%$_} : { value => $_ } } @$raw
               : ({ value => $raw });
        return [{ packets => \@pk,
                  heads => [is_head_req(join '', map { $_->{value} } @pk)] }];
    }
    my $request;
    if (defined $block->request_eval) {
        $request = eval $block->request_eval;
        abort_block($name, "--- request_eval: $@") if $@;
    } else {
        $request = $block->request;
        if (defined $request && !ref $request) {
            1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
        }
    }
    my $more_headers = $block->more_headers || '';

    if (defined(my $reqs = $block->pipelined_requests)) {
        ref $reqs eq 'ARRAY'
            or abort_block($name, "invalid entries in --- pipelined_requests");
        my ($all, @heads) = ('');
        for my $i (0 .. $#$reqs) {
            my ($hdr, $chunked) = headers_for($name, $more_headers, $i);
            my $pk = build_request($name, $hdr, $chunked,
                                   $i == $#$reqs ? 'close' : 'keep-alive',
                                   [$reqs->[$i]]);
            $all .= $pk->[0]{value};
            push @heads, is_head_req($reqs->[$i]);
        }
        return [{ packets => [{ value => $all }], heads => \@heads,
                  pipelined => scalar @$reqs }];
    }

    abort_block($name, "no --- request section") unless defined $request;
    my @list = ref $request eq 'ARRAY' ? @$request : ($request);
    abort_block($name, "invalid --- request: MUST be a string or an array")
        if ref $request && ref $request ne 'ARRAY';
    my @out;
    for my $i (0 .. $#list) {
        my $one = $list[$i];
        my ($hdr, $chunked) = headers_for($name, $more_headers, $i);
        my $packets = !ref $one ? [$one]
                    : ref $one eq 'ARRAY' ? $one
                    : abort_block($name, "a request must be a string or an "
                                  . "array of packets");
        my $pk = build_request($name, $hdr, $chunked, 'close', $packets);
        push @out, { packets => $pk,
                     heads => [is_head_req(join '', map { $_->{value} } @$pk)] };
    }
    return \@out;
}

# Sends one connection's worth of request data and reads until EOF.
sub send_request {
    my ($req, $block, $timeout) = @_;
    my $name = $block->name;
    my $middle_delay = $block->raw_request_middle_delay;
    my $addr = $block->server_addr_for_client // $ServerAddr;
    local $SIG{PIPE} = 'IGNORE';

    my $sock = IO::Socket::INET->new(PeerAddr => $addr,
                                     PeerPort => $ServerPortForClient,
                                     Proto => 'tcp', Timeout => $timeout);
    if (!$sock) {
        Test::More::fail("$name - Can't connect to $addr:$ServerPortForClient: $!");
        return '';
    }
    $sock->blocking(0);
    my @bits = @{ $req->{packets} };
    my $buf = (shift @bits)->{value} // '';
    my ($off, $resp, $writing) = (0, '', 1);
    my $sel = IO::Select->new($sock);
    while (1) {
        $! = 0;
        my ($r, $w) = IO::Select->select($sel, $writing ? $sel : undef,
                                         undef, $timeout);
        if (!$r && !$w) {
            if ($! == EINTR) { next }
            Test::More::fail("ERROR: client socket timed out - $name")
                unless defined $block->abort;
            last;
        }
        if ($w && @$w) {
            while (1) {
                if ($off < length $buf) {
                    my $n = syswrite($sock, $buf, length($buf) - $off, $off);
                    if (!defined $n) {
                        last if $! == EAGAIN || $! == EWOULDBLOCK;
                        warn "WARNING: $name - write failed: $!\n" if $Verbose;
                        $writing = 0;   # keep reading what the server said
                        last;
                    }
                    $off += $n;
                    next;
                }
                my $next = shift @bits;
                if (!$next) {
                    $writing = 0;
                    if (defined(my $how = $block->shutdown)) {
                        shutdown($sock, $how =~ /^\s*$/ ? 1 : $how);
                    }
                    last;
                }
                my $delay = $next->{delay_before} // $middle_delay;
                sleep $delay if $delay;
                ($buf, $off) = ($next->{value} // '', 0);
            }
        }
        if ($r && @$r) {
            my $n = sysread($sock, my $chunk, 65536);
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                warn "WARNING: $name - HTTP response read failure: $!\n"
                    unless $!{ECONNRESET};
                last;
            }
            last if $n == 0;
            $resp .= $chunk;
        }
    }
    close $sock;
    return $resp;
}

# Minimal HTTP::Response look-alike (code, header, content).
{
    package Test::Nginx::Util::Response;
    sub new { my ($c, %a) = @_; bless { headers => [], %a }, $c }
    sub code { my $s = shift; $s->{code} = shift if @_; $s->{code} }
    sub message { $_[0]{message} }
    sub protocol { $_[0]{protocol} }
    sub content { my $s = shift; $s->{content} = shift if @_; $s->{content} }
    sub header {
        my ($s, $k) = @_;
        my @v = map { $_->[1] } grep { lc $_->[0] eq lc $k } @{ $s->{headers} };
        return wantarray ? @v : @v ? join(', ', @v) : undef;
    }
}

# Returns ($res, $raw_headers, $left); $left is what follows this response
# (pipelining).  Failures in chunked data fail a test, as the real one does.
sub parse_response {
    my ($name, $raw, $head_req, $abort) = @_;
    my $raw_headers = $raw =~ /(.*?\r\n)\r\n/s ? $1 : '';

    my ($status, $str) = $raw =~ /\A([^\n]*)\n(.*)\z/s ? ($1, $2) : ($raw, '');
    $status =~ s/\r\z//;
    my ($proto, $code, $msg) = $status =~ /^\d{3} /
        ? (undef, split(' ', $status, 2)) : split(' ', $status, 3);
    my @hdrs;
    while (1) {
        if ($str =~ s/^([^\s:]+)[ \t]*: ?(.*)\n?//) {
            push @hdrs, [$1, $2];
            $hdrs[-1][1] =~ s/\r\z//;
        } elsif (@hdrs && $str =~ s/^([ \t].*)\n?//) {
            $hdrs[-1][1] .= "\n$1";
            $hdrs[-1][1] =~ s/\r\z//;
        } else {
            $str =~ s/^\r?\n//;
            last;
        }
    }
    undef $code if defined $code && $code !~ /^\d+$/;
    my $res = Test::Nginx::Util::Response->new(
        protocol => $proto, code => $code, message => $msg,
        headers => \@hdrs, content => $str);
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $left;
    if ($head_req && $code && $code >= 200) {
        $left = $str if length $str;
        $res->content('');
        return ($res, $raw_headers, $left);
    }
    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    if (defined $enc && $enc eq 'chunked') {
        my ($decoded, $pos) = ('', 0);
        while (1) {
            if ($str =~ /\G0[ \t]*\r\n\r\n/gc) {
                $left = $1 if $str =~ /\G(.+)/gcs;
                last;
            }
            if ($str =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                my $at = pos $str;
                if (length($str) - $at < $size) {
                    Test::More::fail("$name - invalid chunked data received "
                                     . "(not enough octets for the data section)");
                    return;
                }
                $decoded .= substr $str, $at, $size;
                pos($str) = $at + $size;
                if ($str !~ /\G\r\n/gc) {
                    Test::More::fail("$name - invalid chunked data received (expected CRLF).");
                    return;
                }
            } elsif ($str =~ /\G(.+)/gcs) {
                Test::More::fail("$name - invalid chunked body received: $1");
                return;
            } else {
                Test::More::fail("$name - no last chunk found - $str");
                return;
            }
        }
        $res->content($decoded);
    } elsif (defined $len && $len =~ /^\d+$/) {
        if (length $str < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($str) . "\n" unless $head_req || $abort;
        } elsif (length $str > $len) {
            $left = substr $str, $len;
            $res->content(substr $str, 0, $len);
        }
    }
    return ($res, $raw_headers, $left);
}

# ---------------------------------------------------------------- checks

sub get_indexed_value {
    my ($name, $value, $idx, $need_array) = @_;
    if (ref $value && ref $value eq 'ARRAY') {
        return $value->[$idx] if $need_array || $idx == 0;
    }
    abort_block($name, "You asked for many requests, the expected results "
                . "should be arrays as well.") if $need_array;
    return $value;
}

sub run_test_helper {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $reqs = get_req_from_block($block);
    my $timeout = parse_time(scalar($block->timeout)) // $Timeout;
    my $ignore = defined $block->ignore_response;
    my $req_idx = 0;
    my $res;
    for my $r (0 .. $#$reqs) {
        my $req = $reqs->[$r];
        my $raw = send_request($req, $block, $timeout);
        my $n = $req->{pipelined} || 1;
        my $need_array = $req->{pipelined} ? 1 : @$reqs > 1;
        for my $k (0 .. $n - 1) {
            my ($raw_headers, $left);
            if (!$ignore) {
                if (defined $block->http09) {
                    $res = Test::Nginx::Util::Response->new(code => 200,
                                                            content => $raw);
                    $raw_headers = '';
                } else {
                    ($res, $raw_headers, $left) =
                        parse_response($name, $raw // '', $req->{heads}[$k],
                                       defined $block->abort);
                }
                if ($k < $n - 1) {
                    $raw = $left;
                } elsif (defined $left && length $left) {
                    (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last "
                         . "chunk in response: \"$l\"\n";
                }
                check_error_code($block, $res, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $req_idx, $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $req_idx, $rep, $need_array);
            }
            if ($k < $n - 1 || $r < $#$reqs) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $rep);
                check_access_log($block, $rep) unless $ignore;
            }
            $req_idx++;
        }
    }
    sleep $block->wait if $block->wait;
    check_error_log($block, $rep);
    check_access_log($block, $rep) unless $ignore;
}

sub check_error_code {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $pat = get_indexed_value($name, scalar($block->error_code_like), $idx, $need_array);
        Test::More::like($code, qr/$pat/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        Test::More::is($code, get_indexed_value($name, scalar($block->error_code),
                                                $idx, $need_array),
                       "$name - status code ok");
    } else {
        Test::More::is($code, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->raw_response_headers_like) {
        my $pat = get_indexed_value($name, scalar($block->raw_response_headers_like),
                                    $idx, $need_array);
        Test::More::like($raw_headers // '', qr/$pat/s, "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $pat = get_indexed_value($name, scalar($block->raw_response_headers_unlike),
                                    $idx, $need_array);
        Test::More::unlike($raw_headers // '', qr/$pat/s, "$name - raw resp headers unlike");
    }
}

sub parse_expected_headers {
    my $s = shift;
    my %h;
    for my $line (split /\n/, $s // '') {
        $line =~ s/^\s+|\s+$//g;
        if ($line =~ s/^!\s*//) {
            $h{$line} = undef;
        } else {
            my ($k, $v) = split /\s*:\s*/, $line, 2;
            $h{$k} = $v;
        }
    }
    return \%h;
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->response_headers) {
        my $h = parse_expected_headers(get_indexed_value(
            $name, scalar($block->response_headers), $idx, $need_array));
        for my $key (sort keys %$h) {
            my $val = $h->{$key};
            if (!defined $val) {
                Test::More::unlike($raw_headers // '', qr/^\s*\Q$key\E\s*:/ms,
                                   "$name - header $key not present in the raw headers");
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $got = $res ? $res->header($key) : undef;
            Test::More::is($got // '', $val, "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        my $h = parse_expected_headers(get_indexed_value(
            $name, scalar($block->response_headers_like), $idx, $need_array));
        for my $key (sort keys %$h) {
            my $val = $h->{$key} // '';
            my $got = $res ? $res->header($key) : undef;
            Test::More::like($got // '', qr/^$val$/, "$name - header $key like ok");
        }
    }
}

sub run_filter {
    my ($name, $filter, $content) = @_;
    return $filter->($content) if ref $filter eq 'CODE';
    abort_block($name, "--- response_body_filters only takes code refs and names")
        if ref $filter;
    my %builtin = (
        md5_hex => \&Digest::MD5::md5_hex, sha1_hex => \&Digest::SHA::sha1_hex,
        uc => sub { uc $_[0] }, lc => sub { lc $_[0] },
        ucfirst => sub { ucfirst $_[0] }, lcfirst => sub { lcfirst $_[0] },
        length => sub { length $_[0] },
    );
    my $f = $builtin{$filter}
        or abort_block($name, "unknown filter \"$filter\" in --- response_body_filters");
    return $f->($content);
}

sub transform_response_body {
    my ($block, $res, $idx) = @_;
    my $filters = $block->response_body_filters;
    return unless defined $filters && $res && defined $res->content;
    my $name = $block->name;
    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (ref $filters->[0] eq 'ARRAY') {     # one filter list per request
        $filters = $filters->[$idx]
            // abort_block($name, "--- response_body_filters has no entry for request $idx");
    }
    my $content = $res->content;
    $content = run_filter($name, $_, $content) for @$filters;
    $res->content($content);
}

sub check_response_body {
    my ($block, $res, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;
    if (defined $block->response_body || defined $block->response_body_eval) {
        my $expected;
        if (defined $block->response_body_eval) {
            $expected = eval get_indexed_value($name, scalar($block->response_body_eval),
                                               $idx, $need_array);
            abort_block($name, "--- response_body_eval: $@") if $@;
        } else {
            $expected = get_indexed_value($name, scalar($block->response_body), $idx, $need_array);
        }
        if (my $cs = $block->charset) {
            require Encode;
            Encode::from_to($expected, 'UTF-8', $cs);
        }
        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }
        my $desc = "$name - response_body - response is expected "
                 . "(repeated req $rep, req $idx)";
        if (ref $expected) {
            Test::More::like($content, $expected, $desc);
        } else {
            is_long_string($content, $expected, $desc);
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $like = defined $block->response_body_like;
        my $pat = get_indexed_value($name, $like ? scalar($block->response_body_like)
                                                 : scalar($block->response_body_unlike),
                                    $idx, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g unless ref $pat;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g unless ref $pat;
        (my $summary = $content // '') =~ s/\s+/ /g;
        $summary = substr($summary, 0, 60) . '...' if length $summary > 63;
        my $type = $like ? 'like' : 'unlike';
        my $desc = "$name - response_body_$type - response is expected ($summary)";
        $like ? Test::More::like($content, qr/$pat/s, $desc)
              : Test::More::unlike($content, qr/$pat/s, $desc);
    }
    for my $check (@ResponseBodyChecks) {
        $check->($block, $res ? $res->content : undef, $idx, $rep, 0);
    }
}

# Test::LongString-like: long strings are not dumped whole on failure,
# only their lengths and the text around the first difference.
sub is_long_string {
    my ($got, $exp, $desc) = @_;
    my $long = !$NoLongString && defined $got && defined $exp
               && (length($got) > 200 || length($exp) > 200);
    return Test::More::is($got, $exp, $desc) unless $long;
    return 1 if Test::More::ok($got eq $exp, $desc);
    my $i = 0;
    $i++ while $i < length($got) && $i < length($exp)
               && substr($got, $i, 1) eq substr($exp, $i, 1);
    my $show = sub {
        my $from = $i > 30 ? $i - 30 : 0;
        (my $s = substr($_[0], $from, 80)) =~ s/([\0-\037\177])/sprintf('\\x%02x', ord $1)/ge;
        ($from ? '...' : '') . "\"$s\"" . ($from + 80 < length $_[0] ? '...' : '');
    };
    Test::More::diag("got (length " . length($got) . "): " . $show->($got) . "\n"
                     . "expected (length " . length($exp) . "): " . $show->($exp) . "\n"
                     . "first difference at offset $i");
    return 0;
}

sub error_log_data {
    my ($stopped) = @_;
    sleep $TestNginxSleep * 3 unless $stopped;   # let nginx finish its log phase
    my @lines = read_log_from($ErrLogFile, \$ErrLogFilePos);
    # must_die: also nginx's own stderr ("nginx: [emerg] ..."), as the
    # startup errors of a distro nginx go there, not to error.log
    push @lines, read_log_from($StderrFile, \$StderrFilePos) if $MustDie;
    return \@lines;
}

sub read_log_from {
    my ($file, $pos) = @_;
    open my $in, '<', $file or return ();
    seek $in, $$pos, 0 if !$CheckAccumErrLog && $$pos > 0;
    my @lines = <$in>;
    $$pos = tell $in unless $CheckAccumErrLog;
    return @lines;
}

sub access_log_data {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or return [];
    my @lines = <$in>;
    return \@lines;
}

sub fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub pattern_list {
    my $pats = shift;
    return [ref $pats eq 'Regexp' ? $pats : @$pats] if ref $pats;
    chomp $pats;
    return [split /\n+/, $pats];
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

# Every pattern must match some line: one test per pattern.
sub expect_patterns {
    my ($name, $pats, $lines, $file, $rep) = @_;
    my @pats = @{ pattern_list($pats) };
    for my $line (@$lines) {
        for my $p (@pats) {
            next unless defined $p && line_matches($line, $p);
            Test::More::pass("$name - pattern \"$p\" matches a line in $file (req $rep)");
            undef $p;
        }
    }
    Test::More::fail("$name - pattern \"$_\" should match a line in $file (req $rep)")
        for grep { defined } @pats;
}

# No pattern may match any line: one test per pattern (plus one per
# further matching line on failure, as in the real runner).
sub reject_patterns {
    my ($name, $pats, $lines, $file, $rep) = @_;
    my @pats = @{ pattern_list($pats) };
    my %found;
    for my $i (0 .. $#$lines) {
        for my $p (@pats) {
            next unless line_matches($lines->[$i], $p);
            $found{$p} = 1;
            my @more = @$lines[$i + 1 .. min($i + 9, $#$lines)];
            Test::More::fail("$name - pattern \"" . fmt_str($p) . "\" should not "
                             . "match any line in $file but matches line \""
                             . fmt_str($lines->[$i]) . "\" (req $rep)\n" . join '', @more);
        }
    }
    for my $p (@pats) {
        next if $found{$p};
        Test::More::pass("$name - pattern \"" . fmt_str($p) . "\" does not match "
                         . "a line in $file (req $rep)");
    }
}

sub check_error_log {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $lines;
    if (defined(my $grep = $block->grep_error_log)) {
        $grep = $grep->[$rep] if ref $grep eq 'ARRAY';
        my $expected = $block->grep_error_log_out;
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        $lines ||= error_log_data();
        my $matched = '';
        for my $line (@$lines) {
            my $m = ref $grep ? ($line =~ $grep ? $& : undef)
                  : index($line, $grep) >= 0 ? $grep : undef;
            $matched .= "$m\n" if defined $m && $m !~ /\n/;
        }
        my $desc = "$name - grep_error_log_out (req $rep)";
        ref $expected eq 'Regexp' ? Test::More::like($matched, $expected, $desc)
                                  : is_long_string($matched, $expected, $desc);
    }
    my $errs = join ' ', map { "$_" } map { ref $_ eq 'ARRAY' ? @$_ : $_ }
               grep { defined } $block->error_log, $block->no_error_log;
    if (defined $block->error_log) {
        $lines ||= error_log_data();
        expect_patterns($name, scalar($block->error_log), $lines, 'error.log', $rep);
    }
    if (defined $block->no_error_log) {
        $lines ||= error_log_data();
        reject_patterns($name, scalar($block->no_error_log), $lines, 'error.log', $rep);
    }
    $lines ||= error_log_data();
    for my $level (qw(alert crit emerg)) {
        next if index($errs, "[$level") >= 0;
        next if $level eq 'emerg' && defined $block->must_die;
        warn "WARNING: $name - " . fmt_str($_) . "\n" for grep { /\[$level\]/ } @$lines;
    }
    for my $line (@$lines) {
        Test::More::fail("$name - " . fmt_str($line)) if $line =~ /\bAssertion .*?failed\b/;
    }
}

sub check_access_log {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $lines;
    if (defined $block->access_log) {
        $lines ||= access_log_data();
        expect_patterns($name, scalar($block->access_log), $lines, 'access.log', $rep);
    }
    if (defined $block->no_access_log) {
        $lines ||= access_log_data();
        reject_patterns($name, scalar($block->no_access_log), $lines, 'access.log', $rep);
    }
}

# As the real runner since 0.31: either section alone is checked (before,
# --- no_shutdown_error_log only counted next to --- shutdown_error_log).
sub check_shutdown_error_log {
    my $block = shift;
    my $name = $block->name;
    my $lines = error_log_data(1);      # nginx is gone: nothing to wait for
    reject_patterns($name, scalar($block->no_shutdown_error_log), $lines, 'error.log', 'shutdown')
        if defined $block->no_shutdown_error_log;
    expect_patterns($name, scalar($block->shutdown_error_log), $lines, 'error.log', 'shutdown')
        if defined $block->shutdown_error_log;
}

1;
