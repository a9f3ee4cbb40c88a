"""Settings from flags and environment, and the adapters they select.

``--log kafka://HOST:PORT`` (or ``PDL_LOG``) selects Kafka; with neither, the embedded
log under the data directory (``--data-dir``, ``PDL_DATA_DIR``, default
``$XDG_DATA_HOME/pdl`` or ``~/.local/share/pdl``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from consumers.observe import Observer
from consumers.runner import ProjectionConsumer
from consumers.sqlite_store import SQLiteProjectionStore
from ledger.contract.events import PolicyPublished
from ledger.contract.topics import all_topics, compacted_topics, topic_of
from ledger.contract.wire import SchemaRegistry
from ledger.keys.master import load_master_key
from ledger.keys.sqlite_store import SQLiteKeyStore
from ledger.log.base import EventLog
from ledger.log.embedded import EmbeddedEventLog
from ledger.policy.catalog import Catalogs
from ledger.policy.publish import published_catalog
from ledger.service.intake import Clock, Intake, utc_now
from projections.installed import all_projections


class ConfigError(ValueError):
    """A setting is malformed; the message says which and how to fix it."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pdl"


@dataclass(frozen=True)
class Settings:
    log_url: str | None
    data_dir: Path

    @classmethod
    def resolve(cls, log_url: str | None, data_dir: str | None) -> Settings:
        url = log_url or os.environ.get("PDL_LOG") or None
        directory = data_dir or os.environ.get("PDL_DATA_DIR")
        settings = cls(url, Path(directory).expanduser() if directory else default_data_dir())
        settings.kafka_bootstrap  # noqa: B018 — validate the URL early, with a clear error
        return settings

    @property
    def kafka_bootstrap(self) -> str | None:
        if self.log_url is None or self.log_url in ("embedded", "embedded:"):
            return None
        match = re.fullmatch(r"kafka://([^/?#]+)/?", self.log_url)
        if match is None:
            raise ConfigError(
                f"--log/PDL_LOG {self.log_url!r} is not understood; use kafka://HOST:PORT "
                "(several brokers: kafka://h1:9092,h2:9092), or leave it unset for the "
                "embedded log"
            )
        return match.group(1)

    @property
    def log_slug(self) -> str:
        bootstrap = self.kafka_bootstrap
        return "embedded" if bootstrap is None else "kafka-" + re.sub(r"[^\w.-]", "_", bootstrap)


@dataclass
class Backends:
    """The adapters one command works with, opened lazily and closed together."""

    settings: Settings
    clock: Clock = utc_now
    _opened: list[object] = field(default_factory=list)

    @cached_property
    def log(self) -> EventLog:
        bootstrap = self.settings.kafka_bootstrap
        opened: EventLog
        if bootstrap is None:
            opened = EmbeddedEventLog(self.settings.data_dir / "log.sqlite")
        else:
            from ledger.log.kafka import KafkaEventLog

            opened = KafkaEventLog(bootstrap)
        opened.ensure_topics(all_topics(), compacted_topics())
        self._opened.append(opened)
        return opened

    @cached_property
    def keys(self) -> SQLiteKeyStore:
        store = SQLiteKeyStore(
            self.settings.data_dir / "keys.sqlite", load_master_key(self.settings.data_dir)
        )
        self._opened.append(store)
        return store

    @cached_property
    def catalogs(self) -> Catalogs:
        """The packaged catalogs plus every version published on the policy topic."""
        published = []
        for record in self.log.scan([topic_of("policy")]):
            try:
                name, fields = self.registry.decode(record.value)
                if name == PolicyPublished.__name__:
                    published.append(published_catalog(PolicyPublished.model_validate(fields)))
            except ValueError:
                continue  # the consumers dead-letter it; a bad record must not block intake
        return Catalogs.packaged().including(published)

    @cached_property
    def registry(self) -> SchemaRegistry:
        return SchemaRegistry.packaged()

    @property
    def store_path(self) -> Path:
        return self.settings.data_dir / "projections" / f"{self.settings.log_slug}.sqlite"

    @cached_property
    def store(self) -> SQLiteProjectionStore:
        store = SQLiteProjectionStore(self.store_path)
        self._opened.append(store)
        return store

    def intake(self) -> Intake:
        return Intake(self.log, self.keys, self.catalogs, self.registry, self.clock)

    def runner(self, observer: Observer | None = None) -> ProjectionConsumer:
        return ProjectionConsumer(
            self.log, self.store, self.registry, all_projections(), observer=observer
        )

    def close(self) -> None:
        for opened in reversed(self._opened):
            opened.close()  # type: ignore[attr-defined]
        self._opened.clear()
