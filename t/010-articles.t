# clinic_articles: the HTML pages (docs/content-format.md) -- the .txt and .md
# formats, front matter, [LINK] resolution as it shows in the served page,
# the page's head (title, description, canonical, JSON-LD), the listing,
# 404, HEAD, 405 and templates.
#
# Most blocks render into a small template (t.html) so that the whole body
# can be compared; the built-in layout has blocks of its own.
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

no_shuffle();
run_tests();

__DATA__

=== TEST 1: .txt: the title is the only h1, one <p> per line, the h2 rule, escaping
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files
>>> t.html
<title>{{title}}</title>
<meta name="description" content="{{summary}}">
<h1>{{title}}</h1>
{{content}}<footer>{{slug}}</footer>
>>> articles/joint-manipulation.txt
Joint Manipulation for Back and Neck Pain

When a joint in the spine stops moving the way it should, the muscles around it tighten.
Lines are never joined: this line is a paragraph of its own.
How Often Should I Get Massaged?

How Often Should I Get Massaged?

Most people come back every two to four weeks.

Here is how to prepare:

(Call us today.)

Never type <script>alert(1)</script> & expect it to run – it’s “text” – 5 > 3.
A Short Line Between Paragraphs
Still a paragraph

This standalone line is longer than one hundred and twenty characters and has no final punctuation at all so it stays a paragraph

Booking an Appointment
--- request
GET /treatments/joint-manipulation
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body
<title>Joint Manipulation for Back and Neck Pain</title>
<meta name="description" content="When a joint in the spine stops moving the way it should, the muscles around it tighten.">
<h1>Joint Manipulation for Back and Neck Pain</h1>
<p>When a joint in the spine stops moving the way it should, the muscles around it tighten.</p>
<p>Lines are never joined: this line is a paragraph of its own.</p>
<p>How Often Should I Get Massaged?</p>
<h2>How Often Should I Get Massaged?</h2>
<p>Most people come back every two to four weeks.</p>
<p>Here is how to prepare:</p>
<p>(Call us today.)</p>
<p>Never type &lt;script&gt;alert(1)&lt;/script&gt; &amp; expect it to run – it’s “text” – 5 &gt; 3.</p>
<p>A Short Line Between Paragraphs</p>
<p>Still a paragraph</p>
<p>This standalone line is longer than one hundred and twenty characters and has no final punctuation at all so it stays a paragraph</p>
<h2>Booking an Appointment</h2>
<footer>joint-manipulation</footer>
--- no_error_log
[error]



=== TEST 2: .txt: a BOM is stripped, CRLF and lone CR line ends are accepted
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files eval
[["t.html", "<h1>{{title}}</h1>\n{{content}}<footer>{{slug}}</footer>\n"],
 ["articles/windows.txt",
  "\xEF\xBB\xBFExported From Word\r\n\r\nFirst paragraph.\r\nSecond paragraph.\r\n\r\nA Heading\r\n\r\nOld Mac line.\rLast line.\r"]]
--- request
GET /treatments/windows
--- response_body
<h1>Exported From Word</h1>
<p>First paragraph.</p>
<p>Second paragraph.</p>
<h2>A Heading</h2>
<p>Old Mac line.</p>
<p>Last line.</p>
<footer>windows</footer>
--- no_error_log
[error]



=== TEST 3: .md: raw HTML is text, only http(s)/mailto/tel/relative URLs survive, the title is not repeated
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files
>>> t.html
<title>{{title}}</title>
<meta name="description" content="{{summary}}">
<h1>{{title}}</h1>
{{content}}<footer>{{slug}}</footer>
>>> articles/sports-massage.md
# Sports Massage

