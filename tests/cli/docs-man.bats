#!/usr/bin/env bats
# docs-man.bats - every example of the man pages that shows a command and
# its output is executed (in a scratch copy of the source tree directory
# the page names with '.\" doctest: setup DIR') and must print what the
# page shows, masked as in docs-readme.bats. A page whose examples show
# output without saying how to set them up fails (tests/cli/doctest.py).

load helpers

run_page() {
	run python3 "$RP_SRCDIR/tests/cli/doctest.py" man "$RP_SRCDIR/man/$1"
	assert_success
}

@test "rp(1) examples print what the page shows" { run_page rp.1; }
@test "rp.yaml(5) examples print what the page shows" { run_page rp.yaml.5; }
@test "rp.lock(5) examples print what the page shows" { run_page rp.lock.5; }
@test "rp-extract(1) examples print what the page shows" { run_page rp-extract.1; }
@test "rp-chunk(1) examples print what the page shows" { run_page rp-chunk.1; }
@test "rp-context(1) examples print what the page shows" { run_page rp-context.1; }
@test "rp-embed(1) examples print what the page shows" { run_page rp-embed.1; }
@test "rp-index(1) examples print what the page shows" { run_page rp-index.1; }
@test "rp-index(5) examples print what the page shows" { run_page rp-index.5; }
@test "rp-eval(1) examples print what the page shows" { run_page rp-eval.1; }
@test "rp-features(1) examples print what the page shows" { run_page rp-features.1; }
@test "rp-features.yaml(5) examples print what the page shows" { run_page rp-features.yaml.5; }

@test "every man page of the source tree is checked here" {
	local page
	for page in "$RP_SRCDIR"/man/*.[15]; do
		grep -qF "run_page ${page##*/};" "$BATS_TEST_FILENAME" || fail "docs-man.bats does not check ${page##*/}"
	done
}
