#!/usr/bin/perl

# Runs the form parser/validator unit tests (t/unit/test_form.c, cmocka)
# under prove: cmocka prints TAP when CMOCKA_MESSAGE_OUTPUT=TAP.

use strict;
use warnings;

use FindBin;

my $bin = "$FindBin::Bin/../../build/unit/test_form";

die "$bin is missing: run make unit\n" unless -x $bin;

$ENV{CMOCKA_MESSAGE_OUTPUT} = "TAP";

exec $bin or die "cannot exec $bin: $!\n";
