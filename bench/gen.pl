#!/usr/bin/perl
# Helpers for bench/run.sh; no modules beyond perl-base.
#
#   gen.pl article TARGET FILE
#       writes a plain-text article whose rendered page (default template)
#       is about TARGET bytes: title, then paragraphs and headings, ASCII
#       only, nothing the renderer escapes, no "$" (see "returnconf").
#
#   gen.pl returnconf NAME FILE MAPS
#       for answering with exactly the bytes of FILE through "return 200":
#       a configuration token is at most 4096 bytes (NGX_CONF_BUFFER), so
#       the bytes are split into chunks of at most 4000 escaped bytes, each
#       the value of a constant "map" written to MAPS (http level); prints
#       the string for "return 200", which concatenates the map variables.
#
#   gen.pl ports N
#       prints N free loopback TCP ports, one a line.
use strict;
use warnings;

my $cmd = shift @ARGV // '';

if ($cmd eq 'article') {
    my ($target, $file) = @ARGV;
    article($target, $file);
} elsif ($cmd eq 'returnconf') {
    my ($name, $file, $maps) = @ARGV;
    returnconf($name, $file, $maps);
} elsif ($cmd eq 'ports') {
    ports($ARGV[0]);
} else {
    die "usage: gen.pl article TARGET FILE | returnconf NAME FILE MAPS"
        . " | ports N\n";
}


sub article {
    my ($target, $file) = @_;

    # what the default template and the page's head (title, description,
    # JSON-LD) add around the article's HTML: about 2.5 KB; run.sh reports
    # the exact size served
    my $overhead = 2500;

    my @sentences = (
        'Sports massage works on the muscles and tendons that take the most load in training.',
        'Your therapist first asks about your sport, your training week and any pain you have noticed.',
        'Most sessions last between forty-five and sixty minutes and start with a short assessment.',
        'Pressure is adjusted to what you find comfortable, and you can ask for less at any time.',
        'Firm strokes along the length of a muscle help it relax and move more freely.',
        'Slower, deeper work is used on knots and tight bands that limit your range of movement.',
        'Many people feel loose and light afterwards, and a little tired later in the day.',
        'Drink some water, keep warm and avoid a hard session for the rest of the day.',
        'Mild soreness for a day or two is normal after deeper work and fades on its own.',
        'Regular sessions in a heavy training block can help you recover between hard efforts.',
        'Before an event the massage is short and brisk, meant to warm up rather than relax.',
        'After an event the work is gentle and aims to calm the muscles and ease stiffness.',
        'Tell your therapist about injuries, recent surgery, blood clots or skin problems.',
        'If something hurts in a sharp or unusual way, say so and the technique will be changed.',
        'Stretching and simple mobility exercises at home make the effect of each session last longer.',
        'Your therapist may suggest a plan of a few sessions and check how you respond to each one.',
    );
    my @headings = (
        'What Happens During a Session',
        'Who Can Benefit',
        'How Often Should You Come',
        'Before and After an Event',
        'Looking After Yourself Afterwards',
        'When to Be Careful',
        'What It Feels Like',
        'Working With Your Training Plan',
    );

    my @out = ('Sports Massage: A Complete Guide', '');
    my $size = $overhead;
    my ($p, $h) = (0, 0);

    for (;;) {
        my $head = ($p > 0 && $p % 5 == 0) ? $headings[$h % @headings] : undef;
        my @s;
        for my $j (0 .. 3) {
            push @s, $sentences[($p * 5 + $j * 3) % @sentences];
        }
        my $para = join(' ', @s);
        my $cost = length($para) + 8                       # <p>...</p>\n
                   + (defined $head ? length($head) + 10 : 0);  # <h2>

        last if $size + $cost > $target;

        if (defined $head) {
            push @out, $head, '';
            $h++;
        }
        push @out, $para, '';
        $size += $cost;
        $p++;
    }

    # a last, shorter paragraph of whole words brings it within a few bytes
    my $need = $target - $size - 8;
    if ($need > 130) {
        my @words = split / /, join(' ', @sentences);
        my $para = shift @words;
        while (@words && length($para) + 1 + length($words[0]) < $need) {
            $para .= ' ' . shift @words;
        }
        $para =~ s/[.,]?$/./;
        push @out, $para, '';
    }

    open(my $fh, '>', $file) or die "$file: $!\n";
    print $fh join("\n", @out);
    close($fh) or die "$file: $!\n";
}


sub returnconf {
    my ($name, $file, $maps) = @_;

    open(my $fh, '<:raw', $file) or die "$file: $!\n";
    local $/;
    my $bytes = <$fh>;
    close($fh);

    die "$file holds a \"\$\": nginx would read it as a variable\n"
        if index($bytes, '$') >= 0;

    open(my $out, '>:raw', $maps) or die "$maps: $!\n";

    my @vars;
    my $pos = 0;
    my $len = length($bytes);

    while ($pos < $len) {
        my $n = 4000;
        my $chunk;

        for (;;) {
            $chunk = esc(substr($bytes, $pos, $n));
            last if length($chunk) <= 4000;
            $n -= 100;
        }

        my $var = "bench_${name}_" . scalar(@vars);
        print $out "map \"\" \$$var {\n    default \"$chunk\";\n}\n";
        push @vars, "\$$var";
        $pos += $n;
    }

    close($out) or die "$maps: $!\n";

    print join('', @vars), "\n";
}


sub esc {
    my ($s) = @_;
    $s =~ s/\\/\\\\/g;
    $s =~ s/"/\\"/g;
    return $s;
}


sub ports {
    my ($n) = @_;
    require IO::Socket::INET;
    my @socks;

    for (1 .. $n) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Listen => 1,
                                      Proto => 'tcp')
            or die "cannot get a free port: $!\n";
        push @socks, $s;
    }

    print $_->sockport, "\n" for @socks;
}
