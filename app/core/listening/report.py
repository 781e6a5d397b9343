"""Self-contained HTML report of a listening test: one file, inline CSS and SVG, no external assets or scripts.

Every string that comes from users (names, ids, labels, listeners) goes through ``html.escape``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from app.core.listening.abx_stats import AbPreference, AbxResult
from app.core.listening.analysis import Analysis, analyse
from app.core.listening.bs1116_stats import Bs1116Analysis
from app.core.listening.design import TestDesign
from app.core.listening.mushra_stats import MushraAnalysis
from app.core.listening.records import TidyRow
from app.core.listening.report_svg import condition_plot
from app.core.listening.stats import Summary

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}.excluded{color:#a00}.warn{color:#a60}
"""
_DASH = "&#8211;"  # shown for missing values
_METHODS = (
    "MUSHRA: listeners post-screened by both ITU-R BS.1534-3 rules (hidden reference &lt; 90 on more than 15 % of "
    "items; mid anchor &gt; 90 on more than 15 % of items, not counting items where more than 25 % of listeners rated "
    "it above 90). Ratings are averaged over repeated presentations per listener and item. Mean with 95 % BCa "
    "bootstrap CI (seeded), median and IQR per condition; paired permutation tests of the median difference "
    "(10 000 resamples or exact) with Holm correction. BS.1116: diff grades (coded minus hidden reference), "
    "listeners screened with a one-sided t-test. ABX: exact one-sided binomial test; 'don't know' answers are "
    "excluded from n and reported apart."
)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _DASH
    return f"{value:.{digits}f}"


def _opt(value: Any) -> str:
    return _DASH if value is None else escape(str(value))