Raw <b>bold</b> and <script>alert(1)</script> stay text.
A [bad link](javascript:alert(1)), a [data link](data:text/html,x), [mail](mailto:desk@example.com), [call](tel:+15550100), [home](/contact) and [web](https://example.com/a?b=1&c=2).
An image ![x](javascript:alert(1)) vanishes and ![logo](/logo.png) stays.

# Recovery

Typographic ’ “ ” – and &amp; &#8217; work.
--- request
GET /treatments/sports-massage
--- response_body
<title>Sports Massage</title>
<meta name="description" content="Raw &lt;b&gt;bold&lt;/b&gt; and &lt;script&gt;alert(1)&lt;/script&gt; stay text. A bad link, a data link, mail, call, home and web. An image vanishes and stays.">
<h1>Sports Massage</h1>
<p>Raw &lt;b&gt;bold&lt;/b&gt; and &lt;script&gt;alert(1)&lt;/script&gt; stay text.
A bad link, a data link, <a href="mailto:desk@example.com">mail</a>, <a href="tel:+15550100">call</a>, <a href="/contact">home</a> and <a href="https://example.com/a?b=1&amp;c=2">web</a>.
An image  vanishes and <img src="/logo.png" alt="logo"> stays.</p>
<h2>Recovery</h2>
<p>Typographic ’ “ ” – and &amp; ’ work.</p>
<footer>sports-massage</footer>
--- no_error_log
[error]



=== TEST 4: .md: a first # heading equal to the front matter title (case, hyphens, spaces aside) is left out
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files
>>> t.html
<h1>{{title}}</h1>
{{content}}<footer>{{slug}}</footer>
>>> articles/gentle.md
---
title: Gentle Joint Mobilisation
---
# gentle-joint   MOBILISATION

Text **strong** and _em_.

# Aftercare

Drink water.
--- request
GET /treatments/gentle
--- response_body
<h1>Gentle Joint Mobilisation</h1>
<p>Text <strong>strong</strong> and <em>em</em>.</p>
<h2>Aftercare</h2>
<p>Drink water.</p>
<footer>gentle</footer>
--- no_error_log
[error]



=== TEST 5: front matter: title (quotes removed), summary, aliases; the next short line is a heading
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files
>>> t.html
<title>{{title}}</title>
<meta name="description" content="{{summary}}">
<h1>{{title}}</h1>
{{content}}<footer>{{slug}}</footer>
>>> articles/mobilisation.txt
---
Title: "Gentle Joint Mobilisation"
summary: Slow, low-force joint work for people who would rather not be "cracked".
aliases: joint mobilisation, mobilisation
---
What to Expect

The first visit takes an hour.
>>> articles/intro.txt
Welcome

Ask about joint mobilisation [LINK] today, or just mobilisation [LINK].
--- request eval
["GET /treatments/mobilisation", "GET /treatments/intro"]
--- response_body eval
[qq{<title>Gentle Joint Mobilisation</title>
<meta name="description" content="Slow, low-force joint work for people who would rather not be &quot;cracked&quot;.">
<h1>Gentle Joint Mobilisation</h1>
<h2>What to Expect</h2>
<p>The first visit takes an hour.</p>
<footer>mobilisation</footer>
},
qq{<title>Welcome</title>
<meta name="description" content="Ask about joint mobilisation today, or just mobilisation.">
<h1>Welcome</h1>
<p>Ask about <a href="/treatments/mobilisation">joint mobilisation</a> today, or just <a href="/treatments/mobilisation">mobilisation</a>.</p>
<footer>intro</footer>
}]
--- no_error_log
[error]



=== TEST 6: [LINK]: longest run, up to 6 words, slug > alias > title > first words, alphabetical tie, clause boundaries, unresolved
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files
>>> t.html
<h1>{{title}}</h1>
{{content}}<footer>{{slug}}</footer>
>>> articles/links.txt
Link Rules

A relaxing deep tissue massage [LINK] helps.
Try joint manipulation for back and neck pain [LINK] now.
Ask about sports massage [LINK] today.
Ask about cupping therapy [LINK] today.
Ask about dry needling [LINK] today.
Ask about hot stone [LINK] today.
Ask about spinal decompression [LINK] today.
For your neck, pain [LINK] relief.
Book a massage [LINK] therapy [LINK] session.
We call it “dry needling” [LINK] here.
See Neck-PAIN [LINK] and (neck pain [LINK]) too.
See link rules [LINK] for itself.
Also reflexology [LINK] may help.
>>> articles/massage.txt
Massage

Body.
>>> articles/massage-therapy.txt
Massage Therapy

Body.
>>> articles/deep-tissue-massage.txt
Deep Tissue Massage

Body.
>>> articles/neck-pain.txt
Neck Pain

Body.
>>> articles/joint-manipulation.txt
Joint Manipulation for Back and Neck Pain

Body.
>>> articles/sports-massage.txt
Athletic Recovery

Matched by its slug.
>>> articles/aaa-sports.txt
---
title: Aaa Sports
aliases: sports massage
---
Matched by an alias only.
>>> articles/zz-cupping.txt
---
title: Zz Cupping
aliases: cupping therapy
---
Matched by an alias.
>>> articles/aa-cupping.txt
Cupping Therapy

Matched by its title only.
>>> articles/zz-needling.txt
Dry Needling

Matched by its whole title.
>>> articles/aa-needling.txt
Dry Needling for Athletes

Matched by the first words of its title.
>>> articles/m-hot-stone.txt
Hot Stone Massage

First words.
>>> articles/k-hot-stone.txt
Hot Stone Therapy

First words too, and first alphabetically.
>>> articles/decompression.txt
Spinal Decompression Therapy

First words.
--- request
GET /treatments/links
--- response_body
<h1>Link Rules</h1>
<p>A relaxing <a href="/treatments/deep-tissue-massage">deep tissue massage</a> helps.</p>
<p>Try joint manipulation for back and <a href="/treatments/neck-pain">neck pain</a> now.</p>
<p>Ask about <a href="/treatments/sports-massage">sports massage</a> today.</p>
<p>Ask about <a href="/treatments/zz-cupping">cupping therapy</a> today.</p>
<p>Ask about <a href="/treatments/zz-needling">dry needling</a> today.</p>
<p>Ask about <a href="/treatments/k-hot-stone">hot stone</a> today.</p>
<p>Ask about <a href="/treatments/decompression">spinal decompression</a> today.</p>
<p>For your neck, pain relief.</p>
<p>Book a <a href="/treatments/massage">massage</a> therapy session.</p>
<p>We call it “<a href="/treatments/zz-needling">dry needling</a>” here.</p>
<p>See <a href="/treatments/neck-pain">Neck-PAIN</a> and (<a href="/treatments/neck-pain">neck pain</a>) too.</p>
<p>See link rules for itself.</p>
<p>Also reflexology may help.</p>
<footer>links</footer>
--- no_error_log
[error]



=== TEST 7: [LINK] in Markdown: never in code, never across emphasis, links point into the articles location
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /care/ { clinic_articles; }
--- user_files
>>> t.html
<h1>{{title}}</h1>
{{content}}<footer>{{slug}}</footer>
>>> articles/recovery.md
# Recovery

Use `[LINK]` in code; spinal decompression [LINK] links and *deep tissue* massage [LINK] does not reach back past emphasis.

    indented code [LINK]
>>> articles/spinal-decompression.txt
Spinal Decompression

Body.
>>> articles/deep-tissue-massage.txt
Deep Tissue Massage

Body.
--- request
GET /care/recovery
--- response_body
<h1>Recovery</h1>
<p>Use <code>[LINK]</code> in code; <a href="/care/spinal-decompression">spinal decompression</a> links and <em>deep tissue</em> massage does not reach back past emphasis.</p>
<pre><code>indented code [LINK]
</code></pre>
<footer>recovery</footer>
--- no_error_log
[error]



=== TEST 8: the built-in layout: <title>, meta description, canonical link, MedicalWebPage JSON-LD, one <h1>
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
--- user_files
>>> articles/joint-manipulation.txt 202611261000.00
---
summary: Gentle, precise movement of a stiff joint & what to expect.
---
Joint Manipulation <for> Back Pain

The body.
--- request eval
["GET /treatments/joint-manipulation", "GET /treatments/joint-manipulation",
 "GET /treatments/joint-manipulation", "GET /treatments/joint-manipulation",
 "GET /treatments/joint-manipulation"]
--- response_body_like eval
[qr{<title>Joint Manipulation &lt;for&gt; Back Pain \x{e2}\x{80}\x{93} localhost</title>},
 qr{<meta name="description" content="Gentle, precise movement of a stiff joint &amp; what to expect.">},
 qr{<link rel="canonical" href="https://localhost/treatments/joint-manipulation">},
 qr{<script type="application/ld\+json">\{"\@context":"https://schema.org","\@type":"MedicalWebPage","name":"Joint Manipulation \\u003cfor\\u003e Back Pain","headline":"Joint Manipulation \\u003cfor\\u003e Back Pain","description":"Gentle, precise movement of a stiff joint \\u0026 what to expect.","url":"https://localhost/treatments/joint-manipulation","dateModified":"2026-11-26T10:00:00Z","publisher":\{"\@type":"MedicalClinic","name":"localhost"\}\}</script>},
 qr{\A(?!(?s:.*)<h1(?s:.*)<h1)(?s:.*)<h1>Joint Manipulation &lt;for&gt; Back Pain</h1>\n<p>The body.</p>}]
--- no_error_log
[error]



=== TEST 9: the canonical link uses the first server_name, never the Host header
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name northside-chiro.example www.northside-chiro.example;
        clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
        clinic_content $TEST_NGINX_HTML_DIR/articles;
        location /treatments/ { clinic_articles; }
    }
