"""Model configuration as frozen dataclasses, and the two official EnCodec presets.

A configuration is the single source of truth for an architecture: :func:`codec.model.build_model` turns it into
modules, and checkpoints store it as JSON so a model can be rebuilt from its file alone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from codec.errors import CheckpointError


@dataclass(frozen=True)
class SEANetConfig:
    """Hyper-parameters of the SEANet encoder and decoder (the reference's defaults)."""

    dimension: int = 128
    n_filters: int = 32
    n_residual_layers: int = 1
    ratios: tuple[int, ...] = (8, 5, 4, 2)
    kernel_size: int = 7
    last_kernel_size: int = 7
    residual_kernel_size: int = 3
    dilation_base: int = 2
    compress: int = 2
    lstm_layers: int = 2
    norm: str = "weight_norm"  # "weight_norm" | "time_group_norm" | "none"
    causal: bool = False
    pad_mode: str = "reflect"
    true_skip: bool = False
    trim_right_ratio: float = 1.0

    @property
    def hop_length(self) -> int:
        """Samples per latent frame (product of the strides)."""
        return math.prod(self.ratios)


@dataclass(frozen=True)
class QuantizerConfig:
    """Residual vector quantizer: ``n_q`` codebooks of ``bins`` entries each."""

    dimension: int = 128
    n_q: int = 32
    bins: int = 1024
    decay: float = 0.99
    kmeans_init: bool = True
    kmeans_iters: int = 50
    threshold_ema_dead_code: float = 2  # EMA use count below which a code is replaced (see training configs)


@dataclass(frozen=True)
class ModelConfig:
    """A complete codec: audio format, SEANet, quantizer, bitrates and segmenting."""

    name: str
    sample_rate: int
    channels: int
    bitrates_kbps: tuple[float, ...]
    seanet: SEANetConfig
    quantizer: QuantizerConfig
    normalize: bool = False
    segment_s: float | None = None
    overlap: float = 0.01
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def hop_length(self) -> int:
        return self.seanet.hop_length

    @property
    def frame_rate(self) -> int:
        """Latent frames per second, rounded up as the reference does."""
        return math.ceil(self.sample_rate / self.hop_length)

    @property
    def segment_length(self) -> int | None:
        """Samples per segment, or None when the whole input is one segment."""
        return None if self.segment_s is None else int(self.segment_s * self.sample_rate)

    @property
    def segment_stride(self) -> int | None:
        """Samples between segment starts (segment minus overlap), or None."""
        if self.segment_length is None:
            return None
        return max(1, int((1 - self.overlap) * self.segment_length))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Rebuild a config from :meth:`to_dict` output; unknown or missing keys raise :class:`CheckpointError`."""
        try:
            seanet = _build(SEANetConfig, data["seanet"])
            quantizer = _build(QuantizerConfig, data["quantizer"])
            rest = {k: v for k, v in data.items() if k not in ("seanet", "quantizer")}
            rest["bitrates_kbps"] = tuple(float(b) for b in rest["bitrates_kbps"])
            config = _build(cls, {**rest, "seanet": seanet, "quantizer": quantizer})
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"invalid model config: {exc}") from exc
        config.validate()
        return config

    def validate(self) -> None:
        """Reject configs no model can be built from, with a message naming the field."""
        problems = []
        if not 1 <= self.channels <= 8:
            problems.append(f"channels={self.channels} (1..8)")
        if not 1000 <= self.sample_rate <= 384_000:
            problems.append(f"sample_rate={self.sample_rate}")
        if self.seanet.norm not in ("weight_norm", "time_group_norm", "none"):
            problems.append(f"norm={self.seanet.norm!r}")
        if self.seanet.causal and self.seanet.norm == "time_group_norm":
            problems.append("time_group_norm cannot be causal")
        bins = self.quantizer.bins
        if bins < 2 or bins & (bins - 1):
            problems.append(f"bins={bins} (a power of two)")
        if not self.bitrates_kbps:
            problems.append("no bitrates")
        if problems:
            raise CheckpointError("invalid model config: " + ", ".join(problems))


def _build(cls: type, values: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**values)


def encodec_24khz() -> ModelConfig:
    """The official 24 kHz mono causal model (weight norm; 1.5–24 kbps)."""
    bitrates = (1.5, 3.0, 6.0, 12.0, 24.0)
    return ModelConfig(
        name="encodec_24khz",
        sample_rate=24_000,
        channels=1,
        bitrates_kbps=bitrates,
        seanet=SEANetConfig(norm="weight_norm", causal=True),
        quantizer=QuantizerConfig(n_q=_max_codebooks(24_000, bitrates[-1])),
    )


def encodec_48khz() -> ModelConfig:
    """The official 48 kHz stereo non-causal model (time group norm; 1 s segments; 3–24 kbps)."""
    bitrates = (3.0, 6.0, 12.0, 24.0)
    return ModelConfig(
        name="encodec_48khz",
        sample_rate=48_000,
        channels=2,
        bitrates_kbps=bitrates,
        seanet=SEANetConfig(norm="time_group_norm", causal=False),
        quantizer=QuantizerConfig(n_q=_max_codebooks(48_000, bitrates[-1])),
        normalize=True,
        segment_s=1.0,
        overlap=0.01,
    )


def _max_codebooks(sample_rate: int, max_bitrate_kbps: float, hop_length: int = 320, bits: int = 10) -> int:
    frame_rate = math.ceil(sample_rate / hop_length)
    return int(1000 * max_bitrate_kbps // (frame_rate * bits))


PRESETS = {"encodec_24khz": encodec_24khz, "encodec_48khz": encodec_48khz}