def _p(value: float) -> str:
    return "&lt; 0.001" if value < 0.001 else f"{value:.3f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], row_class: Sequence[str] | None = None) -> str:
    """An HTML table; cells are already escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_class[i]}"' if row_class and row_class[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary_table(summaries: Mapping[str, Summary], labels: Mapping[str, str], digits: int = 1) -> str:
    header = ["Condition", "n", "Median", "IQR", "Mean", "95 % CI", "Outliers"]
    rows = [[escape(labels.get(c, c)), str(s.n), _num(s.median, digits), _num(s.iqr, digits), _num(s.mean, digits),
             f"[{_num(s.ci_low, digits)}, {_num(s.ci_high, digits)}]", str(s.n_outliers)]
            for c, s in summaries.items()]
    return _table(header, rows)


def _item_table(items: Mapping[str, Mapping[str, Summary]], labels: Mapping[str, str], digits: int = 1) -> str:
    conditions = list(dict.fromkeys(c for per_item in items.values() for c in per_item))
    rows = []
    for item, per_item in items.items():
        cells = [escape(item)]
        for c in conditions:
            s = per_item.get(c)
            cells.append(_DASH if s is None else f"{_num(s.mean, digits)} [{_num(s.ci_low, digits)}, "
                         f"{_num(s.ci_high, digits)}]")
        rows.append(cells)
    return _table(["Item"] + [escape(labels.get(c, c)) for c in conditions], rows)


def _warnings(notes: Sequence[str]) -> str:
    return "".join(f'<p class="warn">{escape(n)}</p>' for n in notes)


def _design_section(mapping: Mapping[str, Any]) -> str:
    facts = [("Test", mapping.get("name", "")), ("Id", mapping.get("id", "")), ("Type", mapping.get("type", "")),
             ("Seed", mapping.get("seed", "")), ("Items", len(mapping.get("items", [])))]
    out = ["<h2>Design</h2>", _table(["Field", "Value"], [[escape(str(k)), escape(str(v))] for k, v in facts])]
    conditions = mapping.get("conditions", {})
    rows = [[escape(str(cid)), escape(str(spec.get("label", ""))), _opt(spec.get("bitrate_kbps")),
             _opt(spec.get("model"))] for cid, spec in conditions.items()]
    out.append(_table(["Condition", "Label", "Bitrate (kbps)", "Model"], rows))
    options = mapping.get(str(mapping.get("type")), {}) or {}
    if options:
        out.append("<p>Options: " + escape(", ".join(f"{k} = {v}" for k, v in options.items())) + "</p>")
    return "\n".join(out)


def _mushra_section(m: MushraAnalysis, labels: Mapping[str, str]) -> str:
    out = [f"<h2>{'MUSHRA' if m.is_mushra else 'MUSHRA-like test'}</h2>", "<h3>Post-screening</h3>"]
    rows, classes = [], []
    for s in m.screening.listeners:
        reasons = "<br>".join(escape(r) for r in s.reasons) or _DASH
        rows.append([escape(s.listener), "excluded" if s.excluded else "kept", reasons])
        classes.append("excluded" if s.excluded else "")
    out.append(_table(["Listener", "Status", "Reason"], rows, classes))
    if m.screening.exempt_items:
        out.append("<p>Mid-anchor rule not applied (more than 25 % of listeners above 90) on items: "
                   + escape(", ".join(m.screening.exempt_items)) + "</p>")
    out += [_warnings(m.warnings), "<h3>Per condition</h3>", _summary_table(m.conditions, labels),
            condition_plot(m.conditions, (0.0, 100.0), "Rating", labels)]
    if m.pairs:
        rows = [[escape(f"{labels.get(p.condition_a, p.condition_a)} vs {labels.get(p.condition_b, p.condition_b)}"),
                 str(p.n_pairs), _num(p.difference), _p(p.p_value), _p(p.p_holm), "yes" if p.significant else "no"]
                for p in m.pairs]
        out += ["<h3>Paired comparisons</h3>",
                _table(["Pair", "n", "Median diff.", "p", "p (Holm)", "Significant"], rows)]
    out += ["<h3>Per item (mean [95 % CI])</h3>", _item_table(m.items, labels)]
    return "\n".join(out)


def _bs1116_section(b: Bs1116Analysis, labels: Mapping[str, str]) -> str:
    out = ["<h2>BS.1116 (diff grades)</h2>", "<h3>Post-screening</h3>"]
    rows = [[escape(s.listener), str(s.n_trials), _num(s.mean_diff, 2), _p(s.p_value),
             ("excluded" if b.screened else "flagged") if s.excluded else "kept"] for s in b.screening]
    out.append(_table(["Listener", "Trials", "Mean diff grade", "p (t-test)", "Status"], rows,
                      ["excluded" if s.excluded else "" for s in b.screening]))
    out += [_warnings(b.warnings), "<h3>Per condition</h3>", _summary_table(b.conditions, labels, 2),
            condition_plot(b.conditions, (-4.0, 1.0), "Diff grade", labels),
            "<h3>Per item (mean [95 % CI])</h3>", _item_table(b.items, labels, 2)]
    return "\n".join(out)


def _abx_section(results: Sequence[AbxResult], labels: Mapping[str, str]) -> str:
    rows = [[escape(r.listener if r.listener is not None else "all (pooled)"), escape(labels.get(r.condition,
             r.condition)), f"{r.n_correct}/{r.n_trials}", str(r.n_dont_know), _p(r.p_value),
             _p(r.p_value_dont_know_as_wrong), str(r.critical_05 or _DASH), str(r.critical_01 or _DASH),
             _num(r.power_70, 2), _num(r.power_80, 2), "heard a difference" if r.significant else "not shown"]
            for r in results]
    header = ["Listener", "Condition", "Correct", "Don't know", "p", "p (don't know = wrong)", "k for p≤.05",
              "k for p≤.01", "Power 70 %", "Power 80 %", "Result"]
    return "<h2>ABX</h2>\n" + _table(header, rows)


def _ab_section(results: Sequence[AbPreference], labels: Mapping[str, str]) -> str:
    rows = [[escape(r.listener if r.listener is not None else "all (pooled)"),
             escape(labels.get(r.condition, r.condition)), str(r.n_trials), str(r.n_prefer_condition), _p(r.p_value)]
            for r in results]
    header = ["Listener", "Condition", "Trials", "Preferred the condition", "p (two-sided)"]
    return "<h2>AB preference</h2>\n" + _table(header, rows)


def render_report(
    rows: Iterable[TidyRow],
    design: TestDesign | Mapping[str, Any] | None = None,
    analysis: Analysis | None = None,
    seed: int = 0,
    title: str | None = None,
) -> str:
    """The report as an HTML string; computes :func:`analyse` (with ``seed``, conditions named by the design's
    labels in its warnings) when ``analysis`` is not given."""
    rows = list(rows)
    mapping = design.to_mapping() if isinstance(design, TestDesign) else dict(design or {})
    labels = {cid: str(spec.get("label", cid)) for cid, spec in mapping.get("conditions", {}).items()}
    labels.update({"reference": "Hidden reference", "anchor_lp35": "Anchor 3.5 kHz", "anchor_lp70": "Anchor 7 kHz"})
    analysis = analysis if analysis is not None else analyse(rows, seed=seed, labels=labels)
    heading = title or f"Listening test report: {mapping.get('name') or mapping.get('id') or 'results'}"
    listeners = sorted({r.listener for r in rows})
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
        f"<p>{len(rows)} answers from {len(listeners)} listeners. Analysis seed {analysis.seed}.</p>",
    ]
    if mapping:
        parts.append(_design_section(mapping))
    if analysis.mushra is not None:
        parts.append(_mushra_section(analysis.mushra, labels))
    if analysis.bs1116 is not None:
        parts.append(_bs1116_section(analysis.bs1116, labels))
    if analysis.abx:
        parts.append(_abx_section(analysis.abx, labels))
    if analysis.ab:
        parts.append(_ab_section(analysis.ab, labels))
    parts += ["<h2>Methods</h2>", f"<p>{_METHODS}</p>", "</body></html>"]
    return "\n".join(parts)


def write_report(path: str | Path, rows: Iterable[TidyRow], **kwargs: Any) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(render_report(rows, **kwargs), encoding="utf-8")
    return path
