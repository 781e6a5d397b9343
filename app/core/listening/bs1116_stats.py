"""BS.1116 (double-blind triple stimulus with hidden reference) analysis on diff grades.

A trial gives two grades on the 1.0-5.0 impairment scale: one for the coded signal and one for the hidden reference.
The diff grade is grade(coded) - grade(hidden reference): 0 when the listener heard no difference, negative when the
coded signal was graded worse (spec listening-tests.md §1.2).

Post-screening (as described there, after the MPEG verification practice): a one-sided one-sample t-test per
listener of the listener's diff grades against 0 (H1: mean < 0). A listener who cannot tell the hidden reference from
the systems at the 95 % level (p >= 0.05) is flagged for exclusion. With near-transparent systems every honest
listener may fail this, so the analysis reports it and lets the caller choose (``screen``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from app.core.listening.mushra_stats import HIDDEN_REFERENCE
from app.core.listening.records import TidyRow
from app.core.listening.stats import Summary, summarize


@dataclass(frozen=True)
class DiffGrade:
    """One trial's diff grade: grade of ``condition`` minus grade of the hidden reference."""

    listener: str
    session: str
    item: str
    condition: str
    page: int
    trial: int
    grade: float
    reference_grade: float

    @property
    def diff(self) -> float:
        return self.grade - self.reference_grade


def diff_grades(rows: Iterable[TidyRow]) -> list[DiffGrade]:
    """Pair each graded condition with the hidden-reference grade of the same trial (BS.1116 rows only)."""
    trials: dict[tuple[str, str, int, int, str], dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row.test_type == "bs1116" and row.rating is not None:
            trials[(row.listener, row.session, row.page, row.trial, row.item)][row.condition] = float(row.rating)
    grades = []
    for (listener, session, page, trial, item), by_condition in sorted(trials.items()):
        if HIDDEN_REFERENCE not in by_condition:
            continue
        ref = by_condition[HIDDEN_REFERENCE]
        for condition, grade in sorted(by_condition.items()):
            if condition != HIDDEN_REFERENCE:
                grades.append(DiffGrade(listener, session, item, condition, page, trial, grade, ref))
    return grades


@dataclass(frozen=True)
class Bs1116Screening:
    """t-test of one listener's diff grades against 0; ``excluded`` when p >= alpha."""

    listener: str
    n_trials: int
    mean_diff: float
    p_value: float
    alpha: float = 0.05

    @property
    def excluded(self) -> bool:
        return not self.p_value < self.alpha

    def describe(self) -> str:
        return (f"cannot tell the hidden reference from the systems: mean diff grade {self.mean_diff:+.2f} over "
                f"{self.n_trials} trials, one-sided t-test p = {self.p_value:.3f} >= {self.alpha}")


def _one_sided_p(diffs: np.ndarray) -> float:
    if diffs.size < 2:
        return 1.0
    if np.ptp(diffs) == 0.0:  # the t statistic is undefined; decide by the sign of the constant
        return 0.0 if diffs[0] < 0 else 1.0
    return float(stats.ttest_1samp(diffs, 0.0, alternative="less").pvalue)


def screen_listeners(grades: list[DiffGrade], alpha: float = 0.05) -> list[Bs1116Screening]:
    """The t-test screening of every listener in ``grades``."""
    by_listener: dict[str, list[float]] = defaultdict(list)
    for g in grades:
        by_listener[g.listener].append(g.diff)
    result = []
    for listener in sorted(by_listener):
        diffs = np.asarray(by_listener[listener])
        result.append(Bs1116Screening(listener, int(diffs.size), float(diffs.mean()), _one_sided_p(diffs), alpha))
    return result


@dataclass(frozen=True)
class Bs1116Analysis:
    """Diff-grade summaries per condition and per item x condition, after optional screening."""

    screening: list[Bs1116Screening]
    screened: bool
    conditions: dict[str, Summary]
    items: dict[str, dict[str, Summary]]
    warnings: list[str]


def analyse_bs1116(rows: Iterable[TidyRow], seed: int = 0, screen: bool = True) -> Bs1116Analysis:
    """Diff grades, listener screening (applied when ``screen``), mean with bootstrap CI per condition and item."""
    grades = diff_grades(rows)
    screening = screen_listeners(grades)
    warnings = [f"Listener {s.listener} {'excluded' if screen else 'flagged'}: {s.describe()}"
                for s in screening if s.excluded]
    if screen:
        excluded = {s.listener for s in screening if s.excluded}
        grades = [g for g in grades if g.listener not in excluded]
    conditions = sorted({g.condition for g in grades})
    per_condition = {c: summarize([g.diff for g in grades if g.condition == c], seed + i)
                     for i, c in enumerate(conditions)}
    items: dict[str, dict[str, Summary]] = {}
    for j, item in enumerate(sorted({g.item for g in grades})):
        item_grades = [g for g in grades if g.item == item]
        items[item] = {c: summarize([g.diff for g in item_grades if g.condition == c], seed + 1000 * (j + 1) + i)
                       for i, c in enumerate(conditions) if any(g.condition == c for g in item_grades)}
    if not grades:
        warnings.append("No BS.1116 trials with both grades.")
    return Bs1116Analysis(screening, screen, per_condition, items, warnings)
