# The demo is two believable clinic sites (docs/testing.md, "Demo crawl"):
# this starts the demo's own configuration, conf/demo.conf, rewritten only
# in its ports and in the paths of what it writes (demo/run/, into a
# temporary folder), with a redis-server of its own on a unix socket, and
# crawls each clinic from its home page: every href, src and action on the
# same site is followed (GET for links and assets, a valid POST for the
# contact form, whose redirect or page is crawled in turn), and must answer
# without a 4xx or 5xx; a link to another host or port, to a fragment that
# is not on its page, or a bad tel: link fails, naming the page that
# carries it. Every page of a clinic shows its clinic_name and never its
# tenant slug. A plain Test::More script, like the chaos suite whose
# harness (t/lib/ClinicChaos.pm) starts and stops the processes.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use ClinicChaos;

plan(skip_all => 'the demo crawl does not run under valgrind')
    if $ENV{TEST_NGINX_USE_VALGRIND};
plan(skip_all => 'no redis-server') unless ClinicChaos::_which('redis-server');

my $root = ClinicChaos::root_dir();
my $conf_file = "$root/conf/demo.conf";
my $inst = ClinicChaos->new(name => 'demo', tenant => 'demo');
my $dir = $inst->dir;
my %port = (8080 => ClinicChaos::free_port(), 8081 => ClinicChaos::free_port());

# ------------------------------------------------------------ the config

open my $fh, '<', $conf_file or die "$conf_file: $!";
my $conf = do { local $/; <$fh> };
close $fh;

# what the demo writes goes to the temporary folder; the module is the one
# under test; the ports are free ones; a path the demo resolves from its
# configuration's folder (conf/, "../demo/...") is made absolute, as the
# rewritten file lives elsewhere. The rest (content, templates, the sites'
# pages) is read from the repository: nginx runs with -p <repository>/.
my $loads = join '', map { "load_module $_;\n" } ClinicChaos::modules();
$conf =~ s{^load_module\s+\S+;\n}{}mg or die "no load_module in $conf_file";
$conf = $loads . $conf;
$conf =~ s{\bdemo/run/spool\b}{$dir/spool}g;
$conf =~ s{\bdemo/run/}{$dir/logs/}g;
$conf =~ s{(\s)\.\./}{$1$root/}g;
$conf =~ s{:(808[01])\b}{:$port{$1}}g;
BAIL_OUT("conf/demo.conf still names $1 after the rewrite: extend the "
         . 'rewrite in t/051-demo-crawl.t')
    if $conf =~ /(demo\/run|:808\d\b)/;

open $fh, '>', "$dir/conf/demo.conf" or die $!;
print $fh $conf;
close $fh;

# the clinics: each server block with a clinic_name
my @sites;
for my $block (split /^\s*server\s*\{/m, $conf) {
    my ($name) = $block =~ /^\s*clinic_name\s+"([^"]+)";/m or next;
    my ($host) = $block =~ /^\s*server_name\s+(\S+?);/m;
    my ($tenant) = $block =~ /^\s*clinic_tenant\s+(\S+?);/m;
    my ($listen) = $block =~ /^\s*listen\s+127\.0\.0\.1:(\d+);/m;
    my ($token_file) = $block =~ /^\s*clinic_admin_token_file\s+(\S+?);/m;
    my $token;
    if ($token_file) {
        open my $t, '<', $token_file or die "$token_file: $!";
        ($token) = grep { !/^#/ && /\S/ } <$t>;
        chomp $token if defined $token;
    }
    push @sites, { name => $name, host => $host, tenant => $tenant // $host,
                   port => $listen, token => $token,
                   origin => "http://$host:$listen" };
}
cmp_ok(scalar @sites, '>=', 2, 'conf/demo.conf serves two clinics or more')
    or BAIL_OUT('no clinic in conf/demo.conf');

# ------------------------------------------------------------ the processes

my $sock = "$dir/logs/redis.sock";
$inst->redis_start('main', conf => { unixsocket => $sock,
                                     unixsocketperm => 777 });

my $nginx = ClinicChaos::nginx_binary();
my $cmd = "'$nginx' -t -p '$root/' -c '$dir/conf/demo.conf' "
          . "-e '$dir/logs/nginx-t.log' 2>&1";
my $t = `$cmd`;
is($?, 0, 'nginx -t accepts the demo configuration') or do {
    diag($t);
    done_testing();
    exit 1;
};

# as root, the workers run as root too (as under Test::Nginx): an
# unprivileged worker cannot read a clone in a private folder (mktemp -d)
$inst->nginx_spawn('-p', "$root/", '-c', "$dir/conf/demo.conf",
                   '-g', $> == 0 ? 'daemon off; user root;' : 'daemon off;');
$inst->{port} = $sites[0]{port};
{
    my $deadline = time + 15 * ClinicChaos::slow();
    my $up;
    while (time < $deadline) {
        last unless $inst->nginx_pid
                    && waitpid($inst->nginx_pid, POSIX::WNOHANG()) == 0;
        my $r = get($sites[0], '/');
        last if $up = $r && $r->{status} < 500;
        select undef, undef, undef, 0.05;
    }
    ok($up, 'the demo answers') or do {
        diag(ClinicChaos::_tail("$dir/logs/error.log", 20));
        done_testing();
        exit 1;
    };
}

