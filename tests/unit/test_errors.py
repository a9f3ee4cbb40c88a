"""One root for the ledger's errors, and one table per entry point.

Every exception class the project defines is a ``LedgerError``, so that each entry point
catches one class and maps it by kind: ``ledger/cli/exits.py`` to exit codes,
``ledger/api/errors.py`` to HTTP statuses. A damaged file must give a one-line error.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import consumers
import ledger
import projections
from ledger import errors
from ledger.api.errors import STATUSES, status_of
from ledger.errors import LedgerError
from tests.command import pdl

#: Exceptions that are deliberately not ``LedgerError``s, and why.
NOT_LEDGER_ERRORS = {
    # HTTP's own answers (401, 403, a path naming no one): built with their status, and
    # handled by the API alone; ``LedgerError``s reach it through ``STATUSES``.
    "ledger.api.errors.ApiError",
    # A defect in the ledger's own code, not a condition a user can fix: pydantic wraps
    # it in a serialisation error anyway, so no entry point could see it by name.
    "ledger.contract.secret.PlaintextLeak",
    # The HTTP client imports nothing of the ledger (it may be copied into a producer
    # alone), so it cannot subclass the root; it carries the server's status and detail.
    "ledger.client.LedgerHTTPError",
    # Carries an error raised by the records given to ``append`` past the Kafka adapter's
    # own handlers, which re-raise the original: it never leaves the module.
    "ledger.log.kafka_append._CallersError",
}

#: The kinds: the direct subclasses of the root, each mapped once by each entry point.
KINDS = [c for c in vars(errors).values() if isinstance(c, type) and LedgerError in c.__bases__]


def project_modules() -> Iterator[ModuleType]:
    for package in (ledger, consumers, projections):
        yield package
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            yield importlib.import_module(info.name)


def project_exceptions() -> list[type[BaseException]]:
    return [
        c
        for module in project_modules()
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, BaseException) and c.__module__ == module.__name__
    ]


def test_every_project_exception_is_a_ledger_error() -> None:
    found = project_exceptions()
    assert len(found) > 15, "the walk found too few classes to be trusted"
    names = {f"{c.__module__}.{c.__qualname__}": c for c in found}
    strays = [
        name
        for name, c in names.items()
        if not issubclass(c, LedgerError) and name not in NOT_LEDGER_ERRORS
    ]
    assert strays == [], "subclass a kind from ledger/errors.py"


def test_the_kinds_are_the_documented_ones() -> None:
    assert {k.__name__ for k in KINDS} == {
        "InvalidRequest",
        "NotFound",
        "Refused",
        "Conflict",
        "IntegrityError",
        "ConfigError",
        "Unavailable",
    }


def test_the_api_maps_every_kind_and_the_root() -> None:
    # the CLI's table checks itself when ledger/cli/exits.py is imported
    assert set(KINDS) | {LedgerError} <= set(STATUSES)


def test_the_most_specific_class_wins() -> None:
    from consumers.store import StaleProjections
    from ledger.contract.rejection import EventRejected, Rejection
    from ledger.keys.store import KeyStoreError
    from ledger.log.base import LogError
    from ledger.reports.reading import ReportRequestError, SubjectNotFound

    rejected = EventRejected([Rejection("type", "missing", "add type")])
    assert status_of(rejected) == 409
    assert status_of(LogError("down")) == 503
    assert status_of(KeyStoreError("damaged")) == 503
    assert status_of(StaleProjections("p.sqlite", ["subject_state"])) == 409
    assert status_of(SubjectNotFound("x")) == 404
    bad = ReportRequestError("at", "not an instant")
    assert status_of(bad) == 422
    assert bad.field == "at" and bad.reason == "not an instant"


def _damaged_log() -> None:
    data_dir = Path(os.environ["PDL_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "log.sqlite").write_bytes(b"\x00\xff" * 2048)


#: What the command line does, kind by kind: (setup, arguments, stdin, exit code).
EXITS: dict[str, tuple[Callable[[], None] | None, list[str], str, int]] = {
    "rejected event (Refused)": (None, ["emit"], '{"type": "Nope"}\n', 1),
    "unknown subject (NotFound)": (None, ["state", "nobody@example.fr"], "", 1),
    "malformed request (InvalidRequest)": (
        None,
        ["state", "nobody@example.fr", "--known-at", "2024-01-01"],
        "",
        2,
    ),
    "malformed setting (ConfigError)": (None, ["--log", "carrier-pigeon://x", "lag"], "", 2),
    "damaged log (Unavailable)": (_damaged_log, ["lag"], "", 2),
}


@pytest.mark.parametrize("case", EXITS)
def test_each_kind_ends_the_command_line_with_its_exit_code(case: str) -> None:
    setup, args, stdin, code = EXITS[case]
    if setup is not None:
        setup()
    result = pdl(*args, stdin=stdin)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert "pdl: " in result.stderr


def test_a_fix_is_shown_after_the_message() -> None:
    assert str(errors.ConfigError("PDL_X: malformed", "set it to a number")) == (
        "PDL_X: malformed — fix: set it to a number"
    )


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff" * 40)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:30])


def _short_public_key(path: Path) -> None:
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "public_key": "AAAA"}))


def _flipped_private_key(path: Path) -> None:
    doc = json.loads(path.read_text())
    wrapped = doc["wrapped_private_key"]
    flipped = ("B" if wrapped[20] == "A" else "A").join((wrapped[:20], wrapped[21:]))
    path.write_text(json.dumps({**doc, "wrapped_private_key": flipped}))


@pytest.mark.parametrize("damage", [_garbage, _truncated, _short_public_key, _flipped_private_key])
def test_a_damaged_signing_key_is_one_line_not_a_traceback(
    damage: Callable[[Path], None],
) -> None:
    made = pdl("certificates", "public-key")
    assert made.returncode == 0, made.stderr
    damage(Path(os.environ["PDL_DATA_DIR"]) / "signing.key")
    # verifying needs only the public key, intact when only the private key was altered
    actions = ["public-key"] if damage is _flipped_private_key else ["public-key", "verify"]
    for action in actions:
        result = pdl("certificates", action)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        # one error line; the unpinned-key warning (a line of its own) may come first
        [line] = [x for x in result.stderr.strip().splitlines() if not x.startswith("warning:")]
        assert line.startswith("pdl: ") and "fix:" in line, line


def test_a_damaged_projection_store_is_one_line_and_its_fix_works() -> None:
    store = Path(os.environ["PDL_DATA_DIR"]) / "projections" / "embedded.sqlite"
    store.parent.mkdir(parents=True)
    _garbage(store)
    subject_id = "sub_" + "0" * 32
    result = pdl("state", subject_id)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("pdl: the projection store ") and "`pdl rebuild`" in line, line
    assert pdl("rebuild").returncode == 0
    assert pdl("state", subject_id).returncode == 1  # readable again: nothing known of it
