"""One call that analyses a list of tidy rows by test type, and its JSON-safe form for exports and reports."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.core.listening.abx_stats import AbPreference, AbxResult, ab_preferences, abx_results
from app.core.listening.bs1116_stats import Bs1116Analysis, analyse_bs1116
from app.core.listening.mushra_stats import MushraAnalysis, analyse_mushra
from app.core.listening.records import TidyRow


@dataclass(frozen=True)
class Analysis:
    """Statistics of every test type present in the rows; ``seed`` makes bootstrap and permutation reproducible."""

    seed: int
    n_rows: int
    abx: list[AbxResult]
    ab: list[AbPreference]
    mushra: MushraAnalysis | None
    bs1116: Bs1116Analysis | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN becomes None; derived properties such as ``excluded`` are included)."""
        return jsonable(self)


def analyse(
    rows: Iterable[TidyRow],
    seed: int = 0,
    statistic: str = "median",
    screen_bs1116: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Analysis:
    """Analyse ABX, AB preference, MUSHRA and BS.1116 rows; ``labels`` (condition id -> label) name the conditions
    in the MUSHRA warnings."""
    rows = list(rows)
    types = {r.test_type for r in rows}
    return Analysis(
        seed=seed,
        n_rows=len(rows),
        abx=abx_results(rows),
        ab=ab_preferences(rows),
        mushra=analyse_mushra(rows, seed=seed, statistic=statistic, labels=labels) if "mushra" in types else None,
        bs1116=analyse_bs1116(rows, seed=seed, screen=screen_bs1116) if "bs1116" in types else None,
    )


def jsonable(value: Any) -> Any:
    """Convert dataclasses (fields plus properties), dicts, sequences and floats into JSON-safe values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name, attr in vars(type(value)).items():
            if isinstance(attr, property):
                out[name] = jsonable(getattr(value, name))
        return out
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    return value
