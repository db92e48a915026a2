# Tenants stay apart: two tenants on one port with the same
# slug serve their own article and keep their own cache keys; a crafted
# Host reaches only the tenant nginx routes it to; no path, slug or
# symlink leaves the tenant's content folder; one tenant's token or purge
# never touches the other's pages.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_TOKEN_A} = 'token-of-tenant-a-0123456789';
$ENV{TEST_NGINX_TOKEN_B} = 'token-of-tenant-b-0123456789';

ClinicTest::redis_start();

our $Long128 = 'a' x 128;
our $Long129 = 'a' x 129;

our $KeyA = 'clinic:{a.example}:page:page:/treatments/:same-slug';
our $KeyB = 'clinic:{b.example}:page:page:/treatments/:same-slug';

our $PageA = "<main><h1>Tenant A Page</h1>\n<p>Only for tenant A. See <a href=\"/treatments/a-only\">a only</a>.</p>\n</main>\n";
our $PageB = "<main><h1>Tenant B Page</h1>\n<p>Only for tenant B. See a only.</p>\n</main>\n";

# symlinks in tenant a's folder: to a file outside it (a valid article),
# to /etc/passwd, and to a folder outside it
sub make_symlinks {
    my $html = $ENV{TEST_NGINX_HTML_DIR};
    for (['outside.txt', 'linked.txt'], ['/etc/passwd', 'passwd.txt'],
         ["$html/b/same-slug.txt", 'b-page.txt'], ["$html/b", 'b-dir.txt'])
    {
        my ($target, $link) = @$_;
        $target = "$html/$target" unless $target =~ m{^/};
        unlink "$html/a/$link";
        symlink $target, "$html/a/$link" or die "symlink $link: $!";
    }
}

# Two tenants and a default server that is no tenant, all on the test
# port; the test's own server (localhost) is no tenant either.
add_block_preprocessor(sub {
    my $block = shift;
    return unless defined $block->config;
    $block->set_value('config', $block->config . "\n    # " . $block->name . "\n");
    $block->set_value('http_config', <<'CONF');
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;

    server {
        listen $TEST_NGINX_SERVER_PORT default_server;
        server_name _;
        return 404 "no such site\n";
    }

    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name a.example www.a.example;
        clinic_content $TEST_NGINX_HTML_DIR/a;
        clinic_template $TEST_NGINX_HTML_DIR/t.html;
        clinic_admin_token_file $TEST_NGINX_HTML_DIR/a.token;
        location /treatments/ { clinic_articles; }
        location /api/ { clinic_api; }
        location /admin/ { clinic_admin; }
        location / { return 404 "not here\n"; }
    }

    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name b.example;
        clinic_content $TEST_NGINX_HTML_DIR/b;
        clinic_template $TEST_NGINX_HTML_DIR/t.html;
        clinic_admin_token_file $TEST_NGINX_HTML_DIR/b.token;
        location /treatments/ { clinic_articles; }
        location /api/ { clinic_api; }
        location /admin/ { clinic_admin; }
        location / { return 404 "not here\n"; }
    }
CONF
    $block->set_value('user_files', <<"FILES");
>>> t.html
<main><h1>{{title}}</h1>
{{content}}</main>
>>> a.token
token-of-tenant-a-0123456789
>>> b.token
token-of-tenant-b-0123456789
>>> a/same-slug.txt
Tenant A Page

Only for tenant A. See a only [LINK].
>>> a/a-only.txt
A Only

Secret of tenant A.
>>> a/$main::Long128.txt
Longest Slug

A slug of 128 characters.
>>> b/same-slug.txt
Tenant B Page

Only for tenant B. See a only [LINK].
>>> b/b-only.txt
B Only

Secret of tenant B.
>>> outside.txt
Outside

Secret outside the content folders.
FILES
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the same slug in two tenants: each Host gets its own tenant's article, links stay inside the tenant
--- init
ClinicTest::redis_cmd('FLUSHALL');
--- config
    location = /ping { return 200; }