--- config
    location = /ping { return 200; }
--- user_files
>>> articles/neck-pain.txt
Neck Pain

Body.
--- more_headers
Host: www.northside-chiro.example
--- request
GET /treatments/neck-pain
--- response_body_like
<link rel="canonical" href="https://northside-chiro\.example/treatments/neck-pain">
--- no_error_log
[error]



=== TEST 10: clinic_base_url sets the canonical link and the JSON-LD url
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_base_url https://www.clinic.example/;
    location /treatments/ { clinic_articles; }
--- user_files
>>> articles/neck-pain.txt
Neck Pain

Body.
--- request eval
["GET /treatments/neck-pain", "GET /treatments/neck-pain"]
--- response_body_like eval
[qr{<link rel="canonical" href="https://www\.clinic\.example/treatments/neck-pain">},
 qr{"url":"https://www\.clinic\.example/treatments/neck-pain"}]
--- no_error_log
[error]



=== TEST 11: the prefix lists the articles by title, with links and summaries
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files
>>> t.html
<title>{{title}}</title>
<h1>{{title}}</h1>
{{content}}<footer>{{slug}}</footer>
>>> articles/a-zz.txt
Zone Therapy

Reflex points & more.
>>> articles/b-aa.txt
Acupressure

Pressure points.
>>> articles/c-mm.md
---
summary: Set in the front matter.
---
# Massage <Basics>

