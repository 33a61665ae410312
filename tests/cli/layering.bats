# layering.bats - librp's layering (build-aux/check-layering.sh) holds, and
# the check catches a planted violation of each kind it knows: a folder
# depending on one above it, a cycle between modules, an include that does
# not name its folder.
#
# The planted cases run on a scratch copy of src/lib and assert the one line
# the plant causes, so they do not depend on the rest of the tree being clean.

load helpers

CHECK="$RP_SRCDIR/build-aux/check-layering.sh"

# lib_copy: a scratch copy of src/lib in $WS/lib
lib_copy() {
	cp -R "$RP_SRCDIR/src/lib" "$WS/lib"
	chmod -R u+w "$WS/lib"
}

@test "src/lib keeps the layering: no upward include, no cycle, every include names its folder" {
	run sh "$CHECK" "$RP_SRCDIR/src/lib"
	assert_success
	assert_output ""
}

@test "a core/ file including an ai/ header fails, naming the file and line" {
	lib_copy
	printf '/* planted */\n#include "util/buf.h"\n#include "ai/chunker.h"\n' > lib/core/planted.c
	run sh "$CHECK" lib
	assert_failure 1
	assert_line 'lib/core/planted.c:3: core/ may not depend on ai/ (#include "ai/chunker.h"); core/ may use: util yaml store lock'
}

@test "a store/ header including a core/ header fails too" {
	lib_copy
	printf '#include "core/pipeline.h"\n' > lib/store/planted.h
	run sh "$CHECK" lib
	assert_failure 1
	assert_line --partial 'lib/store/planted.h:1: store/ may not depend on core/'
}

@test "a cycle between two util modules fails, naming both" {
	lib_copy
	printf '#include "util/plantb.h"\n' > lib/util/planta.h
	printf '#include "util/planta.h"\n' > lib/util/planta.c
	printf '#include "util/buf.h"\n#include "util/planta.h"\n' > lib/util/plantb.h
	run sh "$CHECK" lib
	assert_failure 1
	assert_line 'lib: dependency cycle between modules:'
	assert_line '  util/planta'
	assert_line '  util/plantb'
}

@test "an include without its folder fails, naming the file and line" {
	lib_copy
	printf '#include <stdio.h>\n\n#include "fs.h"\n' > lib/util/planted.c
	run sh "$CHECK" lib
	assert_failure 1
	assert_line 'lib/util/planted.c:3: #include "fs.h" does not name its folder; write "FOLDER/fs.h"'
}

@test "a folder missing from the layering table fails" {
	lib_copy
	mkdir lib/misc
	printf 'int x;\n' > lib/misc/planted.c
	run sh "$CHECK" lib
	assert_failure 1
	assert_line --partial "lib/misc/planted.c: folder 'misc' has no place in the layering table"
}

# rp(1) itself speaks no HTTP: only the stage programs that call a provider
# need libcurl. A librp module that drags the HTTP stack into rp (as the
# provider settings once did through main()) makes every command load ~30
# more shared libraries, about 14 ms a run.
@test "rp does not link libcurl or libarchive; rp-embed does" {
	command -v nm >/dev/null || skip "no nm"
	# the symbols rp takes from shared libraries, not ldd: a sanitizer build
	# links every -l library whether it is used or not
	run sh -c 'nm -D --undefined-only "$1" | grep -E " (curl|archive)_"' sh "$(command -v rp)"
	assert_failure 1
	assert_output ""
	run sh -c 'nm -D --undefined-only "$1" | grep -E " curl_"' sh "$(command -v rp-embed)"
	assert_success
}

# Test programs compile with -I src/lib and -I stages, which put those
# folders ahead of the system's: a header there named like a system header
# (stages/features.h once did this to glibc's <features.h>) breaks every
# system include in those programs.
@test "no header on an -I folder is named like a system header" {
	command -v cc >/dev/null || skip "no cc"
	shadows=
	for h in "$RP_SRCDIR"/src/lib/*.h "$RP_SRCDIR"/stages/*.h; do
		[ -e "$h" ] || continue
		name=${h##*/}
		if printf '#include <%s>\n' "$name" | cc -E -x c - >/dev/null 2>&1; then
			shadows="$shadows ${h#"$RP_SRCDIR"/}"
		fi
	done
	[ -z "$shadows" ] || { echo "shadow system headers:$shadows"; false; }
}
