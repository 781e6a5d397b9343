"""The conditions an item is rendered in: the selected model at some bitrates, reference codecs, anchors (Qt-free).

A :class:`ConditionSpec` says *what* to render; :class:`ConditionList` is the ordered list for the current item,
with each row's state (pending, rendering, done, failed) and its :class:`ConditionAnalysis` once rendered. Row ``n``
(0-based) is heard with key ``n + 1`` and is playback source ``n + 1`` (source 0 is the original), so indices stay
stable while rows finish rendering in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from app.core.models import ModelEntry

MODEL, OPUS, MP3, ANCHOR = "model", "opus", "mp3", "anchor"
LOSSY_KINDS = (OPUS, MP3)
#: BS.1534-3 anchors: low-pass at 3.5 kHz (low) and 7 kHz (mid).
ANCHOR_CUTOFFS_KHZ = (3.5, 7.0)
#: The default set for a new file: the model at these bitrates (those it offers) and Opus at 12 kbps.
DEFAULT_MODEL_KBPS = (1.5, 6.0, 24.0)
DEFAULT_OPUS_KBPS = (12.0,)
#: Keys 1-9 reach the first nine rows.
MAX_KEYED_ROWS = 9


@dataclass(frozen=True)
class ConditionSpec:
    """One condition to render.

    Attributes
    ----------
    kind : str
        ``"model"``, ``"opus"``, ``"mp3"`` or ``"anchor"``.
    value : float
        Requested bitrate in kbps (model and lossy codecs) or the anchor's cut-off in kHz.
    model_id : str or None
        The catalog id of the model (``kind == "model"`` only).
    model_name : str
        Short display name of the model ('' for other kinds).
    """

    kind: str
    value: float
    model_id: str | None = None
    model_name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (MODEL, OPUS, MP3, ANCHOR):
            raise ValueError(f"unknown condition kind {self.kind!r}")
        if self.kind == MODEL and not self.model_id:
            raise ValueError("a model condition needs a model_id")
        if not self.value > 0:
            raise ValueError(f"the condition value must be positive, got {self.value}")

    @property
    def label(self) -> str:
        """What the table shows, e.g. ``EnCodec 24 kHz @ 6 kbps``, ``Opus @ 12 kbps``, ``Anchor 3.5 kHz``."""
        if self.kind == MODEL:
            return f"{self.model_name or self.model_id} @ {self.value:g} kbps"
        if self.kind == ANCHOR:
            return f"Anchor {self.value:g} kHz"
        return f"{'Opus' if self.kind == OPUS else 'MP3'} @ {self.value:g} kbps"

    @property
    def requested_kbps(self) -> float | None:
        """The bitrate asked for; None for anchors (they have no bitstream)."""
        return None if self.kind == ANCHOR else self.value

    @property
    def cache_id(self) -> str:
        """Identifies the rendering method (with the clip's hash it keys the caches)."""
        return f"{self.kind}:{self.model_id or ''}:{self.value:g}"


def model_condition(entry: ModelEntry, bitrate_kbps: float) -> ConditionSpec:
    """The model of ``entry`` at one of its bitrates."""
    if bitrate_kbps not in entry.bitrates_kbps:
        offered = ", ".join(f"{b:g}" for b in entry.bitrates_kbps)
        raise ValueError(f"{entry.display_name} offers {offered} kbps, not {bitrate_kbps:g}")
    return ConditionSpec(MODEL, float(bitrate_kbps), entry.model_id, entry.display_name)


def default_model_bitrates(entry: ModelEntry) -> tuple[float, ...]:
    """1.5, 6 and 24 kbps where offered; else the lowest, the default and the highest the model offers."""
    wanted = tuple(b for b in DEFAULT_MODEL_KBPS if b in entry.bitrates_kbps)
    if wanted:
        return wanted
    rates = entry.bitrates_kbps
    return tuple(sorted({rates[0], entry.default_bitrate_kbps, rates[-1]}))


def default_conditions(entry: ModelEntry | None, anchors: bool = False) -> list[ConditionSpec]:
    """The set a new file starts with: the model at 1.5/6/24 kbps (if a model is chosen), Opus 12, anchors."""
    specs = [model_condition(entry, b) for b in default_model_bitrates(entry)] if entry is not None else []
    specs += [ConditionSpec(OPUS, b) for b in DEFAULT_OPUS_KBPS]
    if anchors:
        specs += [ConditionSpec(ANCHOR, c) for c in ANCHOR_CUTOFFS_KHZ]
    return specs


class RowState(Enum):
    """Where a row's rendering stands."""

    PENDING = "pending"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, eq=False)
