"""ABX statistics: exact one-sided binomial test, critical counts and power (spec listening-tests.md §1.3).

Under H0 (no audible difference) each forced ABX answer is correct with probability 0.5, so the p-value of k correct
answers in n trials is P(K >= k) = sum_{i=k..n} C(n, i) / 2^n (``scipy.stats.binomtest(k, n, 0.5, "greater")``).

"Don't know" answers (an optional unforced choice) are **not** trials: they are left out of n and reported apart as
``n_dont_know``. Leaving them out cannot inflate the false-positive rate of the forced answers, but it hides how often
the listener gave up, so ``p_value_dont_know_as_wrong`` also gives the conservative p that counts them as wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scipy import stats

from app.core.listening.records import TidyRow

DONT_KNOW = "dont_know"
POWER_HIT_RATES = (0.7, 0.8)


def abx_p_value(n_correct: int, n_trials: int) -> float:
    """One-sided exact binomial p = P(K >= n_correct | n_trials, 0.5); 1.0 when there are no trials."""
    if not 0 <= n_correct <= n_trials:
        raise ValueError(f"need 0 <= n_correct <= n_trials, got {n_correct} of {n_trials}")
    if n_trials == 0:
        return 1.0
    return float(stats.binomtest(n_correct, n_trials, 0.5, alternative="greater").pvalue)


def critical_correct(n_trials: int, alpha: float = 0.05) -> int | None:
    """The smallest number of correct answers k with P(K >= k) <= alpha, or None if even n/n is not enough."""
    if n_trials < 0 or not 0 < alpha < 1:
        raise ValueError(f"need n_trials >= 0 and 0 < alpha < 1, got {n_trials}, {alpha}")
    for k in range(n_trials + 1):
        # binom.sf(k - 1) = P(K >= k); sf is monotone in k, so the first hit is the smallest.
        if stats.binom.sf(k - 1, n_trials, 0.5) <= alpha:
            return k
    return None


def abx_power(n_trials: int, hit_rate: float, alpha: float = 0.05) -> float:
    """Probability that a listener whose true hit rate is ``hit_rate`` reaches the critical count in n trials."""
    if not 0 <= hit_rate <= 1:
        raise ValueError(f"hit_rate must be in [0, 1], got {hit_rate}")
    k = critical_correct(n_trials, alpha)
    if k is None:
        return 0.0
    return float(stats.binom.sf(k - 1, n_trials, hit_rate))


@dataclass(frozen=True)
class AbxResult:
    """ABX outcome of one listener (or all listeners pooled, ``listener=None``) on one condition.

    ``n_trials`` counts forced answers only; ``n_dont_know`` the "don't know" answers left out of it.
    ``critical_05``/``critical_01`` are the correct counts needed for p <= 0.05 / 0.01 at this n, and
    ``power_70``/``power_80`` the power at alpha 0.05 against listeners with true hit rates 0.7 / 0.8.
    """

    condition: str
    listener: str | None
    n_trials: int
    n_correct: int
    n_dont_know: int
    p_value: float
    p_value_dont_know_as_wrong: float
    critical_05: int | None
    critical_01: int | None
    power_70: float
    power_80: float

    @property
    def significant(self) -> bool:
        """True when p <= 0.05 (the listener heard a difference at the 95 % level)."""
        return self.p_value <= 0.05


def abx_result(condition: str, listener: str | None, n_correct: int, n_trials: int, n_dont_know: int = 0) -> AbxResult:
    """Build an :class:`AbxResult` from counts (``n_trials`` excludes the ``n_dont_know`` answers)."""
    return AbxResult(
        condition=condition,
        listener=listener,
        n_trials=n_trials,
        n_correct=n_correct,
        n_dont_know=n_dont_know,
        p_value=abx_p_value(n_correct, n_trials),
        p_value_dont_know_as_wrong=abx_p_value(n_correct, n_trials + n_dont_know),
        critical_05=critical_correct(n_trials, 0.05),
        critical_01=critical_correct(n_trials, 0.01),
        power_70=abx_power(n_trials, POWER_HIT_RATES[0]),
        power_80=abx_power(n_trials, POWER_HIT_RATES[1]),
    )


def _counts(rows: Iterable[TidyRow]) -> tuple[int, int, int]:
    n_correct = n_forced = n_dont_know = 0
    for row in rows:
        if row.answer == DONT_KNOW:
            n_dont_know += 1
        elif row.correct is not None:
            n_forced += 1
            n_correct += int(row.correct)
    return n_correct, n_forced, n_dont_know


def abx_results(rows: Iterable[TidyRow]) -> list[AbxResult]:
    """Per listener and condition, then pooled per condition (``listener=None``), from ABX rows.

    Rows of other test types are ignored. Pooling treats all listeners' trials as one binomial sample, which is
    only meaningful when listeners are comparable; the per-listener results are the primary outcome.
    """
    abx_rows = [r for r in rows if r.test_type == "abx"]
    conditions = sorted({r.condition for r in abx_rows})
    results: list[AbxResult] = []
    for condition in conditions:
        cond_rows = [r for r in abx_rows if r.condition == condition]
        for listener in sorted({r.listener for r in cond_rows}):
            n_correct, n_forced, n_dk = _counts(r for r in cond_rows if r.listener == listener)
            results.append(abx_result(condition, listener, n_correct, n_forced, n_dk))
        n_correct, n_forced, n_dk = _counts(cond_rows)
        results.append(abx_result(condition, None, n_correct, n_forced, n_dk))
    return results


@dataclass(frozen=True)
class AbPreference:
    """AB preference of one listener (or all, ``listener=None``) between the baseline and ``condition``.

    ``p_value`` is the two-sided exact binomial test of "no preference" (P = 0.5), as for AB tests in the spec §1.3.
    """

    condition: str
    listener: str | None
    n_trials: int
    n_prefer_condition: int
    p_value: float


def ab_preferences(rows: Iterable[TidyRow]) -> list[AbPreference]:
    """Per listener and condition, then pooled, from AB rows (answer "B" = the condition was preferred)."""
    ab_rows = [r for r in rows if r.test_type == "ab" and r.answer in ("A", "B")]
    results: list[AbPreference] = []
    for condition in sorted({r.condition for r in ab_rows}):
        cond_rows = [r for r in ab_rows if r.condition == condition]
        groups: list[tuple[str | None, list[TidyRow]]] = [
            (listener, [r for r in cond_rows if r.listener == listener])
            for listener in sorted({r.listener for r in cond_rows})
        ]
        groups.append((None, cond_rows))
        for listener, group in groups:
            k = sum(r.answer == "B" for r in group)
            p = float(stats.binomtest(k, len(group), 0.5, alternative="two-sided").pvalue)
            results.append(AbPreference(condition, listener, len(group), k, p))
    return results
