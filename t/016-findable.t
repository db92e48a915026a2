# Findable sites (docs/directives.md, clinic_sitemap and clinic_feed;
# docs/content-format.md, redirect_from and removed): the sitemap and the
# Atom feed, well-formed (xmllint), absolute under clinic_base_url, with
# the files' times, newest first, escaped; two tenants that never list
# each other's articles; 301 from an old slug for the page and the API,
# also after the old page was cached; 410 for a removed article; removed
# and renamed articles absent from the listing, the API, the sitemap and
# the feed.  The nginx -t errors are in t/001-config.t, the lint report's
# in t/030-admin.t.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;
use Digest::MD5 qw(md5_hex);
use File::Temp qw(tempfile);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TZ} = 'GMT';       # user_files mtimes (touch -t) are GMT, as in the real runner

ClinicTest::redis_start();

# the body when xmllint finds it well-formed, else what xmllint said
sub well_formed {
    my $body = shift;
    my ($fh, $file) = tempfile('clinic-xml-XXXXXX', TMPDIR => 1, UNLINK => 1);
    binmode $fh;
    print $fh $body;
    close $fh;
    my $out = `xmllint --noout $file 2>&1`;
    return $? == 0 ? $body : "xmllint: $out";
}

our $SitemapA = <<'XML';
<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url>
<loc>https://www.a.example/treatments/</loc>
<lastmod>2026-11-27T12:00:00Z</lastmod>
</url>
<url>
<loc>https://www.a.example/treatments/acupressure</loc>
<lastmod>2026-11-25T09:00:00Z</lastmod>
</url>
<url>
<loc>https://www.a.example/treatments/cupping</loc>
<lastmod>2026-11-27T12:00:00Z</lastmod>
</url>
<url>
<loc>https://www.a.example/treatments/joint-manipulation</loc>
<lastmod>2026-11-26T10:00:00Z</lastmod>
</url>
</urlset>
XML

our $SitemapB = <<'XML';
<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url>
<loc>https://b.example/care/</loc>
<lastmod>2026-11-20T08:00:00Z</lastmod>
</url>
<url>
<loc>https://b.example/care/massage</loc>
<lastmod>2026-11-20T08:00:00Z</lastmod>
</url>
</urlset>
XML

our $FeedA = <<'XML';
<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>https://www.a.example/treatments/</id>
<title>Smith &amp; Sons &lt;Clinic&gt;</title>
<updated>2026-11-27T12:00:00Z</updated>
<link rel="self" type="application/atom+xml" href="https://www.a.example/feed.xml"/>
<link rel="alternate" type="text/html" href="https://www.a.example/treatments/"/>
<author><name>Smith &amp; Sons &lt;Clinic&gt;</name>
</author>
<entry>
<id>https://www.a.example/treatments/cupping</id>
<title>Cupping Therapy</title>
<link rel="alternate" type="text/html" href="https://www.a.example/treatments/cupping"/>
<updated>2026-11-27T12:00:00Z</updated>
<summary>Cupping draws blood to the skin.</summary>
</entry>
<entry>
<id>https://www.a.example/treatments/joint-manipulation</id>
<title>Joints &amp; Spine: &lt;Manipulation&gt;</title>
<link rel="alternate" type="text/html" href="https://www.a.example/treatments/joint-manipulation"/>
<updated>2026-11-26T10:00:00Z</updated>
<summary>Gentle &amp; safe &lt;care&gt; for &quot;stiff&quot; joints.</summary>
</entry>
<entry>
<id>https://www.a.example/treatments/acupressure</id>
<title>Acupressure</title>
<link rel="alternate" type="text/html" href="https://www.a.example/treatments/acupressure"/>
<updated>2026-11-25T09:00:00Z</updated>
<summary>Pressure points, gently.</summary>
</entry>
</feed>
XML

our $FeedB = <<'XML';
<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>https://b.example/care/</id>
<title>b.example</title>
<updated>2026-11-20T08:00:00Z</updated>
<link rel="self" type="application/atom+xml" href="https://b.example/atom"/>
<link rel="alternate" type="text/html" href="https://b.example/care/"/>
<author><name>b.example</name>
</author>
<entry>
<id>https://b.example/care/massage</id>
<title>Massage</title>
<link rel="alternate" type="text/html" href="https://b.example/care/massage"/>
<updated>2026-11-20T08:00:00Z</updated>
<summary>Only tenant B offers this.</summary>
</entry>
</feed>
XML

