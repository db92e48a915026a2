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
#
#   gen.pl scale N DIR
#       bench/scale.sh's tenants: DIR/tI/SLUG.txt for I = 1..N, five
#       articles each (4.5 to 7 KB as pages, cross-linked with [LINK]
#       markers), every file dated 2026-01-01 so that pages do not depend
#       on when they were written; prints the slugs, one a line.
#
#   gen.pl scale-html N PAGES WWW
#       the plain side of bench/scale.sh: PAGES holds tenant t1's pages as
#       the module serves them (PAGES/SLUG); writes WWW/tI/treatments/SLUG
#       for I = 1..N, with t1's names ("t1.example", "Clinic 1") replaced
#       by tenant I's: byte for byte what the module serves tenant I.
#
#   gen.pl touch PORT WORKERS N SLUG...
#       requests every tenant's every article (Host: tI.example) once
#       through each of WORKERS nginx workers: a keep-alive connection per
#       worker (told apart by GET /pid on the default server, which
#       answers the worker's $pid), 50 requests pipelined at a time, the
#       workers in parallel; prints "PID requests 200s" a line.
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
} elsif ($cmd eq 'scale') {
    scale(@ARGV);
} elsif ($cmd eq 'scale-html') {
    scale_html(@ARGV);
} elsif ($cmd eq 'touch') {
    touch_all(@ARGV);
} else {
    die "usage: gen.pl article TARGET FILE | returnconf NAME FILE MAPS"
        . " | ports N | scale N DIR | scale-html N PAGES WWW"
        . " | touch PORT WORKERS N SLUG...\n";
}


sub article {
    my ($target, $file) = @_;

    write_file($file, article_text($target));
}


