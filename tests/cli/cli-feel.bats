#!/usr/bin/env bats
# cli-feel.bats - the CLI where git and DVC users' hands go: help, version,
# -q/-v after the command, "did you mean", what an unknown option or
# subcommand says, repro targets, rp stage list, .gitignore of outputs,
# checkout advice and the grammar of counts.

load helpers
bats_require_minimum_version 1.5.0

# a three-stage chain: extract -> embed -> report (a metric)
chain() {
	cat > rp.yaml <<'YAML'
stages:
  extract:
    cmd: echo a > a.txt && echo x >> runs-extract.log
    outs: [a.txt]
  embed:
    desc: Embed the chunks
    cmd: cat a.txt > b.txt && echo x >> runs-embed.log
    deps: [a.txt]
    outs: [b.txt]
  report:
    cmd: printf '{"n":1}\n' > m.json && echo x >> runs-report.log
    deps: [b.txt]
    metrics: [m.json]
YAML
}

runs() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }

# ---- help and version ------------------------------------------------------

@test "rp help CMD, rp CMD --help and rp CMD -h print that command's usage, exit 0" {
	for c in repro status checkout gc dag init stage; do
		run rp help "$c"
		assert_success
		assert_line --index 0 --partial "usage: rp $c"
		help=$output
		run rp "$c" --help
		assert_success
		[ "$output" = "$help" ]
		run rp "$c" -h
		assert_success
		[ "$output" = "$help" ]
	done
	for c in cache metrics params; do
		run rp "$c" --help
		assert_success
		assert_line --index 0 --partial "usage: rp $c"
	done
}

@test "rp help alone and rp --help print rp's usage with every command" {
	run rp help
	assert_success
	assert_line --index 0 "usage: rp [-f FILE] [-q] [-v] COMMAND [ARGS...]"
	assert_line --partial "  stage      list or add stages: 'rp stage list', 'rp stage add'"
	assert_line --partial "  version    print rp's version"
	run rp --help
	assert_success
	assert_line --index 0 "usage: rp [-f FILE] [-q] [-v] COMMAND [ARGS...]"
}

@test "rp help of a stage program prints its usage" {
	run rp help chunk
	assert_success
	assert_line --index 0 --partial "usage: rp-chunk"
}

@test "rp -V, rp --version and rp version print the version" {
	run rp -V
	assert_success
	assert_output --regexp '^rp [0-9]+\.[0-9]+'
	v=$output
	run rp --version
	assert_success
	[ "$output" = "$v" ]
	run rp version
	assert_success
	[ "$output" = "$v" ]
}

@test "-q and -v are taken after the command too" {
	chain
	run rp repro -q
	assert_success
	refute_output --partial "Running stage"
	refute_output --partial " ran, "
	run rp repro -v
	assert_success
	assert_output --partial "Stage 'extract' is up to date"
	run rp status --quiet
	assert_success
	assert_output ""
}

@test "-q prints no summaries but errors still reach stderr" {
	chain
	run rp -q repro
	assert_success
	refute_output --partial "ran, "
	run rp repro -q -f extract
	assert_success
	assert_output ""
	cat > echo.yaml <<'YAML'
stages:
  say:
    cmd: echo said
YAML
	run rp -q -f echo.yaml repro
	assert_success
	assert_output "[say] said"
	run rp checkout -q
	assert_success
	assert_output ""
	run rp cache verify -q
	assert_success
	assert_output ""
	run rp gc --workspace -q
	assert_success
	assert_output ""
	run --separate-stderr rp repro -q nope
	assert_failure 2
	[ -z "$output" ]
	[[ "$stderr" == *"'nope' is no stage, group or output of rp.yaml"* ]]
}

# ---- did you mean, and what was wrong -----------------------------------------

@test "a mistyped command says did you mean, exit 2" {
	run rp stauts
	assert_failure 2
	assert_output "rp: error: 'stauts' is not an rp command, nor a program 'rp-stauts' next to rp or on PATH; did you mean 'status'?"
	run rp chekout
	assert_failure 2
	assert_output --partial "did you mean 'checkout'?"
	run rp help stauts
	assert_failure 2
	assert_output --partial "did you mean 'status'?"
}

