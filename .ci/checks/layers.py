#!/usr/bin/env python3
"""The import graph of src/: every file's `crate::` and `super::` paths, mapped to files and
to the layers of README's "How a turn goes". Fails (exit 1) on an import from a lower layer
up into a higher one, and on any cycle between files; prints the graph summary either way.

Layers, lowest first (a file may import its own layer and the ones below):
  0 sys        src/sys/, error.rs, time.rs: the syscalls and the crate's own vocabulary
  1 task       src/task/: task header, wakers, JoinHandle
  2 reactor    reactor.rs (and reactor/), timers.rs (and timers/), stats.rs, report.rs,
               trace/: the loop's tables
  3 executor   src/executor/, blocking/pool.rs: the Loop, its turn, Handle
  4 leaves     events/, async_fd.rs, registration.rs, net/, signal.rs, blocking/, compat/,
               fs_watch.rs, process/, systemd/, multi.rs
  5 combine    combinators/, sync/, testing/
  6 top        lib.rs, private.rs, current.rs: re-exports and the free functions
A path is resolved through `pub use` re-exports to the file that defines the name, so a
re-export in a mod.rs adds no edge of its own. Standard library only; no cargo needed.
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
ROOT = os.path.normpath(ROOT)

LAYERS = [  # (layer, name, path prefixes relative to src/)
    (0, "sys", ["sys/", "error.rs", "time.rs"]),
    (1, "task", ["task/"]),
    (2, "reactor", ["reactor.rs", "reactor/", "timers.rs", "timers/", "stats.rs", "report.rs",
                    "trace/"]),
    (3, "executor", ["executor/", "blocking/pool.rs"]),
    (4, "leaves", ["events/", "async_fd.rs", "registration.rs", "net/", "signal.rs",
                   "blocking/", "blocking.rs", "compat/", "fs_watch.rs", "process/",
                   "systemd/", "multi.rs"]),
    (5, "combine", ["combinators/", "sync/", "testing/"]),
    (6, "top", ["lib.rs", "private.rs", "current.rs"]),
]


# Cycles accepted, each with its reason. Nothing else may form one.
ALLOWED_CYCLES = {
    frozenset(["task/raw.rs", "task/shared.rs"]):
        "mutually recursive types: a task header holds its loop's wake queue (Arc<Shared>) "
        "and the queue is an intrusive list of headers; one structure in two files",
}


def layer_of(rel):
    best = None
    for layer, name, prefixes in LAYERS:
        for p in prefixes:
            if rel == p or (p.endswith("/") and rel.startswith(p)):
                if best is None or len(p) > best[2]:
                    best = (layer, name, len(p))
    if best is None:
        sys.exit(f"layers: {rel} is in no layer; add it to LAYERS in {__file__}")
    return best[0], best[1]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = []
    for line in text.splitlines():
        # Drop // comments (not inside strings: good enough for this code base).
        i = line.find("//")
        if i >= 0 and line[:i].count('"') % 2 == 0:
            line = line[:i]
        out.append(line)
    return "\n".join(out)


files = {}
for dirpath, _, names in os.walk(ROOT):
    for n in names:
        if n.endswith(".rs"):
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, ROOT).replace(os.sep, "/")
            with open(full, encoding="utf-8") as f:
                text = strip_comments(f.read())
            # A file's unit tests import the file itself (`use super::*`): not an edge.
            text = re.split(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)[0]
            files[rel] = text


def module_dir(rel):
    """The module path (list of segments) a file defines."""
    if rel == "lib.rs":
        return []
    parts = rel[:-3].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    return parts


def file_of(mod):
    """The file defining module path `mod`, or None."""
    if not mod:
        return "lib.rs"
    base = "/".join(mod)
    for cand in (base + ".rs", base + "/mod.rs"):
        if cand in files:
            return cand
    # `#[path = "private.rs"] pub mod __private;`
    if mod == ["__private"]:
        return "private.rs"
    return None


USE_RE = re.compile(r"\buse\s+([^;]+);", re.S)


def expand_use(tree):
    """`a::{b, c::{d, e as f}}` -> [(['a','b'], 'b'), (['a','c','d'], 'd'), ...]."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, t):
        if t.startswith("{") and t.endswith("}"):
            depth, cur, items = 0, "", []
            for ch in t[1:-1]:
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                if ch == "," and depth == 0:
                    items.append(cur)
                    cur = ""
                else:
                    cur += ch
            if cur:
                items.append(cur)
            for it in items:
                walk(prefix, it)
            return
        m = re.match(r"^([A-Za-z0-9_]+)::(.*)$", t)
        if m:
            walk(prefix + [m.group(1)], m.group(2))
            return
        out.append((prefix + [t], t))

    walk([], tree)
    return out


# Re-exports: for each module file, name -> absolute module path of the item.
reexports = defaultdict(dict)


