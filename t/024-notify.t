# clinic_contact_notify (docs/directives.md, docs/operations.md): one
# notification per new submission, through an internal location, carrying
# the tenant, the id, the time and the inbox URL and no field value; none
# for a duplicate or a honeypot hit; replayed submissions notify too; a
# failing notification is counted and logged and never changes the answer;
# a queued submission whose store reached Redis late is notified by its
# replay.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;
use File::Temp ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();
ClinicTest::blackhole_port();

our $Dir = File::Temp::tempdir('clinic-notify-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 01777, $Dir;
$ENV{TEST_NGINX_NOTIFY_DIR} = $Dir;

our $Spool = File::Temp::tempdir('clinic-spool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 01777, $Spool;
$ENV{TEST_NGINX_SPOOL} = $Spool;

$ENV{TEST_NGINX_HOOK_PORT} = ClinicTest::free_port();
$ENV{TEST_NGINX_CLOSED_PORT} = ClinicTest::free_port();

open my $tf, '>', "$Dir/token" or die $!;
print $tf "notify-test-token-0123456789abcdef\n";
close $tf;

our $Stream = 'clinic:{localhost}:submissions';

# what a patient types: none of it may ever reach a notification
our @Secrets = ('Patient Zed', 'zed@example.com', 'sciatica flare',
                'Honey Bot', '/treatments/pregnancy-massage', 'session=abc');

sub post {
    my ($n) = @_;
    return qq{POST /contact\r\n{"name":"Patient Zed $n","email":"zed\@example.com","message":"sciatica flare $n"}};
}

sub lines {
    my ($file) = @_;
    open my $fh, '<', "$Dir/$file" or return ();
    my @l = <$fh>;
    chomp @l;
    return @l;
}

sub entries {
    my $r = ClinicTest::redis_cmd('XRANGE', $Stream, '-', '+');
    return map { my %h = @{ $_->[1] }; { id => $_->[0], %h } } @$r;
}

sub no_secrets {
    my ($file) = @_;
    open my $fh, '<', "$Dir/$file" or die "$file: $!";
    local $/;
    my $all = <$fh>;
    for my $s (@Secrets) {
        die "$file carries \"$s\"" if index($all, $s) >= 0;
    }
}

# the notification log has one line per entry of the stream, in order
sub expect_notified {
    my ($file, $want) = @_;
    my @l = lines($file);
    my @e = entries();
    die "expected $want notifications in $file, found " . @l . ": @l"
        unless @l == $want;
    die "expected $want entries, found " . @e unless @e == $want;
    for my $i (0 .. $#l) {
        my $line = "tenant=localhost id=$e[$i]{id} "
                   . "received=$e[$i]{received} "
                   . "inbox=https://clinic.example/admin/ uri=/_notify "
                   . "status=204";
        die "notification $i: \"$l[$i]\", expected \"$line\""
            unless $l[$i] eq $line;
    }
    no_secrets($file);
}

add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->http_config || !defined $block->config;
    $block->set_value('http_config', <<'CONF');
    clinic_spool $TEST_NGINX_SPOOL;
    log_format notifyfmt 'tenant=$clinic_tenant id=$clinic_submission_id '
                         'received=$clinic_submission_received '
                         'inbox=$clinic_inbox_url uri=$request_uri '
                         'status=$status';
    log_format hookfmt escape=none '$request_method $request_uri '
                       '$request_body referer=$http_referer '
                       'cookie=$http_cookie';

    # a webhook receiver: logs what a notification brings it
    server {
        listen 127.0.0.1:$TEST_NGINX_HOOK_PORT;
        server_name hook;
        location = /lead {
            access_log $TEST_NGINX_NOTIFY_DIR/hook.log hookfmt;
            proxy_pass http://127.0.0.1:$TEST_NGINX_HOOK_PORT/sink;
        }
        location = /sink { access_log off; return 204; }
    }
CONF
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a new submission: 201, and one notification with the tenant, the id, the time and the inbox URL
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_limit client=off tenant=off;
    clinic_base_url https://clinic.example/;
    clinic_admin_token_file $TEST_NGINX_NOTIFY_DIR/token;
    location /admin/ { clinic_admin; }
    location = /contact {
        clinic_contact;
        clinic_contact_notify /_notify;
        access_log $TEST_NGINX_NOTIFY_DIR/contact-1.log notifyfmt;
    }
    location = /_notify {
        internal;
        access_log $TEST_NGINX_NOTIFY_DIR/notify-1.log notifyfmt;
        return 204;
    }
--- more_headers
Content-Type: application/json
Referer: http://localhost/treatments/pregnancy-massage
Cookie: session=abc
--- request eval
main::post(1)
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$
--- no_error_log
[error]



=== TEST 2: ... the notification and the contact request's own log carry the entry's id and time, no field value; the location stays internal
--- init
main::expect_notified('notify-1.log', 1);
my ($e) = main::entries();
my @c = main::lines('contact-1.log');
die "contact log: @c" unless @c == 1
    && $c[0] =~ /^tenant=localhost id=\Q$e->{id}\E received=\Q$e->{received}\E inbox=https:\/\/clinic.example\/admin\/ uri=\/contact status=201$/;
main::no_secrets('contact-1.log');
--- request
GET /_notify
--- error_code: 404
--- no_error_log
[error]



=== TEST 3: a duplicate and a honeypot hit: answered 201, stored once, notified once
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_limit client=off tenant=off;
    clinic_contact_honeypot website;
    clinic_base_url https://clinic.example;
    clinic_admin_token_file $TEST_NGINX_NOTIFY_DIR/token;
    clinic_contact_notify /_notify;
    location /admin/ { clinic_admin; }
    location = /contact { clinic_contact; }
    location = /_notify {
        internal;
        access_log $TEST_NGINX_NOTIFY_DIR/notify-3.log notifyfmt;
        return 204;
    }
    location = /status { clinic_status; }
--- more_headers
Content-Type: application/json
--- request eval
[main::post(3), main::post(3),
 qq{POST /contact\r\n{"name":"Honey Bot","email":"bot\@example.com","message":"buy","website":"http://spam.example"}}]
--- error_code eval
[201, 201, 201]
--- no_error_log
[error]



=== TEST 4: ... and the counters say so
--- init
main::expect_notified('notify-3.log', 1);
--- request
GET /status
--- response_body_like eval
qr/clinic_notifications_total\{tenant="localhost",outcome="sent"\} 1\nclinic_notifications_total\{tenant="localhost",outcome="failed"\} 0\n/
--- no_error_log
[error]



=== TEST 5: a webhook through proxy_pass: the body is built from the variables, the client's headers and fields stay behind
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_limit client=off tenant=off;
    clinic_base_url https://clinic.example;
    clinic_admin_token_file $TEST_NGINX_NOTIFY_DIR/token;
    location /admin/ { clinic_admin; }
    location = /contact { clinic_contact; clinic_contact_notify /_hook?source=clinic; }
    location = /_hook {
        internal;
        proxy_method POST;
        proxy_set_header Content-Type application/json;
        proxy_set_body '{"tenant":"$clinic_tenant","id":"$clinic_submission_id","received":"$clinic_submission_received","inbox":"$clinic_inbox_url"}';
        proxy_pass http://127.0.0.1:$TEST_NGINX_HOOK_PORT/lead?$args;
    }
    location = /t { return 200 "ok\n"; }
--- more_headers
Content-Type: application/json
Referer: http://localhost/treatments/pregnancy-massage
Cookie: session=abc
--- request eval
main::post(5)
--- error_code: 201
--- no_error_log
[error]



=== TEST 6: ... the receiver got exactly that
--- init
sleep 0.3;
my ($e) = main::entries();
my @l = main::lines('hook.log');
my $want = qq{POST /lead?source=clinic {"tenant":"localhost","id":"$e->{id}","received":"$e->{received}","inbox":"https://clinic.example/admin/"} referer= cookie=};
die "hook log: @l\nexpected: $want" unless @l == 1 && $l[0] eq $want;
main::no_secrets('hook.log');
--- request
GET /t
--- no_error_log
[error]



=== TEST 7: a notify location that answers 500: the client still gets 201
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_limit client=off tenant=off;
    location = /contact { clinic_contact; clinic_contact_notify /_notify; }
    location = /_notify { internal; return 500; }
    location = /status { clinic_status; }
--- more_headers
Content-Type: application/json
--- request eval
main::post(7)
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 8: ... the failure is counted and logged
--- init
sleep 0.2;
--- request
GET /status
--- response_body_like eval
qr/outcome="sent"\} 0\nclinic_notifications_total\{tenant="localhost",outcome="failed"\} 1\n/
--- error_log eval
qr/\[error\] .*clinic: the notification of the new submission "\d+-\d+" of the tenant "localhost" through "\/_notify" failed \(status 500\)/



=== TEST 9: a webhook that refuses connections: 201
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_limit client=off tenant=off;
    location = /contact { clinic_contact; clinic_contact_notify /_notify; }
    location = /_notify {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_CLOSED_PORT/;
    }
    location = /status { clinic_status; }
--- more_headers
Content-Type: application/json
--- request eval
main::post(9)
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 10: ... counted and logged, with nginx's own upstream error
--- init
# the notification runs after the answer: wait for its outcome (at most
# 5 s; the sanitizer build under load takes more than the usual 0.2 s)
my $log = Test::Nginx::Util::server_root() . '/logs/error.log';
for (1 .. 50) {
    open my $fh, '<', $log or die "$log: $!";
    last if grep { /through "\/_notify" failed/ } <$fh>;
    close $fh;
    select undef, undef, undef, 0.1;
}
--- request
GET /status
--- response_body_like eval
qr/outcome="failed"\} 1\n/
--- error_log eval
[qr/connect\(\) failed .*while connecting to upstream, client: clinic notification, server: localhost, request: "GET \/_notify HTTP\/1.0"/,
 qr/clinic: the notification of the new submission "\d+-\d+" of the tenant "localhost" through "\/_notify" failed \(status 502\)/]



