"""Listening-test designs: a YAML file, validated against an explicit schema, loaded into frozen dataclasses.

Format (version 1). Paths are relative to the design file's folder and must stay inside it::

    format_version: 1
    id: encodec-mushra-1          # test id: letters, digits, _ . - (the results are keyed on it)
    name: EnCodec 24 kHz, 1.5-12 kbps
    description: optional free text
    type: mushra                  # abx | ab | mushra | bs1116
    seed: 20261126                # randomisation seed (whole number ≥ 0)
    conditions:                   # systems under test, in display order for training: id -> properties
      enc_1_5: {label: EnCodec 1.5 kbps, bitrate_kbps: 1.5, model: encodec_24khz}
      enc_6:   {label: EnCodec 6 kbps, bitrate_kbps: 6}
    items:                        # excerpts: every item has a file for every condition (BS.1534-3 §7.1)
      - id: castanets
        reference: audio/castanets.wav
        conditions: {enc_1_5: audio/castanets_1_5.wav, enc_6: audio/castanets_6.wav}
    mushra:                       # options of the test's type (only that type's section is allowed)
      training: true              # unblinded training pass first; its ratings are never stored
      require_max_rating: false   # page needs one rating of 100 (the hidden reference is always there)
    # abx:    {trials_per_item: 16, allow_dont_know: false, show_running_score: false}
    # ab:     {trials_per_item: 1, baseline: reference}   # baseline: "reference" or a condition id
    # bs1116: {}

Per type:

* ``mushra``: one page per item with the hidden reference and both BS.1534-3 anchors (3.5 and 7 kHz low-pass
  of the reference, rendered when a session starts, see :mod:`app.core.listening.anchors`) inserted
  automatically; at most 12 signals per page counting those three (§5.3), so at most 9 conditions.
* ``abx``: per item and condition a block of ``trials_per_item`` trials, A = reference, B = condition, X redrawn
  every trial.
* ``ab``: per item and non-baseline condition, ``trials_per_item`` preference trials, baseline vs condition with
  the sides randomised.
* ``bs1116``: per item and condition one double-blind triple-stimulus trial with hidden reference.

Condition ids ``reference``, ``anchor_lp35`` and ``anchor_lp70`` are reserved for the signals inserted
automatically. Designs are read with ``yaml.safe_load`` only (:mod:`app.core.listening.design_parse` reads and
validates them): a tag that would construct a Python object is refused.

This module holds the format's constants, the frozen dataclasses a design is loaded into, and the BS.1534-3 / ABX
recommendations a design is checked against (:func:`design_warnings`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from app.core.errors import DesignError

FORMAT_VERSION = 1
REFERENCE_ID = "reference"
"""Condition id of the hidden reference in answers."""
LOW_ANCHOR_ID = "anchor_lp35"
MID_ANCHOR_ID = "anchor_lp70"
RESERVED_IDS = (REFERENCE_ID, LOW_ANCHOR_ID, MID_ANCHOR_ID)
MUSHRA_MAX_SIGNALS = 12
"""BS.1534-3 §5.3 p.8: no more than 12 signals per trial, counting the hidden reference and the anchors."""
MAX_EXCERPT_S = 12.0
"""BS.1534-3 §5.1 p.7: excerpts about 10 s, preferably ≤ 12 s."""
ABX_TRIALS_DEFAULT = 16
ABX_TRIALS_RANGE = (10, 25)
"""Spec §1.3: the QSC ABX Comparator manual advises 10-25 trials per round (fatigue); 16 detects an 80 % listener
with power 0.8."""


@dataclass(frozen=True)
class Condition:
    """A system under test. ``bitrate_kbps`` and ``model`` are None when not given."""

    id: str
    label: str
    bitrate_kbps: float | None = None
    model: str | None = None


@dataclass(frozen=True)
class Item:
    """An excerpt: absolute paths of the reference and of each condition's file (keys: condition ids)."""

    id: str
    reference: Path
    conditions: Mapping[str, Path]


@dataclass(frozen=True)
class AbxOptions:
    trials_per_item: int = ABX_TRIALS_DEFAULT
    allow_dont_know: bool = False
    show_running_score: bool = False


@dataclass(frozen=True)
class AbOptions:
    trials_per_item: int = 1
    baseline: str = REFERENCE_ID


@dataclass(frozen=True)
class MushraOptions:
    training: bool = True
    require_max_rating: bool = False


@dataclass(frozen=True)
class Bs1116Options:
    pass


Options = Union[AbxOptions, AbOptions, MushraOptions, Bs1116Options]  # noqa: UP007 (runtime alias on 3.10)


