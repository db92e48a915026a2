# clinic_api: the JSON content API (docs/api.md) -- the listing
# sorted by title and paginated, one article's record with its html,
# headings, links and unresolved links, and the JSON errors.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TZ} = 'GMT';       # user_files mtimes (touch -t) are GMT, as in the real runner

ClinicTest::redis_start();

# A block with a config always gets a fresh nginx and its own user_files:
# the real Test::Nginx restarts only when the config text changes.
add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    $block->set_value('config', "$config\n    # " . $block->name . "\n")
        if defined $config;
});

# a file that is not UTF-8: not published, so neither listed nor served
sub write_broken {
    my $file = "$ENV{TEST_NGINX_HTML_DIR}/articles/broken.txt";
    open my $fh, '>', $file or die "$file: $!";
    print $fh "Broken Article\n\nNot UTF-8: \xff\xfe.\n";
    close $fh;
}

our $List = join ',',
    '{"slug":"acupressure","title":"Acupressure","summary":"Pressure points, set in the front matter.","url":"https://localhost/treatments/acupressure","updated":"2026-11-26T11:00:00Z"}',
    '{"slug":"long","title":"Long Read","summary":"This first paragraph is deliberately much longer than one hundred and sixty characters, so that the summary has to be cut at a word boundary and end with an' . "\xe2\x80\xa6" . '","url":"https://localhost/treatments/long","updated":"2026-11-26T09:00:00Z"}',
    '{"slug":"b-massage","title":"massage basics","summary":"Lower case, sorted without regard to case.","url":"https://localhost/treatments/b-massage","updated":"2026-11-26T09:30:00Z"}',
    '{"slug":"zone-therapy","title":"Zone Therapy","summary":"Reflex points & more.","url":"https://localhost/treatments/zone-therapy","updated":"2026-11-26T10:00:00Z"}';

our @Items = split /(?<=\}),(?=\{)/, $List;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the listing: every article, sorted by title without regard to case, default limit and offset
--- init
main::write_broken();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /api/ { clinic_api; }
--- user_files
>>> articles/zone-therapy.txt 202611261000.00
Zone Therapy

Reflex points & more.
>>> articles/acupressure.md 202611261100.00
---
summary: Pressure points, set in the front matter.
---
# Acupressure

Body.
>>> articles/b-massage.txt 202611260930.00
massage basics

Lower case, sorted without regard to case.
>>> articles/long.txt 202611260900.00
Long Read

This first paragraph is deliberately much longer than one hundred and sixty characters, so that the summary has to be cut at a word boundary and end with an ellipsis.
--- request
GET /api/articles
--- response_headers
Content-Type: application/json; charset=utf-8
Last-Modified: Thu, 26 Nov 2026 11:00:00 GMT
Cache-Control: public, no-cache
--- response_body eval
qq{{"articles":[$main::List],"total":4,"limit":20,"offset":0}\n}
--- no_error_log
[error]



=== TEST 2: pagination with limit and offset; an offset past the end is an empty page
--- init
main::write_broken();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /api/ { clinic_api; }
--- user_files
>>> articles/zone-therapy.txt 202611261000.00
Zone Therapy

Reflex points & more.
>>> articles/acupressure.md 202611261100.00
---
summary: Pressure points, set in the front matter.
---
# Acupressure

Body.
>>> articles/b-massage.txt 202611260930.00
massage basics

Lower case, sorted without regard to case.
>>> articles/long.txt 202611260900.00
Long Read

This first paragraph is deliberately much longer than one hundred and sixty characters, so that the summary has to be cut at a word boundary and end with an ellipsis.
--- request eval
["GET /api/articles?limit=2", "GET /api/articles?offset=2&limit=2",
 "GET /api/articles?limit=1&offset=3", "GET /api/articles?offset=4",
 "GET /api/articles?offset=1000000&limit=100"]
--- response_body eval
[qq{{"articles":[$main::Items[0],$main::Items[1]],"total":4,"limit":2,"offset":0}\n},
 qq{{"articles":[$main::Items[2],$main::Items[3]],"total":4,"limit":2,"offset":2}\n},
 qq{{"articles":[$main::Items[3]],"total":4,"limit":1,"offset":3}\n},
 qq{{"articles":[],"total":4,"limit":20,"offset":4}\n},
 qq{{"articles":[],"total":4,"limit":100,"offset":1000000}\n}]
--- no_error_log
[error]



=== TEST 3: a bad limit or offset is a 400 JSON error
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /api/ { clinic_api; }
--- user_files
>>> articles/zone-therapy.txt
Zone Therapy

Body.
--- request eval
["GET /api/articles?limit=0", "GET /api/articles?limit=101",
 "GET /api/articles?limit=abc", "GET /api/articles?limit=-1",
 "GET /api/articles?limit=", "GET /api/articles?offset=-1",
 "GET /api/articles?offset=x", "GET /api/articles?offset=1000001"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 8]
--- response_body eval
[(qq{{"error":{"status":400,"message":"limit must be a number from 1 to 100"}}\n}) x 5,
 (qq{{"error":{"status":400,"message":"offset must be a number of 0 or more"}}\n}) x 3]
--- no_error_log
[error]



=== TEST 4: an article's record: html without the h1, headings, resolved links, unresolved markers
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /api/ { clinic_api; }
--- user_files
>>> articles/joint-manipulation.md 202611261000.00
---
title: Joint Manipulation
---
A stiff joint rarely stays a small problem.

## What Happens at Your First Visit?

We often combine adjustments with deep tissue massage [LINK] and zone therapy [LINK].

### Does It Hurt?

Not usually; a massage therapy [LINK] session or “acupressure” [LINK] may help.

Book now: [LINK] before any words.
>>> articles/deep-tissue-massage.txt
Deep Tissue Massage

Body.
>>> articles/zone-therapy.txt
Zone Therapy

Body.
>>> articles/acupressure.txt
Acupressure

Body.
--- request
GET /api/articles/joint-manipulation
--- response_headers
Content-Type: application/json; charset=utf-8
Last-Modified: Thu, 26 Nov 2026 10:00:00 GMT
--- response_body eval
qq|{"slug":"joint-manipulation","title":"Joint Manipulation","summary":"A stiff joint rarely stays a small problem.","url":"https://localhost/treatments/joint-manipulation","updated":"2026-11-26T10:00:00Z",|
. qq|"html":"<p>A stiff joint rarely stays a small problem.</p>\\n<h2>What Happens at Your First Visit?</h2>\\n<p>We often combine adjustments with <a href=\\"/treatments/deep-tissue-massage\\">deep tissue massage</a> and <a href=\\"/treatments/zone-therapy\\">zone therapy</a>.</p>\\n<h3>Does It Hurt?</h3>\\n<p>Not usually; a massage therapy session or \x{e2}\x{80}\x{9c}<a href=\\"/treatments/acupressure\\">acupressure</a>\x{e2}\x{80}\x{9d} may help.</p>\\n<p>Book now: before any words.</p>\\n",|
. qq|"headings":["What Happens at Your First Visit?","Does It Hurt?"],|
. qq|"links":[{"text":"deep tissue massage","slug":"deep-tissue-massage","url":"https://localhost/treatments/deep-tissue-massage"},{"text":"zone therapy","slug":"zone-therapy","url":"https://localhost/treatments/zone-therapy"},{"text":"acupressure","slug":"acupressure","url":"https://localhost/treatments/acupressure"}],|
. qq|"unresolved_links":["a massage therapy","[LINK] before any words."]}\n|
--- no_error_log
[error]



=== TEST 5: an unknown, malformed or unpublished article, or another path, is a 404 JSON error
--- init
main::write_broken();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /api/ { clinic_api; }
--- user_files
>>> articles/zone-therapy.txt
Zone Therapy

Body.
--- request eval
["GET /api/articles/no-such-article", "GET /api/articles/Zone-Therapy",
 "GET /api/articles/broken", "GET /api/articles/", "GET /api/articles/zone-therapy/x",
 "GET /api/articlesx", "GET /api/other", "GET /api/"]
--- error_code eval
[(404) x 8]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 8]
--- response_body eval
[(qq{{"error":{"status":404,"message":"no such article"}}\n}) x 8]
--- no_error_log
[error]



