"""Personal values: plaintext that cannot leak by accident.

A ``Secret`` holds either the plaintext a producer submitted (before sealing) or the
AEAD ciphertext read from the log (after). Its ``repr`` never shows plaintext, so a
logged event or an exception message cannot carry personal data, and the Avro encoder
refuses a Secret that is not sealed, so plaintext cannot reach a topic.
"""

from __future__ import annotations

import base64
import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import GetCoreSchemaHandler
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, core_schema

#: Longest plaintext accepted for one personal value (characters). Larger values are
#: almost always a mistake (a whole document pasted into a field) and bloat every copy.
MAX_PLAINTEXT_CHARS = 4096


@dataclass(frozen=True)
class Secret:
    """A personal value: plaintext before sealing, ciphertext after."""

    plaintext: str | None = field(default=None, repr=False)
    sealed: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.plaintext is None) == (self.sealed is None):
            raise ValueError("a Secret holds exactly one of plaintext or sealed bytes")

    @property
    def is_sealed(self) -> bool:
        return self.sealed is not None

    def __repr__(self) -> str:
        if self.sealed is not None:
            return f"Secret(<sealed {len(self.sealed)} bytes>)"
        return "Secret(<plaintext redacted>)"

    __str__ = __repr__

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate_secret,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize_secret, info_arg=True, when_used="always"
            ),
        )


def _validate_secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, bytes):
        return Secret(sealed=value)
    if isinstance(value, str):
        if len(value) > MAX_PLAINTEXT_CHARS:
            raise PydanticCustomError(
                "personal_too_long",
                "personal value longer than {limit} characters",
                {"limit": MAX_PLAINTEXT_CHARS},
            )
        if not value:
            raise PydanticCustomError("personal_empty", "personal value is empty", {})
        return Secret(plaintext=value)
    raise PydanticCustomError(
        "personal_type",
        "personal value must be a string (got {kind})",
        {"kind": type(value).__name__},
    )


def _serialize_secret(value: Secret, info: core_schema.SerializationInfo) -> bytes | str:
    if value.sealed is None:
        raise PlaintextLeak("refusing to serialise an unsealed personal value")
    if info.mode == "json":
        return base64.b64encode(value.sealed).decode("ascii")
    return value.sealed


class PlaintextLeak(RuntimeError):
    """Raised when code tries to write a personal value that has not been sealed."""


@dataclass(frozen=True)
class Personal:
    """Marks a model field as personal data: ciphertext on the wire, ``pdl.personal`` in Avro."""

    doc_note: str = "Personal data: AEAD ciphertext (see docs/EVENTS.md, 'Sealed values')."


def is_personal(info: FieldInfo) -> bool:
    """Whether a model field is personal, also when wrapped as ``PersonalText | None``."""
    return any(isinstance(m, Personal) for m in info.metadata) or _marked(info.annotation)


def _marked(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        head, *extras = get_args(annotation)
        return any(isinstance(m, Personal) for m in extras) or _marked(head)
    if origin in (Union, types.UnionType):
        return any(_marked(a) for a in get_args(annotation))
    return False
