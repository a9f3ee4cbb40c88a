"""Stored states: equal states give equal text, whatever order their maps were filled in.

``projection_state_text`` sorts only the maps at a state's top level (pydantic's JSON
keeps insertion order), so no state model may hold a map deeper down."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from projections.basis import BasisFacts, BasisFactsProjection, Fact
from projections.erasure_queue import ErasureRequestsProjection, RegisterHeadProjection
from projections.installed import all_projections
from projections.subject_state import Processing, SubjectState, SubjectStateProjection

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _maps_below_the_top(model: type[BaseModel]) -> list[str]:
    found: list[str] = []

    def walk(annotation: Any, path: str, depth: int) -> None:
        if typing.get_origin(annotation) is dict and depth > 0:
            found.append(path)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, field in annotation.model_fields.items():
                walk(field.annotation, f"{path}.{name}", depth + 1)
        else:
            for argument in typing.get_args(annotation):
                walk(argument, path, depth + 1)

    walk(model, model.__name__, -1)  # its fields are at depth 0: the top level
    return found


def test_state_models_keep_their_maps_at_the_top_level() -> None:
    projections = [*all_projections(), ErasureRequestsProjection(), RegisterHeadProjection()]
    for projection in projections:
        (base,) = type(projection).__orig_bases__  # type: ignore[attr-defined]
        (model,) = typing.get_args(base)
        assert _maps_below_the_top(model) == [], f"{projection.name}: those maps are not sorted"
    assert _maps_below_the_top(_Nested) == [
        "_Nested.top.maps",
        "_Nested.inner.maps",
        "_Nested.optional",
    ]


class _Inner(BaseModel):
    maps: dict[str, int] = {}


class _Nested(BaseModel):
    """What the check must catch: maps inside nested models, and one that may be None."""

    top: dict[str, _Inner] = {}
    inner: _Inner = _Inner()
    optional: dict[str, int] | None = None


def test_equal_states_give_equal_text_whatever_the_order_of_their_maps() -> None:
    projection = SubjectStateProjection()
    processing = {p: Processing(purpose=p, count=1, last_at=T0) for p in ("b", "a", "c")}
    one = SubjectState(subject_id="sub_1", processing=processing, anchors={"z": T0, "é": T0})
    other = SubjectState(
        subject_id="sub_1",
        processing=dict(sorted(processing.items())),
        anchors={"é": T0, "z": T0},
    )
    assert one == other and list(one.processing) != list(other.processing)
    text = projection.dump(one)
    assert projection.dump(other) == text
    assert text.index('"a"') < text.index('"b"') < text.index('"c"')
    assert projection.load(text) == one
    assert list(one.processing) == ["b", "a", "c"]  # dumping left the state as it was


def test_basis_facts_text_leaves_out_what_holds_its_default() -> None:
    """The stored text of basis facts omits a fact's empty optional fields (a third of
    the text) and still reads back as the same state; with no map in the model, there is
    nothing a canonical text would have to sort."""
    assert not any(
        typing.get_origin(field.annotation) is dict
        for model in (BasisFacts, Fact)
        for field in model.model_fields.values()
    )
    projection = BasisFactsProjection()
    fact = Fact(
        kind="processed",
        valid_at=T0,
        recorded_at=T0,
        event_id="e1",
        position="t/0/1",
        claimed_basis="consent",
        categories=("contact",),
    )
    state = BasisFacts(subject_id="sub_1", controller="c", purpose="p", facts=(fact,))
    text = projection.dump(state)
    assert "null" not in text and '"recipients"' not in text and '"claimed_basis"' in text
    assert projection.load(text) == state
    assert projection.dump(projection.load(text)) == text
    empty = projection.initial("sub_1|c|p")
    assert projection.load(projection.dump(empty)) == empty
