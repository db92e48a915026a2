package Test::Nginx::Socket;

# The project's compat runner for the Test::Nginx::Socket .t format (see
# t/compat/README.md).  Same front end as openresty's: a Test::Base subclass
# exporting the same names; the engine lives in Test::Nginx::Util.
#
# Note: `use Test::Base -Base` source-filters this file (Spiffy): a
# `sub NAME {` at the start of a line gets an implicit `my $self = shift;`,
# so every sub here carries a prototype.

use lib 'lib';
use lib 'inc';

use v5.10.1;
use Test::Base -Base;

our $VERSION = '0.29_compat';

use Test::Nginx::Util;

our @EXPORT = qw( env_to_nginx is_str plan run_tests run_test
  repeat_each config_preamble worker_connections
  master_process_enabled
  no_long_string workers master_on master_off
  log_level no_shuffle no_root_location use_hup
  server_name
  server_addr server_root html_dir server_port server_port_for_client
  timeout no_nginx_manager check_accum_error_log
  add_block_preprocessor bail_out add_cleanup_handler
  add_response_body_check
);

# plan() as Test::More's, except that in valgrind mode every block adds one
# "valgrind clean" test, which `plan tests => N` must count.
# (An anonymous sub, so that the Spiffy filter leaves it alone.)
BEGIN {
    no warnings 'redefine';
    *plan = sub {
        my @args = @_;
        if ($Test::Nginx::Util::UseValgrind && @args >= 2
            && $args[0] eq 'tests')
        {
            $args[1] += scalar Test::Base::blocks();
        }
        Test::More::plan(@args);
    };
}

1;