@test "a mistyped stage program name says did you mean" {
	run rp chnk
	assert_failure 2
	assert_output --partial "did you mean 'chunk'?"
}

@test "a command far from every name says see rp --help" {
	run rp frobnicate
	assert_failure 2
	assert_output "rp: error: 'frobnicate' is not an rp command, nor a program 'rp-frobnicate' next to rp or on PATH; see 'rp --help'"
}

@test "a mistyped stage name says did you mean that stage, and runs nothing" {
	chain
	run rp repro emb
	assert_failure 2
	assert_output "rp: error: 'emb' is no stage, group or output of rp.yaml; did you mean 'embed'?"
	run rp repro extrct
	assert_failure 2
	assert_output --partial "did you mean 'extract'?"
	[ "$(runs runs-extract.log)" -eq 0 ]
}

@test "an unknown option says what was wrong on the first line, then the usage" {
	run rp repro --bogus
	assert_failure 2
	assert_line --index 0 "rp: error: unrecognized option '--bogus'"
	assert_line --index 1 --partial "usage: rp repro"
	run rp --bogus
	assert_failure 2
	assert_line --index 0 "rp: error: unrecognized option '--bogus'"
	assert_line --index 1 --partial "usage: rp "
	run rp repro -j
	assert_failure 2
	assert_line --index 0 "rp: error: option requires an argument -- 'j'"
	run rp metrics show --bogus
	assert_failure 2
	assert_line --index 0 "rp: error: unrecognized option '--bogus'"
}

@test "an unknown subcommand or extra argument says what was wrong first" {
	run rp metrics shwo
	assert_failure 2
	assert_line --index 0 "rp: error: 'shwo' is not an 'rp metrics' subcommand; did you mean 'show'?"
	assert_line --index 1 "usage: rp metrics show [--json | --md]"
	run rp cache vrify
	assert_failure 2
	assert_line --index 0 "rp: error: 'vrify' is not an 'rp cache' subcommand; did you mean 'verify'?"
	run rp stage
	assert_failure 2
	assert_line --index 0 "rp: error: 'rp stage' needs a subcommand: add or list"
	run rp init extra
	assert_failure 2
	assert_line --index 0 "rp: error: unexpected argument 'extra'"
	run rp
	assert_failure 2
	assert_line --index 0 "rp: error: no command given"
}

# ---- command not found, YAML hints ------------------------------------------------

@test "a stage whose program is missing says command not found: NAME" {
	printf 'stages:\n  train:\n    cmd: echo hi && pyhton3-no-such train.py\n' > rp.yaml
	run rp repro
	assert_failure 1
	assert_output --partial "rp: error: stage 'train' failed: command not found: pyhton3-no-such"
	refute_output --partial "status 127"
}

@test "a missing script path is named, and another 127 keeps its status" {
	printf 'stages:\n  a:\n    cmd: FOO=1 ./no-such.sh\n  b:\n    cmd: sh -c "exit 127"\n' > rp.yaml
	run rp repro -k
	assert_failure 1
	assert_output --partial "stage 'a' failed: command not found: ./no-such.sh"
	assert_output --partial "stage 'b' failed: its command exited with status 127 (a command was not found)"
}

@test "a tab in the indentation gets a hint" {
	printf 'stages:\n  a:\n\tcmd: echo\n' > rp.yaml
	run rp status
	assert_failure 2
	assert_line --index 0 "rp: error: rp.yaml:3:1: found character that cannot start any token (while scanning for the next token started at line 3)"
	assert_line --index 1 "hint: YAML indents with spaces only: replace the tab with spaces"
}

@test "a \${} inside a flow sequence gets a hint to quote it" {
	printf 'stages:\n  a:\n    cmd: echo\n    outs: [build/${key}/x]\n' > rp.yaml
	run rp status
	assert_failure 2
	assert_line --index 0 --partial "rp: error: rp.yaml:4:19: did not find expected ',' or ']'"
	assert_line --index 1 "hint: inside [ ] or { } a value with \${...} must be quoted, as in [\"build/\${key}/x\"], or write a block list, one '- item' a line"
}

