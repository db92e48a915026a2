#!/usr/bin/perl
# t/unit/test_text.c (cmocka) as TAP; the binary comes from "make unit"
my $bin = 'build/unit/test_text';
-x $bin or die "$bin is missing: run make unit\n";
$ENV{CMOCKA_MESSAGE_OUTPUT} = 'TAP';
$ENV{UBSAN_OPTIONS} ||= 'halt_on_error=1:print_stacktrace=1';
exec $bin or die "cannot run $bin: $!\n";
