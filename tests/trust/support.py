"""Kafka's own ConfigCommand (kafka-configs.sh), run from the broker's Maven jars."""

from __future__ import annotations

import subprocess

from tests.ops.support import KAFKA_LIB, TOOLS_LOG4J


def kafka_configs(bootstrap: str, topic: str, *action: str) -> str:
    """``kafka-configs.sh --bootstrap-server B --entity-type topics --entity-name T ACTION``."""
    result = subprocess.run(
        [
            "java",
            "-cp",
            f"{KAFKA_LIB}/*",
            f"-Dlog4j2.configurationFile={TOOLS_LOG4J}",
            "kafka.admin.ConfigCommand",
            "--bootstrap-server",
            bootstrap,
            "--entity-type",
            "topics",
            "--entity-name",
            topic,
            *action,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def described(bootstrap: str, topic: str) -> dict[str, str]:
    """Every configuration of ``topic`` as ConfigCommand ``--describe --all`` prints it."""
    found = {}
    for line in kafka_configs(bootstrap, topic, "--describe", "--all").splitlines():
        name, sep, rest = line.strip().partition("=")
        if sep and " " not in name:
            found[name] = rest.split(" ", 1)[0]
    return found
