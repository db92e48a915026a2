# The page cache (docs/caching.md): L1 (shared memory) then L2 (Redis) then a
# render; X-Clinic-Cache; ETag / If-None-Match / Last-Modified /
# Cache-Control; revalidation when an article, the set of articles or the
# template changes on disk; one render per burst; Redis stopped or killed.
#
# The content folder lives in a temporary directory written from Perl, so
# that it survives nginx restarts (user_files are rewritten with every
# config) and can be edited between blocks that share one nginx.  Every
# write gets its own mtime, so every edit is a new content version.
#
# Under TEST_NGINX_USE_VALGRIND every block gets a fresh nginx (an empty
# L1), so the blocks that need the previous block's L1 are skipped.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

use Digest::MD5 ();
use File::Temp ();
use IO::Socket::INET ();
use Time::HiRes ();
use Time::Local ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

our $Dir = File::Temp::tempdir('clinic-cache-XXXXXX', TMPDIR => 1,
                               CLEANUP => 1);
mkdir "$Dir/articles" or die "$Dir/articles: $!";
$ENV{TEST_NGINX_CONTENT} = "$Dir/articles";
$ENV{TEST_NGINX_TEMPLATE} = "$Dir/t.html";

# Thu, 26 Nov 2026 10:00:00 GMT
our $Epoch = Time::Local::timegm(0, 0, 10, 26, 10, 2026);
our $Clock = $Epoch + 3600;

# writes a file of the content folder (or the template) with a fresh mtime
sub put {
    my ($name, $text, $mtime) = @_;
    my $file = $name =~ m{/} ? $name : "$Dir/articles/$name";
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
    $mtime //= ($Clock += 60);
    utime $mtime, $mtime, $file or die "utime $file: $!";
}

sub template { put("$Dir/t.html", $_[0]) }

# the articles every block starts from
sub reset_content {
    unlink glob("$Dir/articles/*");
    put('massage.txt', "Massage\n\nVersion one.\n", $Epoch);
    put('joint-manipulation.txt',
        "Joint Manipulation\n\nAsk about cupping therapy [LINK] today.\n");
    put('neck-pain.txt', "Neck Pain\n\nBody.\n");
    template("<h1>{{title}}</h1>\n{{content}}");
    ClinicTest::redis_cmd('FLUSHALL');
}

# one request from Perl, at once; returns (status, headers, body)
sub http_get {
    my ($uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    print $s "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $res = <$s> // '';
    my ($head, $body) = split /\r\n\r\n/, $res, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d{3})};
    return ($status // 0, $head // '', $body // '');
}

# requests sent on N connections before any answer is read
sub burst {
    my ($uri, $n) = @_;
    my @socks = map {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                              Proto => 'tcp', Timeout => 5)
            or die "connect: $!"
    } 1 .. $n;
    print $_ "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n" for @socks;
    return map { local $/; my $r = <$_> // ''; $r =~ m{^HTTP/1\.\d (\d{3})} ? $1 : 0 } @socks;
}

# nginx -t needs the folder and the template before the first block starts
reset_content();

our $Body1 = "<h1>Massage</h1>\n<p>Version one.</p>\n";
our $Etag1 = '"' . Digest::MD5::md5_hex($Body1) . '"';
our $Joint0 = "<h1>Joint Manipulation</h1>\n<p>Ask about cupping therapy today.</p>\n";
our $Joint1 = "<h1>Joint Manipulation</h1>\n<p>Ask about <a href=\"/treatments/cupping-therapy\">cupping therapy</a> today.</p>\n";

# A block with a config always gets a fresh nginx (empty L1): the real
# Test::Nginx restarts only when the config text changes.  "--- workers: N"
# runs the block's nginx with a master and N workers.
push @Test::Nginx::Util::ExtraSections, 'workers';

