#!/usr/bin/env python3
"""Checks docs/TOUR.md's reading path against the sources (issue 20 point 2).

Parses the table under "## The path": one row per step, `| step | [file](../file) | lines |
look at | the article's Python |`, then a `**total**` row. Fails (exit 1) if a listed file
is missing, if a stated line count is off from `wc -l` by more than 10, if a name in
backticks in the "look at" column is not defined in its file (`fn`, `struct`, `enum`,
`trait`, `type`, `const`, `static`), if the path has more than 8 files, if the whole files
total more than 1,500 lines, or if the stated total is off by more than 10. Standard library
only; no cargo needed.
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TOUR = os.path.join(ROOT, "docs", "TOUR.md")
MAX_FILES, MAX_LINES, SLACK = 8, 1500, 10

failures = []


def fail(msg):
    failures.append(msg)


def wc_l(path):
    # `wc -l` counts newline characters.
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


with open(TOUR, encoding="utf-8") as f:
    text = f.read()
m = re.search(r"^## The path\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
if not m:
    sys.exit("tour: docs/TOUR.md has no '## The path' section")

steps, stated_total = [], None
for line in m.group(1).splitlines():
    if not line.startswith("|"):
        continue
    c = cells(line)
    if len(c) < 5:
        continue
    if re.fullmatch(r"\d+", c[0]):
        link = re.fullmatch(r"\[([^\]]+)\]\(([^)]+)\)", c[1])
        if not link:
            fail(f"step {c[0]}: the file cell is not a link: {c[1]!r}")
            continue
        path, target = link.group(1), link.group(2)
        if os.path.normpath(os.path.join("docs", target)) != os.path.normpath(path):
            fail(f"step {c[0]}: the link {target} does not point at {path}")
        if not re.fullmatch(r"\d+", c[2]):
            fail(f"step {c[0]}: the line count is not a number: {c[2]!r}")
            continue
        names = [n.split("::")[-1] for n in re.findall(r"`([A-Za-z_][A-Za-z0-9_:]*)`", c[3])]
        steps.append((c[0], path, int(c[2]), names))
    elif "total" in c[1]:
        n = re.search(r"\d[\d,]*", c[2])
        stated_total = int(n.group(0).replace(",", "")) if n else None

if not steps:
    sys.exit("tour: no steps found in the table of docs/TOUR.md")

actual_total = 0
print(f"{'step':>4}  {'file':<32} {'stated':>6} {'wc -l':>6}")
for step, path, stated, names in steps:
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        fail(f"step {step}: {path} does not exist")
        continue
    lines = wc_l(full)
    actual_total += lines
    print(f"{step:>4}  {path:<32} {stated:>6} {lines:>6}")
    if abs(lines - stated) > SLACK:
        fail(f"step {step}: {path} has {lines} lines, the tour says {stated} (update docs/TOUR.md)")
    with open(full, encoding="utf-8") as f:
        src = f.read()
    if not names:
        fail(f"step {step}: no function named in the 'look at' column")
    for name in names:
        if not re.search(rf"\b(fn|struct|enum|trait|type|const|static)\s+{re.escape(name)}\b", src):
            fail(f"step {step}: `{name}` is not defined in {path}")

files = [p for _, p, _, _ in steps]
print(f"      {'total':<32} {stated_total if stated_total is not None else '?':>6} {actual_total:>6}")
if len(set(files)) != len(files):
    fail("a file is listed twice")
if len(files) > MAX_FILES:
    fail(f"the path has {len(files)} files (at most {MAX_FILES})")
if actual_total > MAX_LINES:
    fail(f"the path is {actual_total} lines (at most {MAX_LINES}): move what a reader of one "
         f"turn and one fd does not need to a sibling file")
if stated_total is None:
    fail("no **total** row in the table")
elif abs(stated_total - actual_total) > SLACK:
    fail(f"the stated total {stated_total} is off from {actual_total}")

if failures:
    for f in failures:
        print("FAIL", f)
    sys.exit(1)
print(f"tour: {len(files)} files, {actual_total} lines: ok")
