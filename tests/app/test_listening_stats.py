"""Listening-test statistics: ABX golden values, BS.1534-3 post-screening edge cases, bootstrap, permutation, Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.listening.abx_stats import abx_p_value, abx_power, abx_results, critical_correct
from app.core.listening.analysis import analyse
from app.core.listening.bs1116_stats import analyse_bs1116, diff_grades
from app.core.listening.mushra_stats import analyse_mushra, post_screen
from app.core.listening.records import TidyRow
from app.core.listening.report import render_report
from app.core.listening.stats import bootstrap_mean_ci, holm, paired_permutation_p, summarize


def row(listener: str, item: str, condition: str, rating: float | None = None, *, test_type: str = "mushra",
        answer: str | None = None, correct: bool | None = None, trial: int = 0, page: int = 0,
        bitrate_kbps: float | None = None) -> TidyRow:
    return TidyRow("t1", test_type, listener, f"s-{listener}", item, condition, bitrate_kbps, rating, answer, correct,
                   trial, page, 1000, 2, 3, "2026-01-01T00:00:00Z")


# --- ABX -------------------------------------------------------------------------------------------------------
# Golden values: spec listening-tests.md §1.3 table (exact binomial), cross-checked by hand for 12/16:
# P(K >= 12 | 16, 0.5) = (1820 + 560 + 120 + 16 + 1) / 65536 = 2517 / 65536 = 0.038406.
ABX_TABLE = [  # n, k(.05), p at k, p at k-1, k(.01), power 70 %, power 80 %
    (10, 9, 0.011, 0.055, 10, 0.15, 0.38),
    (12, 10, 0.019, 0.073, 11, 0.25, 0.56),
    (16, 12, 0.038, 0.105, 14, 0.45, 0.80),
    (20, 15, 0.021, 0.058, 16, 0.42, 0.80),
    (25, 18, 0.022, 0.054, 19, 0.51, 0.89),
    (30, 20, 0.049, 0.100, 22, 0.73, 0.97),
    (40, 26, 0.040, 0.077, 28, 0.81, 0.99),
]


def test_abx_p_value_exact_tail() -> None:
    assert abx_p_value(12, 16) == pytest.approx(2517 / 65536, rel=1e-12)
    assert abx_p_value(16, 16) == pytest.approx(2.0**-16)
    assert abx_p_value(0, 16) == pytest.approx(1.0)
    assert abx_p_value(0, 0) == 1.0
    with pytest.raises(ValueError):
        abx_p_value(17, 16)


@pytest.mark.parametrize(("n", "k05", "p_k", "p_k1", "k01", "pow70", "pow80"), ABX_TABLE)
def test_abx_critical_counts_and_power_match_table(n, k05, p_k, p_k1, k01, pow70, pow80) -> None:
    assert critical_correct(n, 0.05) == k05
    assert critical_correct(n, 0.01) == k01
    assert abx_p_value(k05, n) == pytest.approx(p_k, abs=5e-4)
    assert abx_p_value(k05 - 1, n) == pytest.approx(p_k1, abs=5e-4)
    assert abx_power(n, 0.7) == pytest.approx(pow70, abs=5e-3)
    assert abx_power(n, 0.8) == pytest.approx(pow80, abs=5e-3)


def test_critical_correct_none_when_unreachable() -> None:
    assert critical_correct(4, 0.05) is None  # 4/4 gives p = 1/16 > 0.05
    assert abx_power(4, 0.8) == 0.0


def test_abx_results_dont_know_excluded_from_n_and_reported() -> None:
    rows = [row("ann", "i1", "enc6", test_type="abx", answer="A", correct=True, trial=t) for t in range(12)]
    rows += [row("ann", "i1", "enc6", test_type="abx", answer="B", correct=False, trial=12 + t) for t in range(4)]
    rows += [row("ann", "i1", "enc6", test_type="abx", answer="dont_know", trial=16 + t) for t in range(3)]
    results = abx_results(rows)
    ann = next(r for r in results if r.listener == "ann")
    assert (ann.n_trials, ann.n_correct, ann.n_dont_know) == (16, 12, 3)
    assert ann.p_value == pytest.approx(0.0384, abs=1e-4)
    assert ann.significant
    assert ann.p_value_dont_know_as_wrong == pytest.approx(abx_p_value(12, 19))
    assert ann.critical_05 == 12 and ann.power_80 == pytest.approx(0.798, abs=1e-3)
    pooled = next(r for r in results if r.listener is None)
    assert pooled.n_trials == 16


# --- MUSHRA post-screening ---------------------------------------------------------------------------------------
def _cells(ref: dict[str, list[float]], mid: dict[str, list[float]] | None = None) -> dict:
    cells = {}
    for listener, values in ref.items():
        for i, v in enumerate(values):
            cells[(listener, f"item{i:02d}", "reference")] = v
    for listener, values in (mid or {}).items():
        for i, v in enumerate(values):
            cells[(listener, f"item{i:02d}", "anchor_lp70")] = v
    return cells


def test_reference_rule_exactly_15_percent_is_kept_above_is_excluded() -> None:
    at_15 = [80.0] * 3 + [100.0] * 17  # 3 of 20 = 15 %: not "more than"
    above = [80.0] * 4 + [100.0] * 16  # 4 of 20 = 20 %
    screening = post_screen(_cells({"kept": at_15, "out": above}))
    assert screening.excluded == ["out"] and screening.kept == ["kept"]
    out = next(s for s in screening.listeners if s.listener == "out")
    check = out.checks[0]
    assert check.fired and check.n_violations == 4 and check.n_items == 20
    assert check.items == ("item00", "item01", "item02", "item03")
    assert "hidden reference rated below 90 on 4 of 20 items" in out.reasons[0]


def test_reference_exactly_90_is_not_a_violation() -> None:
    screening = post_screen(_cells({"a": [90.0] * 10}))
    assert screening.excluded == []


def test_mid_anchor_rule_with_25_percent_exception() -> None:
    # 4 listeners, 10 items, hidden reference always 100.
    ref = {name: [100.0] * 10 for name in "abcd"}
    mid = {name: [50.0] * 10 for name in "abcd"}
    # Listener a rates the mid anchor > 90 on items 0 and 1 (20 % > 15 %).
    mid["a"][0] = mid["a"][1] = 95.0
    screening = post_screen(_cells(ref, mid))
    assert screening.excluded == ["a"]  # only 1 of 4 (25 %, not more) on each item: no exception
    assert screening.exempt_items == ()
    # Now b also rates item 0 above 90: 2 of 4 = 50 % > 25 %, so item 0 no longer counts against anyone.
    mid["b"][0] = 99.0
    screening = post_screen(_cells(ref, mid))
    assert screening.exempt_items == ("item00",)
    assert screening.excluded == []  # a: 1 of 10 items left (10 %); b: 0
    a = next(s for s in screening.listeners if s.listener == "a")
    assert a.checks[1].items == ("item01",) and a.checks[1].n_items == 10


def test_repeated_presentations_are_averaged_per_item() -> None:
    rows = [row("a", "i1", "reference", 80.0, page=0), row("a", "i1", "reference", 100.0, page=5)]
    rows += [row("a", f"i{k}", "reference", 100.0) for k in range(2, 8)]
    analysis = analyse_mushra(rows)
    assert analysis.screening.excluded == []  # item i1 averages to 90, not below 90


def _mushra_rows(rng: np.random.Generator, bad_listener: bool = False) -> list[TidyRow]:
    rows = []
    means = {"reference": 98.0, "enc12": 80.0, "enc6": 55.0, "anchor_lp70": 60.0, "anchor_lp35": 20.0}
    bitrates = {"enc12": 12.0, "enc6": 6.0}
    for listener in ("l1", "l2", "l3", "l4", "l5", "l6"):
        for item in ("i1", "i2", "i3", "i4", "i5"):
            for cond, mean in means.items():
                spread = 2.0 if cond == "reference" else 5.0
                value = float(np.clip(mean + rng.normal(0, spread), 0, 100))
                if bad_listener and listener == "l6" and cond == "reference":
                    value = 40.0
                rows.append(row(listener, item, cond, value, bitrate_kbps=bitrates.get(cond)))
    return rows


def test_analyse_mushra_excludes_named_listener_and_summarises() -> None:
    rows = _mushra_rows(np.random.default_rng(1), bad_listener=True)
    analysis = analyse_mushra(rows, seed=3)
    assert analysis.screening.excluded == ["l6"]
    assert analysis.is_mushra
    assert list(analysis.conditions) == ["reference", "enc12", "enc6", "anchor_lp70", "anchor_lp35"]
    enc6 = analysis.conditions["enc6"]
    assert enc6.n == 25  # 5 kept listeners x 5 items
    assert enc6.ci_low < enc6.mean < enc6.ci_high
    assert enc6.q1 <= enc6.median <= enc6.q3
    assert set(analysis.items) == {"i1", "i2", "i3", "i4", "i5"} and analysis.items["i1"]["enc6"].n == 5
    pairs = {(p.condition_a, p.condition_b): p for p in analysis.pairs}
    assert set(pairs) == {("reference", "enc12"), ("reference", "enc6"), ("enc12", "enc6")}
    assert pairs[("enc12", "enc6")].p_holm < 0.05 and pairs[("enc12", "enc6")].difference > 0
    assert any("l6 excluded" in w for w in analysis.warnings)
    assert analyse_mushra(rows, seed=3) == analysis  # reproducible


# --- bootstrap, permutation, Holm --------------------------------------------------------------------------------
def test_bootstrap_ci_reproducible_from_seed() -> None:
    values = np.random.default_rng(0).normal(50, 10, 30)
    a = bootstrap_mean_ci(values, seed=7, n_resamples=2000)
    assert a == bootstrap_mean_ci(values, seed=7, n_resamples=2000)
    assert a != bootstrap_mean_ci(values, seed=8, n_resamples=2000)
    assert a[0] < values.mean() < a[1]
    assert bootstrap_mean_ci([5.0, 5.0, 5.0], seed=0) == (5.0, 5.0)
    assert all(math.isnan(v) for v in bootstrap_mean_ci([1.0], seed=0))


def test_summary_flags_outliers_without_removing() -> None:
    summary = summarize([50.0, 51.0, 52.0, 53.0, 54.0, 0.0], seed=0)
    assert summary.n == 6 and summary.n_outliers == 1 and summary.minimum == 0.0


def test_holm_hand_example() -> None:
    # Sorted p: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> monotone 0.06).
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_permutation_clear_difference_and_identical_samples() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(70, 5, 20)
    assert paired_permutation_p(x, x - 20 + rng.normal(0, 2, 20), seed=0) < 0.05
    assert paired_permutation_p(x, x, seed=0) == pytest.approx(1.0)
    same_dist = paired_permutation_p(x, x + rng.normal(0, 5, 20), seed=0, statistic="mean")
    assert same_dist > 0.05
    assert paired_permutation_p(x, x - 20, seed=4) == paired_permutation_p(x, x - 20, seed=4)


# --- BS.1116 -----------------------------------------------------------------------------------------------------
def _bs_rows(listener: str, coded: list[float], ref: float = 5.0) -> list[TidyRow]:
    rows = []
    for t, grade in enumerate(coded):
        rows.append(row(listener, f"i{t % 3}", "enc6", grade, test_type="bs1116", trial=t))
        rows.append(row(listener, f"i{t % 3}", "reference", ref, test_type="bs1116", trial=t))
    return rows


def test_bs1116_diff_grades_and_screening() -> None:
    rows = _bs_rows("good", [3.5, 4.0, 3.8, 4.2, 3.0, 3.9]) + _bs_rows("deaf", [5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    grades = diff_grades(rows)
    good = [g.diff for g in grades if g.listener == "good"]
    assert len(grades) == 12 and good[0] == pytest.approx(-1.5)
    analysis = analyse_bs1116(rows, seed=0)
    assert [s.listener for s in analysis.screening if s.excluded] == ["deaf"]
    enc6 = analysis.conditions["enc6"]
    assert enc6.n == 6 and enc6.mean == pytest.approx(np.mean([3.5, 4.0, 3.8, 4.2, 3.0, 3.9]) - 5.0)
    kept_all = analyse_bs1116(rows, seed=0, screen=False)
    assert kept_all.conditions["enc6"].n == 12 and any("flagged" in w for w in kept_all.warnings)


def test_analyse_dispatches_by_type_and_is_json_safe() -> None:
    import json

    rows = _mushra_rows(np.random.default_rng(0))[:25] + _bs_rows("a", [4.0, 4.5])
    rows += [row("a", "i1", "enc6", test_type="abx", answer="A", correct=True)]
    analysis = analyse(rows, seed=1)
    assert analysis.mushra is not None and analysis.bs1116 is not None and len(analysis.abx) == 2
    text = json.dumps(analysis.to_dict(), allow_nan=False)
    assert '"excluded"' in text and '"iqr"' in text


def test_ab_preference_two_sided_binomial() -> None:
    from app.core.listening.abx_stats import ab_preferences

    rows = [row("a", "i1", "enc6", test_type="ab", answer="B", trial=t) for t in range(9)]
    rows += [row("a", "i1", "enc6", test_type="ab", answer="A", trial=9)]
    pooled = next(r for r in ab_preferences(rows) if r.listener is None)
    assert (pooled.n_trials, pooled.n_prefer_condition) == (10, 9)
    assert pooled.p_value == pytest.approx(2 * 11 / 1024)  # two-sided: 2 * P(K >= 9 | 10, 0.5)


def test_mushra_warnings_name_conditions_by_label() -> None:
    """The report says which condition piles up at 80-100 or looks multimodal, by its label, not its id."""
    split = [20, 20] + [95] * 8  # mean 80, b = 0.72 > 5/9
    rows = []
    for n, value in enumerate(split):
        listener = f"l{n}"
        rows += [row(listener, "i1", "reference", 100.0), row(listener, "i1", "anchor_lp70", 50.0),
                 row(listener, "i1", "enc_24", float(value)), row(listener, "i1", "opus_12", 85.0 + n % 3),
                 row(listener, "i1", "mp3_32", 30.0 + n)]
    labels = {"enc_24": "EarBench 24 kbps", "opus_12": "Opus 12 kbps", "mp3_32": "MP3 32 kbps"}
    notes = analyse_mushra(rows, labels=labels).warnings
    pile_up = next(w for w in notes if w.startswith("Most conditions score 80-100"))
    assert "EarBench 24 kbps" in pile_up and "Opus 12 kbps" in pile_up and "MP3" not in pile_up
    assert "Ratings of EarBench 24 kbps may be multimodal (b = 0.72 > 5/9)." in notes
    assert not any("enc_24" in w for w in notes)
    assert any("Ratings of enc_24 may be multimodal" in w for w in analyse(rows).mushra.warnings)  # no labels: ids
    design = {"name": "t", "type": "mushra", "conditions": {cid: {"label": text} for cid, text in labels.items()}}
    assert "Ratings of EarBench 24 kbps may be multimodal" in render_report(rows, design=design)
