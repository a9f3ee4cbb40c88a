"""The ledger's settings: one validated object, read from the flags and the environment.

This module is the only place the environment is read. Each setting has one variable:

======================  ====================  ==========================================
setting                 variable              meaning
======================  ====================  ==========================================
``log_url``             ``PDL_LOG``           ``kafka://HOST:PORT``; unset: embedded log
``data_dir``            ``PDL_DATA_DIR``      default ``$XDG_DATA_HOME/pdl`` or
                                              ``~/.local/share/pdl``
``topic_prefix``        ``PDL_TOPIC_PREFIX``  prefix of every topic name (``pdl.``)
``partitions``          ``PDL_PARTITIONS``    partitions of each event topic (3)
``metrics_port``        ``PDL_METRICS_PORT``  ``pdl run``'s metrics port; 0: none
``log_timeout_s``       ``PDL_LOG_TIMEOUT``   seconds a log request may take before a
                                              command gives up (10)
``event_id_memory_days``  ``PDL_EVENT_ID_MEMORY_DAYS``  days an appended event_id is
                                              remembered, so a retry appends nothing (30)
``store_url``           ``PDL_STORE``         ``postgresql://...``: projections in
                                              PostgreSQL; unset: SQLite in the data dir
``master_key``          ``PDL_MASTER_KEY``    32 bytes, hex or base64
``master_key_file``     ``PDL_MASTER_KEY_FILE``  a file holding the master key
``api_tokens``          ``PDL_API_TOKENS``    ``token=role`` entries for ``pdl serve``
``api_tokens_file``     ``PDL_API_TOKENS_FILE``  a file of such entries
======================  ====================  ==========================================

Flags (``--log``, ``--data-dir``, ``--metrics-port``) win over the environment. Values
arrive as text and are checked by ``Settings.from_text``, so a settings file can feed the
same object later. A bad value raises ``ConfigError`` naming the variable, what is wrong
and the fix; a secret (master key, tokens) is never quoted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from ledger.contract.topics import DEFAULT_PARTITIONS, DEFAULT_PREFIX, Topics
from ledger.errors import ConfigError
from ledger.service.layout import DataDirectory

#: setting → the environment variable that sets it
VARIABLES: Mapping[str, str] = {
    "log_url": "PDL_LOG",
    "data_dir": "PDL_DATA_DIR",
    "topic_prefix": "PDL_TOPIC_PREFIX",
    "partitions": "PDL_PARTITIONS",
    "metrics_port": "PDL_METRICS_PORT",
    "log_timeout_s": "PDL_LOG_TIMEOUT",
    "event_id_memory_days": "PDL_EVENT_ID_MEMORY_DAYS",
    "store_url": "PDL_STORE",
    "master_key": "PDL_MASTER_KEY",
    "master_key_file": "PDL_MASTER_KEY_FILE",
    "api_tokens": "PDL_API_TOKENS",
    "api_tokens_file": "PDL_API_TOKENS_FILE",
}

_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]*")
_KAFKA_URL = re.compile(r"kafka://([^/?#]+)/?")
_STORE_SCHEMES = ("postgresql://", "postgres://")


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pdl"


@dataclass(frozen=True)
class Settings:
    """Checked on construction: an instance is always usable."""

    log_url: str | None
    data_dir: Path
    topic_prefix: str = DEFAULT_PREFIX
    partitions: int = DEFAULT_PARTITIONS
    #: None: not set (``pdl run`` serves on its default port)
    metrics_port: int | None = None
    #: how long one request to the log may take: a one-shot command fails after it;
    #: ``pdl run`` reports the outage and retries
    log_timeout_s: int = 10
    #: how long intake remembers an appended event_id (``ledger.service.receipts``)
    event_id_memory_days: int = 30
    #: None: SQLite files in the data directory; else a libpq URL (may hold a password)
    store_url: str | None = field(default=None, repr=False)
    master_key: str | None = field(default=None, repr=False)
    master_key_file: Path | None = None
    api_tokens: str = field(default="", repr=False)
    api_tokens_file: Path | None = None

    def __post_init__(self) -> None:
        self.kafka_bootstrap  # noqa: B018 — an unusable URL fails here, not at first use
        if not _TOPIC_NAME.fullmatch(self.topic_prefix) or len(self.topic_prefix) > 200:
            raise ConfigError(
                f"PDL_TOPIC_PREFIX {self.topic_prefix!r} cannot start a Kafka topic name",
                fix="use letters, digits, '.', '_' and '-' only, e.g. pdl.",
            )
        if self.partitions < 1:
            raise ConfigError(
                f"PDL_PARTITIONS {self.partitions} is not a partition count",
                fix="set it to 1 or more (default 3), or unset it",
            )
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ConfigError(
                f"--metrics-port/PDL_METRICS_PORT {self.metrics_port} is not a port number",
                fix="use 1 to 65535, or 0 to serve no metrics",
            )
        if self.store_url is not None and not self.store_url.startswith(_STORE_SCHEMES):
            # the URL is not quoted: it may carry a password
            raise ConfigError(
                "--store/PDL_STORE is not a PostgreSQL URL",
                fix="use postgresql://USER@HOST:PORT/DATABASE, or leave it unset for the "
                "SQLite store in the data directory",
            )
        if self.log_timeout_s < 1:
            raise ConfigError(
                f"PDL_LOG_TIMEOUT {self.log_timeout_s} is not a number of seconds",
                fix="set it to 1 or more (default 10), or unset it",
            )
        if self.event_id_memory_days < 1:
            raise ConfigError(
                f"PDL_EVENT_ID_MEMORY_DAYS {self.event_id_memory_days} is not a number of days",
                fix="set it to 1 or more (default 30): at least as long as a producer may "
                "retry, or unset it",
            )

    @classmethod
    def from_environment(
        cls,
        log: str | None = None,
        data_dir: str | Path | None = None,
        metrics_port: int | None = None,
        store: str | None = None,
        environ: Mapping[str, str] | None = None,
        fallback_data_dir: Callable[[], Path] | None = None,
    ) -> Settings:
        """The settings of one command: its flags, else the environment, else defaults.
        ``fallback_data_dir`` is asked for a data directory when neither ``data_dir`` nor
        ``PDL_DATA_DIR`` names one (default: ``$XDG_DATA_HOME/pdl``)."""
        env = os.environ if environ is None else environ
        text = {name: env[var] for name, var in VARIABLES.items() if env.get(var)}
        if log:
            text["log_url"] = log
        if data_dir:
            text["data_dir"] = str(data_dir)
        if store:
            text["store_url"] = store
        if "data_dir" not in text:
            fallback = default_data_dir(env) if fallback_data_dir is None else fallback_data_dir()
            text["data_dir"] = str(fallback)
        settings = cls.from_text(text)
        if metrics_port is not None:
            return replace(settings, metrics_port=metrics_port)
        return settings

    @classmethod
    def from_text(cls, text: Mapping[str, str]) -> Settings:
        """Settings from text values keyed by setting name (missing: the default); the
        data directory is required."""
        unknown = sorted(set(text) - set(VARIABLES))
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]!r}", fix=f"use one of {', '.join(VARIABLES)}"
            )
        partitions = _whole_number(text, "partitions")
        log_timeout_s = _whole_number(text, "log_timeout_s")
        memory_days = _whole_number(text, "event_id_memory_days")
        data_dir = text.get("data_dir")
        if not data_dir:
            raise ConfigError("data_dir: no data directory given", fix="set PDL_DATA_DIR")
        return cls(
            log_url=text.get("log_url") or None,
            data_dir=Path(data_dir).expanduser(),
            topic_prefix=text.get("topic_prefix", DEFAULT_PREFIX),
            partitions=DEFAULT_PARTITIONS if partitions is None else partitions,
            metrics_port=_whole_number(text, "metrics_port"),
            log_timeout_s=10 if log_timeout_s is None else log_timeout_s,
            event_id_memory_days=30 if memory_days is None else memory_days,
            store_url=None if text.get("store_url") in (None, "", "sqlite") else text["store_url"],
            master_key=text.get("master_key") or None,
            master_key_file=Path(text["master_key_file"]) if text.get("master_key_file") else None,
            api_tokens=text.get("api_tokens", ""),
            api_tokens_file=Path(text["api_tokens_file"]) if text.get("api_tokens_file") else None,
        )

    @property
    def kafka_bootstrap(self) -> str | None:
        if self.log_url is None or self.log_url in ("embedded", "embedded:"):
            return None
        match = _KAFKA_URL.fullmatch(self.log_url)
        if match is None:
            raise ConfigError(
                f"--log/PDL_LOG {self.log_url!r} is not understood",
                fix="use kafka://HOST:PORT (several brokers: kafka://h1:9092,h2:9092), or "
                "leave it unset for the embedded log",
            )
        return match.group(1)

    @property
    def log_slug(self) -> str:
        """A file-name-safe name of the log, so projections of two logs never mix."""
        bootstrap = self.kafka_bootstrap
        return "embedded" if bootstrap is None else "kafka-" + re.sub(r"[^\w.-]", "_", bootstrap)

    @cached_property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix, self.partitions)

    @cached_property
    def layout(self) -> DataDirectory:
        return DataDirectory(self.data_dir)


#: what a numeric setting must be, for its error message
_NUMBER_RULES: Mapping[str, tuple[str, str]] = {
    "partitions": ("a partition count", "1 or more (default 3)"),
    "metrics_port": ("a port number, or 0", "a port such as 9465, or 0 for no metrics"),
    "event_id_memory_days": ("a number of days", "1 or more (default 30)"),
    "log_timeout_s": ("a number of seconds", "1 or more (default 10)"),
}


def _whole_number(text: Mapping[str, str], name: str) -> int | None:
    value = text.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        rule, example = _NUMBER_RULES[name]
        raise ConfigError(
            f"{VARIABLES[name]} must be {rule}; {value!r} is not a whole number",
            fix=f"set {VARIABLES[name]} to {example}, or unset it",
        ) from None