class ConditionAnalysis:
    """A rendered condition, aligned with the original, with its measurements.

    Attributes
    ----------
    spec : ConditionSpec
        What was rendered.
    audio : np.ndarray
        float32 [C, T], the original's rate and shape, lag removed, read-only.
    achieved_kbps : float or None
        Bits really spent per second (None for anchors).
    lag_samples : int
        The delay removed (positive: the condition was late), at the original's rate.
    sample_rate : int
        The original's rate in Hz.
    loudness_deviation_lu : float
        Integrated loudness minus the original's (NaN when either is shorter than 0.4 s or silent).
    true_peak_dbtp : float
        True peak (4x oversampled) of the condition.
    metrics : dict of str to float or None
        Objective metrics by name (``mel_distance``, ``si_sdr``, ``visqol``); None where not computed/applicable.
    elapsed_s : float
        Render wall time (0 for a cache hit).
    from_cache : bool
        Whether the render came from a cache.
    """

    spec: ConditionSpec
    audio: np.ndarray
    achieved_kbps: float | None
    lag_samples: int
    sample_rate: int
    loudness_deviation_lu: float
    true_peak_dbtp: float
    metrics: dict[str, float | None] = field(default_factory=dict)
    elapsed_s: float = 0.0
    from_cache: bool = False

    @property
    def lag_ms(self) -> float:
        """The removed lag in milliseconds."""
        return 1000.0 * self.lag_samples / self.sample_rate

    def with_metrics(self, metrics: dict[str, float | None]) -> ConditionAnalysis:
        """A copy with ``metrics`` merged in."""
        return replace(self, metrics={**self.metrics, **metrics})


@dataclass
class ConditionRow:
    """One row of the list: the spec, its state, its analysis once done, the error text if it failed."""

    spec: ConditionSpec
    state: RowState = RowState.PENDING
    analysis: ConditionAnalysis | None = None
    error: str = ""


class ConditionList:
    """The ordered conditions of the current item; duplicates are refused."""

    def __init__(self, specs: Iterable[ConditionSpec] = ()) -> None:
        self.rows: list[ConditionRow] = []
        self.add(specs)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def specs(self) -> tuple[ConditionSpec, ...]:
        """The specs in row order."""
        return tuple(row.spec for row in self.rows)

    def add(self, specs: Iterable[ConditionSpec]) -> list[int]:
        """Append the specs not already listed; return the new rows' indices."""
        added = []
        for spec in specs:
            if spec not in self.specs:
                self.rows.append(ConditionRow(spec))
                added.append(len(self.rows) - 1)
        return added

    def remove(self, index: int) -> ConditionSpec:
        """Remove row ``index`` (later rows move up one key)."""
        return self.rows.pop(index).spec

    def reset(self, specs: Sequence[ConditionSpec]) -> None:
        """Replace every row (a new item)."""
        self.rows = []
        self.add(specs)

    def index_of(self, spec: ConditionSpec) -> int | None:
        """The row of ``spec``, or None."""
        return next((i for i, row in enumerate(self.rows) if row.spec == spec), None)

    def pending(self) -> list[int]:
        """Rows still to render (pending or failed), in order."""
        return [i for i, row in enumerate(self.rows) if row.state in (RowState.PENDING, RowState.FAILED)]

    def set_state(self, index: int, state: RowState, error: str = "") -> None:
        """Mark a row (clears its analysis unless done)."""
        row = self.rows[index]
        row.state, row.error = state, error
        if state != RowState.DONE:
            row.analysis = None

    def set_analysis(self, index: int, analysis: ConditionAnalysis) -> None:
        """Store a row's finished analysis."""
        row = self.rows[index]
        row.state, row.analysis, row.error = RowState.DONE, analysis, ""

    def reset_states(self) -> None:
        """Mark every row pending again (after the item changed)."""
        for index in range(len(self.rows)):
            self.set_state(index, RowState.PENDING)

    def analyses(self) -> list[ConditionAnalysis | None]:
        """Each row's analysis (None where not rendered), in row order."""
        return [row.analysis for row in self.rows]

    def replace_model(self, entry: ModelEntry) -> None:
        """Point the model rows at ``entry`` (keeping bitrates it offers, dropping others); others are kept."""
        rows = []
        for row in self.rows:
            spec = row.spec
            if spec.kind != MODEL or spec.model_id == entry.model_id:
                rows.append(row)
            elif spec.value in entry.bitrates_kbps:
                rows.append(ConditionRow(model_condition(entry, spec.value)))
        self.rows = []
        for row in rows:
            if row.spec not in self.specs:
                self.rows.append(row)

    def has_model_rows(self) -> bool:
        """Whether any row is a model condition."""
        return any(row.spec.kind == MODEL for row in self.rows)
