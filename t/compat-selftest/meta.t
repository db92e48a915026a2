# Checks that the compat Test::Nginx::Socket runner FAILS when it should:
# runs a generated .t file of broken blocks in a child perl and inspects
# its TAP.  Only meaningful for the compat runner (t/compat/).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Spec;
use Cwd qw(getcwd);

my $compat = File::Spec->rel2abs('t/compat');
plan skip_all => 'compat runner not on @INC (real Test::Nginx in use)'
    unless -f "$compat/Test/Nginx/Util.pm"
        && grep { File::Spec->rel2abs($_) eq $compat } @INC;

my $dir = tempdir(CLEANUP => 1);
my $file = "$dir/broken.t";
open my $out, '>', $file or die "$file: $!";
print $out <<'_EOT_';
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: misspelled section
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- respone_body
t



=== TEST 2: section only the real runner knows
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- tcp_listen: 12345



=== TEST 3: sections the real runner would silently ignore
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t
--- response_body_like: t



=== TEST 4: wrong body and wrong status
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- error_code: 404
--- response_body
u



=== TEST 5: error_log pattern absent, no_error_log pattern present
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- error_log
this text is not in the error log
--- no_error_log
http finalize request



=== TEST 6: nginx fails to start without must_die
--- config
    location = /t { bogus_directive_xyz; }
--- request
GET /t



=== TEST 7: undefined TEST_NGINX_ variable
--- config
    location = /t { root $TEST_NGINX_NO_SUCH_VAR; }
--- request
GET /t



=== TEST 8: client timeout without --- abort
--- config
    location = /slow {
        root html;
        limit_rate_after 250;
        limit_rate 1;
    }
--- user_files eval
[["slow" => "a" x 1000]]
--- request
GET /slow
--- timeout: 200ms
--- response_body_like: a



=== TEST 9: must_die but nginx starts fine
--- config
    location = /t { return 200; }
--- must_die



=== TEST 10: eval error in a section
--- config
    location = /t { return 200; }
--- request eval
"GET /t" . (
--- response_body



=== TEST 11: a passing block after all that
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t
_EOT_
close $out;

my %env = %ENV;
delete @ENV{grep { /^TEST_NGINX_/ && !/^TEST_NGINX_BINARY$/ } keys %ENV};
$ENV{TEST_NGINX_SERVROOT} = "$dir/servroot";
my $tap = `"$^X" -I"$compat" "$file" 2>&1`;
my $status = $? >> 8;
%ENV = %env;

my @not_ok = $tap =~ /^not ok \d+ - (.*)$/mg;
my @ok = $tap =~ /^ok \d+ - (.*)$/mg;
my $fails = sub {
    my ($test, $re, $desc) = @_;
    ok((grep { /\Q$test:\E/ && $_ =~ $re } @not_ok), $desc)
        or diag($tap);
};

isnt($status, 0, 'the broken file exits non-zero');
$fails->('TEST 1', qr/unknown section\(s\): --- respone_body/, 'typo in a section name fails');
$fails->('TEST 2', qr/not supported by the compat runner: --- tcp_listen/, 'unsupported real-only section fails');
$fails->('TEST 3', qr/real Test::Nginx ignores --- response_body_like/, 'conflicting sections fail');
$fails->('TEST 4', qr/status code ok/, 'wrong status fails');
$fails->('TEST 4', qr/response_body - response is expected/, 'wrong body fails');
$fails->('TEST 5', qr/should match a line in error\.log/, 'missing error_log pattern fails');
$fails->('TEST 5', qr/should not match any line in error\.log/, 'present no_error_log pattern fails');
$fails->('TEST 6', qr/nginx failed to start: exited with status 1/, 'start failure fails');
like($tap, qr/bogus_directive_xyz/, 'start failure shows the nginx error');
$fails->('TEST 7', qr/No environment TEST_NGINX_NO_SUCH_VAR defined/, 'undefined env var fails');
ok((grep { /ERROR: client socket timed out - .*TEST 8:/ } @not_ok), 'timeout without abort fails');
$fails->('TEST 9', qr/die as expected/, 'must_die with a working config fails');
$fails->('TEST 10', qr/--- request eval: Perl error/, 'eval error in a section fails');
ok((grep { /TEST 11: .*response_body - response is expected/ } @ok),
   'a good block still passes after broken ones');
is(scalar(grep { /TEST 11:/ } @not_ok), 0, 'and nothing in it fails');
open my $pg, '-|', 'pgrep', '-f', '--', "-p $dir/servroot/" or die "pgrep: $!";
my $left = do { local $/; <$pg> } // '';
close $pg;
is($left, '', 'no nginx left running');

done_testing();
