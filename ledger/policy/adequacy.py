"""EU adequacy decisions (GDPR Art. 45), shipped as dated data (``adequacy.toml``): a
transfer may rest on adequacy only to a country with a decision in force at its valid
time."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ADEQUACY_FILE = Path(__file__).parent / "adequacy.toml"


class AdequacyDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    name: str
    decision: str = Field(description="The Commission decision, by its number.")
    valid_from: date = Field(description="Adopted on.")
    valid_until: date | None = Field(default=None, description="Ceased to apply on.")
    ended_by: str | None = None
    scope: str | None = Field(
        default=None, description="Only these recipients are covered, when not all."
    )
    uncertain: list[str] = Field(default=[], description="Fields not stated with certainty.")

    def in_force(self, at: datetime) -> bool:
        start = datetime.combine(self.valid_from, time(), UTC)
        end = None if self.valid_until is None else datetime.combine(self.valid_until, time(), UTC)
        return start <= at and (end is None or at < end)


class AdequacyDecisions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decisions: list[AdequacyDecision]

    def in_force(self, country: str, at: datetime) -> AdequacyDecision | None:
        """The decision in force for ``country`` at ``at``, if any."""
        return next((d for d in self.decisions if d.country == country and d.in_force(at)), None)


@cache
def adequacy_decisions() -> AdequacyDecisions:
    with ADEQUACY_FILE.open("rb") as f:
        return AdequacyDecisions.model_validate(tomllib.load(f))
