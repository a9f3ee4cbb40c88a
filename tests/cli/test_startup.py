"""``pdl`` imports only what the command it runs uses (issue 16: start-up time).

Checked by structure, not by timing: a child process builds the parser as ``pdl --help``
does and lists the modules it imported. The child imports ``ledger.cli`` itself; this
test module does not (tests/architecture/test_import_rules.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.command import pdl

#: what a command needs and ``pdl --help`` must not load: the Kafka client, Avro, the
#: models, crypto, metrics, the event-sourcing baseline, and the layers that bring them
HEAVY = (
    "kafka",
    "fastavro",
    "pydantic",
    "cryptography",
    "prometheus_client",
    "eventsourcing",
    "consumers",
    "projections",
    "ledger.contract",
    "ledger.service.backends",
)

LIST_IMPORTS = """\
import json, sys
from ledger.cli import main
try:
    main.main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by(*args: str) -> set[str]:
    """The modules a ``pdl ARGS`` process has imported when it ends."""
    result = subprocess.run(
        [sys.executable, "-c", LIST_IMPORTS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(result.stderr.splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("args", [("--help",), ("--version",), ()])
def test_the_top_level_parser_imports_no_command(args: tuple[str, ...]) -> None:
    assert heavy_in(imported_by(*args)) == []


def test_a_command_imports_what_it_uses() -> None:
    # the check above can fail: asking one command's help loads that command's module
    modules = imported_by("state", "--help")
    assert "ledger.cli.state" in modules and "pydantic" in modules
    assert "ledger.cli.serve" not in modules


COMPARE_LISTINGS = """\
import json
from ledger.cli import main
listing = main.build_parser().format_help()
print(json.dumps([c for c in main.COMMANDS if main.build_parser(c).format_help() != listing]))
"""


def test_the_static_command_table_lists_what_each_module_registers() -> None:
    """``pdl --help`` lists commands from a static table; with any command's module
    loaded, the listing must read the same (names, order and one-line summaries)."""
    result = subprocess.run(
        [sys.executable, "-c", COMPARE_LISTINGS],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize("command", ["state", "dump", "verify-erasure", "schemas"])
def test_each_command_still_prints_its_full_help(command: str) -> None:
    result = pdl(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: pdl {command} [-h]")
    assert "examples:" in result.stdout


def test_an_unknown_command_is_still_named_with_the_choices() -> None:
    result = pdl("emitt")
    assert result.returncode == 2
    assert "invalid choice: 'emitt'" in result.stderr and "'verify-erasure'" in result.stderr
