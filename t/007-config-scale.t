# Configuration time grows linearly with the number of tenants (issue 12,
# docs/operations.md, "Capacity"): "nginx -t" of N and of 2N tenants, each
# beside the same server blocks served as plain files, in one run.  No
# absolute time is asserted: the module's cost relative to plain nginx at
# 2N must stay what it is at N.  A quadratic step (each tenant compared
# with every earlier one, as the duplicate-tenant check once did) makes
# the ratio grow with N and fails this test.
#
# A plain Test::More script, run in the plain pass only: the sanitizer
# build's timings say nothing about the packaged module's.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time);

plan skip_all => 'timings of the sanitizer build are not the module\'s'
    if $ENV{TEST_CLINIC_ASAN};

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $module = $ENV{TEST_NGINX_LOAD_MODULES}
             || "$ENV{PWD}/build/ngx_http_clinic_module.so";
plan skip_all => "no module at $module (run make)" unless -f $module;

my $n = $ENV{TEST_CLINIC_SCALE_N} || 8000;
my $dir = tempdir(CLEANUP => 1);

# one content folder for all: "nginx -t" reads none of them, it only
# checks that the folder is there
mkdir "$dir/content" or die;

sub conf {
    my ($tenants, $clinic) = @_;
    my $file = "$dir/" . ($clinic ? 'clinic' : 'plain') . "-$tenants.conf";
    open my $fh, '>', $file or die "$file: $!";
    print $fh "load_module $module;\n" if $clinic;
    print $fh "error_log $dir/error.log;\npid $dir/nginx.pid;\n",
              "events { worker_connections 64; }\nhttp {\n",
              "access_log off;\n";
    print $fh "clinic_cache_zone 8m;\n" if $clinic;
    for my $i (1 .. $tenants) {
        my $names = "t$i.example www.t$i.example";
        if ($clinic) {
            print $fh "server { listen 127.0.0.1:9; server_name $names; ",
                "clinic_content $dir/content; ",
                "location /treatments/ { clinic_articles; } ",
                "location = /contact { clinic_contact; } }\n";
        } else {
            print $fh "server { listen 127.0.0.1:9; server_name $names; ",
                "root $dir/content; ",
                "location /treatments/ { } ",
                "location = /contact { } }\n";
        }
    }
    print $fh "}\n";
    close $fh;
    return $file;
}

# the fastest of three runs: the least disturbed by whatever else runs
sub t_check {
    my ($file) = @_;
    my $best;
    for (1 .. 3) {
        my $t0 = time;
        my $out = `$nginx -t -p $dir -c $file 2>&1`;
        my $t = time - $t0;
        die "nginx -t $file failed:\n$out" if $?;
        $best = $t if !defined $best || $t < $best;
    }
    return $best;
}

my %r;
for my $tenants ($n, 2 * $n) {
    my $plain = t_check(conf($tenants, 0));
    my $clinic = t_check(conf($tenants, 1));
    $r{$tenants} = $clinic / $plain;
    diag(sprintf "%d tenants: nginx -t %.2f s, plain %.2f s, %.2fx",
                 $tenants, $clinic, $plain, $r{$tenants});
}

my $growth = $r{2 * $n} / $r{$n};
cmp_ok($growth, '<', 1.25,
       "the module's share of nginx -t does not grow with the tenants "
       . sprintf("(%.2fx at %d, %.2fx at %d)", $r{$n}, $n,
                 $r{2 * $n}, 2 * $n));

# the duplicate check still works, and names the first place
my $dup = "$dir/dup.conf";
open my $fh, '>', $dup or die;
print $fh "load_module $module;\nerror_log $dir/error.log;\n",
          "pid $dir/nginx.pid;\nevents { }\nhttp {\n";
for my $i (1 .. 3) {
    print $fh "server { server_name t$i.example; ",
              "clinic_content $dir/content; }\n";
}
print $fh "server { server_name T2.example; clinic_content $dir/content; }\n",
          "}\n";
close $fh;
my $out = `$nginx -t -p $dir -c $dup 2>&1`;
isnt($?, 0, 'a tenant named twice fails nginx -t');
my $want = "duplicate clinic tenant \"t2.example\" in $dup:9, "
           . "already used in $dup:7";
like($out, qr/\Q$want\E/, 'and names both places');

done_testing();
