"""``pdl basis --json`` and ``pdl report basis --format json`` give one answer in one
shape: the CLI prints the legal-basis report's entry for the subject (with T, K, the
positions and the parameters), for the same subject, purpose, T and K."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.command import pdl
from tests.reports.support import seeded
from tests.reports.test_documented_schemas import documented, problems

T_NOW = "2024-04-30T12:00:00Z"
#: after the April campaign, whose consent was withdrawn on 10 April (recorded later)
T_APRIL = "2024-04-12T08:00:00Z"


@pytest.fixture
def seeded_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data directory holding the demo scenario (closed again for the commands), and
    Camille's subject id. Made per test: its keys are wrapped by the test's own master
    key, which the commands must be given."""
    folder = tmp_path_factory.mktemp("demo") / "data"
    ledger = Backends(Settings.from_environment(None, folder))
    try:
        subject_id = seeded(ledger)
    finally:
        ledger.close()
    return folder, subject_id


def basis_json(seeded_dir: tuple[Path, str], at: str, known_at: str | None) -> dict[str, Any]:
    data_dir, subject_id = seeded_dir
    known = [] if known_at is None else ["--known-at", known_at]
    printed = pdl(
        "--data-dir", str(data_dir), "basis", subject_id, "newsletter", "--at", at, *known, "--json"
    )
    assert printed.returncode == 0, printed.stderr
    found: dict[str, Any] = json.loads(printed.stdout)
    return found


def report_json(
    seeded_dir: tuple[Path, str], out: Path, at: str, known_at: str | None
) -> dict[str, Any]:
    data_dir, subject_id = seeded_dir
    known = [] if known_at is None else ["--known-at", known_at]
    printed = pdl(
        "--data-dir",
        str(data_dir),
        "report",
        "basis",
        subject_id,
        "--purpose",
        "newsletter",
        "--at",
        at,
        *known,
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert printed.returncode == 0, printed.stderr
    found: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return found


def test_basis_json_is_the_reports_entry_for_the_subject(
    seeded_dir: tuple[Path, str], tmp_path: Path
) -> None:
    first = report_json(seeded_dir, tmp_path / "first.json", T_NOW, None)
    consented = first["subjects"][0]["facts"][0]
    assert consented["kind"] == "consent_given"
    before_withdrawal = consented["recorded_at"]  # the withdrawal was recorded after this
    schemas = documented()
    defs = schemas["defs"]["$defs"]
    answers = {}
    for at, known_at in ((T_NOW, None), (T_APRIL, None), (T_APRIL, before_withdrawal)):
        cli = basis_json(seeded_dir, at, known_at)
        report = report_json(seeded_dir, tmp_path / "report.json", at, known_at)
        (entry,) = report["subjects"]
        assert set(cli) == {"at", "known_at", "positions", *report["parameters"], *entry}
        assert {k: cli[k] for k in entry} == entry, (at, known_at)
        assert {k: cli[k] for k in report["parameters"]} == report["parameters"]
        assert (cli["at"], cli["known_at"]) == (report["at"], report["known_at"])
        assert cli["positions"] == report["positions"]
        entry_schema = schemas["legal_basis"]["properties"]["subjects"]["items"]
        assert problems(entry, entry_schema, defs, "cli") == []
        answers[at, known_at] = cli["basis_at"]["basis"]
    # the same question as known then and as known now: consent, then no basis
    assert answers[T_APRIL, before_withdrawal] == "consent"
    assert answers[T_APRIL, None] is None


def test_basis_text_names_the_answer(seeded_dir: tuple[Path, str]) -> None:
    data_dir, subject_id = seeded_dir
    printed = pdl("--data-dir", str(data_dir), "basis", subject_id, "newsletter", "--at", T_APRIL)
    assert printed.returncode == 0, printed.stderr
    assert "basis      none: consent withdrawn" in printed.stdout
    assert "unlawful as known at K" in printed.stdout
