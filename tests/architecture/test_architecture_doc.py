"""docs/ARCHITECTURE.md kept current with the code: its package table is ``LAYERS`` (the
same packages, the same allowed imports), every path it names exists, every setting has
a row in its configuration table, and no link leaves the repository."""

from __future__ import annotations

import re

from ledger.service.settings_file import VARIABLES
from tests.architecture.test_import_rules import LAYERS, ROOT

DOC = ROOT / "docs" / "ARCHITECTURE.md"
#: Top-level folders of the repository a path in the document may start with.
TOPS = ("ledger", "consumers", "projections", "schemas", "tests", "bench", "infra", "docs")
_PATH = re.compile(rf"(?<![\w./-])((?:{'|'.join(TOPS)})/[\w./<>*-]*)")
_LINK = re.compile(r"\]\(([^)\s]+)")
_NAME = re.compile(r"`([\w.]+)`")
#: A file or folder of the row's own package, named without its path: `sealed.py`.
_LOCAL = re.compile(r"`([\w-]+(?:\.py|/))`")


def text() -> str:
    return DOC.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text under ``## title``, up to the next ``## ``."""
    body = text().split(f"\n## {title}\n", 1)[1]
    return body.split("\n## ", 1)[0]


def table_rows(title: str) -> list[list[str]]:
    """The cells of the body rows of the first table in the section."""
    rows = [line for line in section(title).splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def documented_layers() -> dict[str, tuple[str, frozenset[str]]]:
    """package → (layer, what it may import), as the document's table says."""
    found = {}
    for package, level, _, may_import in table_rows("Packages"):
        (name,) = _NAME.findall(package)
        allowed = frozenset() if may_import == "nothing" else frozenset(_NAME.findall(may_import))
        found[name] = (level, allowed)
    return found


def named_paths() -> list[str]:
    """Every repository path the document names, placeholders (``<log>``, ``*``) kept."""
    return sorted({m.rstrip(".") for m in _PATH.findall(text())})


def package_local_paths() -> list[str]:
    """The files and folders the package table names by their bare name, as paths in the
    row's package (``sealed.py`` on the ``ledger.contract`` row: ledger/contract/sealed.py)."""
    found = []
    for package, _, what, _ in table_rows("Packages"):
        (name,) = _NAME.findall(package)
        found += [f"{name.replace('.', '/')}/{local}" for local in _LOCAL.findall(what)]
    return found


def exists(path: str) -> bool:
    if "<" in path or "*" in path:  # a pattern: its fixed folder must exist
        fixed = re.split(r"[<*]", path, maxsplit=1)[0].rpartition("/")[0]
        return (ROOT / fixed).is_dir()
    return (ROOT / path).exists()


def test_the_package_table_is_the_layering_the_import_checker_enforces() -> None:
    documented = documented_layers()
    enforced = {layer.package: (layer.level, layer.may_import) for layer in LAYERS}
    assert sorted(documented) == sorted(enforced), "one row per LAYERS package"
    wrong = {p: documented[p] for p in enforced if documented[p] != enforced[p]}
    assert not wrong, f"rows that differ from LAYERS (layer, may import): {wrong}"


def test_every_path_the_document_names_exists() -> None:
    paths = named_paths()
    assert len(paths) > 30, "the path pattern found too few paths to be trusted"
    assert [p for p in paths if not exists(p)] == []
    local = package_local_paths()
    assert len(local) > 30, "the package table names too few files to be trusted"
    assert [p for p in local if not exists(p)] == []


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    rows = table_rows("Configuration")
    variables = {v for row in rows for v in re.findall(r"PDL_\w+", row[2])}
    assert variables == set(VARIABLES.values())


def test_no_link_leaves_the_repository() -> None:
    body = text()
    assert "../" not in body, "a path that climbs out of docs/ may leave the repository"
    for target in _LINK.findall(body):
        assert "://" not in target and not target.startswith("/"), target
        resolved = (DOC.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), target
    assert not re.search(r"https?://", body), "a web address leaves the repository"
