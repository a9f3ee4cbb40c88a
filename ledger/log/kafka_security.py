"""How the Kafka clients prove who they are and check the brokers: TLS and SASL; and
what they say when no broker answers.

One value, ``KafkaSecurity``, gives every client the adapter opens (producer, consumers,
admin) the same options, so a secured cluster is reached the same way by all of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.log.base import LogError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

#: what to check when a broker failed a request (not: no broker answered, ``unreachable``)
FIX = "check that the brokers are up and reachable from here, then retry"


@dataclass(frozen=True)
class KafkaSecurity:
    """Checked by the settings that build it; the password never appears in its repr."""

    protocol: str = "PLAINTEXT"
    #: PEM file of the CA(s) the brokers' certificates must chain to; None: the system's
    ca_file: Path | None = None
    #: PEM client certificate and its unencrypted key, for brokers that require one
    cert_file: Path | None = None
    key_file: Path | None = None
    #: the broker's certificate must name the host it was reached at
    check_hostname: bool = True
    sasl_mechanism: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def client_options(self) -> dict[str, Any]:
        """kafka-python options shared by every client: nothing for plaintext."""
        options: dict[str, Any] = {}
        if self.protocol == "PLAINTEXT":
            return options
        options["security_protocol"] = self.protocol
        if self.uses_tls:
            options["ssl_check_hostname"] = self.check_hostname
            if self.ca_file is not None:
                options["ssl_cafile"] = str(self.ca_file)
            if self.cert_file is not None:
                options["ssl_certfile"] = str(self.cert_file)
                options["ssl_keyfile"] = None if self.key_file is None else str(self.key_file)
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.user
            options["sasl_plain_password"] = self.password
        return options

    def fix(self) -> str:
        """What to check when no broker answers: with security on, a refused handshake
        looks like an unreachable broker, so the credentials are named too."""
        checks = ["check that the brokers are up and reachable from here"]
        if self.uses_tls:
            checks.append(
                "that PDL_KAFKA_CA_FILE holds the CA that signed the brokers' certificates"
                + (
                    " and that the certificate names the host you connect to"
                    if self.check_hostname
                    else ""
                )
            )
        if self.protocol == "SSL" and self.cert_file is not None:
            checks.append("that the brokers trust PDL_KAFKA_CERT_FILE")
        if self.uses_sasl:
            checks.append(
                f"that user PDL_KAFKA_USER and its password are right for {self.sasl_mechanism}"
            )
        return ", ".join(checks) + ", then retry"


PLAINTEXT = KafkaSecurity()


def unreachable(bootstrap: str, reason: str, security: KafkaSecurity) -> LogError:
    """No broker answered a client: down, unreachable, or refusing the handshake."""
    return LogError(f"no Kafka broker reachable at {bootstrap}: {reason}", security.fix())


def quiet_unless_verbose() -> None:
    """kafka-python logs a warning per reconnection attempt (twenty lines before a one-line
    error), librdkafka its own lines under the same logger; the adapters report failures
    themselves, as ``LogError``. The libraries' logs stay visible when the process logs at
    INFO (``pdl -v``) or the ``kafka`` logger was set."""
    library = logging.getLogger("kafka")
    if library.level == logging.NOTSET and not logging.getLogger().isEnabledFor(logging.INFO):
        library.setLevel(logging.CRITICAL)