--- pipelined_requests eval
["GET /treatments/same-slug", "GET /treatments/same-slug", "GET /treatments/same-slug",
 "GET /treatments/same-slug"]
--- more_headers eval
["Host: a.example", "Host: b.example", "Host: a.example", "Host: b.example"]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT", "X-Clinic-Cache: HIT"]
--- response_body eval
[$main::PageA, $main::PageB, $main::PageA, $main::PageB]
--- no_error_log
[error]



=== TEST 2: each tenant's page is cached under its own Redis key
--- init
for ([$main::KeyA, 'Tenant A', 'Tenant B'], [$main::KeyB, 'Tenant B', 'Tenant A']) {
    my ($key, $own, $other) = @$_;
    my $blob = ClinicTest::redis_cmd('GET', $key) // '';
    Test::More::like($blob, qr/\Q$own Page\E/, "redis: $key holds its tenant's page");
    Test::More::unlike($blob, qr/\Q$other\E/, "redis: $key holds nothing of the other tenant");
}
--- pipelined_requests eval
["GET /api/articles/same-slug", "GET /api/articles/same-slug"]
--- more_headers eval
["Host: b.example", "Host: a.example"]
--- response_body_like eval
[qr{^\{"slug":"same-slug","title":"Tenant B Page",.*"url":"https://b\.example/treatments/same-slug".*"unresolved_links":\["See a only"\]\}$},
 qr{^\{"slug":"same-slug","title":"Tenant A Page",.*"url":"https://a\.example/treatments/same-slug".*"unresolved_links":\[\]\}$}]
--- no_error_log
[error]



=== TEST 3: one tenant's articles are not found in the other, whatever the path
--- pipelined_requests eval
["GET /treatments/b-only", "GET /api/articles/b-only", "GET /treatments/a-only",
 "GET /api/articles/a-only"]
--- more_headers eval
["Host: a.example", "Host: a.example", "Host: b.example", "Host: b.example"]
--- error_code eval
[404, 404, 404, 404]
--- response_body_unlike eval
[qr/Secret/, qr/Secret/, qr/Secret/, qr/Secret/]
--- no_error_log
[error]



=== TEST 4: crafted Host headers reach only the tenant nginx routes them to
--- pipelined_requests eval
["GET /treatments/same-slug", "GET /treatments/same-slug", "GET /treatments/same-slug",
 "GET /treatments/same-slug", "GET /treatments/same-slug"]
--- more_headers eval
["Host: A.EXAMPLE", "Host: b.example.", "Host: www.a.example:8080", "Host: evil.example",
 "Host: b.example.evil.example"]
--- error_code eval
[200, 200, 200, 404, 404]
--- response_body eval
[$main::PageA, $main::PageB, $main::PageA, "no such site\n", "no such site\n"]
--- no_error_log
[error]



=== TEST 5: a Host that is not a host name is refused by nginx before any tenant
--- more_headers
Host: a.example/../b.example
--- request
GET /treatments/same-slug
--- error_code: 400
--- response_body_unlike
Tenant



=== TEST 6: path traversal in the article path never leaves the location or the folder
--- more_headers
Host: a.example
--- request eval
["GET /treatments/../../etc/passwd",
 "GET /treatments/%2e%2e%2fetc%2fpasswd",
 "GET /treatments/..%2f..%2fetc%2fpasswd",
 "GET /treatments/%2e%2e%2f%2e%2e%2fb%2fsame-slug",
 "GET /treatments/..%5c..%5cetc%5cpasswd",
 "GET /treatments/..",
 "GET /api/articles/..%2f..%2fb%2fsame-slug",
 "GET /api/articles/%2e%2e%2f%2e%2e%2fb%2fsame-slug"]
--- error_code eval
[400, 404, 400, 400, 404, 404, 404, 404]
--- response_body_unlike eval
[(qr/root:|Secret|Tenant B/) x 8]
--- no_error_log
[error]
[crit]
[alert]



