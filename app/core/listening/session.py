"""A listener's run through a listening test: a Qt-free state machine the UI drives, persisted answer by answer.

Typical use (a view polls the properties after each call)::

    session = start_session(storage, design, "alice")     # session_start; or resumes alice's unfinished session
    while not session.finished:
        view = session.page                                # PageView: stimuli (blind keys), scale, choices
        session.note_play("2"); session.note_switch(); session.rate("2", 73)   # MUSHRA / BS.1116
        # session.answer("A")                                               # ABX / AB
        if session.can_advance():
            session.advance()                              # commits the page/trial, returns after COMMIT

Resume: answers are committed when the listener advances (a MUSHRA page's ratings in one transaction), so a session
killed at any point restarts at the first trial with no stored answer, with the randomisation stored at its start.
Training (MUSHRA, ``mushra.training``) comes first, shows condition names, and its ratings are never stored.

This module holds the state machine (:class:`Session`); :func:`~app.core.listening.session_start.start_session`
builds it (registers the test and its stimuli, renders the anchors, resumes or draws the session).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.core.listening.design import MAX_EXCERPT_S, AbxOptions, MushraOptions, TestDesign
from app.core.listening.pages import (
    PageView,
    Signal,
    Stimulus,
    forced_choice_answer,
    page_choices,
    page_scale,
    page_signals,
)
from app.core.listening.randomise import PagePlan, Plan, mushra_signals
from app.core.listening.storage import Storage
from app.core.listening.storage_records import Answer, SessionRecord

PILE_UP_MIN_SCORE = 80.0
"""BS.1534-3 §2 p.3: if most conditions score 80-100 the test may be invalid (a job for BS.1116 or ABX)."""


class SessionError(RuntimeError):
    """The UI asked for something the session's rules do not allow now (e.g. advancing an unfinished page)."""


@dataclass
class _TrialState:
    started_s: float
    plays: dict[str, int]
    switches: int = 0
    ratings: dict[str, float | None] | None = None
    choice: str | None = None


