"""MUSHRA analysis (ITU-R BS.1534-3): post-screening, per-condition and per-item statistics, paired tests.

Ratings are first reduced to one value per (listener, item, condition): the mean over repeated presentations of the
same item (hidden repeated pages), so each "item" of the standard's rules is counted once per listener.

Post-screening (§4.1.2, p.5; spec listening-tests.md §1.1) excludes a listener who
  * rates the hidden reference below 90 for more than 15 % of the items, or
  * rates the mid anchor (7 kHz low-pass) above 90 for more than 15 % of the items,
except that an item on which more than 25 % of the listeners rate the mid anchor above 90 does not count against
anyone for the second rule (it stays in the denominator). "More than" is strict: exactly 15 % (or 25 %) does not
trigger. Every excluded listener is reported with the rule, the items and the counts; nothing is dropped silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from app.core.listening.records import TidyRow
from app.core.listening.stats import PairTest, Summary, pairwise_tests, summarize

HIDDEN_REFERENCE = "reference"
LOW_ANCHOR = "anchor_lp35"
MID_ANCHOR = "anchor_lp70"
ANCHORS = (LOW_ANCHOR, MID_ANCHOR)
RULE_REFERENCE = "hidden reference rated below 90"
RULE_MID_ANCHOR = "mid anchor rated above 90"

Cells = dict[tuple[str, str, str], float]  # (listener, item, condition) -> mean rating


def rating_cells(rows: Iterable[TidyRow], test_type: str = "mushra") -> Cells:
    """Mean rating per (listener, item, condition) over the rated rows of ``test_type``."""
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for row in rows:
        if row.test_type == test_type and row.rating is not None:
            sums[(row.listener, row.item, row.condition)].append(float(row.rating))
    return {key: float(np.mean(values)) for key, values in sums.items()}


@dataclass(frozen=True)
class RuleCheck:
    """One post-screening rule applied to one listener: ``items`` are those counted against the listener."""

    rule: str
    items: tuple[str, ...]
    n_items: int  # the listener's items on which the rule could be checked (the denominator)

    @property
    def n_violations(self) -> int:
        return len(self.items)

    @property
    def fired(self) -> bool:
        """More than 15 % of the items violate the rule (integer test: exactly 15 % does not fire)."""
        return self.n_items > 0 and 100 * self.n_violations > 15 * self.n_items

    def describe(self) -> str:
        share = 100.0 * self.n_violations / self.n_items if self.n_items else 0.0
        items = ", ".join(self.items)
        return f"{self.rule} on {self.n_violations} of {self.n_items} items ({share:.0f} % > 15 %): {items}"


@dataclass(frozen=True)
class ListenerScreening:
    """Both rules for one listener; ``excluded`` when either fired."""

    listener: str
    checks: tuple[RuleCheck, ...]

    @property
    def excluded(self) -> bool:
        return any(check.fired for check in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [check.describe() for check in self.checks if check.fired]


@dataclass(frozen=True)
class PostScreening:
    """Post-screening of every listener; ``exempt_items`` are the items of the 25 % exception."""

    listeners: tuple[ListenerScreening, ...]
    exempt_items: tuple[str, ...]
    mid_anchor_checked: bool

    @property
    def excluded(self) -> list[str]:
        return [s.listener for s in self.listeners if s.excluded]

    @property
    def kept(self) -> list[str]:
        return [s.listener for s in self.listeners if not s.excluded]


def _exempt_items(cells: Cells, mid_anchor: str) -> tuple[str, ...]:
    """Items where more than 25 % of the listeners who rated the mid anchor rated it above 90."""
    raters: dict[str, list[float]] = defaultdict(list)
    for (_, item, condition), value in cells.items():
        if condition == mid_anchor:
            raters[item].append(value)
    return tuple(sorted(i for i, v in raters.items() if 100 * sum(x > 90 for x in v) > 25 * len(v)))


def post_screen(
    cells: Cells, reference: str = HIDDEN_REFERENCE, mid_anchor: str = MID_ANCHOR
) -> PostScreening:
    """Apply both BS.1534-3 post-screening rules to the per-(listener, item, condition) ratings."""
    exempt = _exempt_items(cells, mid_anchor)
    by_listener: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    for (listener, item, condition), value in cells.items():
        by_listener[listener][(item, condition)] = value
    screenings = []
    for listener in sorted(by_listener):
        ratings = by_listener[listener]
        ref_items = sorted(item for item, cond in ratings if cond == reference)
        mid_items = sorted(item for item, cond in ratings if cond == mid_anchor)
        low_ref = tuple(i for i in ref_items if ratings[(i, reference)] < 90)
        checks = [RuleCheck(RULE_REFERENCE, low_ref, len(ref_items))]
        if mid_items:
            bad = tuple(i for i in mid_items if ratings[(i, mid_anchor)] > 90 and i not in exempt)
            checks.append(RuleCheck(RULE_MID_ANCHOR, bad, len(mid_items)))
        screenings.append(ListenerScreening(listener, tuple(checks)))
    has_mid = any(cond == mid_anchor for (_, _, cond) in cells)
    return PostScreening(tuple(screenings), exempt, has_mid)


def condition_order(rows: Iterable[TidyRow]) -> list[str]:
    """Conditions for display: hidden reference, then systems by bitrate (high first), then the anchors."""
    bitrates: dict[str, float] = {}
    for row in rows:
        bitrates.setdefault(row.condition, -1.0 if row.bitrate_kbps is None else float(row.bitrate_kbps))

    def key(condition: str) -> tuple[int, float, str]:
        if condition in ANCHORS:  # mid anchor before low anchor, like quality
            return 2, float(ANCHORS.index(condition) == 0), condition
        return (0 if condition == HIDDEN_REFERENCE else 1), -bitrates[condition], condition

    return sorted(bitrates, key=key)


@dataclass(frozen=True)
class MushraAnalysis:
    """Everything the MUSHRA report shows; statistics use only the listeners post-screening kept."""

    screening: PostScreening
    conditions: dict[str, Summary]
    items: dict[str, dict[str, Summary]]  # item -> condition -> summary
    pairs: list[PairTest]
    warnings: list[str]
    is_mushra: bool  # a hidden reference and both anchors: otherwise the test is "MUSHRA-like" (BS.1534-3 p.1)


def _warnings(
    conditions: dict[str, Summary],
    screening: PostScreening,
    n_items: int,
    is_mushra: bool,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """Notes for the report; conditions are named by ``labels`` (condition id -> label; the id where missing)."""
    labels = labels or {}
    notes = []
    if not is_mushra:
        notes.append("No hidden reference and both anchors: this is a MUSHRA-like test, not MUSHRA (BS.1534-3).")
    for listener in screening.listeners:
        if listener.excluded:
            notes.append(f"Listener {listener.listener} excluded by post-screening: " + "; ".join(listener.reasons))
    if 0 < n_items < 5:
        notes.append(f"Only {n_items} items: BS.1534-3 §7.1 asks for at least 5.")
    systems = {c: s for c, s in conditions.items() if c != HIDDEN_REFERENCE and c not in ANCHORS and s.n}
    high = [labels.get(c, c) for c, s in systems.items() if s.mean >= 80]
    if systems and 2 * len(high) > len(systems):
        notes.append(f"Most conditions score 80-100 ({', '.join(high)}): the test may be invalid (BS.1534-3 §2); "
                     "consider ABX or BS.1116.")
    for condition, summary in conditions.items():
        if summary.multimodality > 5 / 9:
            notes.append(f"Ratings of {labels.get(condition, condition)} may be multimodal "
                         f"(b = {summary.multimodality:.2f} > 5/9).")
    return notes


def analyse_mushra(
    rows: Iterable[TidyRow], seed: int = 0, statistic: str = "median", labels: Mapping[str, str] | None = None
) -> MushraAnalysis:
    """Post-screen, then summarise per condition and per item and test all non-anchor pairs (Holm-corrected).
    ``labels`` (condition id -> display label) name the conditions in the warnings; ids where not given."""
    rows = [r for r in rows if r.test_type == "mushra"]
    all_cells = rating_cells(rows)
    screening = post_screen(all_cells)
    kept = set(screening.kept)
    cells = {k: v for k, v in all_cells.items() if k[0] in kept}
    order = [c for c in condition_order(rows) if any(k[2] == c for k in cells)]
    items = sorted({k[1] for k in cells})
    conditions = {c: summarize([v for k, v in cells.items() if k[2] == c], seed + i) for i, c in enumerate(order)}
    per_item = {
        item: {
            c: summarize([v for k, v in cells.items() if k[1] == item and k[2] == c], seed + 1000 * (j + 1) + i)
            for i, c in enumerate(order)
            if any(k[1] == item and k[2] == c for k in cells)
        }
        for j, item in enumerate(items)
    }
    tested = [c for c in order if c not in ANCHORS]
    paired = {}
    for a, b in combinations(tested, 2):
        keys = sorted((lst, item) for (lst, item, c) in cells if c == a and (lst, item, b) in cells)
        paired[(a, b)] = ([cells[(lst, item, a)] for lst, item in keys], [cells[(lst, item, b)] for lst, item in keys])
    pairs = pairwise_tests(paired, seed=seed, statistic=statistic)
    present = {k[2] for k in all_cells}
    is_mushra = HIDDEN_REFERENCE in present and all(a in present for a in ANCHORS)
    notes = _warnings(conditions, screening, len(items), is_mushra, labels)
    return MushraAnalysis(screening, conditions, per_item, pairs, notes, is_mushra)
