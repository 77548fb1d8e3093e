"""The package's shape: imports run strictly downward through the layers of docs/architecture.md, every
backend handles every IR node type, and no cache is keyed by ``id()``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from matcher import cpsat, evaluate, ir, render

PACKAGE = Path(__file__).resolve().parent.parent / "matcher"

# Bottom to top; a module may import only from layers below its own.
LAYERS = [
    {"errors", "ir", "kleene", "names"},
    {"site_facts", "rule_reads"},
    {"dates", "contract", "facts", "units", "output"},
    {"derived", "reading", "validate", "fhir"},
    {"cohort", "trials"},
    {"context", "coverage", "scenario", "escalation"},
    {"evaluate", "cpsat", "render"},
    {"findings"},
    {"explain"},
    {"screening", "synth", "plans"},
    {"actions", "rescreening"},
    {"plan_words"},
    {"planning", "outcome", "prefilter"},
    {"nearmiss"},
    {"arcs", "distributed"},
    {"reasons", "changes"},
    {"allocation", "schedule"},
    {"formats", "figures"},
    {"report", "api"},
    {"cli"},  # the only package that imports click
    {"__main__"},  # python -m matcher
]
LAYER_OF = {module: level for level, modules in enumerate(LAYERS) for module in modules}


def _modules() -> list[str]:
    """Top-level modules and subpackages of matcher (a subpackage is one unit of the layering)."""
    files = [path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"]
    packages = [path.parent.name for path in PACKAGE.glob("*/__init__.py")]
    return sorted(files + packages)


def _sources(module: str) -> list[Path]:
    package = PACKAGE / module
    return sorted(package.glob("*.py")) if package.is_dir() else [PACKAGE / f"{module}.py"]


def _imported(module: str) -> set[str]:
    """The package modules ``module`` imports, at any depth of its code (a subpackage's own modules left out)."""
    found: set[str] = set()
    for source in _sources(module):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "matcher":
                found |= {alias.name for alias in node.names if alias.name in LAYER_OF}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("matcher."):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("matcher.")}
    return found - {module}


def test_every_module_has_a_layer():
    assert [module for module in _modules() if module not in LAYER_OF] == []


@pytest.mark.parametrize("module", _modules())
def test_imports_run_downward(module):
    upward = {name for name in _imported(module) if LAYER_OF[name] >= LAYER_OF[module]}
    assert upward == set(), f"{module} (layer {LAYER_OF[module]}) imports {upward} from its own layer or above"


@pytest.mark.parametrize("module", _modules())
def test_no_cache_keyed_by_object_identity(module):
    calls = [
        f"{source.name}:{node.lineno}"
        for source in _sources(module)
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "id"
    ]
    assert calls == [], f"{module} calls id() at {calls}"


@pytest.mark.parametrize(
    "handlers", [evaluate.EVALUATORS, cpsat.RAILS, cpsat.LEAF_VALUES, render.WORDS], ids=lambda h: h.backend
)
def test_every_backend_handles_every_node_type(handlers):
    assert handlers.missing() == []


def test_node_types_come_from_the_discriminated_union():
    assert {t.__name__ for t in ir.RULE_TYPES} >= {"Compare", "Washout", "All", "If", "Not", "AtLeast", "Known"}
    assert len(ir.RULE_TYPES) == len(set(ir.RULE_TYPES))


def test_a_missing_handler_is_named():
    handlers: ir.Handlers[object] = ir.Handlers("a test backend")
    handlers.register(ir.Compare)(print)
    assert "Washout" in handlers.missing() and "Compare" not in handlers.missing()
    with pytest.raises(TypeError, match="a test backend has no handler for Washout"):
        handlers[ir.Washout]


@pytest.mark.parametrize("module", [m for m in _modules() if m != "cli"])
def test_only_the_cli_imports_click(module):
    imports = {
        alias.name
        for source in _sources(module)
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module
        for source in _sources(module)
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not {name for name in imports if name.split(".")[0] == "click"}
