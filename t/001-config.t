# Every bad configuration value fails `nginx -t` with an [emerg] line that
# names the file and the exact line (docs/directives.md).
#
# Each block is a configuration; `nginx -t` runs on it directly, so the
# check is the same whichever Test::Nginx runner is installed.  A block
# with "--- emerg REGEX" must fail with "[emerg] REGEX in FILE:LINE", where
# LINE is the line marked "# HERE" ("# FIRST" marks the other place named
# by a duplicate); a block with "--- ok" must pass.  "$FILES" is a folder
# holding the block's "--- files" (">>> name" then the content).
use strict;
use warnings;
use Test::Base;
use File::Temp qw(tempdir);

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $modules = $ENV{TEST_NGINX_LOAD_MODULES} || '';
my %known = map { $_ => 1 } qw(http_config config files emerg ok);

plan tests => 3 * blocks();

for my $block (blocks()) {
    my $name = $block->name;
    my @unknown = grep { !$known{$_} } @{ $block->{_section_order}[0] || [] };
    ok(!@unknown, "$name: known sections only") or diag "unknown: @unknown";

    my $dir = tempdir('clinic-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$dir/logs";
    mkdir "$dir/files";

    for my $f (split /^>>> /m, $block->files // '') {
        next unless length $f;
        my ($fname, $content) = split /\n/, $f, 2;
        open my $fh, '>', "$dir/files/$fname" or die $!;
        print $fh $content;
        close $fh;
    }

    my $conf = join '', (map { "load_module $_;\n" } split ' ', $modules),
        "error_log $dir/logs/error.log;\n",
        "pid $dir/logs/nginx.pid;\n",
        "events { worker_connections 64; }\n",
        "http {\n",
        "    access_log off;\n",
        "    client_body_temp_path $dir/logs/body;\n",
        "    proxy_temp_path $dir/logs/proxy;\n",
        "    fastcgi_temp_path $dir/logs/fastcgi;\n",
        "    uwsgi_temp_path $dir/logs/uwsgi;\n",
        "    scgi_temp_path $dir/logs/scgi;\n",
        ($block->http_config // ''), "\n",
        "    server {\n",
        "        listen 127.0.0.1:\$PORT;\n",
        "        server_name localhost;\n",
        ($block->config // ''), "\n",
        "    }\n",
        "}\n";

    $conf =~ s/\$FILES/$dir\/files/g;
    $conf =~ s/\$PORT/1984/g;

    my ($here, $first) = (0, 0);
    my $n = 0;
    for my $line (split /\n/, $conf) {
        $n++;
        $here = $n if $line =~ /# HERE$/;
        $first = $n if $line =~ /# FIRST$/;
    }

    my $file = "$dir/nginx.conf";
    open my $fh, '>', $file or die $!;
    print $fh $conf;
    close $fh;

    my $out = `$nginx -t -p $dir/ -c $file 2>&1`;
    my $status = $?;

    if (defined $block->ok) {
        is($status, 0, "$name: nginx -t passes") or diag $out;
        like($out, qr/test is successful/, "$name: and says so");
        next;
    }

    my $emerg = $block->emerg;
    chomp $emerg;
    isnt($status, 0, "$name: nginx -t fails");

    my $where = "in \Q$file\E:$here";
    $where .= ", already used in \Q$file\E:$first" if $first;
    like($out, qr/\[emerg\] (?:\d+#\d+: )?(?:$emerg)[^\n]*$where\n/,
         "$name: [emerg] names the file and line $here")
        or diag "nginx -t said:\n$out";
}

__DATA__

=== TEST 1: a complete two-tenant configuration starts and answers
--- http_config
    clinic_redis 127.0.0.1:6399 timeout=150ms db=2;
    clinic_cache_zone 8m;
    clinic_cache_ttl 10m;
    server {
        listen 127.0.0.1:$PORT;
        server_name riverside.example;
        clinic_content $FILES;
        clinic_contact_field name required max=100;
        clinic_contact_field email type=email;
        clinic_contact_field phone type=phone "pattern=^[0-9+ ]+$";
        clinic_contact_honeypot website;
        clinic_contact_limit client=3/1m tenant=100/1h;
        clinic_contact_retention 365d;
        clinic_contact_redirect /thanks;
        location /treatments/ { clinic_articles; }
    }
--- config
    clinic_tenant backcare;
    location = /ping { return 200 "pong\n"; }
--- ok



=== TEST 2: unknown field type
--- config
    location /contact {
        clinic_contact;
        clinic_contact_field colour type=color;  # HERE
    }
--- emerg
unknown field type "color": use text, email or phone



=== TEST 3: a pattern that does not compile
--- config
    location /contact {
        clinic_contact;
        clinic_contact_field phone pattern=^([0-9]+$;  # HERE
    }
--- emerg
invalid pattern for field "phone": .*



=== TEST 4: a content folder that does not exist
--- config
    clinic_content /nonexistent/clinic/articles;  # HERE
    location /treatments/ { clinic_articles; }
--- emerg
.*clinic_content folder "\/nonexistent\/clinic\/articles" cannot be opened.*



=== TEST 5: a time that does not parse
--- config
    clinic_cache_ttl 10 minutes;  # HERE
--- emerg
.*"clinic_cache_ttl" .*



=== TEST 6: a cache ttl that is not a time
--- config
    clinic_cache_ttl soon;  # HERE
--- emerg
"clinic_cache_ttl" directive invalid value



=== TEST 7: a size that does not parse
--- http_config
    clinic_cache_zone 32zb;  # HERE
--- config

--- emerg
invalid clinic_cache_zone size "32zb"



=== TEST 8: a cache zone too small to hold pages
--- http_config
    clinic_cache_zone 4k;  # HERE
--- config

--- emerg
clinic_cache_zone "4k" is too small, at least \d+k is needed



=== TEST 9: a duplicate tenant name, both places named
--- http_config
    server {
        listen 127.0.0.1:$PORT;
        server_name other.example;
        clinic_tenant backcare;  # FIRST
    }
--- config
    clinic_tenant backcare;  # HERE
--- emerg
duplicate clinic tenant "backcare"



=== TEST 10: a duplicate tenant name derived from server_name
--- http_config
    server {
        listen 127.0.0.1:$PORT;
        server_name LocalHost;
        clinic_admin_token_file $FILES/token;  # FIRST
    }
--- config
    clinic_admin_token_file $FILES/token;  # HERE
--- files
>>> token
abcdefghijklmnopqrstuvwxyz
--- emerg
duplicate clinic tenant "localhost"



=== TEST 11: an invalid tenant name
--- config
    clinic_tenant Back/Care;  # HERE
--- emerg
invalid tenant name "Back\/Care": use 1 to 64 of a-z, 0-9, "\.", "_" and "-"



=== TEST 12: a tenant name longer than 64 characters
--- config
    clinic_tenant aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;  # HERE
--- emerg
invalid tenant name "a{65}".*



=== TEST 13: a wildcard server_name must name its tenant
--- http_config
    server {
        listen 127.0.0.1:$PORT;
        server_name *.clinic.example;
        location /contact { clinic_contact; }  # HERE
    }
--- config

--- emerg
"clinic_tenant" must name the tenant of a server block whose first server_name is empty, a wildcard or a regex



=== TEST 14: a regex server_name must name its tenant
--- http_config
    server {
        listen 127.0.0.1:$PORT;
        server_name ~^(?<clinic>.+)\.example$;
        location /contact { clinic_contact; }  # HERE
    }
--- config

--- emerg
"clinic_tenant" must name the tenant .*



=== TEST 15: a redis address that does not parse
--- http_config
    clinic_redis 127.0.0.1:99999;  # HERE
--- config

--- emerg
invalid port in redis address "127\.0\.0\.1:99999"



=== TEST 16: a redis timeout that does not parse
--- http_config
    clinic_redis 127.0.0.1:6379 timeout=fast;  # HERE
--- config

--- emerg
invalid timeout "timeout=fast"



=== TEST 17: a redis db that is not a number
--- http_config
    clinic_redis 127.0.0.1:6379 db=two;  # HERE
--- config

--- emerg
invalid db "db=two"



=== TEST 18: an unknown clinic_redis parameter
--- http_config
    clinic_redis 127.0.0.1:6379 tls=on;  # HERE
--- config

--- emerg
invalid parameter "tls=on"



=== TEST 19: a redis password file that does not exist
--- http_config
    clinic_redis 127.0.0.1:6379 password_file=/nonexistent/redis.pass;  # HERE
--- config

--- emerg
.*cannot open secret file "\/nonexistent\/redis\.pass".*



=== TEST 20: clinic_redis twice in one block
--- config
    clinic_redis 127.0.0.1:6379;
    clinic_redis 127.0.0.1:6380;  # HERE
--- emerg
"clinic_redis" directive is duplicate



=== TEST 21: a field max that is not a number
--- config
    location /contact {
        clinic_contact;
        clinic_contact_field message max=lots;  # HERE
    }
--- emerg
invalid max "max=lots": use 1 to 65536 characters



=== TEST 22: an unknown field parameter
--- config
    location /contact {
        clinic_contact;
        clinic_contact_field message optional;  # HERE
    }
--- emerg
invalid parameter "optional"



=== TEST 23: a field declared twice
--- config
    clinic_contact_field email;
    clinic_contact_field email type=email;  # HERE
--- emerg
field "email" is declared twice



=== TEST 24: a field name reserved for the submission's own data
--- config
    clinic_contact_field ip;  # HERE
--- emerg
field name "ip" is reserved for the submission's own data



=== TEST 25: a rate limit that does not parse
--- config
    clinic_contact_limit client=five/10m;  # HERE
--- emerg
invalid rate "client=five\/10m": use N\/TIME, as in client=5\/10m, or off



=== TEST 26: a rate limit period that does not parse
--- config
    clinic_contact_limit tenant=200/hour;  # HERE
--- emerg
invalid rate "tenant=200\/hour".*



=== TEST 27: a retention that does not parse
--- config
    clinic_contact_retention forever;  # HERE
--- emerg
invalid clinic_contact_retention "forever"



=== TEST 28: a spool folder that does not exist
--- http_config
    clinic_spool /nonexistent/spool;  # HERE
--- config

--- emerg
.*clinic_spool folder "\/nonexistent\/spool" cannot be opened.*



=== TEST 29: an admin token that is too short
--- config
    clinic_admin_token_file $FILES/token;  # HERE
--- files
>>> token
short
--- emerg
token in "\S+token" line 1 must be 16 to 511 characters



=== TEST 29a: a token file of comments and blank lines only
--- config
    clinic_admin_token_file $FILES/token;  # HERE
--- files
>>> token
# front desk

   # revoked 2026-05-01
--- emerg
token file "\S+token" holds no token



=== TEST 29b: an empty token file
--- config
    clinic_admin_token_file $FILES/token;  # HERE
--- files
>>> token
--- emerg
token file "\S+token" holds no token



=== TEST 29c: a token line with a space names the line
--- config
    clinic_admin_token_file $FILES/token;  # HERE
--- files
>>> token
# the clinic's tokens
token-of-the-front-desk-0123

token of the manager 0123456789
--- emerg
token in "\S+token" line 4 must be printable characters without spaces



=== TEST 29d: a short token on a later line names the line
--- config
    clinic_admin_token_file $FILES/token;  # HERE
--- files
>>> token
token-of-the-front-desk-0123
short
--- emerg
token in "\S+token" line 2 must be 16 to 511 characters



=== TEST 29e: a token file that does not exist
--- config
    clinic_admin_token_file /nonexistent/clinic.token;  # HERE
--- emerg
cannot open token file "\/nonexistent\/clinic\.token"



=== TEST 29f: several tokens, comments, blank lines, spaces around tokens
--- config
    clinic_admin_token_file $FILES/token;
    location /admin/ { clinic_admin; }
--- files
>>> token
# front desk
token-of-the-front-desk-0123
	  token-of-the-manager-0123456  

# token-of-a-former-employee is gone
--- ok



=== TEST 30: clinic_admin without a token file
--- config
    location /admin/ { clinic_admin; }  # HERE
--- emerg
"clinic_admin" needs "clinic_admin_token_file" in its server



=== TEST 31: clinic_articles without a content folder
--- config
    location /treatments/ { clinic_articles; }  # HERE
--- emerg
"clinic_articles" and "clinic_api" need "clinic_content" in their server or location



=== TEST 32: two clinic handlers in one location
--- config
    location /x { clinic_contact; clinic_admin; }  # HERE
--- emerg
"clinic_admin" directive conflicts with another clinic handler in this location



=== TEST 33: a redirect that is neither a path nor an http(s) URL
--- config
    clinic_contact_redirect javascript:alert(1);  # HERE
--- emerg
invalid clinic_contact_redirect "javascript:alert\(1\)": use a path starting with "\/" or an http\(s\) URL



=== TEST 34: a template that does not exist
--- config
    clinic_template /nonexistent/page.html;  # HERE
--- emerg
.*clinic_template "\/nonexistent\/page\.html" cannot be opened.*



=== TEST 35: a directive in the wrong context
--- config
    location / { clinic_tenant backcare; }  # HERE
--- emerg
"clinic_tenant" directive is not allowed here



=== TEST 36: an invalid honeypot field name
--- config
    clinic_contact_honeypot "web site";  # HERE
--- emerg
invalid honeypot field name "web site"



=== TEST 37: a honeypot that is also a declared field
--- config
    clinic_contact_field website;
    clinic_contact_honeypot website;  # HERE
    location /contact { clinic_contact; }
--- emerg
honeypot "website" is also a declared clinic_contact_field



=== TEST 38: a revalidation interval out of bounds
--- config
    clinic_revalidate 0;  # HERE
--- emerg
value must be between 1 and 3600000



=== TEST 39: a base URL that is not http(s)
--- config
    clinic_base_url ftp://clinic.example;  # HERE
--- emerg
invalid clinic_base_url "ftp://clinic\.example": use http\(s\)://host\[:port\]



=== TEST 40: clinic_contact_store_ip takes on or off
--- config
    clinic_contact_store_ip maybe;  # HERE
--- emerg
invalid value "maybe" in "clinic_contact_store_ip" directive, it must be "on" or "off"



=== TEST 41: clinic_contact_notify takes a local URI, not a URL
--- config
    location = /contact {
        clinic_contact;
        clinic_contact_notify http://hooks.example.com/lead;  # HERE
    }
--- emerg
invalid clinic_contact_notify "http:\/\/hooks.example.com\/lead": it takes the URI of a location of this server



=== TEST 42: clinic_contact_notify takes no variables
--- config
    clinic_contact_notify /_notify/$clinic_tenant;  # HERE
--- emerg
invalid clinic_contact_notify "\/_notify\/\$clinic_tenant": the character at offset 9 is not allowed



=== TEST 43: clinic_contact_notify takes no dot segments
--- config
    clinic_contact_notify /hooks/../_notify;  # HERE
--- emerg
invalid clinic_contact_notify "\/hooks\/..\/_notify": no "." or ".." segments



=== TEST 44: a second clinic_contact_notify in one place
--- config
    clinic_contact_notify /_notify;
    clinic_contact_notify /_other;  # HERE
--- emerg
"clinic_contact_notify" directive is duplicate



=== TEST 45: clinic_contact_notify with its arguments, and off in a location
--- config
    clinic_contact_notify /_notify?via=clinic;
    location = /contact { clinic_contact; }
    location = /contact-quiet { clinic_contact; clinic_contact_notify off; }
    location = /_notify { internal; return 204; }
--- ok



=== TEST 41p: clinic_phone takes a number people can dial
--- config
    clinic_tenant phones;
    clinic_phone "+44 (0)161 496-0000";
    location = /contact { clinic_contact; }
--- ok



=== TEST 42p: clinic_phone with letters
--- config
    clinic_phone "call 0161 496 0000";  # HERE
--- emerg
invalid clinic_phone "call 0161 496 0000": use at least 3 digits, spaces and \+ \( \) - \. / \(a "\+" only first\), at most 40 characters



=== TEST 43p: clinic_phone with a "+" that is not first
--- config
    clinic_phone "0161+4960000";  # HERE
--- emerg
invalid clinic_phone "0161\+4960000"



=== TEST 44p: clinic_phone without enough digits
--- config
    clinic_phone "+ 1";  # HERE
--- emerg
invalid clinic_phone "\+ 1"



=== TEST 45p: clinic_phone longer than 40 characters
--- config
    clinic_phone "0161 496 0000 0161 496 0000 0161 496 0000 1";  # HERE
--- emerg
invalid clinic_phone



=== TEST 46p: clinic_phone empty
--- config
    clinic_phone "";  # HERE
--- emerg
empty value



=== TEST 47p: clinic_phone twice
--- config
    clinic_phone "0161 496 0000";
    clinic_phone "0161 496 0001";  # HERE
--- emerg
"clinic_phone" directive is duplicate



=== TEST 48p: clinic_phone is a server's setting, not a location's
--- config
    location / {
        clinic_phone "0161 496 0000";  # HERE
    }
--- emerg
"clinic_phone" directive is not allowed here



=== TEST 49: clinic_base_url with a path: the site is served from its root
--- config
    clinic_base_url https://clinic.example/clinic;  # HERE
--- emerg
clinic_base_url "https://clinic\.example/clinic" has a path: use http\(s\)://host\[:port\], the site is served from its root



=== TEST 50: clinic_base_url with a query
--- config
    location / {
        clinic_base_url https://clinic.example?x=1;  # HERE
    }
--- emerg
clinic_base_url "https://clinic\.example\?x=1" has a path



=== TEST 51: clinic_base_url with two trailing slashes is a path too
--- config
    clinic_base_url https://clinic.example:8443//;  # HERE
--- emerg
clinic_base_url "https://clinic\.example:8443//" has a path



=== TEST 52: clinic_base_url without a host
--- config
    clinic_base_url https:///;  # HERE
--- emerg
invalid clinic_base_url "https:///": use http\(s\)://host\[:port\]



=== TEST 53: clinic_base_url with a port and one trailing slash, which is dropped
--- config
    clinic_base_url https://clinic.example:8443/;
    clinic_content $FILES;
    location /treatments/ { clinic_articles; }
    location = /sitemap.xml { clinic_sitemap; }
--- ok



=== TEST 54: clinic_sitemap without a clinic_articles location in its server
--- config
    clinic_content $FILES;
    location = /sitemap.xml { clinic_sitemap; }  # HERE
    location /api/ { clinic_api; }
--- emerg
"clinic_sitemap" needs a "clinic_articles" location in its server



=== TEST 55: clinic_feed without a clinic_articles location; another server's does not count
--- http_config
    server {
        listen 127.0.0.1:$PORT;
        server_name other.example;
        clinic_content $FILES;
        location /treatments/ { clinic_articles; }
    }
--- config
    location = /feed.xml {
        clinic_feed;  # HERE
    }
--- emerg
"clinic_feed" needs a "clinic_articles" location in its server



=== TEST 56: clinic_feed of a server whose first server_name is a wildcard, without clinic_base_url
--- http_config
    server {
        listen 127.0.0.1:$PORT;
        server_name *.clinic.example;
        clinic_tenant wild;
        clinic_content $FILES;
        location /treatments/ { clinic_articles; }
        location = /feed.xml { clinic_feed; }  # HERE
        location = /sitemap.xml { clinic_sitemap; }
    }
--- emerg
"clinic_feed" needs absolute URLs: set "clinic_base_url", or a first server_name that is not a wildcard,



=== TEST 57: the same with clinic_base_url, in the articles location that the sitemap lists, before it
--- http_config
    server {
        listen 127.0.0.1:$PORT;
        server_name *.clinic.example;
        clinic_tenant wild;
        clinic_content $FILES;
        location = /sitemap.xml { clinic_sitemap; }
        location = /feed.xml { clinic_feed; }
        location /treatments/ {
            clinic_articles;
            clinic_base_url https://www.clinic.example;
        }
    }
--- ok



=== TEST 58: clinic_sitemap is a location's handler
--- config
    clinic_sitemap;  # HERE
--- emerg
"clinic_sitemap" directive is not allowed here



=== TEST 59: clinic_feed and another clinic handler in one location
--- config
    clinic_content $FILES;
    location /treatments/ {
        clinic_articles;
        clinic_feed;  # HERE
    }
--- emerg
"clinic_feed" directive conflicts with another clinic handler in this location



=== TEST 60: a sentinel set without the master's name
--- config
    clinic_redis sentinel=127.0.0.1:26379,127.0.0.1:26380;  # HERE
--- emerg
"sentinel=127\.0\.0\.1:26379,127\.0\.0\.1:26380" needs "master=", the name the sentinels monitor



=== TEST 61: a master name without sentinels
--- config
    clinic_redis 127.0.0.1:6379 master=clinic;  # HERE
--- emerg
"master=" is only for "sentinel="



=== TEST 62: a database other than 0 in a cluster
--- config
    clinic_redis cluster=127.0.0.1:7000 db=1;  # HERE
--- emerg
a Redis Cluster has only database 0: "db=1" cannot be used with "cluster="



=== TEST 63: an empty address in a cluster's list
--- config
    clinic_redis cluster=127.0.0.1:7000,,127.0.0.1:7001;  # HERE
--- emerg
empty address in "cluster=127\.0\.0\.1:7000,,127\.0\.0\.1:7001"



=== TEST 64: a unix socket as a sentinel
--- config
    clinic_redis sentinel=unix:/run/sentinel.sock master=clinic;  # HERE
--- emerg
a cluster or sentinel address must be host:port, not "unix:/run/sentinel\.sock"



=== TEST 65: TLS parameters without tls
--- config
    clinic_redis 127.0.0.1:6379 tls_ca=$FILES/ca.pem;  # HERE
--- emerg
"tls_ca=", "tls_name=" and "tls_verify=" need "tls"



=== TEST 66: a CA file that does not exist
--- config
    clinic_redis 127.0.0.1:6379 tls tls_ca=/nonexistent/ca.pem;  # HERE
--- emerg
cannot read tls_ca "/nonexistent/ca\.pem"



=== TEST 67: a CA file that holds no certificate
--- files
>>> ca.pem
not a certificate
--- config
    clinic_redis 127.0.0.1:6379 tls tls_ca=$FILES/ca.pem;  # HERE
--- emerg
tls_ca ".*ca\.pem" holds no certificate OpenSSL can use



=== TEST 68: tls_verify takes on or off
--- config
    clinic_redis 127.0.0.1:6379 tls tls_verify=maybe;  # HERE
--- emerg
invalid parameter "tls_verify=maybe"



=== TEST 69: replicas out of range
--- config
    clinic_redis cluster=127.0.0.1:7000 replicas=17;  # HERE
--- emerg
invalid replicas "replicas=17": 0 to 16



=== TEST 70: a host name nobody resolves, without a resolver
--- config
    clinic_redis redis.nonexistent.invalid:6379;  # HERE
--- emerg
host not found in redis address "redis\.nonexistent\.invalid:6379" \(a "resolver" in http\{\} would resolve it at run time\)



=== TEST 71: the same name with a resolver: resolved by the workers, so nginx -t passes
--- http_config
    resolver 127.0.0.1:53 valid=5s;
--- config
    clinic_tenant resolved;
    clinic_redis redis.nonexistent.invalid:6379;
--- ok



=== TEST 72: Sentinel, Cluster and TLS without verification pass
--- config
    clinic_tenant several;
    clinic_redis sentinel=127.0.0.1:26379,127.0.0.1:26380 master=clinic replicas=0 timeout=300ms tls tls_verify=off;
    location = /contact {
        clinic_contact;
    }
--- http_config
    clinic_redis cluster=127.0.0.1:7000,127.0.0.1:7001 tls tls_verify=off tls_name=redis.example;
--- ok