add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    return unless defined $config;
    $block->set_value('config', "$config\n    # " . $block->name . "\n");
    if (my $n = $block->workers) {
        master_on();
        workers($n);
    } else {
        master_off();
        workers(1);
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: MISS, then HIT from the same nginx, the same body and ETag
--- init
main::reset_content();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    location /treatments/ { clinic_articles; }
--- request eval
["GET /treatments/massage", "GET /treatments/massage", "GET /treatments/massage"]
--- response_headers eval
["X-Clinic-Cache: MISS\nETag: $main::Etag1", "X-Clinic-Cache: HIT\nETag: $main::Etag1",
 "X-Clinic-Cache: HIT\nETag: $main::Etag1"]
--- response_body eval
[$main::Body1, $main::Body1, $main::Body1]
--- no_error_log
[error]



=== TEST 2: a strong ETag (the MD5 of the body) and the article's mtime as Last-Modified
--- init
main::reset_content();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    location /treatments/ { clinic_articles; }
--- request
GET /treatments/massage
--- response_headers eval
"ETag: $main::Etag1\nLast-Modified: Thu, 26 Nov 2026 10:00:00 GMT"
--- response_body eval
$main::Body1
--- no_error_log
[error]



=== TEST 3: If-None-Match with the ETag answers 304 without a body
--- more_headers eval
"If-None-Match: $main::Etag1"
--- request
GET /treatments/massage
--- error_code: 304
--- response_headers eval
"ETag: $main::Etag1"
--- response_body
--- no_error_log
[error]



=== TEST 4: If-Modified-Since with the Last-Modified value answers 304 without a body
--- more_headers
If-Modified-Since: Thu, 26 Nov 2026 10:00:00 GMT
--- request
GET /treatments/massage
--- error_code: 304
--- response_body
--- no_error_log
[error]



=== TEST 5: another ETag in If-None-Match gets the page
--- more_headers
If-None-Match: "0123456789abcdef0123456789abcdef"
--- request
GET /treatments/massage
--- response_headers eval
"ETag: $main::Etag1"
--- response_body eval
$main::Body1
--- no_error_log
[error]



=== TEST 6: Cache-Control is "public, no-cache" unless clinic_cache_control says otherwise
--- init
main::reset_content();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    location /treatments/ { clinic_articles; }
    location /care/ {
        clinic_articles;
        clinic_cache_control "private, max-age=60";
    }
--- request eval
["GET /treatments/massage", "GET /treatments/", "GET /care/massage", "GET /care/"]
--- response_headers eval
["Cache-Control: public, no-cache", "Cache-Control: public, no-cache",
 "Cache-Control: private, max-age=60", "Cache-Control: private, max-age=60"]
--- no_error_log
[error]



=== TEST 7: a render is stored in Redis under the tenant's key, with the clinic_cache_ttl
--- init
main::reset_content();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    clinic_cache_ttl 10m;
    location /treatments/ { clinic_articles; }
--- request
GET /treatments/massage
--- response_headers
X-Clinic-Cache: MISS
--- response_body eval
$main::Body1
--- no_error_log
[error]



=== TEST 8: after an nginx restart (L1 empty) the page comes from Redis
--- init
my $key = 'clinic:{localhost}:page:page:/treatments/:massage';
Test::More::is(ClinicTest::redis_cmd('EXISTS', $key), 1, "redis: $key exists");
my $ttl = ClinicTest::redis_cmd('TTL', $key);
Test::More::ok($ttl > 500 && $ttl <= 600, "redis: its TTL ($ttl) is clinic_cache_ttl");
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    clinic_cache_ttl 10m;
    location /treatments/ { clinic_articles; }
--- request eval
["GET /treatments/massage", "GET /treatments/massage"]
--- response_headers eval
["X-Clinic-Cache: REDIS\nETag: $main::Etag1", "X-Clinic-Cache: HIT\nETag: $main::Etag1"]
--- response_body eval
[$main::Body1, $main::Body1]
--- no_error_log
[error]



=== TEST 9: clinic_cache_zone off: the second request is served from Redis
--- init
main::reset_content();
--- http_config
    clinic_cache_zone off;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    location /treatments/ { clinic_articles; }
--- request eval
["GET /treatments/massage", "GET /treatments/massage", "GET /treatments/massage"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: REDIS", "X-Clinic-Cache: REDIS"]
--- response_body eval
[$main::Body1, $main::Body1, $main::Body1]
--- no_error_log
[error]



=== TEST 10: revalidation, the starting point: pages and listing as on disk
--- init
main::reset_content();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    clinic_revalidate 100ms;
    location /treatments/ { clinic_articles; }
--- request eval
["GET /treatments/massage", "GET /treatments/joint-manipulation", "GET /treatments/",
 "GET /treatments/massage"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT"]
--- response_body eval
[$main::Body1, $main::Joint0, qr{\A(?!.*/treatments/cupping-therapy)(?s:.*)Neck Pain}s, $main::Body1]
--- no_error_log
[error]



=== TEST 11: revalidation: an edited article is rendered again (MISS), then cached (HIT)
--- init
main::put('massage.txt', "Massage\n\nVersion two, longer.\n");
Time::HiRes::sleep(0.25);
--- request eval
["GET /treatments/massage", "GET /treatments/massage"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT"]
--- response_body eval
["<h1>Massage</h1>\n<p>Version two, longer.</p>\n",
 "<h1>Massage</h1>\n<p>Version two, longer.</p>\n"]
--- no_error_log
[error]



=== TEST 12: revalidation: an edit that keeps the size and the mtime (cp -p, tar, rsync --inplace) is seen too
--- init
my @st = stat "$main::Dir/articles/massage.txt";
main::put('massage.txt', "Massage\n\nVersion six, longer.\n", $st[9]);
Time::HiRes::sleep(0.25);
--- request
GET /treatments/massage
--- response_headers
X-Clinic-Cache: MISS
--- response_body
<h1>Massage</h1>
<p>Version six, longer.</p>
--- no_error_log
[error]



=== TEST 13: revalidation: an added article is listed and resolves the [LINK] of another one
--- init
main::put('cupping-therapy.txt', "Cupping Therapy\n\nSuction cups.\n");
Time::HiRes::sleep(0.25);
--- request eval
["GET /treatments/", "GET /treatments/joint-manipulation", "GET /treatments/cupping-therapy"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS"]
--- response_body eval
[qr{<a href="https://localhost/treatments/cupping-therapy">Cupping Therapy</a>},
 $main::Joint1,
 "<h1>Cupping Therapy</h1>\n<p>Suction cups.</p>\n"]
--- no_error_log
[error]



=== TEST 14: revalidation: a removed article is a 404 and the [LINK] to it is unresolved again
--- init
unlink "$main::Dir/articles/cupping-therapy.txt" or die $!;
Time::HiRes::sleep(0.25);
--- request eval
["GET /treatments/cupping-therapy", "GET /treatments/joint-manipulation", "GET /treatments/"]
--- error_code eval
[404, 200, 200]
--- response_headers eval
["", "X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS"]
--- response_body_like eval
[qr{.}, qr{\A\Q$main::Joint0\E\z}, qr{\A(?!.*/treatments/cupping-therapy)(?s:.*)Neck Pain}s]
--- no_error_log
[error]



=== TEST 15: revalidation: an edited template changes every page
--- init
main::template("<main><h1>{{title}}</h1>\n{{content}}</main>\n");
Time::HiRes::sleep(0.25);
--- request eval
["GET /treatments/neck-pain", "GET /treatments/massage", "GET /treatments/massage"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT"]
--- response_body eval
["<main><h1>Neck Pain</h1>\n<p>Body.</p>\n</main>\n",
 "<main><h1>Massage</h1>\n<p>Version six, longer.</p>\n</main>\n",
 "<main><h1>Massage</h1>\n<p>Version six, longer.</p>\n</main>\n"]
--- no_error_log
[error]



=== TEST 16: STALE, the starting point: a page rendered and cached
--- init
main::reset_content();
--- http_config
    # the folder is polled, not watched: an article can break between two
    # looks at the folder (watched, the index sees it at once)
    clinic_watch off;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    clinic_revalidate 1s;
    location /treatments/ { clinic_articles; }
--- request
GET /treatments/massage
--- response_headers
X-Clinic-Cache: MISS
--- response_body eval
$main::Body1
--- no_error_log
[error]



=== TEST 17: STALE: the article cannot be rendered (rewritten as invalid UTF-8 after the index saw it): the last copy is served
--- skip_eval: 4: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
# past the interval, a new article makes a new content version; the
# listing request revalidates the index while massage.txt is still valid
Time::HiRes::sleep(1.1);
main::put('cupping-therapy.txt', "Cupping Therapy\n\nSuction cups.\n");
my ($status) = main::http_get('/treatments/');
die "listing: $status" unless $status == 200;
# then, within the interval, the article breaks
main::put('massage.txt', "Massage\n\nBroken \xff\xfe bytes.\n");
--- request
GET /treatments/massage
--- response_headers
X-Clinic-Cache: STALE
--- response_body eval
$main::Body1
--- error_log
cannot be rendered



=== TEST 18: STALE: once revalidated, the unpublishable article is a 404, never a 500
--- skip_eval: 1: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
Time::HiRes::sleep(1.1);
--- request
GET /treatments/massage
--- error_code: 404



=== TEST 19: a burst of requests for one uncached page renders it once, across two workers
--- workers: 2
--- init
main::reset_content();
my @codes = main::burst('/treatments/massage', 20);
Test::More::is("@codes", CORE::join(' ', (200) x 20), "burst: every request is answered 200");
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    location /treatments/ { clinic_articles; }
    location = /status { clinic_status; }
--- request
GET /status
--- response_body_like eval
qr/\bclinic_renders_total\{tenant="localhost"\} 1\n/
--- no_error_log
[error]



=== TEST 20: Redis stopped: pages are still rendered and served, and the outage is logged once
--- init
main::reset_content();
main::put("page-$_.txt", "Page $_\n\nBody $_.\n") for 1 .. 5;
ClinicTest::redis_stop();
for my $uri (map({ "/treatments/page-$_" } 1 .. 5), '/treatments/massage', '/treatments/') {
    my ($status) = main::http_get($uri);
    die "$uri: $status while Redis is stopped" unless $status == 200;
}
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=300ms;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    location /treatments/ { clinic_articles; }
--- request
GET /treatments/neck-pain
--- response_headers
X-Clinic-Cache: MISS
--- response_body
<h1>Neck Pain</h1>
<p>Body.</p>
--- grep_error_log: is unavailable
--- grep_error_log_out
is unavailable



=== TEST 21: Redis stopped: what L1 holds is a HIT, without waiting for Redis
--- skip_eval: 4: $ENV{TEST_NGINX_USE_VALGRIND}
--- request
GET /treatments/page-1
--- response_headers
X-Clinic-Cache: HIT
--- response_body
<h1>Page 1</h1>
<p>Body 1.</p>
--- grep_error_log: is unavailable
--- grep_error_log_out
is unavailable



=== TEST 22: Redis killed: pages are still served
--- init
ClinicTest::redis_cont();
main::reset_content();
ClinicTest::redis_kill();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=300ms;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    location /treatments/ { clinic_articles; }
--- request eval
["GET /treatments/massage", "GET /treatments/massage", "GET /treatments/neck-pain"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT", "X-Clinic-Cache: MISS"]
--- response_body eval
[$main::Body1, $main::Body1, "<h1>Neck Pain</h1>\n<p>Body.</p>\n"]
--- no_error_log
[alert]
[crit]