# article_text TARGET [TITLE OFFSET LINKS]: the article's text; OFFSET
# varies which sentences and headings it uses, LINKS is a paragraph put
# after the first one (or none)
sub article_text {
    my ($target, $title, $offset, $links) = @_;
    $title //= 'Sports Massage: A Complete Guide';
    $offset //= 0;

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

    my @out = ($title, '');
    my $size = $overhead;
    my ($p, $h) = (0, $offset);

    for (;;) {
        my $head = ($p > 0 && $p % 5 == 0) ? $headings[$h % @headings] : undef;
        my @s;
        for my $j (0 .. 3) {
            push @s, $sentences[($p * 5 + $j * 3 + $offset) % @sentences];
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
        if ($p == 1 && defined $links) {
            push @out, $links, '';
            $size += length($links) + 8;
        }
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

    return join("\n", @out);
}


sub write_file {
    my ($file, $bytes) = @_;
    open(my $fh, '>:raw', $file) or die "$file: $!\n";
    print $fh $bytes;
    close($fh) or die "$file: $!\n";
}


# the five articles of every bench/scale.sh tenant:
# [slug, title, page bytes, offset, links] (a sub: the commands above run
# before a file-level "my" here would be assigned)
sub scale_articles {
    return (
    ['sports-massage', 'Sports Massage: A Complete Guide', 4500, 0,
     'Many athletes also ask about deep tissue massage [LINK] and dry needling [LINK] for stubborn knots.'],
    ['joint-manipulation', 'Joint Manipulation for Back and Neck Pain', 6000, 3,
     'Stiff backs are sometimes treated by something like joint manipulation [LINK] or spinal decompression [LINK], but not always.'],
    ['spinal-decompression', 'Spinal Decompression Therapy', 5000, 5,
     'It is often combined with joint manipulation [LINK] and gentle sports massage [LINK] over a few weeks.'],
    ['deep-tissue-massage', 'Deep Tissue Massage', 7000, 2,
     'If you train hard, read about sports massage [LINK] before your first visit.'],
    ['dry-needling', 'Dry Needling for Muscle Pain', 5500, 7,
     'Dry needling [LINK] works well next to deep tissue massage [LINK] for trigger points.'],
    );
}

sub scale {
    my ($n, $dir) = @_;
    die "usage: gen.pl scale N DIR\n" unless $n && $n =~ /^[0-9]+$/ && $dir;

    my $stamp = 1767225600;    # 2026-01-01 00:00 UTC
    my @texts = map { [$_->[0], article_text($_->[2], $_->[1], $_->[3], $_->[4])] }
                scale_articles();

    mkdir $dir;
    for my $i (1 .. $n) {
        my $d = "$dir/t$i";
        mkdir $d or die "$d: $!\n";
        for my $a (@texts) {
            write_file("$d/$a->[0].txt", $a->[1]);
            utime($stamp, $stamp, "$d/$a->[0].txt") or die "$d: $!\n";
        }
        utime($stamp, $stamp, $d) or die "$d: $!\n";
    }
    print "$_->[0]\n" for @texts;
}


sub scale_html {
    my ($n, $pages, $www) = @_;
    my %page;

    for my $a (scale_articles()) {
        open(my $fh, '<:raw', "$pages/$a->[0]") or die "$pages/$a->[0]: $!\n";
        local $/;
        $page{$a->[0]} = <$fh>;
        close($fh);
    }

    mkdir $www;
    for my $i (1 .. $n) {
        mkdir "$www/t$i" or die "$www/t$i: $!\n";
        mkdir "$www/t$i/treatments" or die "$www/t$i/treatments: $!\n";
        for my $slug (sort keys %page) {
            my $html = $page{$slug};
            $html =~ s/(?<![0-9a-z.-])t1\.example/t$i.example/g;
            $html =~ s/Clinic 1(?![0-9])/Clinic $i/g;
            write_file("$www/t$i/treatments/$slug", $html);
        }
    }
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


# --- touch: every tenant's every article through every worker -----------

sub http_connect {
    my ($port) = @_;
    require IO::Socket::INET;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Proto => 'tcp');
    return $sock || die "connect 127.0.0.1:$port: $!\n";
}

# read_response SOCK BUFREF: the next response's status and body, or
# an empty list at EOF
sub read_response {
    my ($sock, $buf) = @_;
    my $end;
    until (($end = index($$buf, "\r\n\r\n")) >= 0) {
        sysread($sock, $$buf, 65536, length $$buf) or return;
    }
    my $head = substr($$buf, 0, $end + 4, '');
    my ($status) = $head =~ m{^HTTP/1\.[01] ([0-9]{3})};
    my ($len) = $head =~ /^Content-Length: *([0-9]+)/mi;
    $len //= 0;
    while (length($$buf) < $len) {
        sysread($sock, $$buf, 65536, length $$buf) or return;
    }
    return ($status, substr($$buf, 0, $len, ''));
}

# connect_to PORT PID: a connection to worker PID ("" for any); returns
# (socket, pid)
sub connect_to {
    my ($port, $want) = @_;
    for (1 .. 1000) {
        my $sock = http_connect($port);
        my $buf = '';
        syswrite($sock, "GET /pid HTTP/1.1\r\nHost: pid\r\n\r\n");
        my ($status, $body) = read_response($sock, \$buf);
        my ($pid) = ($body // '') =~ /([0-9]+)/;
        next unless $pid;
        return ($sock, $pid) if $want eq '' || $pid eq $want;
        close($sock);
    }
    die "no connection to nginx worker $want on port $port\n";
}

sub touch_all {
    my ($port, $workers, $n, @slugs) = @_;
    die "usage: gen.pl touch PORT WORKERS N SLUG...\n" unless @slugs;
    my (%pids, @kids);

    for (1 .. 1000) {
        last if keys %pids == $workers;
        my ($sock, $pid) = connect_to($port, '');
        close($sock);
        $pids{$pid} = 1;
    }
    die "found " . (keys %pids) . " of $workers workers\n"
        unless keys %pids == $workers;

    my @urls;
    for my $i (1 .. $n) {
        push @urls, map { "GET /treatments/$_ HTTP/1.1\r\nHost: t$i.example\r\n\r\n" } @slugs;
    }

    $| = 1;
    for my $pid (sort keys %pids) {
        my $kid = fork() // die "fork: $!\n";
        if ($kid) { push @kids, $kid; next; }

        my ($sock) = connect_to($port, $pid);
        my ($next, $ok, $buf) = (0, 0, '');
        while ($next < @urls) {
            my $last = $next + 49 < $#urls ? $next + 49 : $#urls;
            syswrite($sock, join('', @urls[$next .. $last]));
            while ($next <= $last) {
                my ($status) = read_response($sock, \$buf);
                unless (defined $status) {
                    # keepalive_requests reached: again, from $next
                    ($sock) = connect_to($port, $pid);
                    $buf = '';
                    last;
                }
                $ok++ if $status eq '200';
                $next++;
            }
        }
        print "$pid $next $ok\n";
        exit 0;
    }
    for (@kids) {
        waitpid($_, 0);
        die "touch failed\n" if $?;
    }
}
