"""Conditions to evaluate: parsed from text (``MODEL@KBPS``, ``opus@12``, ``anchor@3.5``, ``reference``) and
rendered from a reference item, each reporting the bitrate it really spent."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from codec.errors import CodecError

if TYPE_CHECKING:
    from codec.api import Codec

LOSSY_CODECS = ("opus", "mp3", "vorbis")
ANCHOR_CUTOFFS_KHZ = (3.5, 7.0)
SYNTAX = (
    "MODEL@KBPS (a model name or checkpoint path), opus@KBPS, mp3@KBPS, vorbis@KBPS, anchor@3.5, anchor@7, reference"
)


@dataclass(frozen=True)
class ConditionSpec:
    """One condition: ``kind`` is ``codec``, a lossy codec name, ``anchor`` or ``reference``.

    ``model`` is the model name or path for ``codec``; ``value`` is kbps (codecs) or the cutoff in kHz (anchors).
    """

    label: str
    kind: str
    model: str | None = None
    value: float | None = None


@dataclass(frozen=True)
class RenderedCondition:
    """A condition's audio ``[C, T]`` at the reference's rate, with requested and achieved bitrate (kbps)."""

    spec: ConditionSpec
    audio: np.ndarray
    requested_kbps: float | None
    achieved_kbps: float | None


def parse_condition(text: str) -> ConditionSpec:
    """Parse one ``--condition`` value; raises :class:`CodecError` naming the accepted forms."""
    label = text.strip()
    if label.lower() == "reference":
        return ConditionSpec(label="reference", kind="reference")
    name, sep, number = label.rpartition("@")
    if not sep or not name:
        raise CodecError(f"cannot read condition {text!r}; use {SYNTAX}")
    try:
        value = float(number)
    except ValueError:
        raise CodecError(f"condition {text!r}: {number!r} is not a number; use {SYNTAX}") from None
    if not math.isfinite(value) or value <= 0:
        raise CodecError(f"condition {text!r}: the number must be positive")
    kind = name.lower()
    if kind == "anchor":
        if not any(math.isclose(value, c) for c in ANCHOR_CUTOFFS_KHZ):
            raise CodecError(f"condition {text!r}: anchors are anchor@3.5 and anchor@7 (BS.1534-3)")
        return ConditionSpec(label=f"anchor@{value:g}", kind="anchor", value=value)
    if kind in LOSSY_CODECS:
        return ConditionSpec(label=f"{kind}@{value:g}", kind=kind, value=value)
    short = Path(name).stem if ("/" in name or name.endswith((".th", ".safetensors"))) else name
    return ConditionSpec(label=f"{short}@{value:g}", kind="codec", model=name, value=value)


CodecLoader = Callable[[str], "Codec"]
"""Loads a codec by name or path (the caller may cache)."""


def render_condition(spec: ConditionSpec, audio: np.ndarray, sample_rate: int, load_codec: CodecLoader,
                     cache_dir: Path | None = None) -> RenderedCondition:
    """Produce ``spec``'s version of ``audio`` ``[C, T]`` (same rate, channels and length as the input)."""
    if spec.kind == "reference":
        return RenderedCondition(spec, audio, None, None)
    if spec.kind == "anchor":
        from codec.baselines import lowpass_anchor

        return RenderedCondition(spec, lowpass_anchor(audio, sample_rate, _value(spec) * 1000), None, None)
    if spec.kind in LOSSY_CODECS:
        from codec.baselines.cache import cached_encode_decode

        result = cached_encode_decode(audio, sample_rate, spec.kind, _value(spec), cache_dir=cache_dir)
        return RenderedCondition(spec, result.audio, spec.value, result.achieved_kbps)
    codec = load_codec(spec.model or "")
    encoded = codec.encode(audio, sample_rate, _value(spec))
    decoded = codec.decode(encoded)
    return RenderedCondition(spec, decoded, spec.value, encoded.bitrate_kbps)


def _value(spec: ConditionSpec) -> float:
    if spec.value is None:
        raise CodecError(f"condition {spec.label} needs a number after '@'")
    return spec.value
