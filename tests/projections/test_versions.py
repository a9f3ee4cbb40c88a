"""A store built by a pdl whose projections differ refuses to run until rebuilt."""

from __future__ import annotations

import sqlite3

from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.cli.test_cli import pdl
from tests.scenario import consent, lines


def test_stale_store_is_refused_until_rebuilt(tmp_path: object) -> None:
    assert pdl("emit", "-", stdin="\n".join(lines(consent("v1@example.fr")))).returncode == 0
    assert pdl("state", "v1@example.fr").returncode == 0
    ledger = Backends(Settings.from_environment())
    path = ledger.store_path
    with sqlite3.connect(path) as db:  # as if an older pdl had built it
        db.execute(
            "UPDATE projection_versions SET version = 'older' WHERE projection = ?",
            ("subject_state",),
        )
    refused = pdl("state", "v1@example.fr")
    assert refused.returncode == 2
    assert "subject_state changed" in refused.stderr and "pdl rebuild" in refused.stderr
    assert pdl("rebuild").returncode == 0
    shown = pdl("state", "v1@example.fr")
    assert shown.returncode == 0 and "newsletter" in shown.stdout
