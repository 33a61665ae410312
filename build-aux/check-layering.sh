#!/bin/sh
# check-layering.sh LIBDIR: checks librp's architecture from its includes.
#
# librp (src/lib) is layered by folder: a module may include headers of its
# own folder and of the folders below it, never above. The table below is
# the whole rule; README.md ("Layout") explains it. The script also fails on
# a dependency cycle between modules (a module is NAME.c plus NAME.h; a
# module depends on another when either of its files includes the other's
# header), and on an include that does not name its folder ("fs.h" instead
# of "util/fs.h"), which would hide a dependency from this check.
#
# Prints one line per violation, FILE:LINE: what is wrong, and exits 1 when
# there is any; exits 0 and prints nothing when the layering holds.
set -u
lib=${1:?usage: check-layering.sh LIBDIR}

# folder: the folders it may depend on (besides itself)
allowed() {
	case $1 in
	util) echo "" ;;
	yaml) echo "util" ;;
	store) echo "util yaml" ;;
	lock) echo "util yaml store" ;;
	core) echo "util yaml store lock" ;;
	ai) echo "util yaml store lock core" ;;
	index) echo "util yaml store lock core ai" ;;
	features) echo "util yaml store lock core" ;;
	remote) echo "util yaml store lock core" ;;
	*) echo "?" ;;
	esac
}

bad=0
edges=$(mktemp) || exit 2
trap 'rm -f "$edges"' EXIT
cd "$lib" || exit 2
for f in */*.c */*.h; do
	[ -f "$f" ] || continue
	dir=${f%%/*}
	base=${f#*/}
	mod=${base%.*}
	ok=$(allowed "$dir")
	if [ "$ok" = "?" ]; then
		echo "$lib/$f: folder '$dir' has no place in the layering table of $0; add it there"
		bad=1
		continue
	fi
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' > "$edges.inc"
	while read -r line inc; do
		case $inc in
		*/*) ;;
		*)
			echo "$lib/$f:$line: #include \"$inc\" does not name its folder; write \"FOLDER/$inc\""
			bad=1
			continue ;;
		esac
		idir=${inc%%/*}
		imod=${inc#*/}
		imod=${imod%.h}
		if [ "$idir" != "$dir" ]; then
			case " $ok " in
			*" $idir "*) ;;
			*)
				echo "$lib/$f:$line: $dir/ may not depend on $idir/ (#include \"$inc\"); $dir/ may use: ${ok:-nothing but itself}"
				bad=1 ;;
			esac
		fi
		[ "$imod" != "$mod" ] && echo "$dir/$mod $idir/$imod" >> "$edges"
	done < "$edges.inc"
done
rm -f "$edges.inc"
# tsort fails and names the loop when the module graph has a cycle
if ! tsort "$edges" > /dev/null 2> "$edges.err"; then
	echo "$lib: dependency cycle between modules:"
	grep -v 'input contains a loop' "$edges.err" | sed 's/^tsort: /  /'
	bad=1
fi
rm -f "$edges.err"
exit $bad
