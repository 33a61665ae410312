#!/usr/bin/env python3
"""doctest.py - run the examples of rp's documents and compare their output.

The docs-*.bats tests call it; it keeps README.md and the man pages true:

  doctest.py readme FILE.md      run a Markdown file's ```console blocks
  doctest.py man PAGE            run a man page's examples (.nf ... .fi
                                 blocks with "$ " lines)
  doctest.py synopsis MANDIR     compare every command's -h usage with the
                                 SYNOPSIS of its man page

Examples run in the current directory (the bats test's scratch directory),
in one bash session per document, in order, so that `cd`, `export` and the
files one block makes are there for the next. Lines starting with "$ " are
commands (a line ending in a backslash continues on the next); the lines
after one, up to the next command, are what it prints (stdout and stderr
together). A command followed by no line must print nothing.

Expected output may elide: a line "..." stands for any number of lines,
and "..." inside a line for any text. Before comparing, both sides are
masked: durations (0.04s), SHA-256 and git hashes, dates and times, pids
and the scratch directory's path.

Marks (the directive is in a comment, invisible to readers):

  README.md (and pipelines/*/README.md): the line before a block
    <!-- doctest: skip -->        do not run the next block (say why in
                                  the text: it needs a network, ...)
    <!-- doctest: file NAME -->   write the next block (any language) to
                                  the file NAME of the session's directory
    <!-- doctest: setup DIR -->   copy DIR of the source tree into the
                                  session's directory, then run the block
  anywhere:
    <!-- doctest: $ COMMAND -->   run COMMAND here, output not checked
  man pages: before a block, or anywhere between two
    .\\" doctest: setup DIR       copy DIR of the source tree (e.g.
                                  pipelines/text) into the session's
                                  directory before the first command
    .\\" doctest: skip            do not run the next block
    .\\" doctest: $ COMMAND       run COMMAND here, output not checked
                                  (git commits and the like that the text
                                  only describes)

A man page block with commands but no output lines and no setup of its
page is a plain usage example and is not run; a page whose examples show
output must say how to set them up (or skip them), else this fails.

The exit status is 0 when every command printed what the document shows,
1 otherwise (with a diff of each mismatch), 2 for a malformed document.
"""

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRCDIR = os.environ.get("RP_SRCDIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Step:
    """One thing a session does: a command (with its expected output), a
    file to write, or a hidden command whose output is not checked."""

    def __init__(self, kind, text, where, expected=None):
        self.kind = kind          # "cmd", "hidden", "file", "setup"
        self.text = text          # the command, or the file's name/content
        self.where = where        # "FILE:LINE" of the example
        self.expected = expected  # list of lines, for "cmd"
        self.content = None       # for "file"


def die(msg):
    sys.stderr.write("doctest: %s\n" % msg)
    sys.exit(2)


def commands_of(lines, where_of):
    """Splits the lines of one example block into command steps."""
    steps = []
    cur = None
    cont = False
    for i, line in enumerate(lines):
        if cont:
            cur.text += "\n" + line
            cont = line.endswith("\\")
            continue
        if line.startswith("$ ") or line == "$":
            cur = Step("cmd", line[2:], where_of(i), [])
            steps.append(cur)
            cont = line.endswith("\\")
        elif cur is None:
            if line.strip():
                die("%s: output before any command: %r" % (where_of(i), line))
        else:
            cur.expected.append(line)
    return steps


# ---- README.md -------------------------------------------------------------

def readme_steps(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().split("\n")
    steps = []
    name = os.path.relpath(os.path.abspath(path), SRCDIR)
    if name.startswith(".."):
        name = os.path.basename(path)
    i = 0
    mark = None
    while i < len(text):
        line = text[i]
        m = re.match(r"\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$", line)
        if m and m.group(1).startswith("$ "):
            steps.append(Step("hidden", m.group(1)[2:], "%s:%d" % (name, i + 1)))
            i += 1
            continue
        if m:
            mark = m.group(1)
            i += 1
            continue
        fence = re.match(r"```(\S*)\s*$", line)
        if not fence:
            if line.strip():
                mark = None
            i += 1
            continue
        lang = fence.group(1)
        start = i + 1
        j = start
        while j < len(text) and not text[j].startswith("```"):
            j += 1
        if j == len(text):
            die("%s:%d: unterminated code block" % (name, i + 1))
        body = text[start:j]
        if mark == "skip":
            pass
        elif mark is not None and mark.startswith("setup "):
            steps.append(Step("setup", mark[6:].strip(), "%s:%d" % (name, i + 1)))
            if lang == "console":
                steps += commands_of(body, lambda k, s=start: "%s:%d" % (name, s + k + 1))
        elif mark is not None and mark.startswith("file "):
            st = Step("file", mark[5:].strip(), "%s:%d" % (name, i + 1))
            st.content = "\n".join(body) + "\n"
            steps.append(st)
        elif mark is not None:
            die("%s:%d: unknown doctest mark %r" % (name, i, mark))
        elif lang == "console":
            steps += commands_of(body, lambda k, s=start: "%s:%d" % (name, s + k + 1))
        elif any(b.startswith("$ ") for b in body):
            die("%s:%d: a block of commands with \"$ \" is written ```console, "
                "so that it runs (or marked <!-- doctest: skip -->)" % (name, i + 1))
        mark = None
        i = j + 1
    return steps


# ---- man pages -------------------------------------------------------------

TROFF = [
    (r"\(aq", "'"), (r"\(dq", '"'), (r"\(em", "\u2014"), (r"\(en", "\u2013"),
    (r"\[u2026]", "\u2026"), (r"\(->", "\u2192"), (r"\(<-", "\u2190"),
    (r"\-", "-"), (r"\e", "\\"), (r"\&", ""), (r"\ ", " "), (r"\|", ""),
    (r"\fB", ""), (r"\fI", ""), (r"\fR", ""), (r"\fP", ""), (r"\f(CR", ""),
    (r"\fC", ""), (r"\\", "\\"),
]


def untroff(line):
    """The text that a line of a no-fill block shows."""
    out = []
    i = 0
    while i < len(line):
        if line[i] == "\\":
            for esc, rep in TROFF:
                if line.startswith(esc, i):
                    out.append(rep)
                    i += len(esc)
                    break
            else:
                out.append(line[i])
                i += 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def man_blocks(path):
    """Yields (kind, payload, lineno) in page order: ("mark", text, n) for
    a doctest comment, ("block", [(lineno, text)...], n) for a no-fill
    block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r'\.\\"\s*doctest:\s*(.*?)\s*$', line)
        if m:
            yield ("mark", m.group(1), i + 1)
        elif re.match(r"\.(nf|EX)\b", line):
            n = i + 1
            body = []
            i += 1
            while i < len(lines) and not re.match(r"\.(fi|EE)\b", lines[i]):
                if lines[i].startswith(".") or lines[i].startswith("'"):
                    i += 1          # a request (.RS, .ft, ...) or comment
                    continue
                body.append((i + 1, untroff(lines[i])))
                i += 1
            yield ("block", body, n)
        i += 1


def man_steps(path):
    name = "man/" + os.path.basename(path)
    steps = []
    session = False
    skip = False
    unmarked = []
    for kind, payload, n in man_blocks(path):
        if kind == "mark":
            if payload == "skip":
                skip = True
            elif payload.startswith("setup "):
                steps.append(Step("setup", payload[6:].strip(), "%s:%d" % (name, n)))
                session = True
            elif payload.startswith("$ "):
                steps.append(Step("hidden", payload[2:], "%s:%d" % (name, n)))
            else:
                die("%s:%d: unknown doctest mark %r" % (name, n, payload))
            continue
        body = [t for _, t in payload]
        if not any(t.startswith("$ ") for t in body):
            continue
        if skip:
            skip = False
            continue
        cmds = commands_of(body, lambda k, p=payload: "%s:%d" % (name, p[k][0]))
        if session:
            steps += cmds
        elif any(c.expected and any(x.strip() for x in c.expected) for c in cmds):
            unmarked.append("%s:%d" % (name, n))
    if unmarked:
        die("examples with output but no '.\\\" doctest: setup DIR' (or skip) "
            "before them: %s" % ", ".join(unmarked))
    return steps


# ---- running a session -----------------------------------------------------

def run_session(steps, workdir):
    """Runs the steps in one bash in workdir; returns the output of each
    "cmd" step (a list of strings, in order)."""
    outdir = tempfile.mkdtemp(prefix="doctest-out.")
    script = ["cd %s || exit 2" % sh_quote(workdir), "exec </dev/null"]
    n = 0
    for st in steps:
        if st.kind == "setup":
            src = os.path.join(SRCDIR, st.text)
            if not os.path.isdir(src):
                die("%s: no directory %s in the source tree" % (st.where, st.text))
            script.append("cp -R %s/. . && chmod -R u+w . || exit 2" % sh_quote(src))
        elif st.kind == "file":
            path = os.path.join(outdir, "file.%d" % n)
            with open(path, "w", encoding="utf-8") as f:
                f.write(st.content)
            n += 1
            script.append("cp %s %s" % (sh_quote(path), sh_quote(st.text)))
        elif st.kind == "hidden":
            script.append("{ %s\n} >/dev/null 2>&1" % st.text)
        else:
            out = os.path.join(outdir, "out.%d" % n)
            st.outfile = out
            n += 1
            # no command between two examples: `echo $?` sees the last one's
            script.append("{ %s\n} >%s 2>&1" % (st.text, sh_quote(out)))
    script_path = os.path.join(outdir, "session.sh")
    with open(script_path, "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
    try:
        subprocess.run(["bash", script_path], timeout=600, check=False)
    except subprocess.TimeoutExpired:
        die("the examples took more than 600 s")
    outs = []
    for st in steps:
        if st.kind == "cmd":
            try:
                with open(st.outfile, encoding="utf-8", errors="replace") as f:
                    outs.append(f.read())
            except FileNotFoundError:
                outs.append("<not run: an earlier command ended the session>\n")
    shutil.rmtree(outdir, ignore_errors=True)
    return outs


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


# ---- comparing -------------------------------------------------------------

MASKS = [
    (re.compile(r"[0-9a-f]{2}/[0-9a-f]{62}|[0-9a-f]{64}"), "<sha256>"),
    (re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b"), "<hash>"),
    (re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?"
                r"(?:Z|[+-]\d\d:?\d\d)?)?"), "<date>"),
    (re.compile(r"\b\d+(?:\.\d+)?(?:ms|s)\b"), "<time>"),
    (re.compile(r"\bpid \d+"), "pid <n>"),
    (re.compile(r"(?<![\w.])/tmp/[^\s'\"]*"), "<tmp>"),
]


def mask(text, workdir):
    for d in {workdir, os.path.realpath(workdir)}:
        text = text.replace(d, "<tmp>")
    for rx, rep in MASKS:
        text = rx.sub(rep, text)
    return text


def matches(expected, actual):
    """True when the actual lines fit the expected ones, "..." elided."""
    rx = []
    for line in expected:
        if line.strip() in ("...", "\u2026"):
            rx.append(r"(?:[^\n]*\n)*?")
        else:
            parts = re.split(r"\.\.\.|\u2026", line)
            rx.append(".*".join(re.escape(p) for p in parts) + r"\n")
    text = "".join(a + "\n" for a in actual)
    return re.fullmatch("".join(rx), text) is not None


def check(steps, workdir):
    outs = run_session(steps, workdir)
    bad = 0
    cmds = [s for s in steps if s.kind == "cmd"]
    for st, out in zip(cmds, outs):
        exp = [mask(l, workdir).rstrip() for l in st.expected]
        while exp and not exp[-1]:
            exp.pop()
        act = [mask(l, workdir).rstrip() for l in out.split("\n")]
        while act and not act[-1]:
            act.pop()
        if matches(exp, act):
            continue
        bad += 1
        print("%s: $ %s" % (st.where, st.text))
        for d in difflib.unified_diff(exp, act, "documented", "printed", lineterm=""):
            print("  " + d)
    n = len(cmds)
    print("%d of %d commands printed what the document shows" % (n - bad, n))
    return 1 if bad else 0


# ---- synopsis --------------------------------------------------------------

def usage_entries(text):
    """The usage lines of a -h text ("usage: " up to the first blank line),
    one entry per command form, whitespace collapsed."""
    entries = []
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if line.startswith("usage: "):
            break
    else:
        return entries
    first = True
    for line in lines[k:]:
        if not line.strip():
            break
        if first:
            line = line[len("usage: "):]
            first = False
        s = line.strip()
        if re.match(r"rp(-[a-z]+)?( |$)", s):
            entries.append(s)
        elif entries:
            entries[-1] += " " + s
    return [re.sub(r"\s+", " ", e) for e in entries]


def man_synopsis(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    entries = []
    inside = nofill = False
    for line in lines:
        if line.startswith(".SH"):
            inside = line.split(None, 1)[1:] == ["SYNOPSIS"]
            continue
        if re.match(r"\.(nf|EX)\b", line):
            nofill = True
        elif re.match(r"\.(fi|EE)\b", line):
            nofill = False
        if not inside or not nofill:
            continue
        if line.startswith(".B "):
            line = line[3:].strip().strip('"')
        elif line.startswith("."):
            continue
        line = untroff(line)
        s = line.strip()
        if not s:
            continue
        if re.match(r"rp(-[a-z]+)?( |$)", s) and not line.startswith(" "):
            entries.append(s)
        elif entries:
            entries[-1] += " " + s
    return [re.sub(r"\s+", " ", e) for e in entries]


def help_of(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=60)
    return p.stdout.decode("utf-8", "replace")


def listed(text, heading):
    """The names of a "commands:" or "subcommands:" list of a -h text."""
    names = []
    inside = False
    for line in text.split("\n"):
        if line.strip() == heading:
            inside = True
            continue
        if inside:
            m = re.match(r"  ([a-z][a-z-]*)\s", line)
            if not m:
                break
            names.append(m.group(1))
    return names


# rp runs rp-NAME for any other NAME: a form of its own, no command's usage
EXTERNAL = "rp NAME [ARGS...]"


def synopsis(mandir):
    bad = 0
    pages = {}

    def compare(page, programs):
        nonlocal bad
        doc = man_synopsis(os.path.join(mandir, page))
        want = {}
        for argv in programs:
            for e in usage_entries(help_of(argv)):
                want.setdefault(e, " ".join(argv))
        extra = [e for e in doc if e not in want and e != EXTERNAL]
        missing = [e for e in want if e not in doc]
        for e in missing:
            print("man/%s: SYNOPSIS lacks what '%s' prints: %s"
                  % (page, want[e], e))
        for e in extra:
            print("man/%s: SYNOPSIS line that no -h prints: %s" % (page, e))
        if missing or extra:
            bad += 1
        pages[page] = len(doc)

    top = help_of(["rp", "--help"])
    cmds = listed(top, "commands:")
    if not cmds:
        die("'rp --help' lists no commands")
    progs = [["rp", "--help"]]
    for c in cmds:
        progs.append(["rp", c, "-h"])
    compare("rp.1", progs)
    for stage in ("extract", "chunk", "context", "embed", "index", "eval", "features"):
        prog = "rp-" + stage
        text = help_of([prog, "-h"])
        subs = listed(text, "subcommands:")
        if subs:
            compare(prog + ".1", [[prog, s, "-h"] for s in subs])
        else:
            compare(prog + ".1", [[prog, "-h"]])
    print("%d of %d pages have the SYNOPSIS their commands' -h print"
          % (len(pages) - bad, len(pages)))
    return 1 if bad else 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("readme", "man", "synopsis"):
        die("usage: doctest.py readme README.md | man PAGE | synopsis MANDIR")
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "synopsis":
        sys.exit(synopsis(path))
    steps = readme_steps(path) if mode == "readme" else man_steps(path)
    if not any(s.kind == "cmd" for s in steps):
        print("no examples to run in %s" % path)
        sys.exit(0)
    sys.exit(check(steps, os.getcwd()))


if __name__ == "__main__":
    main()
