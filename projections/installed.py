"""The projections the consumers maintain, in the order they are applied."""

from __future__ import annotations

from typing import Any

from projections.base import Projection
from projections.basis import BasisFactsProjection
from projections.requests import RequestsProjection
from projections.subject_state import SubjectStateProjection


def all_projections() -> list[Projection[Any]]:
    return [SubjectStateProjection(), BasisFactsProjection(), RequestsProjection()]
