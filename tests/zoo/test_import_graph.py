"""The core's import graph: it never imports a plugin, and has no import cycles.

Read from the source (every ``import`` statement, also those inside functions, except under
``if TYPE_CHECKING:``), so a cycle hidden behind a lazy import counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "zoo"


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, package: str) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    paths = [p for p in CORE.rglob("*.py") if "plugins" not in p.relative_to(CORE).parts]
    names = {_module_name(p): p for p in paths}
    graph = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = _imports(ast.parse(path.read_text()), package)
        graph[name] = {m for m in imported if m in names and m != name and m != "zoo"}
        graph[name] |= {m for m in imported if m.startswith("zoo.plugins")}
    return graph


def test_the_core_imports_no_plugin():
    offenders = {m: sorted(d for d in deps if d.startswith("zoo.plugins"))
                 for m, deps in _graph().items()}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_the_core_has_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state and (cycle := visit(w)):
                return cycle
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            assert visit(v) is None, f"import cycle: {' -> '.join(stack)}"
    assert "zoo.runtime.onnx_export" not in graph["zoo.runtime.inference"]
