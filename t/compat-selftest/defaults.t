# Checks the checks every block gets from t/lib/ClinicTest.pm (no [alert],
# [emerg] or sanitizer report in the error log, while a block runs and when
# its nginx stops; docs/testing.md): runs a generated .t file in a child
# perl, under whichever Test::Nginx::Socket this one uses, and inspects its
# TAP.  The "reports" are lines the blocks append to the error log
# themselves, so stock nginx does.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $dir = tempdir(CLEANUP => 1);
my $file = "$dir/defaults.t";
open my $out, '>', $file or die "$file: $!";
print $out <<'_EOT_';
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use ClinicTest;

Test::More::diag("runner version $Test::Nginx::Socket::VERSION");

sub logged {
    open my $fh, '>>', $Test::Nginx::Util::ErrLogFile or die $!;
    print $fh "2026/01/01 00:00:00 @_\n";
    close $fh;
}

# runs before TEST 8 starts, so before TEST 7's nginx is stopped
add_block_preprocessor(sub {
    my $block = shift;
    logged('==1==ERROR: LeakSanitizer: detected memory leaks')
        if $block->name =~ /^TEST 8:/;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an [alert] fails a block
--- config
    location = /t { return 200 "t\n"; }
--- init
main::logged('[alert] 1#1: selftest alert');
--- request
GET /t
--- response_body
t



=== TEST 2: a report of AddressSanitizer fails a block
--- config
    location = /t { return 200 "t\n"; }
--- init
main::logged('==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1');
--- request
GET /t
--- response_body
t



=== TEST 3: a report of UBSan fails a block
--- config
    location = /t { return 200 "t\n"; }
--- init
main::logged('x.c:1:1: runtime error: null pointer passed as argument 2');
--- request
GET /t
--- response_body
t



=== TEST 4: --- allow_error_log lets an [alert] through
--- config
    location = /t { return 200 "t\n"; }
--- init
main::logged('[alert] 1#1: selftest alert');
--- request
GET /t
--- response_body
t
--- allow_error_log
[alert]



=== TEST 5: an [alert] the block expects is no failure
--- config
    location = /t { return 200 "t\n"; }
--- init
main::logged('[alert] 1#1: selftest alert');
--- request
GET /t
--- response_body
t
--- error_log eval
qr/\[alert\] .*selftest alert/



=== TEST 6: the block's own patterns stay
--- config
    location = /t { return 200 "t\n"; }
--- init
main::logged('[info] 1#1: selftest own pattern');
--- request
GET /t
--- response_body
t
--- no_error_log eval
["selftest own pattern"]



=== TEST 7: a leak reported at the exit fails the block
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t



=== TEST 8: a clean block passes
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t
_EOT_
close $out;

my %env = %ENV;
delete @ENV{grep { /^TEST_NGINX_/ && !/^TEST_NGINX_(?:BINARY|RANDOMIZE)$/ }
            keys %ENV};
$ENV{TEST_NGINX_SERVROOT} = "$dir/servroot";
my $tap = `"$^X" "$file" 2>&1`;
my $status = $? >> 8;
%ENV = %env;

my @not_ok = $tap =~ /^not ok \d+ - (.*)$/mg;
my @ok = $tap =~ /^ok \d+ - (.*)$/mg;
my ($version) = $tap =~ /runner version (\S+)/;

my $fails = sub {
    my ($test, $re, $desc) = @_;
    ok((grep { /\Q$test:\E/ && $_ =~ $re } @not_ok), $desc) or diag($tap);
};
my $passes = sub {
    my ($test, $desc) = @_;
    is(scalar(grep { /\Q$test:\E/ } @not_ok), 0, $desc) or diag($tap);
};

isnt($status, 0, 'the file exits non-zero');
$fails->('TEST 1', qr/"\[alert\]" should not match/, 'an [alert] fails');
$fails->('TEST 2', qr/"ERROR: AddressSanitizer" should not match/,
        'an AddressSanitizer report fails');
$fails->('TEST 3', qr/"runtime error:" should not match/,
        'a UBSan report fails');
$passes->('TEST 4', '--- allow_error_log exempts a block');
$passes->('TEST 5', 'an [alert] in --- error_log exempts a block');
$fails->('TEST 6', qr/"selftest own pattern" should not match/,
        "the block's own pattern is kept");
ok((grep { /TEST 6: .*"\[emerg\]" does not match/ } @ok),
   'next to the defaults') or diag($tap);

SKIP: {
    # before 0.31 the real runner checks --- no_shutdown_error_log only
    # next to --- shutdown_error_log
    skip "Test::Nginx::Socket $version skips --- no_shutdown_error_log", 1
        if defined $version && $version =~ /^(\d+\.\d+)$/ && $1 < 0.31;
    $fails->('TEST 7', qr/"ERROR: LeakSanitizer" should not match/,
            'a leak reported when nginx stops fails the block');
}

$passes->('TEST 8', 'a clean block passes');

open my $pg, '-|', 'pgrep', '-f', '--', "-p $dir/servroot/" or die "pgrep: $!";
my $left = do { local $/; <$pg> } // '';
close $pg;
is($left, '', 'no nginx left running');

done_testing();
