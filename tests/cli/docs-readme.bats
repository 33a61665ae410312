#!/usr/bin/env bats
# docs-readme.bats - the READMEs run as written: the quick tour of
# README.md and the example pipelines' READMEs. Their ```console blocks are
# executed in order in a scratch directory (a copy of the pipeline for
# pipelines/*/README.md, marked '<!-- doctest: setup DIR -->'), and each
# command must print what the README shows (durations, hashes, dates and
# temp paths masked; "..." elides). tests/cli/doctest.py says how to mark
# a block that cannot run here.

load helpers

run_readme() {
	run python3 "$RP_SRCDIR/tests/cli/doctest.py" readme "$RP_SRCDIR/$1"
	assert_success
	refute_output --partial "no examples to run"
}

@test "README.md: the quick tour prints what the README shows" { run_readme README.md; }
@test "pipelines/text/README.md prints what it shows" { run_readme pipelines/text/README.md; }
@test "pipelines/rag/README.md prints what it shows" { run_readme pipelines/rag/README.md; }
@test "pipelines/features/README.md prints what it shows" { run_readme pipelines/features/README.md; }

@test "every README of the source tree is checked here" {
	local f
	for f in "$RP_SRCDIR"/README.md "$RP_SRCDIR"/pipelines/*/README.md; do
		f=${f#"$RP_SRCDIR"/}
		grep -qF "run_readme $f;" "$BATS_TEST_FILENAME" || fail "docs-readme.bats does not check $f"
	done
}
