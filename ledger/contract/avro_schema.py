"""Derive Avro schemas from the event models.

The generated schemas are checked into ``schemas/events/`` as the public contract; a
test regenerates them and compares. Personal fields become ``bytes`` carrying the
attribute ``"pdl.personal": true`` so any reader, in any language, knows they are
ciphertext.
"""

from __future__ import annotations

import inspect
import types
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from ledger.contract.deadletter import DeadLetter
from ledger.contract.events import EVENT_TYPES, LedgerEvent
from ledger.contract.secret import Secret, is_personal

NAMESPACE = "org.pdl.events"
PERSONAL_ATTRIBUTE = "pdl.personal"
SEALED_ENCODING = "pdl-aead-v1"

AvroSchema = dict[str, Any]


def event_schema(model: type[LedgerEvent] | type[DeadLetter]) -> AvroSchema:
    """The Avro record schema of one event type (or of the dead-letter record)."""
    schema = _record(model, defined=set())
    schema["pdl.topic_family"] = model.topic_family
    return schema


def contract_models() -> dict[str, type[LedgerEvent] | type[DeadLetter]]:
    """Every record type written to a topic, by name: the events and the dead letter."""
    return {**EVENT_TYPES, DeadLetter.__name__: DeadLetter}


def _doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or model.__name__)


def _record(model: type[BaseModel], defined: set[str]) -> AvroSchema:
    defined.add(model.__name__)
    fields = []
    for name, info in model.model_fields.items():
        if not info.description:
            raise ValueError(f"{model.__name__}.{name} has no description (Avro doc)")
        personal = is_personal(info)
        avro_type = _type(info.annotation, defined, personal)
        field: AvroSchema = {"name": name, "type": avro_type, "doc": info.description}
        if personal:
            field[PERSONAL_ATTRIBUTE] = True
            field["pdl.encoding"] = SEALED_ENCODING
        if not info.is_required() and info.default_factory is None:
            field["default"] = _avro_default(info.default)
        fields.append(field)
    return {
        "type": "record",
        "name": model.__name__,
        "namespace": NAMESPACE,
        "doc": _doc(model),
        "fields": fields,
    }


def _type(annotation: Any, defined: set[str], personal: bool = False) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type(get_args(annotation)[0], defined, personal)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"only Optional unions map to Avro here, not {annotation}")
        return ["null", _type(members[0], defined, personal)]
    if origin is list:
        return {"type": "array", "items": _type(get_args(annotation)[0], defined)}
    if origin is dict:
        return {"type": "map", "values": _type(get_args(annotation)[1], defined)}
    if annotation is Secret:
        if not personal:
            raise TypeError("a Secret field must be marked Personal()")
        return "bytes"
    if inspect.isclass(annotation) and issubclass(annotation, Enum):
        if annotation.__name__ in defined:
            return f"{NAMESPACE}.{annotation.__name__}"
        defined.add(annotation.__name__)
        return {
            "type": "enum",
            "name": annotation.__name__,
            "namespace": NAMESPACE,
            "doc": _doc_of_enum(annotation),
            "symbols": [m.value for m in annotation],
        }
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        if annotation.__name__ in defined:
            return f"{NAMESPACE}.{annotation.__name__}"
        return _record(annotation, defined)
    scalar = _SCALARS.get(annotation)
    if scalar is None:
        raise TypeError(f"no Avro mapping for {annotation!r}")
    return scalar


def _avro_default(value: Any) -> Any:
    """A pydantic default as an Avro field default (needed for compatible evolution)."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool | list):
        return value
    raise TypeError(f"no Avro default for {value!r}")


def _doc_of_enum(enum: type[Enum]) -> str:
    return inspect.cleandoc(enum.__doc__ or enum.__name__)


_SCALARS: dict[Any, Any] = {
    str: "string",
    int: "long",
    bool: "boolean",
    float: "double",
    bytes: "bytes",
    datetime: {"type": "long", "logicalType": "timestamp-micros"},
}


def personal_paths(schema: Any, prefix: str = "") -> list[str]:
    """Paths of the personal fields in a schema, e.g. ``values[].value``, for scanners."""
    paths: list[str] = []
    if isinstance(schema, dict) and schema.get("type") == "record":
        for field in schema["fields"]:
            path = f"{prefix}{field['name']}"
            if field.get(PERSONAL_ATTRIBUTE):
                paths.append(path)
            paths.extend(personal_paths(field["type"], path + "."))
    elif isinstance(schema, dict) and schema.get("type") == "array":
        paths.extend(personal_paths(schema["items"], prefix.rstrip(".") + "[]."))
    elif isinstance(schema, list):
        for member in schema:
            paths.extend(personal_paths(member, prefix))
    return paths