# Two tenants on the test port.  a.example has clinic_base_url, a name
# to escape, and its sitemap and feed before its articles location;
# b.example takes https:// and its server_name, and other paths.
add_block_preprocessor(sub {
    my $block = shift;
    return unless defined $block->config;
    $block->set_value('config', $block->config . "\n    # " . $block->name . "\n");
    $block->set_value('http_config', <<'CONF') unless defined $block->http_config;
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;

    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name a.example www.a.example;
        clinic_content $TEST_NGINX_HTML_DIR/a;
        clinic_name "Smith & Sons <Clinic>";
        clinic_base_url https://www.a.example/;
        location = /sitemap.xml { clinic_sitemap; }
        location = /feed.xml { clinic_feed; }
        location /treatments/ { clinic_articles; }
        location /api/ { clinic_api; }
    }

    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name b.example;
        clinic_content $TEST_NGINX_HTML_DIR/b;
        location /care/ { clinic_articles; }
        location /api/ { clinic_api; }
        location = /sitemap.xml { clinic_sitemap; }
        location = /atom { clinic_feed; }
    }
CONF
    $block->set_value('user_files', files($main::Files))
        unless defined $block->user_files;
});

# ">>> name mtime" sections as user_files' [name, body, mtime] list, plus
# a/broken.txt, which is not UTF-8: a file the index leaves out
sub files {
    my @list;
    for my $line (split /^/m, shift) {
        if ($line =~ /^>>> (\S+) (\S+)$/) {
            push @list, [$1, '', $2];
        } else {
            $list[-1][1] .= $line;
        }
    }
    push @list, ['a/broken.txt', "Broken\n\n\xff\xfe not utf-8\n",
                 '202611280000.00'];
    return \@list;
}

our $Files = <<'FILES';
>>> a/joint-manipulation.txt 202611261000.00
---
title: Joints & Spine: <Manipulation>
summary: Gentle & safe <care> for "stiff" joints.
redirect_from: spinal-adjustment, manipulation
---
Joint manipulation restores movement.
>>> a/cupping.txt 202611271200.00
Cupping Therapy

Cupping draws blood to the skin.
>>> a/acupressure.md 202611250900.00
# Acupressure

Pressure points, gently.
>>> a/old-treatment.txt 202611010000.00
---
removed: yes
---
>>> b/massage.txt 202611200800.00
Massage

Only tenant B offers this.
FILES

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the sitemap: every article, and the listing, under clinic_base_url with the files' times
--- config
    location = /t { return 204; }
--- more_headers
Host: a.example
--- request
GET /sitemap.xml
--- response_body_filters eval
\&main::well_formed
--- response_body eval
$main::SitemapA
--- response_headers eval
["Content-Type: application/xml; charset=utf-8",
 "Last-Modified: Fri, 27 Nov 2026 12:00:00 GMT",
 "ETag: \"" . Digest::MD5::md5_hex($main::SitemapA) . "\"",
 "!X-Clinic-Cache"]
--- no_error_log
[error]



=== TEST 2: the sitemap's URLs are the article pages' canonical links
--- more_headers
Host: a.example
--- request eval
["GET /treatments/cupping", "GET /treatments/joint-manipulation", "GET /treatments/"]
--- response_body_like eval
[qr{<link rel="canonical" href="https://www\.a\.example/treatments/cupping">},
 qr{<link rel="canonical" href="https://www\.a\.example/treatments/joint-manipulation">},
 qr{<link rel="canonical" href="https://www\.a\.example/treatments/">}]
--- no_error_log
[error]



=== TEST 3: tenant B: its own articles only, under https:// and its server_name
--- more_headers
Host: b.example
--- request
GET /sitemap.xml
--- response_body_filters eval
\&main::well_formed
--- response_body eval
$main::SitemapB
--- no_error_log
[error]



