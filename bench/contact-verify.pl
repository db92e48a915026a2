#!/usr/bin/perl
# bench/contact-verify.pl: counts, in a tenant's submissions stream, the
# entries that bench/contact.sh's wrk scripts stored, by their tags. Speaks
# RESP itself; no modules beyond perl-base.
#
#   contact-verify.pl [--after ID] HOST:PORT STREAM RUN [THREAD=SENT ...]
#
# reads the entries after stream id ID (all of them without --after). The
# wrk scripts (bench/contact-wrk.lua) put "Bench Patient RUN/T/N" in
# each submission's name: thread T's N-th POST of run RUN. Prints:
#
#   entries N      entries read (after ID)
#   run N          entries of this run
#   unique N       distinct tags among them
#   duplicates N   entries of this run beyond the first of their tag
#   unknown N      entries of this run whose tag was never sent (a thread
#                  not listed, or N outside 1..SENT); only with THREAD=SENT
#   missing N      tags sent (1..SENT of each thread) without an entry;
#                  only with THREAD=SENT
#
# and exits 0; it exits 2 when it cannot read the stream.
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;

my $after;
GetOptions('after=s' => \$after) or usage();

my ($addr, $stream, $run, @sent) = @ARGV;
usage() unless defined $run;

my %sent;
for (@sent) {
    /^(\d+)=(\d+)$/ or die "contact-verify.pl: bad THREAD=SENT \"$_\"\n";
    $sent{$1} = $2;
}

my $redis = IO::Socket::INET->new(PeerAddr => $addr, Timeout => 10)
    or fail("cannot connect to $addr: $!");

my ($entries, $ours, $dups, $unknown) = (0, 0, 0, 0);
my %seen;
my $start = defined $after ? "($after" : '-';

# pages of 10000, each starting after the last id of the one before
for (;;) {
    my $page = command('XRANGE', $stream, $start, '+', 'COUNT', 10000);
    last unless @$page;

    for my $entry (@$page) {
        my ($id, $pairs) = @$entry;
        my %f = @$pairs;

        $entries++;
        $start = "($id";

        my $name = $f{name} // '';
        next unless $name =~ m{^Bench Patient \Q$run\E/(\d+)/(\d+)$};

        my ($t, $n) = ($1, $2);
        $ours++;
        $dups++ if $seen{"$t/$n"}++;

        if (%sent && (!exists $sent{$t} || $n < 1 || $n > $sent{$t})) {
            $unknown++;
        }
    }
}

my $missing = 0;
for my $t (keys %sent) {
    for my $n (1 .. $sent{$t}) {
        $missing++ unless $seen{"$t/$n"};
    }
}

print "entries $entries\n";
print "run $ours\n";
print "unique ", scalar(keys %seen), "\n";
print "duplicates $dups\n";
if (%sent) {
    print "unknown $unknown\n";
    print "missing $missing\n";
}
exit 0;


sub usage {
    die "usage: contact-verify.pl [--after ID] HOST:PORT STREAM RUN"
        . " [THREAD=SENT ...]\n";
}

sub fail {
    print STDERR "contact-verify.pl: @_\n";
    exit 2;
}

sub command {
    my $req = '*' . scalar(@_) . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @_;
    print $redis $req or fail("write: $!");
    my $reply = reply();
    fail("$_[0]: $$reply") if ref $reply eq 'SCALAR';
    return $reply;
}

# one RESP2 reply: an array as an array ref, an error as a scalar ref
sub reply {
    my $line = <$redis>;
    fail('connection closed') unless defined $line;
    $line =~ s/\r\n\z//;
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    if ($type eq '+' || $type eq ':') {
        return $rest;
    }
    if ($type eq '-') {
        return \$rest;
    }
    if ($type eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length($buf) < $rest + 2) {
            my $got = read($redis, $buf, $rest + 2 - length($buf),
                           length($buf));
            fail("read: $!") unless $got;
        }
        return substr($buf, 0, $rest);
    }
    if ($type eq '*') {
        return [] if $rest < 0;
        return [map { reply() } 1 .. $rest];
    }
    fail("unexpected reply \"$line\"");
}
