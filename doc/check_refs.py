#!/usr/bin/python3
"""Check that the documents and sections the tree cites exist.

Run by `make check` (doc/Makefile.am) over the source tree, or over the
unpacked tarball in `make distcheck`, so it checks what is distributed.

Rules (doc/design.md §1):
  - A citation names a document by its path from the top of the tree,
    `doc/<name>.md` or `doc/protocols/<name>.md`, optionally followed by
    sections: `doc/protocols/ble-adv.md §5.2`, `§2.1-2.4`, `§5.2, §1.5`.
  - A bare `§N` cites the document named last before it in the same file
    (an outside standard, `RFC 8259 §6`, is named but not checked);
    in a Markdown file under doc/, a heading line makes the file itself the
    current document again.
  - The document must exist, and every cited section must be a heading of
    it (`## 5. Field layouts`, `### 5.2 0x02 Battery Monitor`).
  - README.md's "## Layout" and doc/design.md's "## 1. Layout" name every
    folder of lib/, sources/, sinks/, processors/ (`format/`), so they keep up with the
    tree.
  - Nothing cites the research notes outside the tree: no `../shared`,
    `DESIGN.md`, a `protocols/*.md` path not under doc/, a document name
    without its directory (`sinks.md §1.5`), or "section N" / "X.md 3.1"
    in place of `§`.

Usage: check_refs.py [TOP_SRCDIR]   (default: $top_srcdir, else ..)
       check_refs.py --self-test    (the checker against broken input)
Exit status 0 when every citation holds, 1 otherwise (each problem is
printed as FILE:LINE: message).
"""
import os
import re
import sys
import tempfile

# Files that may carry citations: source, build and documentation text.
SCANNED = re.compile(
    r"(\.(c|h|py|sh|am|ac|md|ini|dict|1|3|5)|^Makefile\.am|^configure\.ac)$")
PRUNED = {".git", "autom4te.cache", ".deps", ".libs", "_build", "_inst",
          "corpus", "node_modules",
          # unpacked release tarballs of make deb and of CI's sanitizer build
          "deb-build", "_ci"}

SELF = os.path.join("doc", "check_refs.py")

DOC_PATH = r"doc/(?:protocols/)?[A-Za-z0-9_.-]+\.md"
# Outside documents cited by section (RFC 8259 §6): their sections are not
# ours to check.
EXTERNAL_DOC = r"\bRFC\s*\d+"
SECTION = r"\d+(?:\.\d+)*"
# A document path, or a section mark with an optional range end.
TOKEN = re.compile(r"(?P<doc>(?<![A-Za-z0-9_/.:-])" + DOC_PATH + r")"
                   r"|(?P<ext>" + EXTERNAL_DOC + r")"
                   r"|§\s*(?P<sec>" + SECTION + r")"
                   r"(?:\s*[-–]\s*(?P<end>" + SECTION + r")(?![\d.]*\w))?")
EXTERNAL = object()
HEADING = re.compile(r"^#{1,6}\s+(" + SECTION + r")\.?(?:\s|$)")

FORBIDDEN = [
    (re.compile(r"\.\./shared|(?<![\w-])shared/(?:protocols|data|DESIGN)"),
     "cites the research notes outside the tree; cite doc/ instead", False),
    (re.compile(r"DESIGN\.md|\bDESIGN\s*§"), "cites DESIGN.md; cite doc/design.md", False),
    (re.compile(r"(?<![\w/.-])(?:[\w.-]+/)*(?<!doc/)protocols/[\w-]+\.md"),
     "cites protocols/*.md outside doc/; cite doc/protocols/<name>.md",
     True),
    (re.compile(r"(?<![\w/.-])(?:ble-adv|ble-gatt|vedirect|sinks|modbus-gx|"
                r"design|quantities)\.md\s*§"),
     "names a document without its directory; cite doc/.../<name>.md §N",
     False),
    (re.compile(r"(?<![\w-])[\w-]+\.md,?\s+(?:section\s+)?\d+(?:\.\d+)*\b"),
     "cites a section without §; write 'doc/.../<name>.md §N'", False),
]


def sections_of(path, cache={}):
    """The section numbers that are headings of a Markdown file, or None."""
    if path not in cache:
        try:
            with open(path, encoding="utf-8") as f:
                cache[path] = {m.group(1) for m in map(HEADING.match, f) if m}
        except OSError:
            cache[path] = None
    return cache[path]


def scanned_files(top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in PRUNED)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            # This script's own text is made of citation examples.
            if SCANNED.search(name) and os.path.relpath(path, top) != SELF:
                yield path


def check_file(top, path, problems):
    rel = os.path.relpath(path, top)
    in_doc = rel.startswith("doc" + os.sep) and rel.endswith(".md")
    own = rel.replace(os.sep, "/") if in_doc else None
    current = own
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError):
        return 0
    cited = 0
    for lineno, line in enumerate(lines, 1):
        where = "%s:%d" % (rel, lineno)
        if own and HEADING.match(line):
            current = own
        for pattern, message, only_outside_doc in FORBIDDEN:
            # Inside doc/ a path relative to doc/ is a plain file name.
            if only_outside_doc and rel.startswith("doc" + os.sep):
                continue
            if pattern.search(line):
                problems.append("%s: %s: %s" % (where, message, line.strip()))
        for m in TOKEN.finditer(line):
            if m.group("doc"):
                current = m.group("doc")
                cited += 1
                if sections_of(os.path.join(top, current)) is None:
                    problems.append("%s: %s does not exist" % (where, current))
                continue
            if m.group("ext"):
                current = EXTERNAL
                continue
            if current is EXTERNAL:
                continue
            if current is None:
                problems.append("%s: §%s cites no document (name one before it)"
                                % (where, m.group("sec")))
                continue
            have = sections_of(os.path.join(top, current))
            if have is None:
                continue  # reported where the document was named
            for sec in filter(None, (m.group("sec"), m.group("end"))):
                cited += 1
                if sec not in have:
                    problems.append("%s: %s has no section %s"
                                    % (where, current, sec))
    return cited


