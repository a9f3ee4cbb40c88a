"""The composition root: the adapters one command works with, chosen by its settings.

``--log kafka://HOST:PORT`` (or ``PDL_LOG``) selects Kafka; with neither, the embedded
log in the data directory (``ledger.service.settings``, ``ledger.service.layout``).
This is the one place that opens the log, the key store, the projection stores, the
projection consumers and the intake; everything else asks a ``Backends`` for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from consumers.admission import publications
from consumers.group_rename import adopt_checkpoints
from consumers.observe import Observer
from consumers.runner import Progress, ProjectionConsumer
from consumers.schema_topic import published
from consumers.sqlite_store import SQLiteProjectionStore
from consumers.store import ProjectionStore
from ledger.contract.topics import ERASURE_GROUP, PROJECTIONS_GROUP, Topics
from ledger.contract.wire import SchemaRegistry
from ledger.erasure.signing import SigningKey, signing_key
from ledger.errors import ConfigError
from ledger.keys.backup import BackupSchedule
from ledger.keys.backup_keys import SQLiteBackupKeys
from ledger.keys.master import load_master_key
from ledger.keys.sqlite_store import SQLiteKeyStore
from ledger.log.base import EventLog, TopicPartition
from ledger.log.embedded import EmbeddedEventLog
from ledger.policy.catalog import Catalogs
from ledger.service.intake import Clock, Intake, utc_now
from ledger.service.layout import DataDirectory
from ledger.service.receipts import EventIdMemory
from ledger.service.settings import Settings
from ledger.service.topic_contract import TopicReport, check_topics, refuse_broken
from projections.erasure_queue import ErasureRequestsProjection, RegisterHeadProjection
from projections.installed import all_projections

if TYPE_CHECKING:
    from ledger.log.confluent import ConfluentEventLog
    from ledger.log.kafka import KafkaEventLog


@dataclass
class Backends:
    """The adapters one command works with, opened lazily and closed together."""

    settings: Settings
    clock: Clock = utc_now
    _opened: list[object] = field(default_factory=list)
    #: the embedded log's clock, which stamps record time (tests that need records
    #: recorded in the past); None: the system clock. Kafka's record time is the broker's.
    log_clock: Callable[[], float] | None = None
    #: the policy topic's end offsets when ``catalogs`` was read (see ``current_catalogs``)
    _catalogs_read_at: dict[TopicPartition, int] | None = None

    @property
    def topics(self) -> Topics:
        return self.settings.topics

    @property
    def layout(self) -> DataDirectory:
        return self.settings.layout

    @cached_property
    def log(self) -> EventLog:
        """The log, once its topics meet the topic contract: a command refuses to run on
        topics that can expire or take the producer's time (``topic_contract``)."""
        opened = self.opened_log
        refuse_broken(self.topic_report(), self.settings.kafka_bootstrap)
        return opened

    def topic_report(self) -> TopicReport:
        """The topic contract checked against the log's topics (``pdl doctor``)."""
        settings = self.settings
        return check_topics(
            self.opened_log, self.topics, settings.replication_factor, settings.min_insync_replicas
        )

    @cached_property
    def opened_log(self) -> EventLog:
        """The log with the ledger's missing topics created, not yet checked."""
        bootstrap = self.settings.kafka_bootstrap
        opened: EventLog
        if bootstrap is None:
            if self.log_clock is None:
                opened = EmbeddedEventLog(self.layout.log)
            else:
                opened = EmbeddedEventLog(self.layout.log, self.log_clock)
        else:
            timeout_ms = self.settings.log_timeout_s * 1000
            opened = kafka_adapter(self.settings.kafka_client)(
                bootstrap,
                request_timeout_ms=timeout_ms,
                max_block_ms=timeout_ms,
                replication_factor=self.settings.replication_factor,
                min_insync_replicas=self.settings.min_insync_replicas,
                transaction_timeout_ms=self.settings.transaction_timeout_s * 1000,
                security=self.settings.kafka_security,
            )
        opened.ensure_topics(self.topics.all(), self.topics.compacted())
        self._opened.append(opened)
        return opened

    @cached_property
    def master_key(self) -> bytes:
        settings = self.settings
        # a laptop's master.key is made only for a new data directory: with keys already
        # there, a new master key would open none of them (issue 14)
        layout = self.layout
        # an empty file holds nothing a new master key could fail to open
        fresh = not any(
            p.exists() and p.stat().st_size > 0 for p in (layout.keys, layout.signing_key)
        )
        return load_master_key(
            settings.master_key, settings.master_key_file, layout.master_key, may_create=fresh
        )

    @cached_property
    def keys(self) -> SQLiteKeyStore:
        store = SQLiteKeyStore(self.layout.keys, self.master_key)
        self._opened.append(store)
        return store

    @property
    def backup_schedule(self) -> BackupSchedule:
        settings = self.settings
        return BackupSchedule(settings.backup_key_period_days, settings.backup_key_grace_days)

    @cached_property
    def backup_keys(self) -> SQLiteBackupKeys:
        """The backup keys (``pdl keys backup``), beside the key store, never backed up."""
        store = SQLiteBackupKeys(
            self.layout.root / "backup-keys.sqlite", self.master_key, self.backup_schedule
        )
        self._opened.append(store)
        return store

    @cached_property
    def signing_key(self) -> SigningKey:
        """The key erasure certificates are signed with, created on first use."""
        return signing_key(self.layout.signing_key, self.master_key)

    @cached_property
    def catalogs(self) -> Catalogs:
        """The packaged catalogs plus every version published on the policy topic."""
        # the versions the consumers apply, no other: intake and consumers agree
        published = publications(self.log, self.topics, self.registry)
        return Catalogs.packaged().including(published)

    def current_catalogs(self) -> Catalogs:
        """``catalogs``, read again only if a version was published since (the policy
        topic grew): what a long-running process (``pdl serve``) asks before each request,
        so a publication counts at once without re-reading the topic every time."""
        ends = self.log.end_offsets([self.topics.policy])
        if ends != self._catalogs_read_at:
            self.__dict__.pop("catalogs", None)
            self._catalogs_read_at = ends
        return self.catalogs

    @cached_property
    def registry(self) -> SchemaRegistry:
        """The packaged schemas; writers it has not met are learned from the schema topic."""
        return SchemaRegistry.packaged(lambda: published(self.log, self.topics).values())

    @property
    def store_path(self) -> Path:
        return self.layout.projection_store(self.settings.log_slug)

    @cached_property
    def store(self) -> ProjectionStore:
        store = self._projection_store("projections", self.store_path)
        self._opened.append(store)
        topics = self.topics
        adopt_checkpoints(store, PROJECTIONS_GROUP, topics.projections_group, topics.event_topics())
        return store

    @cached_property
    def erasure_store(self) -> ProjectionStore:
        """The erasure processor's own store: pending requests and the register's head."""
        store = self._projection_store("erasure", self.layout.erasure_store(self.settings.log_slug))
        self._opened.append(store)
        topics = self.topics
        adopt_checkpoints(store, ERASURE_GROUP, topics.erasure_group, [topics.erasure])
        return store

    def _projection_store(self, role: str, path: Path) -> ProjectionStore:
        """SQLite beside the data by default; one PostgreSQL schema per ledger (topic prefix
        and log) and role with ``--store postgresql://...``, shared by every host."""
        url = self.settings.store_url
        if url is None:
            return SQLiteProjectionStore(path)
        from consumers.postgres_store import PostgreSQLProjectionStore, schema_for

        schema = schema_for(self.settings.topic_prefix, self.settings.log_slug, role)
        return PostgreSQLProjectionStore(url, schema)

    @cached_property
    def event_ids(self) -> EventIdMemory:
        """The event ids appended to this log lately: what makes a retry append nothing."""
        memory = EventIdMemory(
            self.layout.receipts(self.settings.log_slug),
            timedelta(days=self.settings.event_id_memory_days),
            self.clock,
        )
        self._opened.append(memory)
        return memory

    def intake(self, importing: bool = False) -> Intake:
        return Intake(
            self.log,
            self.keys,
            self.catalogs,
            self.registry,
            self.topics,
            self.clock,
            event_ids=self.event_ids,
            importing=importing,
        )

    def runner(self, observer: Observer | None = None) -> ProjectionConsumer:
        return ProjectionConsumer(
            self.log,
            self.store,
            self.registry,
            all_projections(),
            self.topics,
            observer=observer,
            keys=self.keys,
        )

    def erasure_runner(self) -> ProjectionConsumer:
        """The erasure processor's consumer: the erasure topic, as its own group."""
        return ProjectionConsumer(
            self.log,
            self.erasure_store,
            self.registry,
            [ErasureRequestsProjection(), RegisterHeadProjection()],
            self.topics,
            group=self.topics.erasure_group,
            consumed=[self.topics.erasure],
        )

    def catch_up(self) -> Progress:
        """Apply everything appended so far to the projections: what a read does first,
        so that it sees what was appended before it. It reads without joining the
        consumer group (a running ``pdl run`` sees no rebalance) and commits to the same
        store checkpoints, in transactions, so the two never apply a record twice."""
        return ProjectionConsumer(
            self.log,
            self.store,
            self.registry,
            all_projections(),
            self.topics,
            grouped=False,
            keys=self.keys,
        ).catch_up(stall_timeout_s=self.settings.stall_timeout_s)

    def close(self) -> None:
        for opened in reversed(self._opened):
            opened.close()  # type: ignore[attr-defined]
        self._opened.clear()


def kafka_adapter(client: str) -> type[KafkaEventLog] | type[ConfluentEventLog]:
    """The Kafka adapter running on ``client`` (``PDL_KAFKA_CLIENT``): both take the same
    options and pass the same log contract. Imported here: each client library costs a
    command that does not use it, and confluent-kafka is an optional install."""
    if client != "confluent":
        from ledger.log.kafka import KafkaEventLog

        return KafkaEventLog
    try:
        from ledger.log.confluent import ConfluentEventLog
    except ImportError as exc:
        raise ConfigError(
            f"PDL_KAFKA_CLIENT is confluent, but confluent-kafka cannot be imported ({exc})",
            fix="install it (pip install 'personal-data-ledger[confluent]'), or unset "
            "PDL_KAFKA_CLIENT to use kafka-python",
        ) from exc
    return ConfluentEventLog
