"""The layers of ARCHITECTURE.md hold in the code: every module is in one layer, imports go up only."""

from __future__ import annotations

import ast
import fnmatch
import re

from kb.config import PROJECT_ROOT

PACKAGES = ("ingest", "kb", "ui", "eval")


def layers() -> list[list[str]]:
    """The module patterns of each layer, in order, read from ARCHITECTURE.md's table."""
    text = (PROJECT_ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \d+ [^|]+\| ([^|]+) \|", text, re.M)
    return [re.findall(r"`([\w.*]+)`", row) for row in rows]


def modules() -> dict[str, object]:
    out = {"app": PROJECT_ROOT / "app.py"}
    for pkg in PACKAGES:
        for path in (PROJECT_ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(PROJECT_ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def layer_of(module: str, table: list[list[str]]) -> int | None:
    found = [i for i, pats in enumerate(table) if any(fnmatch.fnmatchcase(module, p) for p in pats)]
    return found[0] if found else None


def imports(path, known) -> set[str]:
    """The project modules ``path`` imports ("from kb import compose" imports kb.answer.compose)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
            out.update(subs or [node.module])
    return {m for m in out if m in known}


def test_every_module_is_in_exactly_one_layer():
    table = layers()
    assert len(table) >= 7, table
    for name in modules():
        found = [i for i, pats in enumerate(table) if any(fnmatch.fnmatchcase(name, p) for p in pats)]
        assert found, f"{name} is in no layer of ARCHITECTURE.md"
        assert len(set(found)) == 1, f"{name} is in layers {found}"


def test_imports_never_go_down_the_flow():
    table = layers()
    known = modules()
    problems = set()
    for name, path in known.items():
        mine = layer_of(name, table)
        for target in imports(path, known):
            theirs = layer_of(target, table)
            if theirs is not None and theirs > mine:
                problems.add(f"{name} (layer {mine}) imports {target} (layer {theirs})")
    assert not problems, "\n".join(sorted(problems))


def _all_imports(path, known) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function (lazy imports included)."""
    return imports(path, known)  # ast.walk already visits imports nested in functions


def test_no_import_cycles():
    known = modules()
    graph = {name: _all_imports(path, known) - {name} for name, path in known.items()}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_kb_root_is_small_and_layers_are_folders():
    root = [p.name for p in (PROJECT_ROOT / "kb").glob("*.py")]
    assert len(root) <= 12, sorted(root)
    for folder in ("encoder", "index", "retrieval", "answer", "models"):
        assert (PROJECT_ROOT / "kb" / folder / "__init__.py").is_file(), folder