=== TEST 6: other methods answer 405 with Allow, as JSON
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /api/ { clinic_api; }
--- user_files
>>> articles/zone-therapy.txt
Zone Therapy

Body.
--- request eval
["POST /api/articles\n{}", "DELETE /api/articles/zone-therapy", "PUT /api/articles/zone-therapy\nx"]
--- error_code eval
[405, 405, 405]
--- response_headers eval
[("Allow: GET, HEAD\nContent-Type: application/json; charset=utf-8") x 3]
--- response_body eval
[(qq{{"error":{"status":405,"message":"method not allowed"}}\n}) x 3]
--- no_error_log
[error]



=== TEST 7: HEAD works on the listing and on a record
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
    location /api/ { clinic_api; }
--- user_files
>>> articles/zone-therapy.txt 202611261000.00
Zone Therapy

Body.
--- request eval
["HEAD /api/articles", "HEAD /api/articles/zone-therapy"]
--- response_headers eval
["Content-Type: application/json; charset=utf-8\nLast-Modified: Thu, 26 Nov 2026 10:00:00 GMT",
 "Content-Type: application/json; charset=utf-8\nLast-Modified: Thu, 26 Nov 2026 10:00:00 GMT"]
--- response_body eval
["", ""]
--- no_error_log
[error]



=== TEST 8: urls are built from clinic_base_url and the articles location, never from Host
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_base_url https://northside-chiro.example;
    location /care/ { clinic_articles; }
    location /content/v1/ { clinic_api; }
--- user_files
>>> articles/zone-therapy.txt 202611261000.00
Zone Therapy

See neck pain [LINK].
>>> articles/neck-pain.txt 202611261000.00
Neck Pain

Body.
--- more_headers
Host: evil.example
--- request eval
["GET /content/v1/articles?limit=1", "GET /content/v1/articles/zone-therapy"]
--- response_body eval
[qq{{"articles":[{"slug":"neck-pain","title":"Neck Pain","summary":"Body.","url":"https://northside-chiro.example/care/neck-pain","updated":"2026-11-26T10:00:00Z"}],"total":2,"limit":1,"offset":0}\n},
 qq{{"slug":"zone-therapy","title":"Zone Therapy","summary":"See neck pain.","url":"https://northside-chiro.example/care/zone-therapy","updated":"2026-11-26T10:00:00Z","html":"<p>See <a href=\\"/care/neck-pain\\">neck pain</a>.</p>\\n","headings":[],"links":[{"text":"neck pain","slug":"neck-pain","url":"https://northside-chiro.example/care/neck-pain"}],"unresolved_links":[]}\n}]
--- no_error_log
[error]
