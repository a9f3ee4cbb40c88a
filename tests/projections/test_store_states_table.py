"""A projection store made before ``states`` became a rowid table keeps working."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from consumers.sqlite_store import SQLiteProjectionStore


def test_a_store_with_the_former_states_table_reads_and_writes_states(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE states (projection TEXT NOT NULL, key TEXT NOT NULL, "
        "state TEXT NOT NULL, PRIMARY KEY (projection, key)) WITHOUT ROWID"
    )
    db.execute("INSERT INTO states VALUES ('p', 'k1', 'one')")
    db.commit()
    db.close()
    store = SQLiteProjectionStore(path)
    try:
        with store.unit_of_work() as uow:
            assert uow.states_of("p", ["k1", "k2"]) == {"k1": "one"}
            uow.put_states("p", {"k1": "uno", "k2": "two"})
        assert list(store.states("p")) == [("k1", "uno"), ("k2", "two")]
    finally:
        store.close()


def test_a_new_store_keeps_states_in_a_rowid_table(tmp_path: Path) -> None:
    store = SQLiteProjectionStore(tmp_path / "new.sqlite")
    store.close()
    db = sqlite3.connect(tmp_path / "new.sqlite")
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'states'").fetchone()
    db.close()
    assert "WITHOUT ROWID" not in sql
