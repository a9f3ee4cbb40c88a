"""The settings file and the text of each setting: which variable sets which setting,
reading a TOML settings file, and turning a setting's text into a number, a path or a
yes/no, with an error that names the variable, the rule and the fix
(``ledger.service.settings`` builds the ``Settings`` object from them)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from ledger.errors import ConfigError

#: setting → the environment variable that sets it
VARIABLES: Mapping[str, str] = {
    "log_url": "PDL_LOG",
    "data_dir": "PDL_DATA_DIR",
    "topic_prefix": "PDL_TOPIC_PREFIX",
    "partitions": "PDL_PARTITIONS",
    "metrics_port": "PDL_METRICS_PORT",
    "log_timeout_s": "PDL_LOG_TIMEOUT",
    "transaction_timeout_s": "PDL_TRANSACTION_TIMEOUT",
    "stall_timeout_s": "PDL_STALL_TIMEOUT",
    "replication_factor": "PDL_REPLICATION_FACTOR",
    "min_insync_replicas": "PDL_MIN_INSYNC_REPLICAS",
    "event_id_memory_days": "PDL_EVENT_ID_MEMORY_DAYS",
    "store_url": "PDL_STORE",
    "master_key": "PDL_MASTER_KEY",
    "master_key_file": "PDL_MASTER_KEY_FILE",
    "backup_key_period_days": "PDL_BACKUP_KEY_PERIOD_DAYS",
    "backup_key_grace_days": "PDL_BACKUP_KEY_GRACE_DAYS",
    "pinned_public_key_file": "PDL_PINNED_PUBLIC_KEY_FILE",
    "api_tokens": "PDL_API_TOKENS",
    "api_tokens_file": "PDL_API_TOKENS_FILE",
    "kafka_security_protocol": "PDL_KAFKA_SECURITY_PROTOCOL",
    "kafka_ca_file": "PDL_KAFKA_CA_FILE",
    "kafka_cert_file": "PDL_KAFKA_CERT_FILE",
    "kafka_key_file": "PDL_KAFKA_KEY_FILE",
    "kafka_check_hostname": "PDL_KAFKA_CHECK_HOSTNAME",
    "kafka_sasl_mechanism": "PDL_KAFKA_SASL_MECHANISM",
    "kafka_user": "PDL_KAFKA_USER",
    "kafka_password": "PDL_KAFKA_PASSWORD",
    "kafka_password_file": "PDL_KAFKA_PASSWORD_FILE",
    "kafka_client": "PDL_KAFKA_CLIENT",
}

#: the environment variable naming the settings file (``--config`` wins over it)
CONFIG_VARIABLE = "PDL_CONFIG"


def read_settings_file(path: Path) -> dict[str, str]:
    """The settings a TOML file sets, as text keyed by setting name."""
    try:
        with path.expanduser().open("rb") as file:
            table = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(
            f"settings file {path} does not exist",
            fix=f"check --config/{CONFIG_VARIABLE}, or leave both unset",
        ) from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # tomllib's messages give line and column, never the value
        raise ConfigError(
            f"settings file {path} cannot be read: {exc}",
            fix="make it a TOML file of `setting = value` lines (docs/OPERATORS.md)",
        ) from None
    text: dict[str, str] = {}
    for name, value in table.items():
        if name not in VARIABLES:
            raise ConfigError(
                f"settings file {path}: unknown setting {name!r}",
                fix=f"use one of {', '.join(VARIABLES)}",
            )
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ConfigError(
                f"settings file {path}: {name} must be a string or a whole number",
                fix=f'write it as {name} = "..." (docs/OPERATORS.md lists each setting)',
            )
        text[name] = str(value)
    return text


#: what a numeric setting must be, for its error message
NUMBER_RULES: Mapping[str, tuple[str, str]] = {
    "partitions": ("a partition count", "1 or more (default 3)"),
    "metrics_port": ("a port number, or 0", "a port such as 9465, or 0 for no metrics"),
    "event_id_memory_days": ("a number of days", "1 or more (default 30)"),
    "backup_key_period_days": ("a number of days", "1 or more (default 30)"),
    "backup_key_grace_days": ("a number of days", "0 or more (default 7)"),
    "log_timeout_s": ("a number of seconds", "1 or more (default 10)"),
    "transaction_timeout_s": ("a number of seconds", "1 or more (default 20)"),
    "stall_timeout_s": ("a number of seconds", "1 or more (default 60)"),
    "replication_factor": ("a replica count", "1 or more (3 on a cluster of 3 brokers)"),
    "min_insync_replicas": ("a replica count", "1 or more, below the replication factor"),
}


def whole_number(text: Mapping[str, str], name: str) -> int | None:
    value = text.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        rule, example = NUMBER_RULES[name]
        raise ConfigError(
            f"{VARIABLES[name]} must be {rule}; {value!r} is not a whole number",
            fix=f"set {VARIABLES[name]} to {example}, or unset it",
        ) from None


def or_default(value: int | None, default: int) -> int:
    return default if value is None else value


def path_setting(text: Mapping[str, str], name: str) -> Path | None:
    value = text.get(name)
    return Path(value).expanduser() if value else None


def yes_or_no(text: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = (text.get(name) or "").strip().lower()
    if not value:
        return default
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise ConfigError(
        f"{VARIABLES[name]} must be true or false; {value!r} is neither",
        fix=f"set {VARIABLES[name]} to true or false, or unset it",
    )
