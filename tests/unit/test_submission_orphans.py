"""A killed submission's directory is removed by the next one; a live one's is kept."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ledger.service.spools import Scratch


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_submissions_directory_is_removed_and_a_live_ones_kept(tmp_root: Path) -> None:
    dead = tmp_root / f"pdl-submission-{_dead_pid()}-abc123"
    live = tmp_root / f"pdl-submission-{os.getpid()}-def456"
    other = tmp_root / "pdl-submission-notapid"
    for directory in (dead, live, other):
        directory.mkdir()
        (directory / "scratch.sqlite").write_bytes(b"ciphertext")
    with Scratch.created() as scratch:
        assert scratch.directory.parent == tmp_root
        assert scratch.directory.name.startswith(f"pdl-submission-{os.getpid()}-")
    assert not dead.exists()
    assert live.exists() and other.exists()
    scratch.close()  # what dropping the submission's receipts does
    assert not scratch.directory.exists()