# The layout sections that must name every folder of these.
LAYOUTS = [("README.md", "## Layout"), ("doc/design.md", "## 1. Layout")]
LAYOUT_PARENTS = ("lib", "sources", "sinks", "processors")
# Folders every plugin folder may have (doc/design.md §1), not named one by one.
LAYOUT_GENERIC = {"tests", "bench", "fuzz"}


def layout_text(path, heading):
    """The text of a file's section that starts at `heading` (to the next
    heading of the same level), or None when there is none."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    start = text.find("\n" + heading)
    if start < 0:
        return None
    level = heading.split(" ")[0]
    end = text.find("\n" + level + " ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def check_layouts(top, problems):
    """Every folder under lib/, sources/, sinks/ and processors/ is named ("name/") in the
    README's layout and in doc/design.md §1."""
    folders = []
    for parent in LAYOUT_PARENTS:
        try:
            names = sorted(os.listdir(os.path.join(top, parent)))
        except OSError:
            continue
        folders += [(parent, n) for n in names
                    if n not in PRUNED and n not in LAYOUT_GENERIC and
                    os.path.isdir(os.path.join(top, parent, n))]
    for rel, heading in LAYOUTS:
        text = layout_text(os.path.join(top, rel), heading)
        if text is None:
            problems.append("%s: no section '%s'" % (rel, heading))
            continue
        for parent, name in folders:
            if not re.search(r"(?<![\w-])" + re.escape(name) + "/", text):
                problems.append("%s: '%s' does not name %s/%s/ (the tree has it)"
                                % (rel, heading, parent, name))


def check_tree(top):
    problems = []
    cited = sum(check_file(top, p, problems) for p in scanned_files(top))
    check_layouts(top, problems)
    return cited, problems


def self_test():
    """The checker must find each kind of broken citation, and accept good
    ones; returns a list of failures."""
    files = {
        "doc/protocols/x.md": "# x\n## 1. One\n### 1.2 Sub\n## 2 Two\n"
                              "See §1.2 and doc/design.md §3.\n",
        "doc/design.md": "# d\n## 1. Layout\nlib/ a/ b/\nsources/ p/\n"
                         "## 3. Three\nSee doc/protocols/x.md §2, §1.2.\n"
                         "## 4. Four\nBack home: §3.\n",
        "README.md": "# r\n## Layout\nlib/ a/\nsources/ p/\n## Licence\nb/\n",
        "lib/a/x.c": "",
        "lib/b/x.c": "",
        "good.c": "/* doc/protocols/x.md §1.2; then §2 and §1-2. */\n"
                  "/* doc/design.md §3; RFC 8259 §6 */\n",
        "bad_section.c": "/* doc/protocols/x.md §7 */\n",
        "bad_range.c": "/* doc/protocols/x.md §1-3 */\n",
        "bad_doc.c": "/* doc/protocols/missing.md §1 */\n",
        "bare.c": "/* only §1 here */\n",
        "shared.sh": "# see ../shared/protocols/x.md\n",
        "design.py": "# DESIGN.md §7\n",
        "outside.h": "/* protocols/x.md §1 */\n",
        "nodir.c": "/* sinks.md §1.5 */\n",
        "nosign.c": "/* doc/protocols/x.md section 1 */\n",
        "selfref.md": "# n\n## 1. A\n§1\n",
        "doc/Makefile.am": "dist_doc_DATA = protocols/x.md\n",
        "sources/p/README.md": "[notes](../../doc/protocols/x.md):\n"
                               "doc/protocols/x.md §1.2.\n",
    }
    expect = {  # file -> what one of the problems reported for it says
        "bad_section.c": "has no section 7",
        "bad_range.c": "has no section 3",
        "bad_doc.c": "missing.md does not exist",
        "bare.c": "cites no document",
        "shared.sh": "outside the tree",
        "design.py": "DESIGN.md",
        "outside.h": "outside doc/",
        "nodir.c": "without its directory",
        "nosign.c": "without §",
        "selfref.md": "cites no document",
        "README.md": "does not name lib/b/",
    }
    failures = []
    with tempfile.TemporaryDirectory() as top:
        for name, text in files.items():
            path = os.path.join(top, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        _, problems = check_tree(top)
        for name in files:
            mine = [p for p in problems if p.startswith(name + ":")]
            if name in expect:
                if not any(expect[name] in p for p in mine):
                    failures.append("%s: broken citation not reported (%r)"
                                    % (name, expect[name]))
            elif mine:
                failures.extend("good citation refused: " + p for p in mine)
    return failures


def main(argv):
    failures = self_test()
    for f in failures:
        print("check_refs self-test: " + f)
    if failures:
        return 1
    if len(argv) > 1 and argv[1] == "--self-test":
        return 0
    top = argv[1] if len(argv) > 1 else os.environ.get("top_srcdir", "..")
    if not os.path.isfile(os.path.join(top, "doc", "design.md")):
        print("check_refs: %s is not the top of the vicacq tree" % top)
        return 1
    cited, problems = check_tree(top)
    for p in problems:
        print(p)
    print("check_refs: %d citations checked, %d problems" % (cited, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
