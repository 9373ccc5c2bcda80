#!/usr/bin/env python3
"""Fails (exit 1) when modules of the crate import each other, directly or round a loop.

Reads the production code of every file under src/ (the lines before its first `#[cfg(test)]`),
takes every `crate::...` path (`use crate::{a, b::c}` groups too) and every `super::` path, and
builds, at each depth, the graph of sibling modules: `ingest` -> `output` at the top,
`ingest::read` -> `ingest::sources` one level down. Any strongly connected group of two or more
siblings is a cycle. Tests are left out: a test may use anything.

    python3 scripts/module_cycles.py          # from the repository root
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
ROOTS = {"lib.rs", "main.rs"}
TEST_FILES = {"tests.rs", "testutil.rs"}


def module_of(path: Path) -> list:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod" or (len(parts) == 1 and path.name in ROOTS):
        parts = parts[:-1]
    return parts


def production(text: str) -> str:
    m = re.search(r"^\s*#\[cfg\(test\)\]", text, re.M)
    return text[: m.start()] if m else text


def expand(body: str) -> list:
    """`a::{b, c::d}` -> [a::b, a::c::d] (one level of braces is all the code uses)."""
    m = re.match(r"([\w:]*)\{([^{}]*)\}", body)
    if not m:
        return [body]
    return [m.group(1) + x.strip() for x in m.group(2).split(",") if x.strip()]


def targets(module: list, code: str) -> set:
    found = set()
    for m in re.finditer(r"\bcrate::((?:\w+::)*(?:\w+|\{[^{}]*\}))", code):
        for p in expand(m.group(1)):
            found.add(tuple(x for x in p.split("::") if x and x != "self"))
    for m in re.finditer(r"\b((?:super::)+)((?:\w+::)*(?:\w+|\{[^{}]*\}))", code):
        up = m.group(1).count("super::")
        base = module[: len(module) - up] if up <= len(module) else []
        for p in expand(m.group(2)):
            found.add(tuple(base + [x for x in p.split("::") if x and x != "self"]))
    return found


def cycles(edges: dict) -> list:
    """Strongly connected components of two or more nodes (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
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
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    imports = []  # (from module path, to module path)
    for f in sorted(SRC.rglob("*.rs")):
        # Files of test modules (`#[cfg(test)] mod tests;`, the crate's testutil) are tests.
        if f.name in TEST_FILES:
            continue
        mod = module_of(f)
        for t in targets(mod, production(f.read_text(encoding="utf-8"))):
            imports.append((tuple(mod), t))
    bad = 0
    depth = max(len(a) for a, _ in imports) + 1
    for d in range(1, depth + 1):
        edges = {}
        for a, b in imports:
            if len(a) < d or len(b) < d or a[: d - 1] != b[: d - 1] or a[d - 1] == b[d - 1]:
                continue
            edges.setdefault("::".join(a[:d]), set()).add("::".join(b[:d]))
        for comp in cycles(edges):
            bad += 1
            print("cycle: " + " <-> ".join(comp))
            for v in comp:
                for w in sorted(edges.get(v, ())):
                    if w in comp:
                        print(f"    {v} imports {w}")
    if bad:
        return 1
    print("no module cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
