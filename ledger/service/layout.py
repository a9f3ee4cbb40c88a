"""The data directory: every file the ledger keeps there, named in one place.

::

    <data dir>/
      log.sqlite                      the embedded log (absent on Kafka)
      keys.sqlite                     the key store: data keys wrapped by the master key
      master.key                      the master key, when no setting names one (0600)
      signing.key                     the Ed25519 key that signs erasure certificates
      erasure.lock                    one erasure pass at a time per key store
      erasure-intent.json             the keys a pass is about to destroy (ids only)
      projections/<log>.sqlite        the projections of one log
      projections/<log>.erasure.sqlite          the erasure processor's own store
      projections/<log>.rebuild.sqlite          a rebuild under way (``pdl rebuild``)
      reports/                        the HTML reports ``pdl demo`` writes

``<log>`` is the log's slug (``embedded``, ``kafka-HOST_PORT``): one data directory may
serve several logs, and projections of one must never be read as another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from consumers.rebuild import rebuild_path


@dataclass(frozen=True)
class DataDirectory:
    root: Path

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

    @property
    def projections(self) -> Path:
        return self.root / "projections"

    def projection_store(self, log_slug: str) -> Path:
        return self.projections / f"{log_slug}.sqlite"

    def erasure_store(self, log_slug: str) -> Path:
        return self.projections / f"{log_slug}.erasure.sqlite"

    def rebuild_store(self, log_slug: str) -> Path:
        """Where ``pdl rebuild`` builds, beside the live store (named by the rebuild)."""
        return rebuild_path(self.projection_store(log_slug))

    @property
    def reports(self) -> Path:
        return self.root / "reports"
