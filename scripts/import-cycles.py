#!/usr/bin/env python3
"""Lists the import graph between the files of a crate and fails on a cycle.

Every path outside comments that names a module of the crate is an edge from the file that
writes it to the file of the longest module prefix it names: `use crate::x::…`,
`use crate::{x, y::z}`, inline `crate::x::f(…)`, `super::…`, `self::…`, and `use child::…` /
`pub use child::…` (so a facade's re-exports count). A path to an item of the crate root
(`crate::Felt`) is an edge to `lib.rs`. `mod child;` declarations are not edges: a parent
declaring its children is structure, not an import. Inside an inline `mod tests { … }`,
`super::` is the file's own module.

Usage: python3 scripts/import-cycles.py [CRATE/src]   (default air/src; prints the edges with -v).
`make lint` runs it on every crate.
"""
import os
import re
import sys

root = next((a for a in sys.argv[1:] if not a.startswith("-")), "air/src")
verbose = "-v" in sys.argv

files = {}  # module path (tuple) -> file name
for dirpath, _, names in os.walk(root):
    for name in names:
        if not name.endswith(".rs"):
            continue
        rel = os.path.relpath(os.path.join(dirpath, name), root)
        parts = rel[:-3].split(os.sep)
        if parts[-1] in ("mod", "lib"):
            parts = parts[:-1]
        files[tuple(parts)] = rel


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def use_paths(tree, prefix):
    """Expands a `use` tree (`a::{b, c::d}`) into full paths."""
    tree = tree.strip()
    if not tree:
        return
    depth, start, parts = 0, 0, []
    for i, ch in enumerate(tree):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(tree[start:i])
            start = i + 1
    parts.append(tree[start:])
    if len(parts) > 1:
        for p in parts:
            yield from use_paths(p, prefix)
        return
    m = re.match(r"^([\w:]*?)::\{(.*)\}$", tree, flags=re.S)
    if m:
        yield from use_paths(m.group(2), prefix + [s for s in m.group(1).split("::") if s])
        return
    if tree.startswith("{") and tree.endswith("}"):
        yield from use_paths(tree[1:-1], prefix)
        return
    tree = re.split(r"\s+as\s+", tree)[0]
    yield prefix + [s for s in tree.split("::") if s]


def target(path):
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in files:
            return tuple(path[:n])
    return ()


def resolve(mod, path, nested):
    """The module path of `path` written in module `mod` (None if outside the crate)."""
    if not path:
        return None
    base = list(mod) + (["<inline>"] if nested else [])
    if path[0] == "crate":
        return path[1:]
    if path[0] in ("self", "super"):
        while path and path[0] in ("self", "super"):
            if path[0] == "super":
                base = base[:-1]
            path = path[1:]
        return [p for p in base if p != "<inline>"] + path
    if tuple(list(mod) + path[:1]) in files:
        return list(mod) + path
    return None


edges = {m: set() for m in files}
for mod, rel in files.items():
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        code = strip_comments(f.read())
    inline = re.search(r"\bmod\s+\w+\s*\{", code)
    cut = inline.start() if inline else len(code)
    paths = []
    for m in re.finditer(r"\buse\s+(.*?);", code, flags=re.S):
        for p in use_paths(m.group(1), []):
            paths.append((p, m.start() > cut))
    for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", code):
        paths.append((m.group(1).split("::"), m.start() > cut))
    for p, nested in paths:
        full = resolve(mod, p, nested)
        if full is None:
            continue
        t = target(full)
        if t != mod:
            edges[mod].add(t)

name = lambda m: files[m]
if verbose:
    for m in sorted(edges, key=name):
        print(f"{name(m)} -> {', '.join(sorted(name(t) for t in edges[m])) or '(nothing)'}")

# Tarjan's strongly connected components: any component of two or more files is a cycle
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
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
        sccs.append(comp)


sys.setrecursionlimit(10000)
for v in edges:
    if v not in index:
        visit(v)
cycles = [c for c in sccs if len(c) > 1]
for c in cycles:
    print("cycle:", " <-> ".join(sorted(name(m) for m in c)))
print(f"{len(files)} files, {sum(map(len, edges.values()))} edges, {len(cycles)} cycles")
sys.exit(1 if cycles else 0)
