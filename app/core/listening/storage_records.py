"""Rows of the ratings database as frozen dataclasses: answers, stimulus files and sessions, with the column lists
and row converters :class:`~app.core.listening.storage.Storage` reads them with, and the timestamp format it writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def utc_now() -> str:
    """Current time as ISO 8601 UTC with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Answer:
    """One stored answer (see :class:`~app.core.listening.records.TidyRow` for the meaning of
    ``rating``/``answer``/``correct``).

    ``answered_at`` is filled in when the answer is recorded if left empty.
    """

    session_id: str
    page: int
    trial: int
    item: str
    condition: str
    rating: float | None = None
    answer: str | None = None
    correct: bool | None = None
    time_ms: int = 0
    n_plays: int = 0
    n_switches: int = 0
    answered_at: str = ""


@dataclass(frozen=True)
class StimulusFile:
    """A file a test plays: ``path`` (relative to the design folder, or ``anchor:<item>/<id>``), its SHA-256, its
    ``role`` (``reference``, ``condition`` or ``anchor``) and what it is (``item``, ``condition`` id)."""

    path: str
    sha256: str
    role: str
    item: str
    condition: str


@dataclass(frozen=True)
class SessionRecord:
    """A session row: who took which test, with the randomisation record it was drawn with."""

    id: str
    test_id: str
    listener: str
    session_number: int
    randomisation: dict[str, Any]
    started_at: str
    finished_at: str | None
    app_version: str
    model_versions: dict[str, str] = field(default_factory=dict)
    transducer: str | None = None
    training_done_at: str | None = None


SESSION_COLUMNS = (
    "s.id, s.test_id, l.name, s.session_number, s.randomisation_json, s.started_at, s.finished_at, s.app_version, "
    "s.model_versions_json, s.transducer, s.training_done_at"
)
ANSWER_COLUMNS = (
    "session_id, page, trial, item, condition, rating, answer, correct, time_ms, n_plays, n_switches, answered_at"
)


def session_from_row(row: tuple[Any, ...]) -> SessionRecord:
    (sid, test_id, listener, number, randomisation, started, finished, app_version, models, transducer,
     training_done) = row
    return SessionRecord(
        id=sid, test_id=test_id, listener=listener, session_number=int(number),
        randomisation=json.loads(randomisation), started_at=started, finished_at=finished, app_version=app_version,
        model_versions=json.loads(models), transducer=transducer, training_done_at=training_done,
    )


def answer_from_row(row: tuple[Any, ...]) -> Answer:
    session_id, page, trial, item, cond, rating, ans, correct, time_ms, n_plays, n_switches, answered_at = row
    return Answer(
        session_id=session_id, page=page, trial=trial, item=item, condition=cond, rating=rating, answer=ans,
        correct=None if correct is None else bool(correct), time_ms=time_ms, n_plays=n_plays,
        n_switches=n_switches, answered_at=answered_at,
    )
