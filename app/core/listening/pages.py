"""What a listening-test page shows (blind keys and labels, stimuli paths, scale) and the answers a page produces.

Protocol rules live here, one function per test type, so :mod:`app.core.listening.session` stays a plain state
machine. Conventions for stored answers (see :class:`~app.core.listening.records.TidyRow`):

* MUSHRA: one row per signal on the page (conditions, ``reference``, ``anchor_lp35``, ``anchor_lp70``), rating 0-100.
* BS.1116: two rows per trial, the condition's grade and the hidden reference's grade (``reference``), 1.0-5.0.
* ABX: one row per trial, ``condition`` = the condition compared with the reference (A = reference,
  B = condition), ``answer`` = "A", "B" or "dont_know", ``correct`` whether the answer named X (None for
  "dont_know").
* AB: one row per trial, ``condition`` = the condition compared with the baseline, ``answer`` = "A" when the
  listener preferred the baseline and "B" when they preferred the condition, whatever side each was played on
  (the sides are in the session's randomisation record).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from app.core.listening.design import REFERENCE_ID, AbOptions, AbxOptions, TestDesign
from app.core.listening.randomise import PagePlan

REFERENCE_KEY = "ref"
"""Key of the open (labelled) reference on MUSHRA and BS.1116 pages."""
DONT_KNOW = "dont_know"


@dataclass(frozen=True)
class Scale:
    """A rating scale: ``[minimum, maximum]`` with ``decimals`` digits after the point, and labelled bands
    ``(lower bound, label)`` from the bottom up."""

    minimum: float
    maximum: float
    decimals: int
    labels: tuple[tuple[float, str], ...]

    def check(self, value: float) -> float:
        """``value`` validated and rounded to the scale's precision; ValueError when it is off the scale."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"rating must be a finite number, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"rating {value} is outside [{self.minimum:g}, {self.maximum:g}]")
        scaled = value * 10**self.decimals
        if abs(scaled - round(scaled)) > 1e-6:
            raise ValueError(f"rating {value} has more than {self.decimals} decimal(s)")
        return round(float(value), self.decimals)


MUSHRA_SCALE = Scale(0.0, 100.0, 0, ((0.0, "Bad"), (20.0, "Poor"), (40.0, "Fair"), (60.0, "Good"), (80.0, "Excellent")))
"""BS.1534-3 §5.4 continuous quality scale (whole numbers are enough resolution for a 0-100 slider)."""
BS1116_SCALE = Scale(
    1.0, 5.0, 1,
    ((1.0, "Very annoying"), (2.0, "Annoying"), (3.0, "Slightly annoying"), (4.0, "Perceptible, but not annoying"),
     (5.0, "Imperceptible")),
)
"""BS.1116 five-grade impairment scale, 1.0-5.0 with one decimal."""


@dataclass(frozen=True)
class Stimulus:
    """A playable signal: ``key`` is what the UI passes back (``note_play``, ``rate``), ``label`` what it shows.

    ``path`` is for the playback engine only: never display it, file names give the conditions away.
    """

    key: str
    label: str
    path: Path


@dataclass(frozen=True)
class PageView:
    """Everything the UI needs to draw the current page; condition identities are not in it (blind), except that
    labels name the conditions in MUSHRA training.

    ``reference`` is the open reference (MUSHRA, BS.1116), ``stimuli`` the blind signals, ``choices`` the answers
    of a forced-choice page (ABX, AB), ``scale`` the rating scale (MUSHRA, BS.1116). ``page`` and ``trial`` are
    0-based.
    """

    test_type: str
    training: bool
    page: int
    n_pages: int
    trial: int
    n_trials: int
    item: str
    reference: Stimulus | None
    stimuli: tuple[Stimulus, ...]
    choices: tuple[str, ...]
    scale: Scale | None


@dataclass(frozen=True)
class Signal:
    """A stimulus together with the condition it really is (kept inside the session, never shown)."""

    stimulus: Stimulus
    condition: str


def page_signals(
    design: TestDesign, plan: PagePlan, trial: int, anchors: dict[str, dict[str, Path]], training: bool
) -> tuple[Stimulus | None, tuple[Signal, ...]]:
    """The open reference and the signals of one trial of a page."""
    item = next(i for i in design.items if i.id == plan.item)
    files = {**item.conditions, REFERENCE_ID: item.reference, **anchors.get(item.id, {})}
    reference = Stimulus(REFERENCE_KEY, "Reference", item.reference)
    if design.type == "mushra":
        signals = tuple(
            Signal(Stimulus(str(n), design.condition_label(cid) if training else str(n), files[cid]), cid)
            for n, cid in enumerate(plan.order, start=1)
        )
        return reference, signals
    condition = plan.condition or ""
    draw = plan.draws[trial]
    if design.type == "abx":
        x_condition = REFERENCE_ID if draw == "A" else condition
        return None, (
            Signal(Stimulus("A", "A", files[REFERENCE_ID]), REFERENCE_ID),
            Signal(Stimulus("B", "B", files[condition]), condition),
            Signal(Stimulus("X", "X", files[x_condition]), x_condition),
        )
    if design.type == "ab":
        assert isinstance(design.options, AbOptions)
        baseline = design.options.baseline
        sides = {"left": condition, "right": baseline} if draw == "left" else {"left": baseline, "right": condition}
        return None, tuple(Signal(Stimulus(side, label, files[sides[side]]), sides[side])
                           for side, label in (("left", "1"), ("right", "2")))
    hidden = {"A": REFERENCE_ID, "B": condition} if draw == "A" else {"A": condition, "B": REFERENCE_ID}
    return reference, tuple(Signal(Stimulus(k, k, files[hidden[k]]), hidden[k]) for k in ("A", "B"))


def page_choices(design: TestDesign) -> tuple[str, ...]:
    if isinstance(design.options, AbxOptions):
        return ("A", "B", DONT_KNOW) if design.options.allow_dont_know else ("A", "B")
    if design.type == "ab":
        return ("left", "right")
    return ()


def page_scale(design: TestDesign) -> Scale | None:
    return {"mushra": MUSHRA_SCALE, "bs1116": BS1116_SCALE}.get(design.type)


def forced_choice_answer(design: TestDesign, plan: PagePlan, trial: int, choice: str) -> tuple[str, bool | None]:
    """The stored ``(answer, correct)`` of an ABX or AB choice (see the module docstring)."""
    draw = plan.draws[trial]
    if design.type == "abx":
        return choice, None if choice == DONT_KNOW else choice == draw
    return ("B" if choice == draw else "A"), None
