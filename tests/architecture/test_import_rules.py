"""The layering of docs/ARCHITECTURE.md, checked on the source: every import of a
project module is resolved (``import a.b``, ``from a import b``, relative imports, and
imports inside functions or ``if TYPE_CHECKING:`` too) and judged against ``LAYERS``.

Run ``python -m tests.architecture.test_import_rules`` to print every violation as
``file:line imports module (rule)``; the tests fail with the same lines.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("ledger", "projections", "consumers", "schemas")
PROJECT = (*PRODUCT, "tests")


@dataclass(frozen=True)
class Layer:
    package: str
    level: str
    may_import: frozenset[str]
    rule: str


def _layer(package: str, level: str, may_import: str, rule: str) -> Layer:
    return Layer(package, level, frozenset(may_import.split()), rule)


_L0_L3 = "schemas ledger.errors ledger.log ledger.contract ledger.keys ledger.policy"
_L0_L3 += " projections ledger.erasure"

#: One row per package, lowest layer first: what it may import besides itself.
LAYERS = (
    _layer("ledger", "L0", "", "the package root holds only __version__ and imports nothing"),
    _layer("schemas", "L0", "", "schemas import nothing"),
    _layer("ledger.errors", "L0", "", "ledger.errors imports nothing"),
    _layer("ledger.log", "L0", "ledger.errors", "ledger.log imports only ledger.errors"),
    _layer(
        "ledger.contract",
        "L1",
        "schemas ledger.errors",
        "ledger.contract imports only schemas and ledger.errors",
    ),
    _layer("ledger.keys", "L2", "ledger.contract ledger.errors", "ledger.keys: contract, errors"),
    _layer(
        "ledger.policy", "L2", "ledger.contract ledger.errors", "ledger.policy: contract, errors"
    ),
    _layer(
        "projections",
        "L3",
        "ledger.contract ledger.policy ledger.errors",
        "projections import only the contract, the policy and errors",
    ),
    _layer(
        "ledger.erasure",
        "L3",
        "ledger.contract ledger.keys ledger.log ledger.policy ledger.errors",
        "ledger.erasure: contract, keys, log, policy, errors — never projections or consumers",
    ),
    _layer("consumers", "L4", _L0_L3, "consumers import L0-L3 only"),
    _layer("ledger.service", "L5", f"{_L0_L3} consumers", "ledger.service imports L0-L4 only"),
    _layer(
        "ledger.reports",
        "L6",
        f"{_L0_L3} ledger.service",
        "ledger.reports imports L0-L5, but not consumers directly",
    ),
    _layer(
        "ledger.api",
        "L7",
        f"{_L0_L3} consumers ledger.service ledger.reports",
        "ledger.api: L0-L6; nothing outside ledger/cli imports ledger.cli",
    ),
    _layer(
        "ledger.client",
        "L7",
        "",
        "ledger.client (remote callers' HTTP client) imports nothing of the project",
    ),
    _layer(
        "ledger.cli",
        "L7",
        f"{_L0_L3} consumers ledger.service ledger.reports ledger.api",
        "ledger.cli: everything (the entry point)",
    ),
)
BY_PACKAGE = {layer.package: layer for layer in LAYERS}

#: Modules any layer may import: the package root, for ``__version__``. Only the module
#: itself: ``ledger.x`` is not the root's, it must have a row of its own.
OPEN_TO_ALL = frozenset({"ledger"})
ENVIRONMENT_RULE = "only ledger.service reads environment variables"
TESTS_RULE = "nothing outside ledger/cli imports ledger.cli, tests included"


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str

    def violation(self, rule: str) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.module} ({rule})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def owner(module: str) -> str | None:
    """The package of ``LAYERS`` that ``module`` belongs to, or None."""
    if module in OPEN_TO_ALL:
        return module
    for name in sorted(set(BY_PACKAGE) - OPEN_TO_ALL, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return None


def sources(*tops: str) -> Iterator[Path]:
    for top in tops:
        yield from sorted((ROOT / top).rglob("*.py"))


def imports(path: Path, source: str | None = None) -> Iterator[Import]:
    """Every module ``path`` imports (``source`` if given, else the file's text),
    resolved: ``from a import b`` is module ``a.b`` when that is a module, else ``a``;
    relative imports start at the file's package."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield Import(path, node.lineno, full if is_module(full) else base)


def project_imports(path: Path) -> list[Import]:
    """``imports`` of project modules, once per line and module."""
    found = dict.fromkeys(i for i in imports(path) if i.module.split(".")[0] in PROJECT)
    return sorted(found, key=lambda i: i.line)


def layering_violations() -> list[str]:
    found = []
    for path in sources(*PRODUCT):
        importer = owner(module_name(path))
        layer = BY_PACKAGE.get(importer or "")
        if layer is None:
            found.append(f"{path.relative_to(ROOT)}:1 belongs to no layer (add a row to LAYERS)")
            continue
        for imported in project_imports(path):
            target = owner(imported.module)
            if target in OPEN_TO_ALL or target == layer.package:
                continue
            if target not in layer.may_import:
                found.append(imported.violation(layer.rule))
    return found


def cli_imports_in_tests() -> list[str]:
    return [
        i.violation(TESTS_RULE)
        for path in sources("tests")
        for i in project_imports(path)
        if owner(i.module) == "ledger.cli"
    ]


def environment_violations() -> list[str]:
    """Reads of ``os.environ``/``os.getenv`` (or ``from os import environ``) outside
    ledger/service: settings are resolved once, in the composition root."""
    found = []
    for path in sources(*PRODUCT):
        if owner(module_name(path)) == "ledger.service":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
                and node.attr in ("environ", "getenv")
            ) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "os"
                and any(a.name in ("environ", "getenv") for a in node.names)
            )
            if named:
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 1)}"
                found.append(f"{where} reads the environment ({ENVIRONMENT_RULE})")
    return found


def _report(violations: list[str]) -> str:
    return f"{len(violations)} violation(s):\n" + "\n".join(violations)


def test_every_product_module_imports_only_the_layers_below_it() -> None:
    violations = layering_violations()
    assert not violations, _report(violations)


def test_no_test_imports_the_cli() -> None:
    violations = cli_imports_in_tests()
    assert not violations, _report(violations)


def test_only_the_service_layer_reads_the_environment() -> None:
    violations = environment_violations()
    assert not violations, _report(violations)


def test_the_resolver_sees_every_form_of_import() -> None:
    """The checker itself: absolute, from-, relative and nested imports all resolve."""
    probe = (
        "from . import base\n"
        "from .base import Recorded\n"
        "import ledger.keys.sealing\n"
        "from ledger.keys import sealing\n"
        "def f() -> None:\n"
        "    from ..ledger.erasure import plan\n"
    )
    found = [(i.line, i.module) for i in imports(ROOT / "projections" / "probe.py", probe)]
    assert found == [
        (1, "projections.base"),
        (2, "projections.base"),
        (3, "ledger.keys.sealing"),
        (4, "ledger.keys.sealing"),
        (6, "ledger.erasure.plan"),
    ]


if __name__ == "__main__":
    everything = layering_violations() + cli_imports_in_tests() + environment_violations()
    print("\n".join(everything) or "no violations")
    sys.exit(1 if everything else 0)