Body.
>>> articles/Not-A-Slug.txt
Ignored

Not an article: the file name is not a slug.
>>> articles/notes.html
<p>Ignored too.</p>
--- request
GET /treatments/
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body
<title>Treatments</title>
<h1>Treatments</h1>
<ul class="articles">
<li><a href="https://localhost/treatments/b-aa">Acupressure</a><p>Pressure points.</p></li>
<li><a href="https://localhost/treatments/c-mm">Massage &lt;Basics&gt;</a><p>Set in the front matter.</p></li>
<li><a href="https://localhost/treatments/a-zz">Zone Therapy</a><p>Reflex points &amp; more.</p></li>
</ul>
<footer></footer>
--- no_error_log
[error]



=== TEST 12: an unknown or malformed slug is a 404 page in the template, never a 500
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /treatments/ { clinic_articles; }
--- user_files
>>> t.html
<h1>{{title}}</h1>
{{content}}<footer>tenant {{tenant}}</footer>
>>> articles/neck-pain.txt
Neck Pain

Body.
--- request eval
["GET /treatments/no-such-article", "GET /treatments/Neck-Pain",
 "GET /treatments/neck-pain.txt", "GET /treatments/neck-pain/",
 "GET /treatments/-neck-pain", "GET /treatments/neck%20pain"]
--- error_code eval
[404, 404, 404, 404, 404, 404]
--- response_headers eval
["Content-Type: text/html; charset=utf-8", "Content-Type: text/html; charset=utf-8",
 "Content-Type: text/html; charset=utf-8", "Content-Type: text/html; charset=utf-8",
 "Content-Type: text/html; charset=utf-8", "Content-Type: text/html; charset=utf-8"]
