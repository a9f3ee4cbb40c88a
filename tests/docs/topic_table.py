"""The topic table of docs/OPERATORS.md, generated from the code that creates the topics.

``python -m tests.docs.topic_table`` prints it; ``test_topic_table.py`` checks the docs
hold exactly this text, so a new topic or event family cannot go undocumented."""

from __future__ import annotations

from ledger.contract.base import SubjectEvent
from ledger.contract.deadletter import DeadLetter
from ledger.contract.events import EVENT_TYPES
from ledger.contract.topics import Topics
from ledger.log.base import CLEANUP_POLICY, ledger_topic_config

HEADER = (
    "| topic | partitions | `cleanup.policy` | record key | record value |",
    "|---|---|---|---|---|",
)


def _event_topic(topics: Topics, topic: str) -> tuple[str, str]:
    types = sorted(n for n, c in EVENT_TYPES.items() if topics.of(c.topic_family) == topic)
    about_subjects = {issubclass(EVENT_TYPES[n], SubjectEvent) for n in types}
    key = {
        frozenset({True}): "subject id (`sub_…`)",
        frozenset({False}): "controller id",
    }.get(frozenset(about_subjects), "subject id, or controller id for events about none")
    value = ", ".join(f"[{n}](../schemas/events/{n}.avsc)" for n in types)
    return key, value


def rows(topics: Topics | None = None) -> list[str]:
    topics = topics or Topics()
    compacted = set(topics.compacted())
    lines = list(HEADER)
    for topic, partitions in topics.all().items():
        if topic == topics.schemas:
            key = "writer schema's fingerprint, 16 hex digits"
            value = "writer schema JSON, `pdl.personal` marks kept ([below](#the-schema-topic))"
        elif topic == topics.dead_letter:
            key = "dead-letter id"
            name = DeadLetter.type_name()
            value = f"[{name}](../schemas/events/{name}.avsc): where the bad record is, why"
        else:
            key, value = _event_topic(topics, topic)
        # event topics follow the setting; the others are fixed
        events = topic in topics.event_topics()
        count = f"`partitions` ({partitions})" if events else str(partitions)
        policy = ledger_topic_config(topic in compacted)[CLEANUP_POLICY]
        lines.append(f"| `{topic}` | {count} | `{policy}` | {key} | {value} |")
    return lines


def table() -> str:
    return "\n".join(rows())


if __name__ == "__main__":
    print(table())
