"""A long-running consumer for the two-consumers test: its own key store (and so its own
cache of unwrapped keys), its own projection store and group. Commands on stdin:

    catchup          apply everything appended so far; prints "ok"
    show SUBJECT     prints the subject's values as JSON {field: value}, decrypted with
                     this process's key store, "[erased]" where it cannot open them
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from consumers.runner import ProjectionConsumer
from consumers.sqlite_store import SQLiteProjectionStore
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from ledger.service.views import disclose_subject
from projections.installed import all_projections
from projections.subject_state import SubjectStateProjection


def main(store_path: str, group: str) -> None:
    ledger = Backends(Settings.from_environment())  # PDL_LOG and PDL_DATA_DIR, as given
    store = SQLiteProjectionStore(Path(store_path))
    runner = ProjectionConsumer(
        ledger.log, store, ledger.registry, all_projections(), ledger.topics, group=group
    )
    projection = SubjectStateProjection()
    for line in sys.stdin:
        command, _, subject = line.strip().partition(" ")
        if command == "catchup":
            runner.catch_up()
            print("ok", flush=True)
        elif command == "show":
            text = store.state(projection.name, subject)
            values = {} if text is None else disclose_subject(projection.load(text), ledger.keys)
            shown = {v["field"]: v["value"] for v in values.get("values", [])}
            print(json.dumps(shown), flush=True)
    store.close()
    ledger.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
