"""The topic contract: the ledger's topics keep every record and take the broker's time.

The log is evidence. A topic that deletes records (Kafka's default: ``cleanup.policy=
delete`` with seven days of ``retention.ms``) silently loses events and erasure
certificates; a topic with ``message.timestamp.type=CreateTime`` lets any producer choose
the record time, which is the ledger's evidence of what it knew, and when. ``pdl``
creates its topics right (``ledger_topic_config``); this module checks the topics it
finds, every time a command opens the log (``Backends.log``), and ``pdl doctor`` prints
the whole check. docs/OPERATORS.md ("Topics") lists each topic with its configuration.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.contract.topics import Topics
from ledger.errors import ConfigError
from ledger.log.base import (
    CLEANUP_POLICY,
    LOG_APPEND_TIME,
    MIN_INSYNC_REPLICAS,
    RETENTION_BYTES,
    RETENTION_MS,
    TIMESTAMP_TYPE,
    EventLog,
    TopicSettings,
)

#: ``found`` of a setting the log did not report
UNREPORTED = "(not reported)"


@dataclass(frozen=True)
class TopicFinding:
    """One setting of one topic that breaks the contract (``refuses``) or deserves a look."""

    topic: str
    setting: str
    found: str
    wanted: str
    why: str
    #: True: commands refuse to run until it is fixed; False: advice only
    refuses: bool = True

    def fix(self, bootstrap: str | None) -> str:
        """The ``kafka-configs`` command that sets it right."""
        if self.setting == "replication.factor":
            return "add replicas with kafka-reassign-partitions.sh (docs/OPERATORS.md, Topics)"
        server = bootstrap or "BROKER:9092"
        return (
            f"kafka-configs.sh --bootstrap-server {shlex.quote(server)} --entity-type topics "
            f"--entity-name {shlex.quote(self.topic)} --alter --add-config "
            f"{self.setting}={self.wanted}"
        )

    def line(self, bootstrap: str | None) -> str:
        kind = "refused" if self.refuses else "advice"
        return (
            f"{kind}: topic {self.topic}: {self.setting} is {self.found}, must be "
            f"{self.wanted} ({self.why}); fix: {self.fix(bootstrap)}"
        )


@dataclass(frozen=True)
class TopicReport:
    """The whole check: every ledger topic as found, and what is wrong with each."""

    settings: Sequence[TopicSettings]
    missing: Sequence[str]
    findings: Sequence[TopicFinding]

    @property
    def refusals(self) -> list[TopicFinding]:
        return [f for f in self.findings if f.refuses]


def check_topics(
    log: EventLog,
    topics: Topics,
    replication_factor: int | None = None,
    min_insync_replicas: int | None = None,
) -> TopicReport:
    """The contract checked against the topics as the log reports them.
    ``replication_factor`` and ``min_insync_replicas``, when set, are advice: fewer
    replicas risk availability and durability, not silent loss."""
    names = sorted(topics.all())
    compacted = set(topics.compacted())
    found = log.topic_settings(names)
    findings: list[TopicFinding] = []
    for name in names:
        if name in found:
            findings += _judged(found[name], name in compacted)
            findings += _replication_advice(found[name], replication_factor, min_insync_replicas)
    return TopicReport(
        [found[n] for n in names if n in found], [n for n in names if n not in found], findings
    )


def refuse_broken(report: TopicReport, bootstrap: str | None) -> None:
    """Raise ``ConfigError`` naming every topic setting that breaks the contract."""
    refusals = report.refusals
    if not refusals:
        return
    first = refusals[0]
    more = f" (and {len(refusals) - 1} more: run `pdl doctor`)" if len(refusals) > 1 else ""
    raise ConfigError(
        f"the log's topics break the ledger's topic contract: topic {first.topic}: "
        f"{first.setting} is {first.found}, must be {first.wanted} ({first.why}){more}; "
        "nothing was read or written",
        fix=f"{first.fix(bootstrap)}; then re-run (`pdl doctor` lists every topic)",
    )


def _judged(settings: TopicSettings, designed_compacted: bool) -> list[TopicFinding]:
    config, topic = settings.config, settings.topic
    findings = []
    stamp = config.get(TIMESTAMP_TYPE, UNREPORTED)
    if stamp != LOG_APPEND_TIME:
        findings.append(
            TopicFinding(
                topic,
                TIMESTAMP_TYPE,
                stamp,
                LOG_APPEND_TIME,
                "record time must be the broker's: with CreateTime any producer chooses it",
            )
        )
    policy = config.get(CLEANUP_POLICY, UNREPORTED)
    if "compact" in policy and not designed_compacted:
        findings.append(
            TopicFinding(
                topic,
                CLEANUP_POLICY,
                policy,
                "delete",
                "compaction drops every event but the last of a subject",
            )
        )
    if "compact" not in policy or "delete" in policy:  # deletion applies
        for setting in (RETENTION_MS, RETENTION_BYTES):
            value = config.get(setting, UNREPORTED)
            if value != "-1":
                findings.append(
                    TopicFinding(
                        topic, setting, value, "-1", "the topic deletes records when they age"
                    )
                )
    return findings


def _replication_advice(
    settings: TopicSettings, replication: int | None, min_insync: int | None
) -> list[TopicFinding]:
    advice = []
    if replication is not None and settings.replication_factor < replication:
        advice.append(
            TopicFinding(
                settings.topic,
                "replication.factor",
                str(settings.replication_factor),
                str(replication),
                "PDL_REPLICATION_FACTOR asks for more copies",
                refuses=False,
            )
        )
    found = settings.config.get(MIN_INSYNC_REPLICAS, UNREPORTED)
    if min_insync is not None and found != str(min_insync):
        advice.append(
            TopicFinding(
                settings.topic,
                MIN_INSYNC_REPLICAS,
                found,
                str(min_insync),
                "PDL_MIN_INSYNC_REPLICAS asks for it",
                refuses=False,
            )
        )
    return advice