def inline_modules(text):
    """(start, end, name) of each `mod name { ... }` block written inside a file."""
    out = []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{", text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out.append((m.start(), i, m.group(1)))
    return out


def here_at(rel, pos):
    """The module path at offset `pos` of file `rel` (inside any inline `mod x { }`)."""
    here = module_dir(rel)
    for start, end, name in INLINE.get(rel, ()):
        if start <= pos <= end:
            here = here + [name]
    return here


def absolute(rel, path, pos=None):
    """Turn a use path (segments) into an absolute module path, or None if external."""
    here = here_at(rel, pos) if pos is not None else module_dir(rel)
    if not path:
        return None
    if path[0] == "crate":
        return path[1:]
    if path[0] == "self":
        return here + path[1:]
    if path[0] == "super":
        base = here[:]
        while path and path[0] == "super":
            base = base[:-1]
            path = path[1:]
        return base + path
    # A path relative to this module (`use handle::Handle;` after `mod handle;`).
    if file_of(here + [path[0]]) is not None:
        return here + path
    return None


INLINE = {rel: inline_modules(text) for rel, text in files.items()}

for rel, text in files.items():
    for m in re.finditer(r"\bpub(?:\([a-z]+\))?\s+use\s+([^;]+);", text, re.S):
        raw = m.group(1)
        for seg, _ in expand_use(re.sub(r"\s+as\s+", " as ", raw).replace(" as ", "@")):
            last = seg[-1]
            name = last.split("@")[-1]
            seg = seg[:-1] + [last.split("@")[0]]
            if here_at(rel, m.start()) != module_dir(rel):
                continue  # a re-export inside an inline module is that module's own
            target = absolute(rel, seg, m.start())
            if target is not None:
                reexports[rel][name] = target


def resolve(path, depth=0):
    """The file an absolute path's item is defined in (following re-exports)."""
    best = None
    for i in range(len(path), -1, -1):
        f = file_of(path[:i])
        if f is not None:
            best = (f, path[i:])
            break
    if best is None:
        return None
    f, rest = best
    if rest and depth < 8 and rest[0] in reexports.get(f, {}):
        target = reexports[f][rest[0]] + rest[1:]
        again = resolve(target, depth + 1)
        if again is not None:
            return again
    return f


edges = defaultdict(set)
PATH_RE = re.compile(r"\b((?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
for rel, text in files.items():
    targets = []
    for m in USE_RE.finditer(text):
        raw = m.group(1).strip()
        if not (raw.startswith("crate") or raw.startswith("super") or raw.startswith("self")
                or re.match(r"^\w+::", raw)):
            continue
        for seg, _ in expand_use(raw.replace(" as ", "@")):
            seg = seg[:-1] + [seg[-1].split("@")[0]]
            if seg[-1] in ("self", "*"):
                seg = seg[:-1]
            a = absolute(rel, seg, m.start())
            if a is not None:
                targets.append(a)
    for m in PATH_RE.finditer(text):
        a = absolute(rel, m.group(1).split("::"), m.start())
        if a is not None:
            targets.append(a)
    for a in targets:
        f = resolve(a)
        if f is None or f == rel:
            continue
        # A parent module (lib.rs, a mod.rs) owns its children: naming or re-exporting
        # them is structure, not an import.
        if rel == "lib.rs" or rel.endswith("/mod.rs"):
            parent = "" if rel == "lib.rs" else os.path.dirname(rel) + "/"
            if f.startswith(parent) and f != rel:
                continue
        # The same for a file whose children sit in the folder of its name (`reactor.rs`
        # and `reactor/adaptive.rs`): one module split over files, not an import.
        if rel != "lib.rs" and not rel.endswith("/mod.rs") and f.startswith(rel[:-3] + "/"):
            continue
        edges[rel].add(f)

# Module declarations are not imports: a parent naming its children is not an edge from
# the child's point of view, and `pub use` in a mod.rs is followed above.
failures = []
per_layer = defaultdict(lambda: defaultdict(int))
for src, dsts in sorted(edges.items()):
    ls, ns = layer_of(src)
    for dst in sorted(dsts):
        ld, nd = layer_of(dst)
        per_layer[ns][nd] += 1
        if ld > ls:
            failures.append(f"upward import: {src} ({ns}, layer {ls}) -> {dst} ({nd}, layer {ld})")

# Cycles between files (Tarjan's strongly connected components).
index, low, on, stack, sccs, counter = {}, {}, set(), [], [], [0]
sys.setrecursionlimit(10000)


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))


for v in sorted(files):
    if v not in index:
        strong(v)
allowed = []
for comp in sccs:
    reason = ALLOWED_CYCLES.get(frozenset(comp))
    if reason:
        allowed.append(f"accepted cycle {' <-> '.join(comp)}: {reason}")
    else:
        failures.append(f"import cycle of {len(comp)} files: {' <-> '.join(comp)}")

names = [n for _, n, _ in LAYERS]
print(f"layers: {len(files)} files, {sum(len(d) for d in edges.values())} file imports")
print("imports by layer (row imports column):")
print("  " + " " * 9 + "".join(f"{n:>9}" for n in names))
for n in names:
    print(f"  {n:<9}" + "".join(f"{per_layer[n][m] or '.':>9}" for m in names))
for a in allowed:
    print(a)
if failures:
    print()
    for f in failures:
        print("FAIL", f)
    sys.exit(1)
print("no upward import, no cycle")
