"""The package's shape: imports run one way down the layers of docs/architecture.md, no cycles.

The layer order is declared once, in docs/architecture.md (the fenced block
after "## Layers"); this test parses that block and every module of
``src/logitfit`` (every import statement, lazy ones inside functions and
``TYPE_CHECKING`` blocks included) and fails on an import of a higher layer,
on any import cycle between modules, on more than 12 modules loose at the top
of the package and on a module over 600 lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "logitfit"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_LOOSE = 12
MAX_LINES = 600


def declared_layers() -> dict[str, int]:
    """Top-level module or subpackage name -> layer number, from docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    block = re.search(r"## Layers.*?```text\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md must have a ```text block under '## Layers'"
    layers: dict[str, int] = {}
    for line in block.group(1).splitlines():
        m = re.match(r"\s*(\d+)\s+(.*)", line)
        if not m:
            continue
        for name in m.group(2).split("#")[0].split():
            assert name not in layers, f"{name} is declared twice in docs/architecture.md"
            layers[name.rstrip("/")] = int(m.group(1))
    return layers


def modules() -> dict[str, Path]:
    """Every module: Python files, and the Cython sources of the compiled extensions."""
    out = {}
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyx")]:
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The logitfit modules ``name`` imports (absolute and relative, anywhere in the file)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    if path.suffix == ".pyx":  # compiled kernels: they import no logitfit module
        return found
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                       for a in node.names]
        for target in targets:
            if target != "logitfit" and not target.startswith("logitfit."):
                continue
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name:
                found.add(target)
    return found


def layer_key(module: str) -> str:
    parts = module.split(".")
    return "logitfit" if len(parts) == 1 else parts[1]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_has_a_declared_layer():
    layers = declared_layers()
    missing = sorted({layer_key(m) for m in modules()} - set(layers))
    assert not missing, f"declare these in docs/architecture.md's layer list: {missing}"


def test_imports_run_down_the_layers():
    layers = declared_layers()
    upward = [f"{a} (layer {layers[layer_key(a)]}) imports {b} (layer {layers[layer_key(b)]})"
              for a, deps in sorted(graph().items()) for b in sorted(deps)
              if layers[layer_key(b)] > layers[layer_key(a)]]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_few_loose_modules_and_none_too_long():
    loose = [p for p in PACKAGE.glob("*.py")]
    assert len(loose) <= MAX_LOOSE, sorted(p.name for p in loose)
    long = {name: n for name, path in modules().items() if path.suffix == ".py"
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    """The parser itself: a lazy import inside a function and a relative import both count."""
    pkg = tmp_path / "logitfit"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("def f():\n    from logitfit.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from . import a\n")
    known = {"logitfit": pkg / "__init__.py", "logitfit.sub": pkg / "sub" / "__init__.py",
             "logitfit.sub.a": pkg / "sub" / "a.py", "logitfit.sub.b": pkg / "sub" / "b.py"}
    edges = {n: imports_of(n, p, known) for n, p in known.items()}
    assert edges["logitfit.sub.a"] == {"logitfit.sub.b"}
    assert edges["logitfit.sub.b"] == {"logitfit.sub.a"}
    assert cycles(edges) == [["logitfit.sub.a", "logitfit.sub.b"]]


@pytest.mark.parametrize("module", ["logitfit", "logitfit.cli"])
def test_importing_the_entry_points_stays_light(module):
    """``import logitfit`` and the CLI package import neither scikit-learn nor pandas."""
    import subprocess
    import sys

    code = (f"import sys, {module}; bad = [m for m in ('sklearn', 'pandas', 'matplotlib', "
            "'dask') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
