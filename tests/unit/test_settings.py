"""The settings: every variable read in one place, checked, with errors that say the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import ConfigError
from ledger.service.settings import Settings
from ledger.service.settings_file import VARIABLES


def test_flags_win_over_the_environment_and_defaults_fill_the_rest(tmp_path: Path) -> None:
    environ = {
        "PDL_LOG": "kafka://env:9092",
        "PDL_DATA_DIR": str(tmp_path / "env"),
        "PDL_TOPIC_PREFIX": "x.",
        "PDL_PARTITIONS": "6",
        "PDL_METRICS_PORT": "9500",
    }
    settings = Settings.from_environment(
        "kafka://flag:9092", tmp_path / "flag", metrics_port=0, environ=environ
    )
    assert settings.kafka_bootstrap == "flag:9092"
    assert settings.data_dir == tmp_path / "flag"
    assert settings.metrics_port == 0
    assert settings.topics.of("consent") == "x.consent" and settings.topics.partitions == 6
    bare = Settings.from_environment(environ={"XDG_DATA_HOME": str(tmp_path)})
    assert bare.data_dir == tmp_path / "pdl" and bare.log_url is None
    assert bare.topics.prefix == "pdl." and bare.metrics_port is None
    assert bare.stall_timeout_s == 60
    stalling = Settings.from_environment(environ=environ | {"PDL_STALL_TIMEOUT": "15"})
    assert stalling.stall_timeout_s == 15
    assert set(VARIABLES.values()) >= {"PDL_MASTER_KEY", "PDL_API_TOKENS_FILE"}


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PDL_PARTITIONS", "three", "PDL_PARTITIONS"),
        ("PDL_PARTITIONS", "0", "PDL_PARTITIONS"),
        ("PDL_METRICS_PORT", "ninety", "PDL_METRICS_PORT"),
        ("PDL_METRICS_PORT", "70000", "PDL_METRICS_PORT"),
        ("PDL_TOPIC_PREFIX", "no spaces", "PDL_TOPIC_PREFIX"),
        ("PDL_LOG", "http://host", "PDL_LOG"),
        ("PDL_STALL_TIMEOUT", "a minute", "PDL_STALL_TIMEOUT"),
        ("PDL_STALL_TIMEOUT", "0", "PDL_STALL_TIMEOUT"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_fix(variable: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_environment(environ={variable: value, "PDL_DATA_DIR": "/tmp/pdl"})
    assert named in str(raised.value) and raised.value.fix


def test_secrets_never_show() -> None:
    environ = {"PDL_MASTER_KEY": "k" * 64, "PDL_API_TOKENS": "t" * 20 + "=dpo"}
    settings = Settings.from_environment(environ={**environ, "PDL_DATA_DIR": "/tmp/pdl"})
    assert "k" * 64 not in repr(settings) and "t" * 20 not in repr(settings)