--- response_body_like eval
[qr{\A<h1>[^<]+</h1>\n(?s:.*)<footer>tenant localhost</footer>\n\z},
 qr{<footer>tenant localhost</footer>}, qr{<footer>tenant localhost</footer>},
 qr{<footer>tenant localhost</footer>}, qr{<footer>tenant localhost</footer>},
 qr{<footer>tenant localhost</footer>}]
--- error_log
clinic: no article at
--- no_error_log
[error]



=== TEST 12a: the 404 page in the built-in layout: a link to the listing, no JSON-LD claiming a page
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
--- user_files
>>> articles/neck-pain.txt
Neck Pain

Body.
--- request
GET /treatments/no-such-article
--- error_code: 404
--- response_body_like eval
qr{\A(?:(?!ld\+json).)*<h1>Page not found</h1>(?:(?!ld\+json).)*\z}s
--- error_log
clinic: no article at
--- no_error_log
[error]



=== TEST 13: HEAD answers the headers of GET without a body
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
--- user_files
>>> articles/neck-pain.txt 202611261000.00
Neck Pain

Body.
--- request
HEAD /treatments/neck-pain
--- response_headers_like
Content-Type: text/html; charset=utf-8
Last-Modified: Thu, 26 Nov 2026 10:00:00 GMT
ETag: "[0-9a-f]{32}"
X-Clinic-Cache: (?:MISS|HIT|REDIS)
--- response_body
--- no_error_log
[error]



=== TEST 14: other methods answer 405 with Allow
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    location /treatments/ { clinic_articles; }
--- user_files
>>> articles/neck-pain.txt
Neck Pain

Body.
--- request eval
["POST /treatments/neck-pain\nname=x", "DELETE /treatments/neck-pain", "PUT /treatments/"]
--- error_code eval
[405, 405, 405]
--- response_headers eval
["Allow: GET, HEAD", "Allow: GET, HEAD", "Allow: GET, HEAD"]
--- no_error_log
[error]



=== TEST 15: a custom template: every placeholder, values escaped except content and jsonld
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/custom.html;
    clinic_name "Harbour <Massage> & Co";
    clinic_contact_url /contact?from=article&x=1;
    location /massage/ { clinic_articles; }
--- user_files
>>> custom.html
<html><head><title>{{ title }} | {{clinic_name}}</title>
<meta name="description" content="{{summary}}">
<link rel="canonical" href="{{canonical}}">
{{jsonld}}</head>
<body data-tenant="{{tenant}}" data-slug="{{slug}}" data-updated="{{updated}}">
<a href="{{list_url}}">all</a> <a href="{{contact_url}}">contact</a>
<h1>{{title}}</h1>
{{content}}</body></html>
>>> articles/hot-cold.txt 202611261000.00
---
title: Heat & Ice "Therapy"
summary: When to use <heat>, when to use ice.
---
The body & soul.
--- request
GET /massage/hot-cold
--- response_body
<html><head><title>Heat &amp; Ice &quot;Therapy&quot; | Harbour &lt;Massage&gt; &amp; Co</title>
<meta name="description" content="When to use &lt;heat&gt;, when to use ice.">
<link rel="canonical" href="https://localhost/massage/hot-cold">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"MedicalWebPage","name":"Heat \u0026 Ice \"Therapy\"","headline":"Heat \u0026 Ice \"Therapy\"","description":"When to use \u003cheat\u003e, when to use ice.","url":"https://localhost/massage/hot-cold","dateModified":"2026-11-26T10:00:00Z","publisher":{"@type":"MedicalClinic","name":"Harbour \u003cMassage\u003e \u0026 Co"}}</script></head>
<body data-tenant="localhost" data-slug="hot-cold" data-updated="2026-11-26T10:00:00Z">
<a href="/massage/">all</a> <a href="/contact?from=article&amp;x=1">contact</a>
<h1>Heat &amp; Ice &quot;Therapy&quot;</h1>
<p>The body &amp; soul.</p>
</body></html>
--- no_error_log
[error]