=== TEST 7: NUL bytes, over-long and uppercase slugs, file names: 404 or 400, never a file, never a 500
--- pipelined_requests eval
["GET /treatments/$main::Long128", "GET /treatments/$main::Long129",
 "GET /api/articles/$main::Long129", "GET /treatments/SAME-SLUG", "GET /treatments/Same-Slug",
 "GET /api/articles/SAME-SLUG", "GET /treatments/same-slug.txt", "GET /treatments/a.token",
 "GET /treatments/same-slug%00"]
--- more_headers eval
[("Host: a.example") x 9]
--- error_code eval
[200, 404, 404, 404, 404, 404, 404, 404, 400]
--- response_body_like eval
[qr/Longest Slug/, qr/\A(?!.*(?:Tenant|Secret|token))/s, qr/no such article/, qr/\A(?!.*Tenant)/s,
 qr/\A(?!.*Tenant)/s, qr/no such article/, qr/\A(?!.*Tenant)/s, qr/\A(?!.*token-of)/s,
 qr/\A(?!.*Tenant)/s]
--- no_error_log
[error]
[crit]
[alert]



=== TEST 8: a symlink in the content folder is never followed, wherever it points
--- init
main::make_symlinks();
--- config
    location = /ping { return 200; }
--- pipelined_requests eval
["GET /treatments/linked", "GET /api/articles/linked", "GET /treatments/passwd",
 "GET /api/articles/passwd", "GET /treatments/b-page", "GET /treatments/b-dir",
 "GET /treatments/", "GET /api/articles"]
--- more_headers eval
[("Host: a.example") x 8]
--- error_code eval
[404, 404, 404, 404, 404, 404, 200, 200]
--- response_body_unlike eval
[(qr/root:|Secret (?:of tenant B|outside)|Outside|Tenant B|linked|passwd|b-page|b-dir/) x 8]
--- no_error_log
[error]
[crit]
[alert]



=== TEST 9: a tenant's admin token is refused by the other tenant
--- init
ClinicTest::redis_cmd('FLUSHALL');
--- config
    location = /ping { return 200; }
--- pipelined_requests eval
["POST /admin/purge", "POST /admin/purge/same-slug", "GET /admin/lint"]
--- more_headers eval
["Host: b.example\nAuthorization: Bearer $ENV{TEST_NGINX_TOKEN_A}",
 "Host: b.example\nAuthorization: Bearer $ENV{TEST_NGINX_TOKEN_A}",
 "Host: a.example\nAuthorization: Bearer $ENV{TEST_NGINX_TOKEN_B}"]
--- error_code eval
[401, 401, 401]
--- response_body_unlike eval
[qr/purged/, qr/purged/, qr/same-slug|a-only/]



=== TEST 10: purging one tenant's pages leaves the other tenant's cache alone
--- init
ClinicTest::redis_cmd('FLUSHALL');
--- config
    location = /ping { return 200; }
--- pipelined_requests eval
["GET /treatments/same-slug", "GET /treatments/same-slug", "POST /admin/purge",
 "GET /treatments/same-slug", "GET /treatments/same-slug"]
--- more_headers eval
["Host: a.example", "Host: b.example",
 "Host: a.example\nAuthorization: Bearer $ENV{TEST_NGINX_TOKEN_A}",
 "Host: a.example", "Host: b.example"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_headers eval
["X-Clinic-Cache: MISS", "X-Clinic-Cache: MISS", "", "X-Clinic-Cache: MISS", "X-Clinic-Cache: HIT"]
--- response_body eval
[$main::PageA, $main::PageB, qr/"purged":1\b/, $main::PageA, $main::PageB]
--- no_error_log
[error]



=== TEST 11: after tenant a's purge, tenant b's page is still in Redis and a's is written again
--- init
Test::More::is(ClinicTest::redis_cmd('EXISTS', $main::KeyB), 1, "redis: tenant b's page survived a's purge");
Test::More::is(ClinicTest::redis_cmd('EXISTS', $main::KeyA), 1, "redis: tenant a's page is stored again");
--- more_headers
Host: b.example
--- request
GET /treatments/b-only
--- response_body
<main><h1>B Only</h1>
<p>Secret of tenant B.</p>
</main>
--- no_error_log
[error]