=== TEST 4: the Atom feed: newest first, every value escaped, ids stable and absolute
--- more_headers
Host: a.example
--- request
GET /feed.xml
--- response_body_filters eval
\&main::well_formed
--- response_body eval
$main::FeedA
--- response_headers eval
["Content-Type: application/atom+xml; charset=utf-8",
 "Last-Modified: Fri, 27 Nov 2026 12:00:00 GMT",
 "ETag: \"" . Digest::MD5::md5_hex($main::FeedA) . "\""]
--- no_error_log
[error]



=== TEST 5: tenant B's feed: its name is its tenant, its own path is the self link
--- more_headers
Host: b.example
--- request
GET /atom
--- response_body_filters eval
\&main::well_formed
--- response_body eval
$main::FeedB
--- no_error_log
[error]



=== TEST 6: conditional GET: If-None-Match and If-Modified-Since answer 304
--- more_headers eval
["Host: a.example\nIf-None-Match: \"" . Digest::MD5::md5_hex($main::SitemapA) . "\"",
 "Host: a.example\nIf-Modified-Since: Fri, 27 Nov 2026 12:00:00 GMT",
 "Host: a.example\nIf-None-Match: \"" . Digest::MD5::md5_hex($main::FeedA) . "\"",
 "Host: a.example\nIf-None-Match: \"0123\""]
--- request eval
["GET /sitemap.xml", "GET /sitemap.xml", "GET /feed.xml", "GET /feed.xml"]
--- error_code eval
[304, 304, 304, 200]
--- no_error_log
[error]



=== TEST 7: HEAD answers the headers only; other methods 405; no path below the location
--- more_headers
Host: a.example
--- request eval
["HEAD /sitemap.xml", "POST /feed.xml\nx", "DELETE /sitemap.xml"]
--- error_code eval
[200, 405, 405]
--- response_headers eval
["Content-Type: application/xml; charset=utf-8",
 "Allow: GET, HEAD",
 "Allow: GET, HEAD"]
--- response_body eval
["", qq{{"error":{"status":405,"message":"method not allowed"}}\n},
 qq{{"error":{"status":405,"message":"method not allowed"}}\n}]
--- no_error_log
[error]



=== TEST 8: article pages of the built-in layout advertise the feed in their head
--- more_headers
Host: a.example
--- request eval
["GET /treatments/cupping", "GET /treatments/", "GET /treatments/nothing-here"]
--- error_code eval
[200, 200, 404]
--- response_body_like eval
[qr{<link rel="canonical" href="[^"]+">\n<link rel="alternate" type="application/atom\+xml" title="Smith &amp; Sons &lt;Clinic&gt;" href="/feed\.xml">\n<script},
 qr{<link rel="alternate" type="application/atom\+xml" title="Smith &amp; Sons &lt;Clinic&gt;" href="/feed\.xml">\n<script},
 qr{<link rel="alternate" type="application/atom\+xml" title="Smith &amp; Sons &lt;Clinic&gt;" href="/feed\.xml">\n\n<style>}]
--- no_error_log
[error]



=== TEST 9: an old slug answers 301 to the article's canonical URL, for each old slug
--- more_headers
Host: a.example
--- request eval
["GET /treatments/spinal-adjustment", "GET /treatments/manipulation", "HEAD /treatments/manipulation"]
--- error_code eval
[301, 301, 301]
--- response_headers eval
["Location: https://www.a.example/treatments/joint-manipulation\nCache-Control: public, no-cache\n!X-Clinic-Cache",
 "Location: https://www.a.example/treatments/joint-manipulation",
 "Location: https://www.a.example/treatments/joint-manipulation"]
--- response_body_like eval
[qr/301 Moved Permanently/, qr/301 Moved Permanently/, qr/^$/]
--- no_error_log
[error]



=== TEST 10: the API: an old slug answers 301 to the new record, in the module's JSON
--- more_headers
Host: a.example
--- request eval
["GET /api/articles/spinal-adjustment", "GET /api/articles/manipulation"]
--- error_code eval
[301, 301]
--- response_headers eval
["Location: https://www.a.example/api/articles/joint-manipulation\nContent-Type: application/json; charset=utf-8",
 "Location: https://www.a.example/api/articles/joint-manipulation"]