# ------------------------------------------------------------ HTTP

sub request {
    my ($site, $method, $path, $headers, $body) = @_;
    $body //= '';
    my $raw = "$method $path HTTP/1.1\r\nHost: $site->{host}:$site->{port}\r\n"
              . "Connection: close\r\n";
    $raw .= "$_: $headers->{$_}\r\n" for sort keys %{ $headers || {} };
    # the inbox is the staff's: a signed-in browser sends the token
    $raw .= "Authorization: Bearer $site->{token}\r\n"
        if $path =~ m{^/admin/.} && $site->{token};
    $raw .= 'Content-Length: ' . length($body) . "\r\n" if $method eq 'POST';
    local $inst->{port} = $site->{port};
    return $inst->http("$raw\r\n$body");
}

sub get { request($_[0], 'GET', $_[1]) }

# ------------------------------------------------------------ links

my %entity = (amp => '&', lt => '<', gt => '>', quot => '"', apos => "'");

sub unescape {
    my ($s) = @_;
    $s =~ s/&(amp|lt|gt|quot|apos);/$entity{$1}/g;
    $s =~ s/&#(\d+);/chr $1/ge;
    $s =~ s/&#x([0-9a-f]+);/chr hex $1/gie;
    return $s;
}

# an absolute URL for a reference found on the page at $base
sub resolve {
    my ($base, $ref) = @_;
    return $ref if $ref =~ m{^[a-z][a-z0-9+.-]*:}i;
    my ($origin, $path) = $base =~ m{^([a-z]+://[^/]+)(/[^?#]*)}i;
    return "$origin$ref" if $ref =~ m{^/};
    return "$origin$path$ref" if $ref =~ /^[?#]/;
    (my $dirpart = $path) =~ s{[^/]*$}{};
    my @seg;
    for (split m{/}, "$dirpart$ref", -1) {
        if ($_ eq '..') { pop @seg if @seg > 1 }
        elsif ($_ ne '.') { push @seg, $_ }
    }
    return $origin . join('/', @seg);
}

# the references of an HTML page: [attribute, value]
sub references {
    my ($html) = @_;
    my @refs;
    while ($html =~ /<([a-z][a-z0-9]*)\b([^>]*)>/gi) {
        my ($tag, $attrs) = (lc $1, $2);
        while ($attrs =~ /\b(href|src|action|content)\s*=\s*
                          (?:"([^"]*)"|'([^']*)')/gix)
        {
            my ($a, $v) = (lc $1, unescape($2 // $3));
            # <meta content> is a URL only when it is one (og:url)
            next if $a eq 'content' && $v !~ m{^[a-z]+://}i;
            push @refs, [$tag, $a, $v];
        }
    }
    # the URLs of JSON-LD (schema.org's own @context aside)
    while ($html =~ m{<script type="application/ld\+json">(.*?)</script>}gs) {
        my $ld = $1;
        push @refs, ['script', 'json-ld', $1]
            while $ld =~ /"(?:url|\@id|item)":"([^"]+)"/g;
    }
    return @refs;
}

sub ids {
    my ($html) = @_;
    my %id;
    $id{ unescape($1 // $2) } = 1
        while $html =~ /\b(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi;
    return \%id;
}

# ------------------------------------------------------------ the crawl

# a valid submission of a form: every control filled in as a patient
# would, the honeypot (hidden from people) left empty
sub fill_form {
    my ($form) = @_;
    my @pairs;
    while ($form =~ /<(input|textarea)\b([^>]*)>/gi) {
        my ($tag, $a) = (lc $1, $2);
        my ($name) = $a =~ /\bname="([^"]*)"/ or next;
        my ($type) = $a =~ /\btype="([^"]*)"/;
        $type = $tag eq 'textarea' ? 'textarea' : lc($type // 'text');
        next if $type =~ /^(submit|button|reset|image|file)$/;
        my $v = $a =~ /\bid="hp-/ || $a =~ /\btabindex="-1"/ ? ''
              : $type eq 'email' ? 'ann.lee@example.com'
              : $type eq 'tel' ? '+44 7700 900123'
              : $type eq 'textarea'
                ? 'Stiff neck since Monday. Is there a slot on Friday?'
              : $type eq 'hidden' ? (($a =~ /\bvalue="([^"]*)"/)[0] // '')
              : 'Ann Lee';
        push @pairs, [$name, $v];
    }
    return join '&', map {
        my ($n, $v) = @$_;
        s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge for $n, $v;
        "$n=$v";
    } @pairs;
}

my (%pages, $links);

for my $site (@sites) {
    my $origin = $site->{origin};
    my $esc_name = $site->{name};
    $esc_name =~ s/&/&amp;/g;
    my @queue = (["$origin/", 'the start']);
    my (%seen, %posted, @fragments);
    my ($html_pages, $assets) = (0, 0);

    while (my $item = shift @queue) {
        my ($url, $from, $method, $body, $expect) = @$item;
        $method ||= 'GET';
        (my $path = $url) =~ s{^\Q$origin\E}{};
        next if $seen{"$method $path " . ($body // '')}++;

        my $r = $method eq 'GET' ? get($site, $path)
              : request($site, 'POST', $path, {
                    'Content-Type' => 'application/x-www-form-urlencoded',
                    Origin => $origin, Referer => $from }, $body);
        my $what = "$site->{host}: $method $path (from $from)";
        if (!$r) {
            fail("$what: no answer");
            next;
        }
        my $ok = $expect ? $r->{status} == $expect : $r->{status} < 400;
        ok($ok, "$what: $r->{status}" . ($expect ? " (expected $expect)" : ''));
        next unless $ok;

        if ($r->{status} >= 300 && $r->{status} < 400) {
            my $loc = $r->{headers}{location} // '';
            my $to = resolve($url, $loc);
            ok(index($to, "$origin/") == 0,
               "$what: redirects to this site ($loc)");
            push @queue, [$to, "$path ($r->{status})"]
                if index($to, "$origin/") == 0;
            next;
        }

        my $type = $r->{headers}{'content-type'} // '';
        if ($type =~ m{^text/css}) {
            push @queue, [resolve($url, $1), $path]
                while $r->{body} =~ /url\(\s*['"]?([^'")]+)/g;
        }
        next unless $type =~ m{^text/html};

        my $html = $r->{body};
        $html_pages++;

        # the patient's mistakes: one message under each failing field,
        # and one line for each in the summary above the form
        if ($expect && $expect == 422) {
            my @summary = $html =~ m{<li><a href="#field-([^"]+)">}g;
            my @under = $html =~ m{aria-describedby="error-([^"]+)"[^>]*>
                                   (?:[^<]*</textarea>)?\n
                                   <p\ id="error-\1"\ class="field-error">}gx;
            ok(@summary && "@summary" eq "@under",
               "$what: each mistake under its field and on a line of the "
               . "summary (@summary)");
        }
        $pages{$site->{host}}++;
        my $ids = ids($html);
        $site->{ids}{$path} = $ids;

        # whose site this is: never the tenant's slug, but the name
        unless ($path =~ m{^/admin/}) {
            ok(index($html, $esc_name) >= 0,
               "$site->{host}$path shows \"$site->{name}\"");
        }
        ok(index($html, $site->{tenant}) < 0,
           "$site->{host}$path does not show the tenant slug "
           . "\"$site->{tenant}\"")
            if $site->{tenant} ne $site->{host};

        for my $ref (references($html)) {
            my ($tag, $attr, $v) = @$ref;
            $links++;
            my $at = "$site->{host}$path: <$tag $attr=\"$v\">";
            if ($v =~ /^tel:/i) {
                like($v, qr/^tel:\+?[0-9]{6,15}$/, "$at is a dialable number");
                next;
            }
            next if $v =~ /^(mailto|data):/i;
            my $to = resolve($url, $v);
            if (index($to, "$origin/") != 0) {
                fail("$at leads off the demo's $origin");
                next;
            }
            my ($target, $frag) = $to =~ /^([^#]*)(?:#(.*))?$/;
            push @fragments, [$target, $frag, $at]
                if defined $frag && length $frag;

            if ($tag eq 'form' && $attr eq 'action') {
                my ($form) = $html =~ m{(<form\b[^>]*\baction=["']\Q$v\E["']
                                         [^>]*>.*?</form>)}sx;
                next if $posted{$target}++;
                push @queue, [$target, $path, 'POST', fill_form($form)],
                             [$target, $path, 'POST', '', 422];
                next;
            }
            # a reference by id in the page (aria, label) is not a link
            push @queue, [$target, $path];
        }
    }

    # fragments: the page they point into has the id
    for my $f (@fragments) {
        my ($target, $frag, $at) = @$f;
        (my $p = $target) =~ s{^\Q$origin\E}{};
        my $ids = $site->{ids}{$p} or next;    # not HTML: checked above
        ok($ids->{$frag}, "$at: #$frag is on $p");
    }

    cmp_ok($html_pages, '>=', 5, "$site->{host}: $html_pages pages crawled");
    ok($posted{"$origin/contact"} || grep({ /contact/ } keys %posted),
       "$site->{host}: the contact form was sent");
    my $n = $inst->redis('main', 'XLEN',
                         "clinic:{$site->{tenant}}:submissions");
    is($n, 1, "$site->{host}: the crawl's submission is in the tenant's "
              . 'stream');
}

note("links checked: $links; pages: "
     . join(', ', map { "$_ $pages{$_}" } sort keys %pages));

# ------------------------------------------------------------ the end

$inst->nginx_stop;
my @problems = $inst->log_problems;
ok(!@problems, 'no alert, emerg, crash or sanitizer report in the logs')
    or diag(join "\n", @problems);

done_testing();