@dataclass(frozen=True)
class TestDesign:
    """A validated listening test. Build it with :func:`~app.core.listening.design_parse.load_design` or
    :func:`~app.core.listening.design_parse.parse_design`."""

    __test__ = False  # not a pytest test class

    id: str
    name: str
    type: str
    seed: int
    conditions: Mapping[str, Condition]
    items: tuple[Item, ...]
    options: Options
    base_dir: Path
    description: str = ""
    format_version: int = FORMAT_VERSION
    source: Path | None = field(default=None, compare=False)

    def stimulus_paths(self) -> list[Path]:
        """Every audio file the design names (references, then conditions, item by item), without duplicates."""
        seen: dict[Path, None] = {}
        for item in self.items:
            seen.setdefault(item.reference)
            for path in item.conditions.values():
                seen.setdefault(path)
        return list(seen)

    def to_mapping(self) -> dict[str, Any]:
        """The design as plain data with paths relative to ``base_dir``: ``parse_design(d.to_mapping(), d.base_dir)``
        gives back an equal design."""
        out: dict[str, Any] = {"format_version": self.format_version, "id": self.id, "name": self.name}
        if self.description:
            out["description"] = self.description
        out["type"] = self.type
        out["seed"] = self.seed
        out["conditions"] = {c.id: _condition_mapping(c) for c in self.conditions.values()}
        out["items"] = [
            {
                "id": item.id,
                "reference": self.relative(item.reference),
                "conditions": {cid: self.relative(p) for cid, p in item.conditions.items()},
            }
            for item in self.items
        ]
        out[self.type] = dict(vars(self.options))
        return out

    def relative(self, path: Path) -> str:
        """``path`` relative to the design folder, POSIX style."""
        return path.relative_to(self.base_dir).as_posix()

    def design_hash(self) -> str:
        """SHA-256 of what the test is: the canonical JSON of :meth:`to_mapping` without the file paths, so moving
        the files (a bundle) keeps the hash; the files' contents are hashed separately (storage's stimuli)."""
        mapping = self.to_mapping()
        mapping["items"] = [{"id": item["id"], "conditions": sorted(item["conditions"])} for item in mapping["items"]]
        canonical = json.dumps(mapping, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def condition_label(self, condition_id: str) -> str:
        """Display label of a condition, including the automatically inserted signals."""
        if condition_id in self.conditions:
            return self.conditions[condition_id].label
        return _RESERVED_LABELS.get(condition_id, condition_id)


_RESERVED_LABELS = {REFERENCE_ID: "Hidden reference", LOW_ANCHOR_ID: "Anchor 3.5 kHz", MID_ANCHOR_ID: "Anchor 7 kHz"}


def _condition_mapping(condition: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {"label": condition.label}
    if condition.bitrate_kbps is not None:
        out["bitrate_kbps"] = condition.bitrate_kbps
    if condition.model is not None:
        out["model"] = condition.model
    return out


def recommended_items(n_systems: int) -> int:
    """Number of excerpts BS.1534-3 asks for with ``n_systems`` systems under test: about 1.5 × the number of
    systems, at least 5 (§7.1 p.13). The anchors and hidden reference are not systems under test."""
    if n_systems < 1:
        raise ValueError(f"n_systems must be ≥ 1, got {n_systems}")
    return max(5, math.ceil(1.5 * n_systems))


def recommended_abx_trials() -> int:
    """Trials per ABX round: 16 (spec §1.3: inside the QSC 10-25 range, power 0.8 for an 80 % listener)."""
    return ABX_TRIALS_DEFAULT


def excerpt_duration_s(path: Path) -> float:
    """Length of an audio file in seconds, from its header (no samples read)."""
    import soundfile  # local: only needed when a design is checked, keeps `import design` light

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise DesignError(f"{path}: not a readable audio file ({exc})") from exc
    return info.frames / info.samplerate


def design_warnings(design: TestDesign) -> list[str]:
    """Problems that do not invalidate a design but must be shown (and justified in the report):
    MUSHRA excerpts longer than 12 s (BS.1534-3 §5.1), fewer MUSHRA items than recommended (§7.1), ABX rounds
    outside 10-25 trials (spec §1.3)."""
    warnings: list[str] = []
    if design.type == "mushra":
        for item in design.items:
            duration_s = excerpt_duration_s(item.reference)
            if duration_s > MAX_EXCERPT_S:
                warnings.append(
                    f"item {item.id}: excerpt is {duration_s:.1f} s; BS.1534-3 §5.1 asks for about 10 s, preferably "
                    f"≤ {MAX_EXCERPT_S:g} s (justify longer excerpts in the report)"
                )
        wanted = recommended_items(len(design.conditions))
        if len(design.items) < wanted:
            warnings.append(
                f"{len(design.items)} items for {len(design.conditions)} systems; BS.1534-3 §7.1 recommends about "
                f"1.5 x the number of systems, at least 5: {wanted}"
            )
    if isinstance(design.options, AbxOptions):
        low, high = ABX_TRIALS_RANGE
        if not low <= design.options.trials_per_item <= high:
            warnings.append(
                f"abx.trials_per_item is {design.options.trials_per_item}; {low}-{high} trials per round are "
                "advised (fewer lack power, more tire the listener)"
            )
    return warnings
