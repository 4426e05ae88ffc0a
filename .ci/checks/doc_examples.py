#!/usr/bin/env python3
"""List public items of a crate whose docs have no example that compiles.

Reads rustdoc's JSON output (cargo +nightly rustdoc --lib --all-features -- -Z unstable-options
--output-format json) and walks the public API from the crate root: every public type,
function, trait, macro and constant, and every public method of an inherent impl or of a
trait, must have a ```rust code block (plain, `no_run` or `should_panic`; `ignore`, `text`
and `compile_fail` do not count). Modules, fields, enum variants, and associated constants
and types need docs but no example.
Items marked #[doc(hidden)] are skipped. Usage: doc_examples.py target/doc/CRATE.json
Exits 1 and prints `path (file:line)` for each item missing an example.
"""
import json
import re
import sys

FENCE = re.compile(r"^\s*```([^\n`]*)$", re.M)
COMPILES = {"", "rust", "no_run", "should_panic"}


def has_example(docs):
    if not docs:
        return False
    fences = FENCE.findall(docs)
    # Opening fences are the even-numbered ones.
    for info in fences[0::2]:
        words = {w.strip() for w in info.split(",") if w.strip()}
        words = {w for w in words if not w.startswith("edition")}
        if not words or words <= COMPILES:
            return True
    return False


def hidden(item):
    for a in item.get("attrs", []):
        text = json.dumps(a)
        if "hidden" in text and "doc" in text:
            return True
    return False


def main(path):
    data = json.load(open(path))
    index = data["index"]
    missing = []
    seen = set()

    def where(item):
        span = item.get("span")
        return f"{span['filename']}:{span['begin'][0]}" if span else "?"

    def check(item, name):
        if not has_example(item.get("docs")):
            missing.append(f"{name} ({where(item)})")

    def visit(item_id, prefix):
        item = index.get(str(item_id))
        if item is None or item_id in seen or hidden(item):
            return
        seen.add(item_id)
        (kind, inner), = item["inner"].items()
        name = f"{prefix}::{item['name']}" if item.get("name") else prefix
        if kind == "module":
            for child in inner["items"]:
                visit(child, name)
        elif kind == "use":
            if inner.get("id") is not None and not inner.get("is_glob"):
                target = index.get(str(inner["id"]))
                if target is not None:
                    visit(inner["id"], prefix)
            elif inner.get("is_glob") and inner.get("id") is not None:
                visit(inner["id"], prefix)
        elif kind in ("struct", "enum", "union"):
            check(item, name)
            for impl_id in inner.get("impls", []):
                impl = index.get(str(impl_id))
                if impl is None:
                    continue
                imp = impl["inner"]["impl"]
                if imp.get("trait") is not None or imp.get("is_synthetic") or imp.get("blanket_impl"):
                    continue
                for m in imp["items"]:
                    method = index.get(str(m))
                    if (
                        method
                        and method["visibility"] == "public"
                        and "function" in method["inner"]
                        and not hidden(method)
                    ):
                        check(method, f"{name}::{method['name']}")
        elif kind == "trait":
            check(item, name)
            for m in inner["items"]:
                method = index.get(str(m))
                # Methods need examples; associated types and constants need docs only.
                if method and "function" in method["inner"] and not hidden(method):
                    check(method, f"{name}::{method['name']}")
        elif kind in ("function", "macro", "proc_macro", "constant", "static", "type_alias"):
            check(item, name)

    root = index[str(data["root"])]
    seen.add(data["root"])
    for child in root["inner"]["module"]["items"]:
        visit(child, root["name"])
    for line in sorted(set(missing)):
        print(line)
    if missing:
        print(f"{len(set(missing))} public items without an example that compiles", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
