"""Per-session randomisation of a listening test, drawn from the design's seed and stored with the session.

Algorithm ``earbench-randomise-1``: ``rng = numpy.random.default_rng([design.seed, session_number])`` where
``session_number`` is 1, 2, 3 … in the order sessions of the test are created (stored with the session). Each session
thus gets a different order (BS.1534-3 §3: randomise within and between sessions), and any session can be
redrawn from the seed and its number. Draws, in this order:

1. the page order: a permutation of the blocks (MUSHRA: one per item; ABX/AB/BS.1116: one per item × condition,
   blocks listed item by item, conditions in design order);
2. then page by page, in presented order: MUSHRA, a permutation of the page's signals (conditions, hidden
   reference, both anchors); ABX, X per trial ("A" = reference, "B" = condition), each trial drawn on its own;
   AB, the side of the condition per trial ("left"/"right"); BS.1116, where the hidden reference is ("A"/"B").

The resulting :class:`Plan` is stored as JSON, so a session resumes with exactly the plan it started with even if
this algorithm changes later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.listening.design import LOW_ANCHOR_ID, MID_ANCHOR_ID, REFERENCE_ID, AbOptions, AbxOptions, TestDesign

ALGORITHM = "earbench-randomise-1"


@dataclass(frozen=True)
class PagePlan:
    """One page of a session: an item (and for ABX/AB/BS.1116 the condition it tests).

    ``order`` is the MUSHRA signal order (condition ids; empty otherwise). ``draws`` has one entry per trial: the
    identity of X (ABX), the side of the condition (AB), or where the hidden reference is (BS.1116); MUSHRA pages
    have one trial and no draws.
    """

    item: str
    condition: str | None
    order: tuple[str, ...] = ()
    draws: tuple[str, ...] = ()

    @property
    def n_trials(self) -> int:
        return max(1, len(self.draws))


@dataclass(frozen=True)
class Plan:
    """The full randomisation record of one session."""

    algorithm: str
    seed: int
    session_number: int
    pages: tuple[PagePlan, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "seed": self.seed,
            "session_number": self.session_number,
            "pages": [
                {"item": p.item, "condition": p.condition, "order": list(p.order), "draws": list(p.draws)}
                for p in self.pages
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        pages = tuple(
            PagePlan(item=p["item"], condition=p["condition"], order=tuple(p["order"]), draws=tuple(p["draws"]))
            for p in data["pages"]
        )
        return cls(data["algorithm"], int(data["seed"]), int(data["session_number"]), pages)


def mushra_signals(design: TestDesign) -> tuple[str, ...]:
    """The signals of every MUSHRA page in design order: the conditions, the hidden reference, both anchors."""
    return (*design.conditions, REFERENCE_ID, LOW_ANCHOR_ID, MID_ANCHOR_ID)


def tested_conditions(design: TestDesign) -> tuple[str, ...]:
    """Conditions that get their own ABX/AB/BS.1116 blocks (AB leaves out a condition used as baseline)."""
    if isinstance(design.options, AbOptions):
        return tuple(c for c in design.conditions if c != design.options.baseline)
    return tuple(design.conditions)


def trials_per_block(design: TestDesign) -> int:
    if isinstance(design.options, (AbxOptions, AbOptions)):
        return design.options.trials_per_item
    return 1


def _blocks(design: TestDesign) -> list[tuple[str, str | None]]:
    if design.type == "mushra":
        return [(item.id, None) for item in design.items]
    return [(item.id, cid) for item in design.items for cid in tested_conditions(design)]


def draw_plan(design: TestDesign, session_number: int) -> Plan:
    """The randomisation of session ``session_number`` (≥ 1) of ``design``; see the module docstring."""
    if session_number < 1:
        raise ValueError(f"session_number must be ≥ 1, got {session_number}")
    rng = np.random.default_rng([design.seed, session_number])
    blocks = _blocks(design)
    order = rng.permutation(len(blocks))
    signals = mushra_signals(design)
    n_trials = trials_per_block(design)
    pages: list[PagePlan] = []
    for index in order:
        item_id, condition = blocks[int(index)]
        if design.type == "mushra":
            shuffled = tuple(signals[int(i)] for i in rng.permutation(len(signals)))
            pages.append(PagePlan(item_id, None, order=shuffled))
        elif design.type == "abx":
            draws = tuple("AB"[int(b)] for b in rng.integers(0, 2, size=n_trials))
            pages.append(PagePlan(item_id, condition, draws=draws))
        elif design.type == "ab":
            draws = tuple(("left", "right")[int(b)] for b in rng.integers(0, 2, size=n_trials))
            pages.append(PagePlan(item_id, condition, draws=draws))
        else:
            pages.append(PagePlan(item_id, condition, draws=("AB"[int(rng.integers(0, 2))],)))
    return Plan(ALGORITHM, design.seed, session_number, tuple(pages))
