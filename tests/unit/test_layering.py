"""The layers hold: every import in app/ and workers/, function-level ones included, follows the rules.

- domain/: business rules, the standard library only: nothing else of the app, no AWS, no web.
- services/: use cases; they reach the outside world through their ports (services/ports.py)
  and are given adapters by the edges, never import one, nor the web layers or the local runtime.
- adapters/: AWS and the like, behind the ports: of the services they know the ports only.
- api/, dashboard/: the web edges. workers/: the pipeline's edges. Neither imports app/local.
- app/local/: the laptop runtime; nothing deployed imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIRD_PARTY_FOR_EDGES = (
    "boto3",
    "botocore",
    "fastapi",
    "starlette",
    "jinja2",
    "mangum",
    "aws_lambda_powertools",
)


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import stands (absolute imports only here)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: a relative import"
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def within(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def refused(module: str, imported: str) -> str | None:
    """Why ``module`` may not import ``imported``; None when it may."""
    if within(module, "app.domain"):
        if within(imported, "app", "workers") and not within(imported, "app.domain"):
            return "the domain imports nothing of the app but the domain"
        if within(imported, *THIRD_PARTY_FOR_EDGES):
            return "the domain imports no AWS or web library"
    edges_and_adapters = ("app.adapters", "app.api", "app.dashboard", "app.local", "workers")
    if within(module, "app.services") and within(imported, *edges_and_adapters):
        return "a service is given its adapters (a port), it imports none, nor an edge"
    if within(module, "app.adapters"):
        if within(imported, "app.api", "app.dashboard", "app.local", "workers"):
            return "an adapter imports no edge"
        if within(imported, "app.services") and not within(imported, "app.services.ports"):
            return "an adapter knows the services' ports only (app/services/ports.py)"
    if not within(module, "app.local") and within(imported, "app.local"):
        return "nothing deployed imports the local runtime"
    if within(module, "workers") and within(imported, "app.api", "app.dashboard"):
        return "a pipeline function imports no web layer"
    return None


SOURCES = sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("workers/**/*.py")])


def test_every_import_follows_the_layers():
    broken = [
        f"{module_of(path)} imports {imported}: {why}"
        for path in SOURCES
        for imported in sorted(imports_of(path))
        if (why := refused(module_of(path), imported))
    ]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("app.domain.task", "app.adapters.task_store"),
        ("app.domain.task", "boto3"),
        ("app.services.sign_in", "app.adapters.passwords"),
        ("app.adapters.aggregates", "app.services.dashboard"),
        ("app.api.routes", "app.local.runtime"),
        ("workers.consumer", "app.dashboard.views"),
    ],
)
def test_the_check_refuses_what_runs_against_the_layers(module, imported):
    assert refused(module, imported)


def test_the_check_allows_what_the_layers_allow():
    assert refused("app.adapters.aggregates", "app.services.ports") is None
    assert refused("app.services.tasks", "app.domain.task") is None
    assert refused("app.local.runtime", "app.adapters.aws") is None
    assert refused("app.dashboard.routes", "app.adapters.passwords") is None
