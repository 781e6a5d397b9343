"""The tidy answer record shared by storage, statistics and exports.

One row per answer a listener gave: a MUSHRA slider value, an ABX choice, an AB preference or a BS.1116 grade.
Storage produces these rows; statistics and every export read only them, so the analysis never depends on the
database schema.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

TEST_TYPES = ("abx", "ab", "mushra", "bs1116")


@dataclass(frozen=True)
class TidyRow:
    """One answer.

    ``rating`` is the MUSHRA score (0-100) or BS.1116 grade (1.0-5.0) of ``condition``; for ABX and AB it is None
    and ``answer`` holds the choice ("A", "B" or "dont_know"), with ``correct`` set for ABX. ``condition`` is the
    condition's id in the design ("reference" for the hidden reference, "anchor_lp35"/"anchor_lp70" for the
    MUSHRA anchors); for ABX it is the condition compared with the reference.
    """

    test_id: str
    test_type: str
    listener: str
    session: str
    item: str
    condition: str
    bitrate_kbps: float | None
    rating: float | None
    answer: str | None
    correct: bool | None
    trial: int
    page: int
    time_ms: int
    n_plays: int
    n_switches: int
    answered_at: str  # ISO 8601 UTC

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


TIDY_COLUMNS = tuple(f.name for f in fields(TidyRow))
