# clinic_status at scale: the page of thousands of tenants is sent in
# buffers as the client takes it, each family's lines together; ?tenant=
# picks one tenant; "clinic_status tenants=off" sums the tenants; the page
# cache zone's use is shown to the operator.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

# the sanitizer build starts 3,000 server blocks too slowly for the runner;
# 600 still make a page of several buffers
our $N = $ENV{TEST_CLINIC_ASAN} ? 600 : 3000;

# $N tenants on one node, all of one Redis
our $Tenants = join '', map {
    "server { listen \$TEST_NGINX_SERVER_PORT; "
    . "server_name t$_.example; "
    . "clinic_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT; "
    . "location = /contact { clinic_contact; } }\n"
} 1 .. $N;

# one family's lines: a line for each tenant, t1 first, t$N last, nothing
# between them, and the next family's HELP right after
sub family {
    my ($name, $labels, $next) = @_;
    my $line = qr/$name\{tenant="t\d+\.example"$labels\} 0\n/;
    return qr/# TYPE $name counter\n$name\{tenant="t1\.example"$labels\} 0\n/
         . qr/(?:$line){@{[$N - 2]}}/
         . qr/$name\{tenant="t$N\.example"$labels\} 0\n# HELP $next /;
}

our $Renders = family('clinic_renders_total', '', 'clinic_submissions_total');

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: every tenant of a large node, each family's lines together
--- http_config eval: $::Tenants
--- config
    location = /metrics { clinic_status; }
--- request
GET /metrics
--- raw_response_headers_unlike
Content-Length
--- response_body_like eval
qr/\A# HELP clinic_redis_up .*$::Renders.*\nclinic_spool_oldest_seconds \d+\n\z/s



=== TEST 2: the last tenant's series come whole
--- http_config eval: $::Tenants
--- config
    location = /metrics { clinic_status; }
--- request
GET /metrics
--- response_body_like eval
qr/\nclinic_cache_total\{tenant="t$::N\.example",layer="stale"\} 0\n# HELP clinic_renders_total /



=== TEST 3: ?tenant= shows that tenant only
--- http_config eval: $::Tenants
--- config
    location = /metrics { clinic_status; }
--- request eval
"GET /metrics?tenant=t" . ($::N - 1) . ".example"
--- response_body_like eval
my $t = "t" . ($::N - 1) . "\\.example";
qr/\A(?:[^\n]*\n)*?# TYPE clinic_requests_total counter\n# HELP clinic_cache_total (?:(?![^\n]*tenant=")[^\n]*\n|[^\n]*tenant="$t"[^\n]*\n)*\z/



=== TEST 4: an unknown tenant is a 404 that says so
--- http_config eval: $::Tenants
--- config
    location = /metrics { clinic_status; }
--- request
GET /metrics?tenant=nobody.example
--- error_code: 404
--- response_body_like eval
qr/"message":"no such tenant on this node"/



=== TEST 5: in a tenant's server, another tenant is unknown
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name other.example;
        clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
        location = /contact { clinic_contact; }
    }
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    location = /contact { clinic_contact; }
    location = /metrics { clinic_status; }
--- request
GET /metrics?tenant=other.example
--- error_code: 404
--- response_body_like eval
qr/"message":"no such tenant on this node"/



=== TEST 6: tenants=off: the node's sums, no tenant label
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name a.example;
        clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
        location = /contact { clinic_contact; }
    }
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name b.example;
        clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
        location = /contact { clinic_contact; }
    }
--- config
    location = /metrics { clinic_status tenants=off; }
    location = /a {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/contact;
        proxy_set_header Host a.example;
    }
    location = /b {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/contact;
        proxy_set_header Host b.example;
    }
--- request eval
["POST /a\n{}", "POST /b\n{}", "GET /metrics"]
--- more_headers
Content-Type: application/json
--- error_code eval
[422, 422, 200]
--- response_body_like eval
[qr/./, qr/./,
 qr/\A(?!.*tenant=).*\nclinic_requests_total\{handler="contact",code="4xx"\} 2\n.*\nclinic_submissions_total\{outcome="rejected"\} 2\n/s]



=== TEST 7: the page cache zone's use, for the operator: a page and the folder's index
--- http_config
    clinic_cache_zone 4m;
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name a.example;
        clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
        clinic_content $TEST_NGINX_HTML_DIR/articles;
        location /treatments/ { clinic_articles; }
    }
--- config
    location = /metrics { clinic_status; }
    location = /a {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/treatments/cupping;
        proxy_set_header Host a.example;
    }
--- user_files
>>> articles/cupping.txt
Cupping Therapy

Cupping lifts the skin and the muscle under it.
--- pipelined_requests eval
["GET /a", "GET /metrics"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/Cupping Therapy/,
 qr/\nclinic_cache_zone_bytes\{state="size"\} 4194304\nclinic_cache_zone_bytes\{state="free"\} (?!4194304\n)\d+\n(?s:.*)\nclinic_cache_entries 2\n(?s:.*)\nclinic_cache_entry_bytes [1-9]\d+\n(?s:.*)\nclinic_cache_evictions_total 0\n/]



=== TEST 8: a bad parameter fails nginx -t with file and line
--- config
    location = /metrics { clinic_status tenants=maybe; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid clinic_status parameter "tenants=maybe": use tenants=on or tenants=off in .*nginx\.conf:\d+/
