# The documentation matches the module (docs/testing.md, "Docs check"):
#
#   * every directive with a "### clinic_..." section in docs/directives.md
#     is known to nginx with the module loaded (a configuration using it
#     does not fail with "unknown directive"), every clinic_* directive of
#     the module's command table has a section, and the index at the top
#     of the page lists exactly the sections;
#   * every nginx example in docs/*.md and README.md (a ```nginx block, or
#     an indented block whose lines are all nginx statements) passes
#     `nginx -t`: a complete configuration as it is, a fragment inside the
#     http {} and server {} it belongs in, with the files it names created
#     as placeholders in a temporary folder. A block preceded by
#     <!-- nginx-t: skip REASON --> is skipped with that reason.
#
# A plain Test::More script: it runs the same under either runner.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec ();
use File::Temp ();

my $root = File::Spec->rel2abs(__FILE__);
$root =~ s{/t/[^/]+$}{};
chdir $root or die "$root: $!";

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my @modules = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES}
                          || "$root/build/ngx_http_clinic_module.so");
plan(skip_all => "module not built: @modules (run make)")
    if grep { !-f $_ } @modules;
plan(skip_all => "no nginx at $nginx") unless -x $nginx;

my $tmp = File::Temp::tempdir('clinic-docs-XXXXXX', TMPDIR => 1);
END {
    my $passing = eval { Test::More->builder->is_passing } // 1;
    if ($passing && !$ENV{CLINIC_DOCS_KEEP}) {
        File::Path::rmtree($tmp) if $tmp && -d $tmp;
    } elsif ($tmp) {
        diag("kept $tmp (the configurations tried)");
    }
}
mkdir "$tmp/logs";
my $loads = join '', map { "load_module $_;\n" } @modules;
my $n_conf = 0;

# nginx -t on a configuration; returns (ok, output, file)
sub nginx_t {
    my ($conf) = @_;
    my $file = "$tmp/nginx-" . ++$n_conf . '.conf';
    open my $fh, '>', $file or die "$file: $!";
    print $fh $conf;
    close $fh;
    my $cmd = "'$nginx' -t -q -p '$tmp/' -c '$file' "
              . "-e '$tmp/logs/error.log' 2>&1";
    my $out = `$cmd`;
    return ($? == 0, $out, $file);
}

# ------------------------------------------------------------ directives

my $ref = 'docs/directives.md';
open my $fh, '<', $ref or die "$ref: $!";
my @ref = <$fh>;
close $fh;