=== TEST 11: a webhook that never answers: the client does not wait for it
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_limit client=off tenant=off;
    location = /contact { clinic_contact; clinic_contact_notify /_notify; }
    location = /_notify {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT/;
    }
    location = /status { clinic_status; }
--- timeout: 0.5
--- more_headers
Content-Type: application/json
--- request eval
main::post(9)
--- error_code: 201
--- no_error_log
[error]



=== TEST 12: ... its timeout is counted as a failure
--- init
sleep 1.5;
--- request
GET /status
--- response_body_like eval
qr/outcome="sent"\} 0\nclinic_notifications_total\{tenant="localhost",outcome="failed"\} 1\n/
--- error_log eval
[qr/upstream timed out/,
 qr/clinic: the notification of the new submission "\d+-\d+" of the tenant "localhost" through "\/_notify" failed \(status 504\)/]



=== TEST 13: Redis gone: the submissions are queued (202), nothing is notified yet
--- init
ClinicTest::redis_cmd('FLUSHDB');
ClinicTest::redis_kill();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_contact_limit client=off tenant=off;
    clinic_base_url https://clinic.example;
    clinic_admin_token_file $TEST_NGINX_NOTIFY_DIR/token;
    location /admin/ { clinic_admin; }
    location = /contact {
        clinic_contact;
        clinic_contact_notify /_notify;
    }
    location = /_notify {
        internal;
        access_log $TEST_NGINX_NOTIFY_DIR/notify-11.log notifyfmt;
        return 204;
    }
    location = /status { clinic_status; }