@test "': ' inside a plain value gets a hint to quote it" {
	printf 'stages:\n  a:\n    cmd: echo a: b\n' > rp.yaml
	run rp status
	assert_failure 2
	assert_line --index 0 "rp: error: rp.yaml:3:16: mapping values are not allowed in this context"
	assert_line --index 1 --partial "hint: ': ' inside a value starts a mapping"
}

# ---- repro targets and rp stage list ------------------------------------------

@test "repro takes an output path as the stage that produces it" {
	chain
	run rp repro b.txt
	assert_success
	[ "$(runs runs-extract.log)" -eq 1 ]
	[ "$(runs runs-embed.log)" -eq 1 ]
	[ "$(runs runs-report.log)" -eq 0 ]
	run rp repro ./m.json --dry
	assert_success
	assert_output --partial "Would run stage 'report'"
	assert_output --partial "dry run: 1 would run, 2 up to date"
}

@test "repro -s runs only the target, --downstream what follows, -f even when up to date" {
	chain
	run rp repro
	assert_success
	run rp repro -s -f embed
	assert_success
	[ "$(runs runs-extract.log)" -eq 1 ]
	[ "$(runs runs-embed.log)" -eq 2 ]
	[ "$(runs runs-report.log)" -eq 1 ]
	run rp repro --single-item --force --downstream b.txt
	assert_success
	[ "$(runs runs-extract.log)" -eq 1 ]
	[ "$(runs runs-embed.log)" -eq 3 ]
	[ "$(runs runs-report.log)" -eq 2 ]
}

@test "a directory holding outputs targets every stage with one inside" {
	printf 'stages:\n  a:\n    cmd: mkdir -p out && echo a > out/a\n    outs: [out/a]\n  b:\n    cmd: mkdir -p out && echo b > out/b\n    outs: [out/b]\n  c:\n    cmd: echo c > c\n    outs: [c]\n' > rp.yaml
	run rp repro -n out/
	assert_success
	assert_output --partial "dry run: 2 would run, 0 up to date"
}

@test "rp stage list prints each stage with its desc or what it outputs" {
	chain
	run rp stage list
	assert_success
	assert_output "extract  Outputs a.txt
embed    Embed the chunks
report   Reports m.json"
	run rp stage list --name-only
	assert_success
	assert_output "extract
embed
report"
}

@test "rp stage list describes stages without outputs as DVC does" {
	printf 'stages:\n  a:\n    cmd: echo\n  b:\n    cmd: cat x\n    deps: [x, y]\n  c:\n    cmd: echo > o && echo > m\n    outs: [o]\n    metrics: [{m: {cache: false}}]\n' > rp.yaml
	touch x y
	run rp stage list
	assert_success
	assert_output "a  No outputs or dependencies
b  Depends on x, y
c  Outputs o; Reports m"
}

# ---- checkout advice that loses nothing, and counts -----------------------------

@test "checkout over a hand-edited output never advises rp repro to save it" {
	chain
	rp repro -q
	echo mine > b.txt
	run rp checkout
	assert_failure 1
	assert_output "rp: error: this path holds changes that are in no store; checking out would lose them:
  b.txt (an output of stage 'embed')
Nothing was changed.
To keep an edited output, copy it elsewhere first: 'rp repro' would also replace it, with what its stage makes.
'rp checkout --force' replaces this path with the lock's bytes: the edits are lost."
	[ "$(cat b.txt)" = mine ]
}

@test "checkout over an edited source says rp repro saves it" {
	printf 'stages:\n  s:\n    cmd: cat in.txt > out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n' > rp.yaml
	echo one > in.txt
	rp repro -q
	echo two > in.txt
	echo edited > out.txt
	run rp checkout
	assert_failure 1
	assert_line --index 0 "rp: error: these 2 paths hold changes that are in no store; checking out would lose them:"
	assert_output --partial "  in.txt (a source of stage 's')"
	assert_output --partial "To keep an edited source, run 'rp repro' first: it saves the source into the store (and runs the stages that use it)."
	assert_output --partial "'rp checkout --force' replaces these paths with the lock's bytes: the edits are lost."
}

