"""The data directory: every file the ledger keeps there, named in one place.

::

    <data dir>/
      log.sqlite                      the embedded log (absent on Kafka)
      keys.sqlite                     the key store: data keys wrapped by the master key
      master.key                      the master key, when no setting names one (0600)
      signing.key                     the Ed25519 key that signs erasure certificates
      erasure.lock                    one erasure pass at a time per key store
      erasure-intent.json             the keys a pass is about to destroy (ids only)
      receipts/<log>.sqlite           the event ids appended to one log, remembered for
                                      PDL_EVENT_ID_MEMORY_DAYS so a retry appends nothing
                                      again (ids, types, keys; no personal data)
      projections/<log>.sqlite        the projections of one log
      projections/<log>.erasure.sqlite          the erasure processor's own store
      projections/<log>.rebuild.sqlite          a rebuild under way (``pdl rebuild``)
      reports/                        the HTML reports ``pdl demo`` writes

``<log>`` is the log's slug (``embedded``, ``kafka-HOST_PORT``): one data directory may
serve several logs, and projections of one must never be read as another's.

Everything here is for the ledger's own user only — the key store, the projections with
their sealed values, the reports with decrypted ones: directories 0700, files 0600. The
rule is set once per process (``keep_private``, a umask, so that SQLite's ``-wal`` and
``-shm`` files and every report written by path are covered too) and an existing data
directory made with wider modes is narrowed when opened (``DataDirectory.make_private``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

PRIVATE_UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def keep_private() -> None:
    """From now on, every file this process creates is 0600 and every directory 0700."""
    os.umask(PRIVATE_UMASK)


@dataclass(frozen=True)
class DataDirectory:
    root: Path

    def make_private(self) -> None:
        """Narrow the modes of what exists of the directory to 0700 and 0600 (a data
        directory from an earlier version, or made by hand). Creates nothing."""
        for folder in (self.root, self.projections, self.reports):
            if not folder.is_dir() or folder.is_symlink():
                continue
            os.chmod(folder, DIRECTORY_MODE)
            for entry in folder.iterdir():
                mode = entry.lstat().st_mode
                if stat.S_ISREG(mode) and stat.S_IMODE(mode) & ~FILE_MODE:
                    os.chmod(entry, FILE_MODE)

    @property
    def log(self) -> Path:
        return self.root / "log.sqlite"

    @property
    def keys(self) -> Path:
        return self.root / "keys.sqlite"

    @property
    def master_key(self) -> Path:
        return self.root / "master.key"

    @property
    def signing_key(self) -> Path:
        return self.root / "signing.key"

    @property
    def erasure_lock(self) -> Path:
        return self.root / "erasure.lock"

    @property
    def erasure_intent(self) -> Path:
        return self.root / "erasure-intent.json"

    def receipts(self, log_slug: str) -> Path:
        """The event ids appended to one log (``ledger.service.receipts``). Not under
        projections/: a rebuild must not forget them."""
        return self.root / "receipts" / f"{log_slug}.sqlite"

    @property
    def projections(self) -> Path:
        return self.root / "projections"

    def projection_store(self, log_slug: str) -> Path:
        return self.projections / f"{log_slug}.sqlite"

    def erasure_store(self, log_slug: str) -> Path:
        return self.projections / f"{log_slug}.erasure.sqlite"

    def rebuild_store(self, log_slug: str) -> Path:
        """Where ``pdl rebuild`` builds, beside the live store (named by the rebuild)."""
        # imported here: the rebuild module brings the consumers and the models, which
        # ``pdl --help`` (it imports this module for ``keep_private``) must not load
        from consumers.rebuild import rebuild_path

        return rebuild_path(self.projection_store(log_slug))

    @property
    def reports(self) -> Path:
        return self.root / "reports"