--- more_headers
Content-Type: application/json
--- request eval
[main::post(11), main::post(12)]
--- error_code eval
[202, 202]
--- response_body_like eval
[qr/"status":"queued"/, qr/"status":"queued"/]



=== TEST 14: ... Redis back: the replay stores both and notifies each once, through the contact location's notify
--- init
die "notified while queued" if main::lines('notify-11.log');
ClinicTest::redis_start();
sleep 4;
main::expect_notified('notify-11.log', 2);
--- request
GET /status
--- response_body_like eval
qr/outcome="sent"\} 2\nclinic_notifications_total\{tenant="localhost",outcome="failed"\} 0\n(?s:.*)\nclinic_spool_replayed_total 2\n/



=== TEST 14a: Redis frozen: the store reaches Redis after its timeout, so the submission is queued (202) ...
--- init
ClinicTest::redis_cmd('FLUSHDB');
ClinicTest::redis_stop();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_contact_limit client=off tenant=off;
    clinic_base_url https://clinic.example;
    clinic_admin_token_file $TEST_NGINX_NOTIFY_DIR/token;
    location /admin/ { clinic_admin; }
    location = /contact {
        clinic_contact;
        clinic_contact_notify /_notify;
    }
    location = /_notify {
        internal;
        access_log $TEST_NGINX_NOTIFY_DIR/notify-14.log notifyfmt;
        return 204;
    }
    location = /status { clinic_status; }
--- more_headers
Content-Type: application/json
--- request eval
main::post(14)
--- error_code: 202
--- response_body_like: "status":"queued"



=== TEST 14b: ... Redis resumes and runs it; the replay finds it stored and notifies it once
--- init
die "notified while queued" if main::lines('notify-14.log');
ClinicTest::redis_cont();
sleep 4;
main::expect_notified('notify-14.log', 1);
--- request
GET /status
--- response_body_like eval
qr/outcome="sent"\} 1\n(?s:.*)\nclinic_spool_replayed_total 1\n/



=== TEST 15: $clinic_tenant on any request of a tenant; $clinic_inbox_url without a base URL is the admin path
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_admin_token_file $TEST_NGINX_NOTIFY_DIR/token;
    location /admin/ { clinic_admin; }
    location = /who {
        return 200 "[$clinic_tenant] [$clinic_inbox_url] [$clinic_submission_id]\n";
    }
--- request
GET /who
--- response_body
[localhost] [/admin/] []
--- no_error_log
[error]
