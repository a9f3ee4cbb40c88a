"""Kafka's own ConfigCommand (kafka-configs.sh), run from the broker's Maven jars."""

from __future__ import annotations

from tests.ops.support import kafka_tool


def kafka_configs(bootstrap: str, topic: str, *action: str) -> str:
    """``kafka-configs.sh --bootstrap-server B --entity-type topics --entity-name T ACTION``."""
    return kafka_tool(
        "kafka.admin.ConfigCommand",
        "--bootstrap-server",
        bootstrap,
        "--entity-type",
        "topics",
        "--entity-name",
        topic,
        *action,
    )


def described(bootstrap: str, topic: str) -> dict[str, str]:
    """Every configuration of ``topic`` as ConfigCommand ``--describe --all`` prints it."""
    found = {}
    for line in kafka_configs(bootstrap, topic, "--describe", "--all").splitlines():
        name, sep, rest = line.strip().partition("=")
        if sep and " " not in name:
            found[name] = rest.split(" ", 1)[0]
    return found