--- response_body eval
[qq{{"error":{"status":301,"message":"this article has moved"}}\n},
 qq{{"error":{"status":301,"message":"this article has moved"}}\n}]
--- no_error_log
[error]



=== TEST 11: tenants are walls: B has no such old slug, removed article or sitemap entry of A
--- more_headers
Host: b.example
--- request eval
["GET /care/spinal-adjustment", "GET /api/articles/manipulation", "GET /care/old-treatment", "GET /care/cupping"]
--- error_code eval
[404, 404, 404, 404]
--- response_headers eval
["!Location", "!Location", "", ""]
--- no_error_log
[error]



=== TEST 12: a removed article: 410 in the clinic's layout, linking the listing, without JSON-LD; the API 410
--- more_headers
Host: a.example
--- request eval
["GET /treatments/old-treatment", "GET /api/articles/old-treatment", "HEAD /treatments/old-treatment"]
--- error_code eval
[410, 410, 410]
--- response_headers eval
["Content-Type: text/html; charset=utf-8\n!ETag\n!X-Clinic-Cache",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: text/html; charset=utf-8"]
--- response_body_like eval
[qr{^(?!.*application/ld\+json).*<title>This article has been removed \x{e2}\x{80}\x{93} Smith &amp; Sons &lt;Clinic&gt;</title>.*<h1>This article has been removed</h1>\n<p>This article has been removed\. Our treatments are listed on the <a href="/treatments/">articles page</a>\.</p>}s,
 qr{^\{"error":\{"status":410,"message":"this article has been removed"\}\}\n$},
 qr/^$/]
--- no_error_log
[error]



=== TEST 13: removed and renamed articles are in no listing: the page, the API list
--- more_headers
Host: a.example
--- request eval
["GET /treatments/", "GET /api/articles"]
--- response_body_like eval
[qr{^(?!.*(?:old-treatment|spinal-adjustment|/manipulation"|broken)).*href="https://www\.a\.example/treatments/acupressure".*href="https://www\.a\.example/treatments/cupping".*href="https://www\.a\.example/treatments/joint-manipulation"}s,
 qr{^\{"articles":\[\{"slug":"acupressure",[^\]]*\{"slug":"cupping",[^\]]*\{"slug":"joint-manipulation",[^\]]*\],"total":3,}]
--- no_error_log
[error]



=== TEST 14: a page cached under its slug (L1 and Redis) ...
--- config
    location = /t { return 204; }
--- http_config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_revalidate 1ms;

    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name c.example;
        clinic_content $TEST_NGINX_HTML_DIR/c;
        location /treatments/ { clinic_articles; }
        location /api/ { clinic_api; }
        location = /sitemap.xml { clinic_sitemap; }
    }
--- user_files
>>> c/old-name.txt 202611261000.00
Old Name

The article before it was renamed.
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- more_headers
Host: c.example
--- request eval
["GET /treatments/old-name", "GET /treatments/old-name", "GET /api/articles/old-name"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT", "X-Clinic-Cache: MISS"]
--- no_error_log
[error]



=== TEST 15: ... is renamed, with redirect_from: the old slug answers 301 from every layer's point of view
--- init
my $dir = "$ENV{TEST_NGINX_HTML_DIR}/c";
open my $fh, '>', "$dir/new-name.txt" or die $!;
print $fh "---\nredirect_from: old-name\n---\nNew Name\n\nThe article after it was renamed.\n";
close $fh;
unlink "$dir/old-name.txt" or die $!;
select undef, undef, undef, 0.05;
--- more_headers
Host: c.example
--- request eval
["GET /treatments/old-name", "GET /treatments/old-name", "GET /api/articles/old-name", "GET /treatments/new-name", "GET /sitemap.xml"]
--- error_code eval
[301, 301, 301, 200, 200]
--- response_headers eval
["Location: https://c.example/treatments/new-name\n!X-Clinic-Cache",
 "Location: https://c.example/treatments/new-name\n!X-Clinic-Cache",
 "Location: https://c.example/api/articles/new-name\n!X-Clinic-Cache",
 "X-Clinic-Cache: MISS", ""]
--- response_body_like eval
[qr/301/, qr/301/, qr/moved/, qr{<h1>New Name</h1>}, qr{^(?!.*old-name).*<loc>https://c\.example/treatments/new-name</loc>}s]
--- no_error_log
[error]



=== TEST 16: ... and removed in place ("removed: yes" written into the file): 410, gone from the sitemap
--- init
my $dir = "$ENV{TEST_NGINX_HTML_DIR}/c";
open my $fh, '>', "$dir/new-name.txt" or die $!;
print $fh "---\nremoved: yes\n---\n";
close $fh;
select undef, undef, undef, 0.05;
--- more_headers
Host: c.example
--- request eval
["GET /treatments/new-name", "GET /treatments/old-name", "GET /api/articles/new-name", "GET /sitemap.xml"]
--- error_code eval
[410, 404, 410, 200]
--- response_body_like eval
[qr/This article has been removed/, qr/Page not found/, qr/removed/, qr{^(?!.*new-name).*<loc>https://c\.example/treatments/</loc>}s]
--- no_error_log
[error]



=== TEST 17: ... and back, edited in place once more: the removed file is watched like an article
--- init
my $dir = "$ENV{TEST_NGINX_HTML_DIR}/c";
open my $fh, '>', "$dir/new-name.txt" or die $!;
print $fh "New Name Again\n\nBack.\n";
close $fh;
select undef, undef, undef, 0.05;
--- more_headers
Host: c.example
--- request eval
["GET /treatments/new-name", "GET /sitemap.xml"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr{<h1>New Name Again</h1>}, qr{<loc>https://c\.example/treatments/new-name</loc>}]
--- no_error_log
[error]



=== TEST 18: two articles claim one old slug: the alphabetically first wins; an article's own slug beats an old slug
--- config
    location = /t { return 204; }
--- user_files
>>> a/beta.txt 202611261000.00
---
redirect_from: shared-old, alpha
---
Beta
>>> a/alpha.txt 202611261000.00
---
redirect_from: shared-old
---
Alpha
>>> b/massage.txt 202611200800.00
Massage
--- more_headers
Host: a.example
--- request eval
["GET /treatments/shared-old", "GET /treatments/alpha", "GET /api/articles/shared-old"]
--- error_code eval
[301, 200, 301]
--- response_headers eval
["Location: https://www.a.example/treatments/alpha", "!Location", "Location: https://www.a.example/api/articles/alpha"]
--- no_error_log
[error]



=== TEST 19: a sitemap and a feed of no articles are still well-formed
--- config
    location = /t { return 204; }
--- user_files
>>> a/readme 202611261000.00
not an article
>>> b/massage.txt 202611200800.00
Massage
--- more_headers
Host: a.example
--- request eval
["GET /sitemap.xml", "GET /feed.xml"]
--- response_body_filters eval
\&main::well_formed
--- response_body_like eval
[qr{^<\?xml version="1\.0" encoding="UTF-8"\?>\n<urlset xmlns="http://www\.sitemaps\.org/schemas/sitemap/0\.9">\n<url>\n<loc>https://www\.a\.example/treatments/</loc>\n</url>\n</urlset>\n$},
 qr{<updated>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</updated>\n<link rel="self" type="application/atom\+xml" href="https://www\.a\.example/feed\.xml"/>\n<link rel="alternate" type="text/html" href="https://www\.a\.example/treatments/"/>\n<author><name>Smith &amp; Sons &lt;Clinic&gt;</name>\n</author>\n</feed>\n$}]
--- no_error_log
[error]



=== TEST 20: characters XML 1.0 does not allow (C0 controls, U+FFFF) do not break the feed
--- config
    location = /t { return 204; }
--- user_files eval
[["a/odd.txt", "---\ntitle: Bell\x07 and \xef\xbf\xbf\nsummary: Tab\there\x01.\n---\nBody.\n", "202611261000.00"],
 ["b/massage.txt", "Massage\n", "202611200800.00"]]
--- more_headers
Host: a.example
--- request
GET /feed.xml
--- response_body_filters eval
\&main::well_formed
--- response_body_like eval
qr{<title>Bell  and \x{ef}\x{bf}\x{bd}</title>\n.*<summary>Tab\there \.</summary>}s
--- no_error_log
[error]
