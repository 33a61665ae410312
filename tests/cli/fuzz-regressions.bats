# fuzz-regressions.bats - every input the fuzzers once broke rp with still
# passes (tests/fuzz/regressions/<target>/), and so do the seed corpora.
# Needs clang and libFuzzer (Debian: clang libclang-rt-14-dev); skipped
# without them.

load helpers

fuzz_toolchain() {
	command -v clang >/dev/null 2>&1 || { echo "clang is not installed"; return 1; }
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
		> "$BATS_TEST_TMPDIR/probe.c"
	clang -fsanitize=fuzzer,address,undefined "$BATS_TEST_TMPDIR/probe.c" \
		-o "$BATS_TEST_TMPDIR/probe" >/dev/null 2>&1 ||
		{ echo "libFuzzer is not installed (Debian: libclang-rt-14-dev)"; return 1; }
}

@test "every kept fuzz crasher and seed input passes its target" {
	reason=$(fuzz_toolchain) || skip "$reason"
	# reuse the objects between runs of make check
	run "$RP_SRCDIR/tests/fuzz/regress.sh" "$RP_BUILDDIR/tests/fuzz/build"
	assert_success
	assert_output --partial "inputs passed"
}