@test "counts of one are singular" {
	printf 'stages:\n  s:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n' > rp.yaml
	rp repro -q
	rm a.txt
	run rp checkout
	assert_success
	assert_output "1 path restored, 0 already matched"
	run rp cache verify
	assert_success
	assert_output "1 object checked, 0 corrupt"
	rp repro -q
	echo b > a.txt
	run rp gc --workspace -n
	assert_success
	assert_output --partial "would delete 0 objects (0 bytes) and 0 run-cache entries; kept 1 object"
}

# ---- .gitignore of the outputs ------------------------------------------------

@test "repro lists each cached output in .gitignore once, keeping the user's lines" {
	git_init
	printf 'stages:\n  a:\n    cmd: mkdir -p build/x && echo a > build/x/v.rpv && echo m > m.json && echo n > n*.txt\n    outs: [build/x/v.rpv, "n*.txt"]\n    metrics: [{m.json: {cache: false}}]\n' > rp.yaml
	printf '# mine\n/keep-me' > .gitignore
	run rp repro
	assert_success
	assert_equal "$(cat .gitignore)" "# mine
/keep-me
/build/x/v.rpv
/n\\*.txt"
	run rp repro -f
	assert_success
	assert_equal "$(wc -l < .gitignore)" 4
	run git status --porcelain --untracked-files=all
	refute_output --partial "v.rpv"
	refute_output --partial "n*.txt"
	assert_output --partial "m.json"
	[ ! -e build/x/.gitignore ]
}

@test "an output already ignored by a folder line, or by DVC's line beside it, adds nothing" {
	git_init
	printf 'stages:\n  a:\n    cmd: mkdir -p build d && echo a > build/a && echo b > d/b\n    outs: [build/a, d/b]\n' > rp.yaml
	printf '/build/\n' > .gitignore
	mkdir d && printf '/b\n' > d/.gitignore
	run rp repro
	assert_success
	assert_equal "$(cat .gitignore)" "/build/"
	assert_equal "$(cat d/.gitignore)" "/b"
}

@test "core.gitignore false writes no .gitignore, nor does a workspace outside git" {
	printf 'stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n' > rp.yaml
	run rp repro
	assert_success
	[ ! -e .gitignore ]
	git_init
	rp init -q
	printf 'core:\n  gitignore: false\n' > .rp/config
	run rp repro -f
	assert_success
	[ ! -e .gitignore ]
}

@test "the example pipelines ship a .gitignore of their outputs" {
	for p in rag text features; do
		[ -f "$RP_SRCDIR/pipelines/$p/.gitignore" ]
	done
}

# ---- status, dag and params take targets and options as repro does ---------

@test "status and dag say did you mean for a mistyped stage and take an output path" {
	chain
	run rp status emb
	assert_failure 2
	assert_output "rp: error: 'emb' is no stage, group or output of rp.yaml; did you mean 'embed'?"
	run rp dag extrct
	assert_failure 2
	assert_output "rp: error: 'extrct' is no stage, group or output of rp.yaml; did you mean 'extract'?"
	run rp status b.txt
	assert_failure 1
	assert_line "embed:"
	refute_line "report:"
	run rp dag m.json
	assert_success
	assert_output "$(printf '%s\n' extract "embed <- extract" "report <- embed")"
}

@test "params diff names a mistyped subcommand and an unknown option first" {
	chain
	run rp params dif
	assert_failure 2
	assert_line --index 0 "rp: error: 'dif' is not an 'rp params' subcommand; did you mean 'diff'?"
	assert_line --index 1 --partial "usage: rp params diff"
	run rp params diff --bogus
	assert_failure 2
	assert_line --index 0 "rp: error: unrecognized option '--bogus'"
	run rp params
	assert_failure 2
	assert_line --index 0 "rp: error: 'rp params' needs a subcommand: diff"
}
