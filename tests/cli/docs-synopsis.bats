#!/usr/bin/env bats
# docs-synopsis.bats - every command's -h usage is the SYNOPSIS of its man
# page: rp's commands (those 'rp --help' lists) in rp(1), each stage
# program (and each subcommand of rp-index and rp-features) in its own
# page. The comparison is tests/cli/doctest.py's; whitespace is collapsed.

load helpers

@test "the SYNOPSIS of every man page is what its commands' -h print" {
	run python3 "$RP_SRCDIR/tests/cli/doctest.py" synopsis "$RP_SRCDIR/man"
	assert_success
	assert_output --partial "8 of 8 pages"
}
