"""Training configuration: frozen dataclasses loaded from YAML (a base file, then override files, then ``key=value``).

A run's whole configuration is one :class:`TrainConfig`. YAML files are read with ``safe_load`` and merged key by
key, so an override file only names what it changes::

    python -m codec.training train --config codec/training/configs/base.yaml \
        --config codec/training/configs/small.yaml --set steps=2000 --set data.manifest=/data/corpus/manifest.json
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from codec.config import PRESETS, ModelConfig, QuantizerConfig, SEANetConfig
from codec.training.data import DataConfig


class ConfigError(ValueError):
    """A training configuration that cannot be used, with the offending key in the message."""


@dataclass(frozen=True)
class ModelSpec:
    """Which architecture to train: an official preset with optional size changes."""

    preset: str = "encodec_24khz"
    name: str = "earbench_24khz"
    n_filters: int = 32
    lstm_layers: int = 2
    n_residual_layers: int = 1
    dimension: int = 128
    bins: int = 1024
    # A code whose EMA use count per step falls below this is replaced by a batch vector. The reference's 2 assumes
    # big batches: a step of B crops of S seconds gives B·S·75 vectors at 24 kHz, i.e. B·S·75/bins uses per code on
    # average. With 8 one-second crops that is 0.6, so a threshold of 2 would call every code dead and re-draw the
    # whole codebook at every step (nothing can be learnt); keep it well under the average use.
    dead_code_threshold: float = 2.0
    init: str = "he"  # "he" (codec/training/init.py: learns from the first steps) or "torch" (PyTorch's defaults)

    def build_config(self) -> ModelConfig:
        """The :class:`ModelConfig` for this spec (the preset with these fields replaced)."""
        if self.preset not in PRESETS:
            raise ConfigError(f"model.preset={self.preset!r}: expected one of {sorted(PRESETS)}")
        base = PRESETS[self.preset]()
        seanet: SEANetConfig = dataclasses.replace(
            base.seanet, n_filters=self.n_filters, lstm_layers=self.lstm_layers,
            n_residual_layers=self.n_residual_layers, dimension=self.dimension)
        quantizer: QuantizerConfig = dataclasses.replace(base.quantizer, dimension=self.dimension, bins=self.bins,
                                                         threshold_ema_dead_code=self.dead_code_threshold)
        return dataclasses.replace(base, name=self.name, seanet=seanet, quantizer=quantizer)


@dataclass(frozen=True)
class OptimConfig:
    """Adam as in the paper, an optional gradient clip and an EMA of the generator's weights."""

    lr: float = 3e-4
    betas: tuple[float, float] = (0.5, 0.9)
    grad_clip: float | None = None
    ema_decay: float | None = 0.99


@dataclass(frozen=True)
class LossConfig:
    """Loss weights (balanced, paper §3.4), adversarial schedule and the commitment term (not balanced)."""

    weights: dict[str, float] = field(default_factory=lambda: {"l1": 0.1, "mel": 1.0, "adv": 3.0, "feat": 3.0})
    balancer: bool = True
    balancer_beta: float = 0.999
    adversarial: bool = True
    adversarial_start_step: int = 0  # reconstruction-only warm-up before this step
    discriminator_probability: float = 2 / 3  # paper: 2/3 at 24 kHz, 0.5 at 48 kHz
    discriminator_per_bandwidth: bool = True
    discriminator_filters: int = 32
    commitment_weight: float = 1.0
    fix_commitment_gradient: bool = False  # upstream issue #25


@dataclass(frozen=True)
class ValidationConfig:
    every_steps: int = 500
    bitrates_kbps: tuple[float, ...] = (1.5, 6.0, 24.0)
    visqol_clips: int = 4  # ViSQOL is slow: scored on the first few validation crops only
    selection_metric: str = "visqol"  # the checkpoint kept as best.pt maximises this (falls back to -mel)
    keep_snapshots: bool = False  # also keep snapshots/step_N.pt at each validation, for `select` to re-score


@dataclass(frozen=True)
class TrainConfig:
    """Everything one run needs; :func:`load_config` builds it from YAML."""

    model: ModelSpec = field(default_factory=ModelSpec)
    data: DataConfig = field(default_factory=lambda: DataConfig(manifest=""))
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    batch_size: int = 8
    steps: int = 10_000
    time_budget_s: float | None = None  # stop cleanly (checkpoint + export) when this wall time is spent
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    precision: str = "fp32"  # "fp32" | "bf16" (autocast on CUDA)
    compile: bool = False
    threads: int | None = None
    num_workers: int = 0
    log_every_steps: int = 10
    checkpoint_every_steps: int = 500
    out_dir: str = "runs/default"
    init_from: str | None = None  # weights only (a model file or a training checkpoint), not optimiser state

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(paths: list[str | Path], overrides: list[str] | None = None) -> TrainConfig:
    """Merge YAML files in order, then ``dotted.key=value`` overrides (values parsed as YAML), into a config."""
    merged: dict[str, Any] = {}
    for path in paths:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read training config {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a training config must be a mapping")
        merged = _merge(merged, data)
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r} is not key=value")
        merged = _merge(merged, _nested(key.strip().split("."), yaml.safe_load(value)))
    return from_dict(merged)


def from_dict(data: dict[str, Any]) -> TrainConfig:
    """Build a :class:`TrainConfig`, rejecting unknown keys by their dotted name."""
    return _build(TrainConfig, data, "")


def _types(hint: Any) -> tuple[Any, ...]:
    return typing.get_args(hint) or (hint,)


def _to_float(value: str | int, key: str) -> float:
    """YAML 1.1 reads ``1e-3`` (no dot) as a string; accept it as the number it means."""
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{key}={value!r} is not a number") from None


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "weights":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _nested(keys: list[str], value: Any) -> dict[str, Any]:
    return {keys[0]: value} if len(keys) == 1 else {keys[0]: _nested(keys[1:], value)}


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'} must be a mapping")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown training config keys: {', '.join(prefix + k for k in unknown)}")
    values = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            value = _build(hint, value, f"{prefix}{name}.")
        elif isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, (str, int)) and not isinstance(value, bool) and float in _types(hint):
            value = _to_float(value, prefix + name)
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{prefix or 'config'}: {exc}") from exc
