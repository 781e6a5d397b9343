"""Statistics shared by the MUSHRA and BS.1116 analyses: summaries, bootstrap CIs, paired permutation tests, Holm.

Everything random takes an explicit integer seed (numpy Generator), so a report computed twice is identical.
BS.1534-3 asks for median and IQR per condition (§10.3), the mean with a 95 % CI (bootstrap when non-parametric,
p.15) and, as the normative significance test, a paired permutation test with 10 000 resamples of the median
difference (Att. 3, p.24); pairwise p-values are Holm-corrected here because every pair is tested.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

N_RESAMPLES = 10_000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """Descriptive statistics of one group of ratings (one condition, or one condition on one item).

    ``ci_low``/``ci_high`` bound the 95 % bootstrap CI of the mean (NaN with fewer than 2 values).
    ``n_outliers`` counts values outside 1.5 × IQR of the quartiles: flagged, never removed (BS.1534-3 pp.5-6).
    ``multimodality`` is the coefficient b of BS.1534-3 §9.1 (NaN with fewer than 4 values); b > 5/9 suggests
    a multimodal distribution.
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    n_outliers: int
    multimodality: float

    @property
    def iqr(self) -> float:
        """Interquartile range q3 - q1."""
        return self.q3 - self.q1


def bootstrap_mean_ci(values: Sequence[float], seed: int, n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    """95 % BCa bootstrap CI of the mean, reproducible from ``seed``; (m, m) for constant data, NaN for n < 2."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return math.nan, math.nan
    if np.ptp(x) == 0.0:  # BCa is undefined for constant data; the mean is known exactly.
        return float(x[0]), float(x[0])
    result = stats.bootstrap(
        (x,), np.mean, n_resamples=n_resamples, confidence_level=CONFIDENCE, method="BCa",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def multimodality_coefficient(values: Sequence[float]) -> float:
    """b = (g² + 1) / (k + 3(n-1)² / ((n-2)(n-3))) with bias-corrected skewness g and excess kurtosis k."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 4 or np.ptp(x) == 0.0:
        return math.nan
    g = float(stats.skew(x, bias=False))
    k = float(stats.kurtosis(x, bias=False))
    return (g * g + 1.0) / (k + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def summarize(values: Sequence[float], seed: int) -> Summary:
    """Describe a group of ratings; the bootstrap CI uses ``seed``."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        nan = math.nan
        return Summary(0, nan, nan, nan, nan, nan, nan, nan, nan, 0, nan)
    q1, median, q3 = (float(v) for v in np.percentile(x, [25, 50, 75]))
    fence = 1.5 * (q3 - q1)
    ci_low, ci_high = bootstrap_mean_ci(x, seed)
    return Summary(
        n=int(x.size),
        mean=float(x.mean()),
        ci_low=ci_low,
        ci_high=ci_high,
        median=median,
        q1=q1,
        q3=q3,
        minimum=float(x.min()),
        maximum=float(x.max()),
        n_outliers=int(np.count_nonzero((x < q1 - fence) | (x > q3 + fence))),
        multimodality=multimodality_coefficient(x),
    )


def _median_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x - y, axis=axis)


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x - y, axis=axis)


STATISTICS: dict[str, Callable[..., np.ndarray]] = {"median": _median_difference, "mean": _mean_difference}


def paired_permutation_p(
    x: Sequence[float], y: Sequence[float], seed: int, statistic: str = "median", n_resamples: int = N_RESAMPLES
) -> float:
    """Two-sided p of a paired permutation test (labels swapped within pairs) of the median or mean difference.

    ``x[i]`` and ``y[i]`` are the same listener's (and item's) ratings of two conditions. With few pairs
    (2^n <= n_resamples) scipy enumerates every relabelling, so p is exact. Identical samples give p = 1.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(STATISTICS)}, got {statistic!r}")
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"x and y must be paired 1-D samples, got shapes {a.shape} and {b.shape}")
    if a.size == 0 or np.array_equal(a, b):
        return 1.0
    result = stats.permutation_test(
        (a, b), STATISTICS[statistic], permutation_type="samples", vectorized=True, n_resamples=n_resamples,
        alternative="two-sided", rng=np.random.default_rng(seed),
    )
    return float(min(1.0, result.pvalue))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (step-down, monotone, capped at 1)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running_max = 0.0
    for rank, i in enumerate(order):
        running_max = max(running_max, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running_max
    return adjusted


@dataclass(frozen=True)
class PairTest:
    """Paired permutation test between two conditions; ``p_holm`` is Holm-corrected over all pairs tested."""

    condition_a: str
    condition_b: str
    n_pairs: int
    difference: float  # the statistic (median or mean of a - b) on the observed pairs
    p_value: float
    p_holm: float

    @property
    def significant(self) -> bool:
        """True when the Holm-corrected p <= 0.05."""
        return self.p_holm <= 0.05


def pairwise_tests(
    paired: dict[tuple[str, str], tuple[list[float], list[float]]], seed: int, statistic: str = "median"
) -> list[PairTest]:
    """Test every pair in ``paired`` ((a, b) -> (a's values, b's matched values)) and Holm-correct across them."""
    keys = list(paired)
    raw: list[tuple[int, float, float]] = []
    for index, key in enumerate(keys):
        x, y = paired[key]
        diff = float(STATISTICS[statistic](np.asarray(x), np.asarray(y))) if x else math.nan
        raw.append((len(x), diff, paired_permutation_p(x, y, seed=seed + index, statistic=statistic)))
    adjusted = holm([p for _, _, p in raw])
    return [
        PairTest(a, b, n, diff, p, p_adj) for (a, b), (n, diff, p), p_adj in zip(keys, raw, adjusted, strict=True)
    ]
