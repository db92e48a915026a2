# The module's layers (docs/architecture.md, "Layers"): every file of
# ngx_clinic_module/ is in the table at the top of docs/architecture.md
# with its rung, and every #include of one of our headers and every call
# into another of our objects (read from the built objects with nm) points
# to a lower rung. Two files on one rung never use each other: handlers
# call down, never sideways. A plain Test::More script: it runs the same
# under either Test::Nginx runner.
use strict;
use warnings;
use Test::More;
use File::Basename qw(basename);

my $src = 'ngx_clinic_module';
my $doc = 'docs/architecture.md';
my $objdir = $ENV{CLINIC_OBJ_DIR}
             || 'build/nginx/objs/addon/ngx_clinic_module';

# the table: "| rung | layer | file | purpose |"; a file is "X.[ch]" (both
# on the rung), or "X.h" or "X.c" alone: a header of types may sit lower
# than the functions it declares
open my $fh, '<', $doc or die "$doc: $!";
my (%rung, %rung_h, %rung_c);
while (<$fh>) {
    next unless /^\|\s*(\d+)\s*\|\s*\w+\s*\|\s*`?(ngx_http_clinic_\w+)(\.\[ch\]|\.[ch])`?\s*\|/;
    my ($n, $u, $ext) = ($1, $2, $3);
    $rung_h{$u} = $n if $ext ne '.c';
    $rung_c{$u} = $n if $ext ne '.h';
    $rung{$u} = $n;
}
close $fh;
ok(scalar(keys %rung) > 10, "the layer table in $doc has the files")
    or BAIL_OUT("no layer table in $doc");

# the types every file shares, and the module object itself, are exempt:
# nginx's API needs the module object everywhere (ngx_http_get_module_*)
my %exempt_header = ('ngx_http_clinic_module' => 1);
my %exempt_symbol = ('ngx_http_clinic_module' => 1);

my @files = sort glob("$src/*.[ch]");

sub rung_of {    # "dir/X.c" or "dir/X.h"
    my ($f) = @_;
    my ($u, $ext) = basename($f) =~ /^(\w+)\.([ch])$/;
    return $ext eq 'h' ? $rung_h{$u} : $rung_c{$u};
}

for my $f (@files) {
    ok(defined rung_of($f), basename($f) . " is in the layer table")
        or diag("add it to the table at the top of $doc");
}
for my $u (sort keys %rung) {
    ok(-e "$src/$u.c" || -e "$src/$u.h", "$u in the table exists in $src/");
}

# includes
for my $f (@files) {
    my $from = rung_of($f);
    next unless defined $from;
    (my $u = basename($f)) =~ s/\.[ch]$//;
    open my $in, '<', $f or die "$f: $!";
    while (<$in>) {
        next unless /^#include\s+"(ngx_http_clinic_\w+)\.h"/;
        my $to = $1;
        next if $to eq $u || $exempt_header{$to};
        ok(defined $rung_h{$to} && $rung_h{$to} < $from,
           "include: " . basename($f) . " (rung $from) -> $to.h (rung "
           . ($rung_h{$to} // '?') . ")");
    }
    close $in;
}

# calls and data references, from the objects
SKIP: {
    my @objs = glob("$objdir/*.o");
    skip "no objects in $objdir (run make)", 1 unless @objs;
    my (%def, %undef);
    for my $o (@objs) {
        (my $u = basename($o)) =~ s/\.o$//;
        for (`nm $o`) {
            if (/^\s+U (ngx_http_clinic_\w+)$/) {
                push @{ $undef{$u} }, $1;
            } elsif (/^[0-9a-f]+ [TDBR] (ngx_http_clinic_\w+)$/) {
                $def{$1} = $u;
            }
        }
    }
    my $edges = 0;
    for my $u (sort keys %undef) {
        my %seen;
        for my $sym (@{ $undef{$u} }) {
            next if $exempt_symbol{$sym};
            my $to = $def{$sym} or next;
            next if $seen{"$to $sym"}++;
            $edges++;
            ok(defined $rung_c{$u} && defined $rung_c{$to}
               && $rung_c{$to} < $rung_c{$u},
               "call: $u.c (rung " . ($rung_c{$u} // '?') . ") -> $sym in"
               . " $to.c (rung " . ($rung_c{$to} // '?') . ")");
        }
    }
    ok($edges > 10, "the objects reference each other ($edges edges checked)");
}

done_testing();
