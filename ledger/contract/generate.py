"""Write the generated Avro schemas into ``schemas/events/`` (``pdl schemas generate``)."""

from __future__ import annotations

import json
from pathlib import Path

import schemas
from ledger.contract.avro_schema import AvroSchema, contract_models, event_schema


def rendered() -> dict[str, str]:
    """File name -> exact text of every current schema, as generated from the models."""
    return {f"{name}.avsc": _text(event_schema(model)) for name, model in contract_models().items()}


def _text(schema: AvroSchema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write(directory: Path = schemas.CURRENT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
