# Content folders and templates watched by the kernel (docs/caching.md,
# "How soon a change shows"): with inotify an edit shows at once, however
# long clinic_revalidate is, and a node looks at the disk only when
# something changed; with clinic_watch off (or where the kernel cannot
# watch) the folder is looked at once per clinic_revalidate interval.
#
# The blocks after a block with --- config run against its nginx; the
# folder lives outside the server root so that it survives them.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

use File::Temp ();
use Time::HiRes ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

ClinicTest::redis_start();

our $Dir = File::Temp::tempdir('clinic-watch-XXXXXX', TMPDIR => 1,
                               CLEANUP => 1);
mkdir "$Dir/articles" or die "$Dir/articles: $!";
mkdir "$Dir/tpl" or die "$Dir/tpl: $!";
$ENV{TEST_NGINX_CONTENT} = "$Dir/articles";
$ENV{TEST_NGINX_TEMPLATE} = "$Dir/tpl/page.html";

our $Clock = time - 86400;

# writes a file with a fresh mtime, as an editor would: a new file renamed
# over the old one
sub put {
    my ($file, $text) = @_;
    open my $fh, '>', "$file.tmp" or die "$file.tmp: $!";
    print $fh $text;
    close $fh;
    $Clock += 60;
    utime $Clock, $Clock, "$file.tmp" or die "utime $file.tmp: $!";
    rename "$file.tmp", $file or die "rename $file: $!";
}

sub article { put("$Dir/articles/$_[0]", $_[1]) }

# the error log's lines since mark() that say the disk was looked at
sub mark {
    $main::Mark = -s Test::Nginx::Util::server_root() . '/logs/error.log';
}

sub looked_since_mark {
    my $log = Test::Nginx::Util::server_root() . '/logs/error.log';
    open my $fh, '<', $log or die "$log: $!";
    seek $fh, $main::Mark, 0;
    return scalar grep { /is looked at on disk/ } <$fh>;
}

sub reset_content {
    unlink glob("$Dir/articles/*");
    article('massage.txt', "Massage\n\nVersion one.\n");
    put($ENV{TEST_NGINX_TEMPLATE}, "<h1>{{title}}</h1>\n{{content}}");
    ClinicTest::redis_cmd('FLUSHALL');
}

# the template must be there when nginx reads its configuration
reset_content();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: watched: the starting point, with an interval of an hour
--- init
main::reset_content();
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    clinic_revalidate 1h;
    location /treatments/ { clinic_articles; }
--- request
GET /treatments/massage
--- response_body
<h1>Massage</h1>
<p>Version one.</p>
--- error_log
is looked at on disk (first use)



=== TEST 2: watched: an edit shows at once, not an hour later
--- init
main::article('massage.txt', "Massage\n\nVersion two.\n");
Time::HiRes::sleep(0.05);
--- request
GET /treatments/massage
--- response_body
<h1>Massage</h1>
<p>Version two.</p>
--- response_headers
X-Clinic-Cache: MISS
--- error_log
is looked at on disk (changed)



=== TEST 3: watched: nothing changed, so the disk is not looked at
--- init
main::mark();
--- request eval
["GET /treatments/massage", "GET /treatments/massage", "GET /treatments/"]
--- response_headers_like eval
["X-Clinic-Cache: HIT", "X-Clinic-Cache: HIT", "X-Clinic-Cache: \\w+"]



=== TEST 4: watched: an added article is listed at once
--- init
Test::More::is(main::looked_since_mark(), 0, 'TEST 3 did not look at the disk');
main::article('cupping.txt', "Cupping\n\nSuction cups.\n");
Time::HiRes::sleep(0.05);
--- request
GET /treatments/cupping
--- response_body
<h1>Cupping</h1>
<p>Suction cups.</p>



=== TEST 5: watched: a removed article is a 404 at once
--- init
unlink "$main::Dir/articles/cupping.txt" or die;
Time::HiRes::sleep(0.05);
--- request
GET /treatments/cupping
--- error_code: 404



=== TEST 6: watched: the template's folder too
--- init
main::put($ENV{TEST_NGINX_TEMPLATE}, "<h2>{{title}}</h2>\n{{content}}");
Time::HiRes::sleep(0.05);
--- request
GET /treatments/massage
--- response_body
<h2>Massage</h2>
<p>Version two.</p>



=== TEST 6a: watched: a file that is not served (not UTF-8) ...
--- init
main::article('bad.txt', "Bad\n\nBroken \xff\xfe bytes.\n");
Time::HiRes::sleep(0.05);
--- request
GET /treatments/bad
--- error_code: 404



=== TEST 6b: ... fixed in place (the folder's listing unchanged) shows at once
--- init
open my $fh, '+<', "$main::Dir/articles/bad.txt" or die;
print $fh "Bad\n\nFixed  ok bytes.\n";
close $fh;
Time::HiRes::sleep(0.05);
--- request
GET /treatments/bad
--- response_body
<h2>Bad</h2>
<p>Fixed  ok bytes.</p>



=== TEST 7: the folder removed and made again: watched again, edits still show
--- init
unlink glob("$main::Dir/articles/*");
rmdir "$main::Dir/articles" or die "rmdir: $!";
Time::HiRes::sleep(0.05);
mkdir "$main::Dir/articles" or die;
main::article('massage.txt', "Massage\n\nVersion three.\n");
--- request
GET /treatments/massage
--- response_body
<h2>Massage</h2>
<p>Version three.</p>



=== TEST 8: polled (clinic_watch off): the starting point
--- init
main::reset_content();
--- http_config
    clinic_watch off;
--- config
    clinic_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    clinic_content $TEST_NGINX_CONTENT;
    clinic_template $TEST_NGINX_TEMPLATE;
    clinic_revalidate 300ms;
    location /treatments/ { clinic_articles; }
--- request
GET /treatments/massage
--- response_body
<h1>Massage</h1>
<p>Version one.</p>



=== TEST 9: polled: within the interval an edit does not show yet
--- init
main::article('massage.txt', "Massage\n\nVersion two.\n");
main::mark();
--- request
GET /treatments/massage
--- response_body
<h1>Massage</h1>
<p>Version one.</p>



=== TEST 10: polled: after the interval it does
--- init
Test::More::is(main::looked_since_mark(), 0, 'TEST 9 did not look at the disk');
Time::HiRes::sleep(0.4);
--- request
GET /treatments/massage
--- response_body
<h1>Massage</h1>
<p>Version two.</p>
--- error_log
is looked at on disk (interval)



=== TEST 11: clinic_watch takes on or off
--- http_config
    clinic_watch maybe;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in "clinic_watch" directive, it must be "on" or "off"/



=== TEST 12: clinic_watch is a node's setting, in http only
--- config
    clinic_watch off;
--- must_die
--- error_log eval
qr/\[emerg\] .*"clinic_watch" directive is not allowed here in .*nginx\.conf:\d+/