class Session:
    """One listener's session. Build it with :func:`~app.core.listening.session_start.start_session`."""

    def __init__(
        self,
        storage: Storage,
        design: TestDesign,
        record: SessionRecord,
        anchors: Mapping[str, Mapping[str, Path]],
        *,
        excerpt_lengths_s: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.design = design
        self.record = record
        self.plan = Plan.from_json(record.randomisation)
        self._storage = storage
        self._anchors = {k: dict(v) for k, v in anchors.items()}
        self._lengths_s = dict(excerpt_lengths_s or {})
        self._clock = clock
        self._steps = [(p, t) for p, page in enumerate(self.plan.pages) for t in range(page.n_trials)]
        answered = storage.answered_trials(record.id)
        self._position = next((i for i, step in enumerate(self._steps) if step not in answered), len(self._steps))
        # Training runs once, before the first answer; it stores nothing, so a session killed in it trains again.
        options = design.options
        wants_training = isinstance(options, MushraOptions) and options.training
        fresh = record.training_done_at is None and self._position == 0
        self._training_pages = list(design.items) if wants_training and fresh else []
        self._training_index = 0
        if self._position == len(self._steps):
            storage.finish_session(record.id)
        self._state = self._new_state()

    # ---------------------------------------------------------------- where we are
    @property
    def id(self) -> str:
        return self.record.id

    @property
    def phase(self) -> str:
        """``"training"``, ``"test"`` or ``"finished"``."""
        if self._training_index < len(self._training_pages):
            return "training"
        return "finished" if self._position >= len(self._steps) else "test"

    @property
    def finished(self) -> bool:
        return self.phase == "finished"

    @property
    def progress(self) -> tuple[int, int]:
        """``(answered trials, total trials)`` of the test phase."""
        return self._position, len(self._steps)

    @property
    def page(self) -> PageView | None:
        """The current page, or None when the session is finished."""
        if self.finished:
            return None
        plan, trial, training = self._current()
        reference, signals = self._signals()
        n_pages = len(self._training_pages) if training else len(self.plan.pages)
        index = self._training_index if training else self._steps[self._position][0]
        return PageView(
            test_type=self.design.type, training=training, page=index, n_pages=n_pages, trial=trial,
            n_trials=plan.n_trials, item=plan.item, reference=reference,
            stimuli=tuple(s.stimulus for s in signals), choices=page_choices(self.design),
            scale=page_scale(self.design),
        )

    def _current(self) -> tuple[PagePlan, int, bool]:
        if self.phase == "training":
            item = self._training_pages[self._training_index]
            order = mushra_signals(self.design)
            return PagePlan(item.id, None, order=order), 0, True
        page, trial = self._steps[self._position]
        return self.plan.pages[page], trial, False

    def _signals(self) -> tuple[Stimulus | None, tuple[Signal, ...]]:
        plan, trial, training = self._current()
        return page_signals(self.design, plan, trial, self._anchors, training)

    def _new_state(self) -> _TrialState:
        state = _TrialState(started_s=self._clock(), plays={})
        if not self.finished and self.design.type in ("mushra", "bs1116"):
            state.ratings = {s.stimulus.key: None for s in self._signals()[1]}
        return state

    # ---------------------------------------------------------------- what the listener does
    def note_play(self, key: str) -> None:
        """The listener started playing stimulus ``key`` (a stimulus key, or the open reference's ``"ref"``)."""
        view = self._require_page()
        keys = {s.key for s in view.stimuli} | ({view.reference.key} if view.reference else set())
        if key not in keys:
            raise SessionError(f"no stimulus {key!r} on this page (have: {', '.join(sorted(keys))})")
        self._state.plays[key] = self._state.plays.get(key, 0) + 1

    def note_switch(self) -> None:
        """The listener switched from one stimulus to another while playing."""
        self._require_page()
        self._state.switches += 1

    def rate(self, key: str, value: float | None) -> None:
        """Set (or with None, unset) the rating of stimulus ``key`` on a MUSHRA or BS.1116 page."""
        view = self._require_page()
        if self._state.ratings is None or view.scale is None:
            raise SessionError(f"{self.design.type} pages have no ratings; use answer()")
        if key not in self._state.ratings:
            raise SessionError(f"no rated stimulus {key!r} on this page")
        self._state.ratings[key] = None if value is None else view.scale.check(value)

    def answer(self, choice: str) -> None:
        """Choose on an ABX ("A", "B", or "dont_know" when allowed) or AB ("left", "right") trial."""
        view = self._require_page()
        if not view.choices:
            raise SessionError(f"{self.design.type} pages are rated, not chosen; use rate()")
        if choice not in view.choices:
            raise SessionError(f"choice {choice!r} is not one of {', '.join(view.choices)}")
        self._state.choice = choice

    @property
    def ratings(self) -> dict[str, float | None]:
        """Current ratings by stimulus key (None = not rated yet; sliders start unset)."""
        return dict(self._state.ratings or {})

    @property
    def choice(self) -> str | None:
        return self._state.choice

    def blocking_reasons(self) -> list[str]:
        """Why the listener cannot advance yet (empty when they can)."""
        if self.finished or self.phase == "training":
            return []
        if self._state.ratings is None:
            return [] if self._state.choice is not None else ["choose an answer"]
        reasons = [f"play {k}" for k in self._state.ratings if not self._state.plays.get(k)]
        reasons += [f"rate {k}" for k, v in self._state.ratings.items() if v is None]
        options = self.design.options
        if isinstance(options, MushraOptions) and options.require_max_rating and not reasons:
            if max(v or 0.0 for v in self._state.ratings.values()) < 100.0:
                reasons.append("rate at least one signal 100 (the hidden reference is among them)")
        return reasons

    def can_advance(self) -> bool:
        return not self.finished and not self.blocking_reasons()

    def advance(self) -> None:
        """Store the current trial's answers (returns after COMMIT) and move on. Training pages store nothing."""
        if self.finished:
            raise SessionError("the session is finished")
        if self.phase == "training":
            self._training_index += 1
            if self._training_index == len(self._training_pages):
                self._storage.mark_training_done(self.id)
            self._state = self._new_state()
            return
        reasons = self.blocking_reasons()
        if reasons:
            raise SessionError("cannot advance yet: " + "; ".join(reasons))
        self._storage.record_answers(self._answers())
        self._position += 1
        if self._position == len(self._steps):
            self._storage.finish_session(self.id)
        self._state = self._new_state()

    def finish_training(self) -> None:
        """Leave the training pass now (its ratings are discarded)."""
        if self.phase == "training":
            self._training_index = len(self._training_pages)
            self._storage.mark_training_done(self.id)
            self._state = self._new_state()

    def _answers(self) -> list[Answer]:
        plan, trial, _ = self._current()
        page = self._steps[self._position][0]
        _, signals = self._signals()
        state = self._state
        common = dict(session_id=self.id, page=page, trial=trial, item=plan.item,
                      time_ms=max(0, round((self._clock() - state.started_s) * 1000)), n_switches=state.switches)
        if state.ratings is not None:
            return [Answer(condition=s.condition, rating=state.ratings[s.stimulus.key],
                           n_plays=state.plays.get(s.stimulus.key, 0), **common) for s in signals]
        assert state.choice is not None
        answer, correct = forced_choice_answer(self.design, plan, trial, state.choice)
        n_plays = sum(state.plays.get(s.stimulus.key, 0) for s in signals)
        return [Answer(condition=plan.condition or "", answer=answer, correct=correct, n_plays=n_plays, **common)]

    # ---------------------------------------------------------------- feedback
    @property
    def running_score(self) -> tuple[int, int] | None:
        """ABX ``(correct, answered forced choices)`` on the current page, only when the design shows it."""
        options = self.design.options
        if not isinstance(options, AbxOptions) or not options.show_running_score or self.phase != "test":
            return None
        page = self._steps[self._position][0]
        rows = [a for a in self._storage.answers(self.id) if a.page == page and a.correct is not None]
        return sum(a.correct for a in rows if a.correct), len(rows)

    @property
    def warnings(self) -> list[str]:
        """Warnings the UI should show on the current page: a MUSHRA excerpt longer than 12 s (BS.1534-3 §5.1),
        and most systems under test rated 80-100 (§2: the results may be invalid; consider BS.1116 or ABX)."""
        view = self.page
        if view is None or self.design.type != "mushra":
            return []
        out: list[str] = []
        length_s = self._lengths_s.get(view.item, 0.0)
        if length_s > MAX_EXCERPT_S:
            out.append(f"this excerpt is {length_s:.1f} s; BS.1534-3 recommends at most {MAX_EXCERPT_S:g} s")
        if not view.training and self._state.ratings is not None:
            _, signals = self._signals()
            scores = [self._state.ratings[s.stimulus.key] for s in signals if s.condition in self.design.conditions]
            if None not in scores and sum(s >= PILE_UP_MIN_SCORE for s in scores if s is not None) * 2 > len(scores):
                out.append(
                    "most systems on this page are rated 80-100: MUSHRA cannot resolve small differences near the "
                    "top of the scale (BS.1534-3 §2); a BS.1116 or ABX test may suit these systems better"
                )
        return out

    def _require_page(self) -> PageView:
        view = self.page
        if view is None:
            raise SessionError("the session is finished")
        return view
