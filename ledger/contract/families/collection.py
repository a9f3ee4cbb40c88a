"""Personal data collected and rectified (topic family ``collection``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ledger.contract.base import CollectedValue, Label, PersonalText, Slug, SubjectEvent


class DataCollected(SubjectEvent):
    """Personal data was collected about a subject, for one or more purposes."""

    topic_family: ClassVar[str] = "collection"

    values: list[CollectedValue] = Field(
        min_length=1, max_length=64, description="The values collected, at least one."
    )
    purposes: list[Slug] = Field(
        min_length=1, description="Purposes (catalog ids) the data was collected for."
    )
    source: Label = Field(
        description="Where the data came from: a system, form or channel, e.g. 'web-signup'."
    )


class DataRectified(SubjectEvent):
    """Values held on a subject were corrected (GDPR Art. 16). Replaces the same fields."""

    topic_family: ClassVar[str] = "collection"
    #: The label that holds a LabelCode; its free text belongs in the sealed ``note``.
    coded_label: ClassVar[str] = "reason"

    values: list[CollectedValue] = Field(
        min_length=1, max_length=64, description="The corrected values; same field names."
    )
    purposes: list[Slug] = Field(
        min_length=1, description="Purposes the corrected data serves (choose its key)."
    )
    reason: Label | None = Field(
        default=None,
        description="Why, as a code (LabelCode): 'subject_request', 'data_quality_check'; "
        "free text goes in note.",
    )
    note: PersonalText | None = Field(
        default=None,
        description="Why the data was corrected, in free text, if any. "
        "Personal data: ciphertext, shredded "
        "with the subject's keys.",
    )
