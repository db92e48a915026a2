# The contact page (docs/api.md, "The contact page"): GET and HEAD render
# the form into the tenant's template; a browser's mistakes, thank-you and
# error answers are pages of the same template, a JSON client keeps JSON;
# {{contact_url}}, {{clinic_name}}, {{clinic_phone}}, {{articles_url}} on
# every page.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;
use File::Temp ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

our $Spool = File::Temp::tempdir('clinic-spool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 01777, $Spool;
$ENV{TEST_NGINX_SPOOL} = $Spool;

our $Stream = 'clinic:{localhost}:submissions';

# a block with a config always gets a fresh nginx and its own user_files
add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    $block->set_value('config', "$config\n    # " . $block->name . "\n")
        if defined $config;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: GET renders the form into the built-in layout, then serves it from L1
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- request eval
["GET /contact", "GET /contact"]
--- error_code eval
[200, 200]
--- response_headers_like eval
["Content-Type: text/html; charset=utf-8\nX-Clinic-Cache: MISS\nCache-Control: public, no-cache",
 "X-Clinic-Cache: HIT\nETag: \"[0-9a-f]{32}\""]
--- response_body_like eval
[qr{^<!DOCTYPE html>\n.*<title>Contact us \x{e2}\x{80}\x{93} localhost</title>\n.*"\@type":"ContactPage".*<h1>Contact us</h1>\n.*<form id="contact-form" method="post" action="/contact">\n.*<button type="submit" id="contact-submit">Send message</button>.*</html>\n$}s,
 qr{<form id="contact-form" method="post" action="/contact">}]
--- no_error_log
[error]



=== TEST 2: the default fields: labels, input types, required and maxlength, no honeypot
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- request
GET /contact
--- response_body_like eval
qr{<form id="contact-form" method="post" action="/contact">
<div class="field">
<label for="field-name">Name <span class="req">\(required\)</span></label>
<input type="text" name="name" id="field-name" maxlength="200" required autocomplete="name" value="">
</div>
<div class="field">
<label for="field-email">Email <span class="req">\(required\)</span></label>
<input type="email" name="email" id="field-email" maxlength="254" required autocomplete="email" value="">
</div>
<div class="field">
<label for="field-phone">Phone</label>
<input type="tel" name="phone" id="field-phone" maxlength="32" autocomplete="tel" value="">
</div>
<div class="field">
<label for="field-message">Message <span class="req">\(required\)</span></label>
<textarea name="message" id="field-message" rows="6" maxlength="5000" required></textarea>
</div>
<p><button type="submit" id="contact-submit">Send message</button></p>
</form>
}
--- no_error_log
[error]



=== TEST 3: declared fields: their order, names as labels, types, limits (1000 unless max=), a textarea for long text
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_field full_name required max=80;
    clinic_contact_field email required type=email;
    clinic_contact_field phone type=phone;
    clinic_contact_field postcode max=10 "pattern=[A-Za-z0-9 ]+";
    clinic_contact_field notes max=2000;
    location = /book { clinic_contact; }
--- request
GET /book
--- response_body_like eval
qr{<form id="contact-form" method="post" action="/book">
<div class="field">
<label for="field-full_name">Full name <span class="req">\(required\)</span></label>
<input type="text" name="full_name" id="field-full_name" maxlength="80" required value="">
</div>
<div class="field">
<label for="field-email">Email <span class="req">\(required\)</span></label>
<input type="email" name="email" id="field-email" maxlength="1000" required autocomplete="email" value="">
</div>
<div class="field">
<label for="field-phone">Phone</label>
<input type="tel" name="phone" id="field-phone" maxlength="1000" autocomplete="tel" value="">
</div>
<div class="field">
<label for="field-postcode">Postcode</label>
<input type="text" name="postcode" id="field-postcode" maxlength="10" value="">
</div>
<div class="field">
<label for="field-notes">Notes</label>
<textarea name="notes" id="field-notes" rows="6" maxlength="2000"></textarea>
</div>
<p><button}



=== TEST 4: the honeypot is off screen, out of the tab order and hidden from screen readers
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_honeypot website;
    location = /contact { clinic_contact; }
--- request
GET /contact
--- response_body_like eval
qr{\.clinic-contact \.hp\{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden\}.*</div>
<div class="hp" aria-hidden="true"><label for="hp-website">Leave this field empty</label><input type="text" name="website" id="hp-website" value="" tabindex="-1" autocomplete="off"></div>
<p><button type="submit" id="contact-submit">}s



=== TEST 5: the clinic's name (escaped), its phone and the Contact us link in the header
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_name "Smith & Jones <Physio>";
    clinic_phone "+44 (0)161 496 0000";
    location = /contact { clinic_contact; }
--- request
GET /contact
--- response_body_like eval
qr{<title>Contact us \x{e2}\x{80}\x{93} Smith &amp; Jones &lt;Physio&gt;</title>
.*"publisher":\{"\@type":"MedicalClinic","name":"Smith \\u0026 Jones \\u003cPhysio\\u003e","telephone":"\+44 \(0\)161 496 0000"\}.*
<header><div class="w"><a class="home" href="/">Smith &amp; Jones &lt;Physio&gt;</a>
<nav aria-label="Contact"><a id="contact-link" href="/contact">Contact us</a><a class="phone" href="tel:\+441614960000">\+44 \(0\)161 496 0000</a></nav></div></header>
.*<p class="intro">Send us a message and we will get back to you soon\. Prefer to talk\? Call us on <a class="phone" href="tel:\+441614960000">\+44 \(0\)161 496 0000</a>\.</p>}s



=== TEST 6: HEAD: the page's headers, no body
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- request
HEAD /contact
--- error_code: 200
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body



=== TEST 7: another method: 405 with Allow, a page for a browser
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Accept: text/html,application/xhtml+xml,*/*;q=0.8
--- request
PUT /contact
name=x
--- error_code: 405
--- response_headers
Allow: GET, HEAD, POST
Content-Type: text/html; charset=utf-8
--- response_body_like: <h1>Contact us</h1>\n<div class="clinic-notice" id="contact-error">\n<p>This address shows the contact form and takes the messages sent with it\.</p>\n<p><a href="/contact">Back to the contact form</a></p>\n</div>



=== TEST 8: ... and JSON for a JSON client
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request
PUT /contact
{}
--- error_code: 405
--- response_headers
Allow: GET, HEAD, POST
--- response_body
{"error":{"status":405,"message":"method not allowed"}}



=== TEST 9: a browser's mistakes: the form again, values kept and escaped, each message by its field, a summary on top
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_honeypot website;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=nope%22%3E&phone=call+me&message=Line+one%0D%0ALine+%22two%22+%26+more&website=
--- error_code: 422
--- response_headers
Cache-Control: no-store
Content-Type: text/html; charset=utf-8
--- response_body_like eval
qr{<h1>Contact us</h1>
.*<div class="clinic-contact">
<div id="error-summary" role="alert" tabindex="-1">
<h2>Please check the form</h2>
<ul>
<li><a href="\#field-email">Email must be a valid email address</a></li>
<li><a href="\#field-phone">Phone must be a valid phone number</a></li>
</ul>
</div>
<p class="intro">Send us a message and we will get back to you soon\.</p>
<form id="contact-form" method="post" action="/contact">
<div class="field">
<label for="field-name">Name <span class="req">\(required\)</span></label>
<input type="text" name="name" id="field-name" maxlength="200" required autocomplete="name" value="&lt;script&gt;alert\(1\)&lt;/script&gt;">
</div>
<div class="field">
<label for="field-email">Email <span class="req">\(required\)</span></label>
<input type="email" name="email" id="field-email" maxlength="254" required autocomplete="email" aria-invalid="true" aria-describedby="error-email" autofocus value="nope&quot;&gt;">
<p id="error-email" class="field-error">Email must be a valid email address</p>
</div>
<div class="field">
<label for="field-phone">Phone</label>
<input type="tel" name="phone" id="field-phone" maxlength="32" autocomplete="tel" aria-invalid="true" aria-describedby="error-phone" value="call me">
<p id="error-phone" class="field-error">Phone must be a valid phone number</p>
</div>
<div class="field">
<label for="field-message">Message <span class="req">\(required\)</span></label>
<textarea name="message" id="field-message" rows="6" maxlength="5000" required>Line one
Line &quot;two&quot; &amp; more</textarea>
</div>
<div class="hp" aria-hidden="true"><label for="hp-website">Leave this field empty</label><input type="text" name="website" id="hp-website" value="" tabindex="-1" autocomplete="off"></div>
}s
--- no_error_log
[error]



=== TEST 10: a value that is too long is kept, a required one missing is flagged
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_contact_field name required max=5;
    clinic_contact_field message required;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=Alexandra
--- error_code: 422
--- response_body_like eval
qr{<li><a href="\#field-name">Name must be at most 5 characters</a></li>
<li><a href="\#field-message">Message is required</a></li>
.*<input type="text" name="name" id="field-name" maxlength="5" required autocomplete="name" aria-invalid="true" aria-describedby="error-name" autofocus value="Alexandra">
<p id="error-name" class="field-error">Name must be at most 5 characters</p>
.*<textarea name="message" id="field-message" rows="6" maxlength="1000" required aria-invalid="true" aria-describedby="error-message"></textarea>
<p id="error-message" class="field-error">Message is required</p>}s



=== TEST 11: a JSON client's mistakes stay JSON
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: application/json
--- request
POST /contact
name=A&email=nope&message=hi
--- error_code: 422
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body
{"error":{"status":422,"message":"validation failed","fields":[{"field":"email","message":"must be a valid email address"}]}}



=== TEST 12: success without clinic_contact_redirect: the thank-you page, and the message is stored
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_name "Northside Chiropractic";
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=Ann&email=ann%40example.com&message=Stiff+neck
--- error_code: 200
--- response_headers
Cache-Control: no-store
--- response_body_like eval
qr{<title>Message sent \x{e2}\x{80}\x{93} Northside Chiropractic</title>.*<h1>Message sent</h1>
<div class="clinic-notice" id="thank-you">
<p>Thank you, we have received your message and will get back to you soon\.</p>
</div>
}s
--- no_error_log
[error]



=== TEST 13: ... which is in the stream
--- init
die "not stored" unless ClinicTest::redis_cmd('XLEN', $main::Stream) == 1;
--- config
    location = /t { return 200 "checked\n"; }
--- request
GET /t
--- response_body
checked



=== TEST 14: a queued (spooled, 202) submission shows the same thank-you page
--- init
ClinicTest::redis_stop();
--- http_config
    clinic_spool $TEST_NGINX_SPOOL;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=Bo&email=bo%40example.com&message=Queued
--- error_code: 200
--- response_body_like: <div class="clinic-notice" id="thank-you">\n<p>Thank you, we have received your message



=== TEST 15: Redis and the spool both fail: a 503 page with the clinic's phone
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    clinic_phone "+44 161 496 0000";
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=Cy&email=cy%40example.com&message=Hello
--- error_code: 503
--- response_headers
Cache-Control: no-store
--- response_body_like eval
qr{<h1>Message not sent</h1>
<div class="clinic-notice" id="contact-error">
<p>Sorry, your message could not be sent right now\.</p>
<p id="call-us">Please call us on <a class="phone" href="tel:\+441614960000">\+44 161 496 0000</a>\.</p>
</div>
}
--- error_log
could not be stored



=== TEST 16: ... without clinic_phone, the 503 page asks to call the clinic
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /contact
name=Cy&email=cy%40example.com&message=Hello
--- error_code: 503
--- response_body_like: <p id="call-us">Please call the clinic\.</p>
--- error_log
could not be stored



=== TEST 17: ... and a JSON client still gets JSON
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=200ms;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: application/json
--- request
POST /contact
{"name":"Cy","email":"cy@example.com","message":"Hello"}
--- error_code: 503
--- response_body
{"error":{"status":503,"message":"your message could not be sent right now; please call the clinic instead"}}
--- error_log
could not be stored



=== TEST 18: an unsupported body type: a 415 page for a browser
--- init
ClinicTest::redis_cont();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- more_headers
Content-Type: text/plain
--- request
POST /contact
name=Ann
--- error_code: 415
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body_like: <h1>Message not sent</h1>\n<div class="clinic-notice" id="contact-error">\n<p>Please send your message with the form on this page\.</p>\n<p><a href="/contact">Back to the contact form</a></p>



=== TEST 19: the rate limit: a 429 page with Retry-After and the phone
--- init
ClinicTest::redis_cmd('FLUSHDB');
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_phone "0161 496 0000";
    location = /contact { clinic_contact; clinic_contact_limit client=1/1m; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /contact\r\nname=A&email=a%40example.com&message=one",
 "POST /contact\r\nname=A&email=a%40example.com&message=two"]
--- error_code eval
[200, 429]
--- response_headers_like eval
["", "Retry-After: [1-6]?[0-9]"]
--- response_body_like eval
[qr/id="thank-you"/,
 qr{<h1>Too many messages</h1>\n<div class="clinic-notice" id="contact-error">\n<p>Too many messages were sent in a short time\. Please try again later\.</p>\n<p id="call-us">Please call us on <a class="phone" href="tel:01614960000">0161 496 0000</a>\.</p>}]



=== TEST 20: another site's form: a 403 page for a browser, JSON for a JSON client
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- request eval
["POST /contact\r\nname=A&email=a%40example.com&message=x",
 "POST /contact\r\n{\"name\":\"A\",\"email\":\"a\@example.com\",\"message\":\"x\"}"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded\nOrigin: https://evil.example",
 "Content-Type: application/json\nOrigin: https://evil.example"]
--- error_code eval
[403, 403]
--- response_body_like eval
[qr{<h1>Message not sent</h1>\n<div class="clinic-notice" id="contact-error">\n<p>This form can only be sent from the clinic&#39;s own website\.</p>},
 qr{^\{"error":\{"status":403,"message":"this form can only be sent from the clinic's own site"\}\}$}]



=== TEST 21: a body over client_max_body_size, with error_page 413 to the form: a 413 page
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact {
        clinic_contact;
        client_max_body_size 64;
        error_page 413 /contact;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /contact\r\nname=A&email=a%40example.com&message=" . ("x" x 200)
--- error_code: 413
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body_like: <h1>Message too long</h1>\n<div class="clinic-notice" id="contact-error">\n<p>Your message was too long to send\. Please shorten it and try again\.</p>
--- error_log
client intended to send too large body



=== TEST 22: ... and JSON for a JSON client
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact {
        clinic_contact;
        client_max_body_size 64;
        error_page 413 /contact;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /contact\r\n{\"message\":\"" . ("x" x 200) . "\"}"
--- error_code: 413
--- response_body
{"error":{"status":413,"message":"request body too large"}}
--- error_log
client intended to send too large body



=== TEST 22a: without an error_page of the operator's, the module sends the 413 to the form by itself
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact {
        clinic_contact;
        client_max_body_size 64;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /contact\r\nname=A&email=a%40example.com&message=" . ("x" x 200)
--- error_code: 413
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body_like: <h1>Message too long</h1>
--- error_log
client intended to send too large body



=== TEST 22b: ... and an operator's own error_page 413 wins
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    error_page 413 /too-big;
    location = /too-big { return 413 "operator's own page\n"; }
    location = /contact {
        clinic_contact;
        client_max_body_size 64;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /contact\r\nname=A&email=a%40example.com&message=" . ("x" x 200)
--- error_code: 413
--- response_body
operator's own page
--- error_log
client intended to send too large body



=== TEST 23: the clinic's own template: the form in it, placeholders filled and escaped
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_name "A&B Clinic";
    clinic_phone "0161 496 0000";
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location = /book { clinic_contact; }
--- user_files
>>> t.html
<title>{{title}} | {{clinic_name}}</title>
<nav><a href="{{articles_url}}">Home</a> <a id="contact-link" href="{{contact_url}}">Contact us</a> {{clinic_phone}} {{clinic_phone_link}}</nav>
<h1>{{title}}</h1>
{{content}}
--- request
GET /book
--- response_body_like eval
qr{^<title>Contact us \| A&amp;B Clinic</title>
<nav><a href="/">Home</a> <a id="contact-link" href="/book">Contact us</a> 0161 496 0000 <a class="phone" href="tel:01614960000">0161 496 0000</a></nav>
<h1>Contact us</h1>
<style>
.*<form id="contact-form" method="post" action="/book">
.*</form>
</div>
$}s



=== TEST 24: article pages get the placeholders too; {{contact_url}} defaults to the contact location
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_name "Harbour <Massage>";
    clinic_phone "+44 117 496 0123";
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_template $TEST_NGINX_HTML_DIR/t.html;
    location /massage/ { clinic_articles; }
    location = /book { clinic_contact; }
--- user_files
>>> t.html
<h1>{{title}}</h1>
{{content}}
<p>{{clinic_name}}|{{clinic_phone}}|{{contact_url}}|{{articles_url}}|{{list_url}}</p>
>>> articles/sports-massage.md
# Sports Massage

Helps recovery.
--- request
GET /massage/sports-massage
--- error_code: 200
--- response_body
<h1>Sports Massage</h1>
<p>Helps recovery.</p>

<p>Harbour &lt;Massage&gt;|+44 117 496 0123|/book|/massage/|/massage/</p>



=== TEST 25: the built-in layout of article pages: the header links the contact page and the phone
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    clinic_phone "+44 117 496 0123";
    clinic_content $TEST_NGINX_HTML_DIR/articles;
    clinic_contact_url "/book?from=site&x=1";
    location /massage/ { clinic_articles; }
    location = /book { clinic_contact; }
--- user_files
>>> articles/sports-massage.md
# Sports Massage

Helps recovery.
--- request
GET /massage/sports-massage
--- response_body_like eval
qr{<nav aria-label="Contact"><a id="contact-link" href="/book\?from=site&amp;x=1">Contact us</a><a class="phone" href="tel:\+441174960123">\+44 117 496 0123</a></nav>.*<a class="btn" href="/book\?from=site&amp;x=1">Contact us</a>}s



=== TEST 26: the contact page's own layout has no call to action pointing at itself
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=$TEST_NGINX_REDIS_TIMEOUT;
    location = /contact { clinic_contact; }
--- request
GET /contact
--- response_body_unlike: class="cta"
