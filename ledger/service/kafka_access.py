"""How the ledger reaches a secured Kafka cluster: the TLS and SASL settings, checked.

``check`` runs when the settings are built (a contradiction fails every command, even one
on the embedded log); ``security_of`` runs when a Kafka log is opened (it reads the
password file). The password is never quoted in a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.errors import ConfigError
from ledger.log.kafka_security import PROTOCOLS, SASL_MECHANISMS, KafkaSecurity

if TYPE_CHECKING:
    from ledger.service.settings import Settings

DEFAULT_MECHANISM = "SCRAM-SHA-512"


def check(settings: Settings) -> None:
    protocol = settings.kafka_security_protocol
    if protocol is not None and protocol not in PROTOCOLS:
        raise ConfigError(
            f"PDL_KAFKA_SECURITY_PROTOCOL {protocol!r} is not a Kafka security protocol",
            fix=f"use one of {', '.join(PROTOCOLS)}, or unset it",
        )
    if protocol is not None and protocol != settings.kafka_protocol:
        raise ConfigError(
            f"--log/PDL_LOG names security protocol {settings.kafka_protocol} but "
            f"PDL_KAFKA_SECURITY_PROTOCOL says {protocol}",
            fix="name the protocol once: in the URL scheme (kafka+ssl://, "
            "kafka+sasl_ssl://) or in PDL_KAFKA_SECURITY_PROTOCOL with kafka://",
        )
    mechanism = settings.kafka_sasl_mechanism
    if mechanism is not None and mechanism not in SASL_MECHANISMS:
        raise ConfigError(
            f"PDL_KAFKA_SASL_MECHANISM {mechanism!r} is not supported",
            fix=f"use one of {', '.join(SASL_MECHANISMS)}, or unset it ({DEFAULT_MECHANISM})",
        )
    if (settings.kafka_cert_file is None) != (settings.kafka_key_file is None):
        raise ConfigError(
            "PDL_KAFKA_CERT_FILE and PDL_KAFKA_KEY_FILE go together: one is set alone",
            fix="set both (the client certificate and its key), or neither",
        )
    if settings.kafka_protocol.startswith("SASL_") and settings.kafka_bootstrap is not None:
        if not settings.kafka_user:
            raise ConfigError(
                f"security protocol {settings.kafka_protocol} needs a SASL user",
                fix="set PDL_KAFKA_USER (and PDL_KAFKA_PASSWORD_FILE)",
            )
        if settings.kafka_password is None and settings.kafka_password_file is None:
            raise ConfigError(
                f"security protocol {settings.kafka_protocol} needs PDL_KAFKA_USER's password",
                fix="set PDL_KAFKA_PASSWORD_FILE to a file holding it (or PDL_KAFKA_PASSWORD)",
            )


def security_of(settings: Settings) -> KafkaSecurity:
    for variable, path in (
        ("PDL_KAFKA_CA_FILE", settings.kafka_ca_file),
        ("PDL_KAFKA_CERT_FILE", settings.kafka_cert_file),
        ("PDL_KAFKA_KEY_FILE", settings.kafka_key_file),
    ):
        if path is not None and not path.is_file():
            raise ConfigError(
                f"{variable} {path} is not a readable file",
                fix=f"point {variable} at the PEM file, or unset it",
            )
    protocol = settings.kafka_protocol
    sasl = protocol.startswith("SASL_")
    return KafkaSecurity(
        protocol=protocol,
        ca_file=settings.kafka_ca_file,
        cert_file=settings.kafka_cert_file,
        key_file=settings.kafka_key_file,
        check_hostname=settings.kafka_check_hostname,
        sasl_mechanism=(settings.kafka_sasl_mechanism or DEFAULT_MECHANISM) if sasl else None,
        user=settings.kafka_user if sasl else None,
        password=_password(settings) if sasl else None,
    )


def _password(settings: Settings) -> str:
    if settings.kafka_password is not None:
        return settings.kafka_password
    path = settings.kafka_password_file
    assert path is not None  # check() requires one of the two
    try:
        password = path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"PDL_KAFKA_PASSWORD_FILE {path} cannot be read ({type(exc).__name__})",
            fix="point it at a readable file holding the password on one line",
        ) from None
    if not password:
        raise ConfigError(
            f"PDL_KAFKA_PASSWORD_FILE {path} is empty",
            fix="write the SASL password into it, on one line",
        )
    return password