my (%section, %index);
my $in_index = 0;
for my $i (0 .. $#ref) {
    $section{$1} = $i + 1 if $ref[$i] =~ /^### (clinic_\w+)\s*$/;
    $in_index = 1 if $ref[$i] =~ /^\s*\* \[Directives\]\(#directives\)/;
    $in_index = 0 if $in_index && $ref[$i] =~ /^\s*\* \[(?!Directives)/;
    if ($in_index) {
        $index{$1} = 1 while $ref[$i] =~ /\[(clinic_\w+)\]\(#\1\)/g;
    }
}
cmp_ok(scalar keys %section, '>', 10, "$ref has the directives' sections");

# the module's command table
my $src = 'ngx_clinic_module/ngx_http_clinic_module.c';
open $fh, '<', $src or die "$src: $!";
my $c = do { local $/; <$fh> };
close $fh;
my ($table) = $c =~ /ngx_command_t\s+ngx_http_clinic_commands\[\]\s*=\s*\{
                     (.*?)ngx_null_command/sx
    or BAIL_OUT("no command table in $src");
my %defined = map { $_ => 1 } $table =~ /ngx_string\("(clinic_\w+)"\)/g;
cmp_ok(scalar keys %defined, '>', 10, "$src defines the directives");

for my $d (sort keys %section) {
    # no arguments, in http {}: whatever else nginx says, it knows it
    my ($ok, $out) = nginx_t("$loads events {}\nhttp {\n    $d;\n}\n");
    unlike($out, qr/unknown directive "\Q$d\E"/,
           "$ref:$section{$d}: $d is a directive of the module");
}
for my $d (sort keys %defined) {
    ok($section{$d}, "$d (in $src) has a \"### $d\" section in $ref");
}
for my $d (sort keys %section) {
    ok($index{$d}, "$d is in the index at the top of $ref");
}
for my $d (sort keys %index) {
    ok($section{$d}, "the index of $ref links $d, which has a section");
}

# ------------------------------------------------------------ examples

# the examples: [file, line of the first line, text], and the skipped ones
sub examples {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    my @l = <$fh>;
    close $fh;
    my (@found, $fence, $skip);
    my $last = '';           # the last non-blank line outside a block
    for (my $i = 0; $i < @l; $i++) {
        my $line = $l[$i];
        if (defined $fence) {
            if ($line =~ /^```\s*$/) {
                push @{ $found[-1] }, $skip if @found && $fence eq 'nginx';
                undef $fence;
                undef $skip;
                $last = '```';
            } elsif ($fence eq 'nginx') {
                $found[-1][2] .= $line;
            }
            next;
        }
        if ($line =~ /^```(\w*)/) {
            $fence = $1;
            if ($fence eq 'nginx') {
                ($skip) = $last =~ /<!--\s*nginx-t:\s*skip\s+(.*?)\s*-->/;
                push @found, [$file, $i + 2, ''];
            }
            next;
        }
        # an indented block after a blank line, all of whose lines are
        # nginx statements (one clinic_ directive at least)
        if ($line =~ /^ {4}\S/ && $i > 0 && $l[$i - 1] =~ /^\s*$/) {
            my $j = $i;
            $j++ while $j < @l && ($l[$j] =~ /^ {4}/ || $l[$j] =~ /^\s*$/
                                   && $j + 1 < @l && $l[$j + 1] =~ /^ {4}/);
            my @b = @l[$i .. $j - 1];
            if (grep({ /\bclinic_\w+\s/ } @b)
                && !grep({ !/^\s*$/ && !/^\s*#/ && !/[;{}]\s*(#.*)?$/ } @b))
            {
                my ($sk) = $last =~ /<!--\s*nginx-t:\s*skip\s+(.*?)\s*-->/;
                push @found, [$file, $i + 1,
                              join('', map { s/^ {4}//r } @b), $sk];
            }
            $last = $l[$j - 1];
            $i = $j - 1;
            next;
        }
        $last = $line if $line =~ /\S/;
    }
    return @found;
}

# a fragment's top-level statements: [text, its first line (0-based)]
sub statements {
    my ($text) = @_;
    my (@st, $cur, $start, $depth, $q);
    ($cur, $depth, $start) = ('', 0, undef);
    my $line = 0;
    my @ch = split //, $text;
    for (my $i = 0; $i < @ch; $i++) {
        my $ch = $ch[$i];
        if (!defined $q && $ch eq '#') {
            $i++ while $i + 1 < @ch && $ch[$i + 1] ne "\n";
            next;
        }
        $start //= $line if $ch =~ /\S/;
        $cur .= $ch if defined $start;
        $line++ if $ch eq "\n";
        if (defined $q) {
            $i++, $cur .= $ch[$i] if $ch eq '\\' && $i + 1 < @ch;
            undef $q if $ch eq $q;
        } elsif ($ch eq '"' || $ch eq "'") {
            $q = $ch;
        } elsif ($ch eq '{') {
            $depth++;
        } elsif ($ch eq '}' || ($ch eq ';' && $depth == 0)) {
            $depth-- if $ch eq '}';
            if ($depth == 0) {
                push @st, [$cur, $start];
                ($cur, $start) = ('', undef);
            }
        }
    }
    return @st;
}

# placeholders for the files an example names: a folder, or a file by
# its extension
my %made;
my ($cert_ok, $cert, $key);

sub placeholder {
    my ($path) = @_;
    return if $made{$path}++;
    my ($ext) = $path =~ m{\.(\w+)$};
    if (!defined $ext) {
        make_path($path);
        return;
    }
    make_path(dirname($path));
    my $body = '';
    if ($ext =~ /^(token|pass)$/) {
        $body = "docs-check-placeholder-secret-0001\n";
    } elsif ($ext eq 'html') {
        $body = "<!DOCTYPE html>\n<title>{{title}}</title>\n{{content}}\n";
    } elsif ($ext =~ /^(pem|crt|key)$/) {
        unless (defined $cert_ok) {
            $cert = "$tmp/cert.pem";
            $key = "$tmp/cert.key";
            system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
                   . "-subj /CN=docs.example -keyout '$key' -out '$cert' "
                   . '>/dev/null 2>&1');
            $cert_ok = -s $cert ? 1 : 0;
        }
        if ($cert_ok) {
            open my $in, '<', $ext eq 'key' ? $key : $cert or die $!;
            $body = do { local $/; <$in> };
        }
    }
    open my $out, '>', $path or die "$path: $!";
    print $out $body;
    close $out;
}

# the rewrites every example gets (docs/testing.md, "Docs check")
sub rewrite {
    my ($text) = @_;
    $text =~ s/^\s*\.\.\.\s*$//mg;              # "..." marks elided lines
    $text =~ s/^\s*load_module\s[^;]*;//mg;     # the module under test
    # absolute paths of the file system go under the temporary folder
    $text =~ s{(?<![\w./-])(/(?:etc|srv|var|run|usr|opt|home|tmp)/[^\s;"'{}]*)}
              {placeholder("$tmp/fs$1"); "$tmp/fs$1"}ge;
    # nginx -t resolves the host of an upstream: the documentation's
    # reserved names (RFC 2606) stand for a local one
    $text =~ s{(\w+_pass\s+\w+://)[\w.-]+?\.(?:example\.(?:com|net|org)
                                           |example|test|invalid|localhost)
               (?![\w.-])}{${1}127.0.0.1}gx;
    return $text;
}

# where each statement goes: 3 main, 2 http, 1 server, 0 location; the
# server also gets what the module said it needs (@$needs)
sub compose {
    my ($st, $level, $needs) = @_;
    my (@out, %line_of);
    my $put = sub {
        my ($lvl, $indent) = @_;
        for my $k (grep { $level->[$_] == $lvl } 0 .. $#$st) {
            my @sl = split /\n/, $st->[$k][0];
            for my $n (0 .. $#sl) {
                $line_of{ scalar @out } = [$k, $n];
                push @out, "$indent$sl[$n]";
            }
        }
    };
    push @out, split(/\n/, $loads);
    $put->(3, '');
    push @out, 'events {}' unless grep { $_->[0] =~ /^events\b/ } @$st;
    if (grep { $_ < 3 } @$level) {
        push @out, 'http {';
        $put->(2, '    ');
        if (grep { $_ < 2 } @$level) {
            push @out, '    server {', '        server_name docs.example;',
                       map { "        $_" } @$needs;
            $put->(1, '        ');
            if (grep { $_ < 1 } @$level) {
                push @out, '        location /docs-check/ {';
                $put->(0, '            ');
                push @out, '        }';
            }
            push @out, '    }';
        }
        push @out, '}';
    }
    return (join("\n", @out) . "\n", \%line_of);
}

my ($checked, $skipped) = (0, 0);

for my $file ('README.md', sort glob('docs/*.md')) {
    for my $ex (examples($file)) {
        my ($f, $first, $text, $skip) = @$ex;
        if (defined $skip) {
            $skipped++;
            Test::More->builder->skip("$f:$first: $skip");
            next;
        }
        $checked++;
        my @st = statements(rewrite($text));
        my $complete = grep { $_->[0] =~ /^(http|events)\b/ } @st;
        my @level = map {
            $complete ? 3
            : $_->[0] =~ /^(server|map|upstream|geo|split_clients)\b/ ? 2
            : $_->[0] =~ /^(location|if)\b/ ? 1
            : 1
        } @st;

        my ($ok, $out, $conf, $line_of, @needs);
        for (1 .. 3 * @st + 4) {
            my $text;
            ($text, $line_of) = compose(\@st, \@level, \@needs);
            ($ok, $out, $conf) = nginx_t($text);
            last if $ok;
            # a fragment of a tenant: the server gets a placeholder for
            # what the module says it needs ("X" needs "clinic_content")
            if (!$complete && @needs < 4
                && $out =~ /\bneeds? "(clinic_\w+)" in (?:its|their) server/)
            {
                my $d = $1;
                my $path = "$tmp/fs/srv/docs-check/$d" . ($d =~ /_file$/
                                                          ? '.token' : '');
                placeholder($path);
                push @needs, "$d $path;";
                next;
            }
            # a directive in the wrong context moves out: server, http,
            # then into a location
            my ($gl) = $out =~ /is not allowed here in \S+:(\d+)/ or last;
            my $at = $line_of->{ $gl - 1 } or last;
            my $k = $at->[0];
            last if $complete || $level[$k] == 0;
            $level[$k] = $level[$k] == 1 ? 2 : 0;
            $level[$k] = 0 if $level[$k] == 2 && $st[$k][0] =~ /^location\b/;
        }

        # the line of the documentation an error names
        my $where = "$f:$first";
        if (!$ok && $out =~ /in \S+:(\d+)/) {
            my $at = $line_of->{ $1 - 1 };
            $where = "$f:" . ($first + $st[$at->[0]][1] + $at->[1]) if $at;
        }
        (my $msg = $out) =~ s/^nginx: //mg;
        ok($ok, "$f:$first: the example passes nginx -t")
            or diag("$where: $msg(configuration: $conf)");
    }
}

note("examples checked: $checked, skipped: $skipped");
cmp_ok($checked, '>', 20, 'the documentation has examples to check');

done_testing();
