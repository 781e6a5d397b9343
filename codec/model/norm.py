"""Weight-normalised convolutions with the reference's parameter names (``weight_g``, ``weight_v``).

We keep the two tensors as plain parameters instead of using ``torch.nn.utils.weight_norm`` hooks: the names then
match the official checkpoints without remapping, and inference can fold ``g * v / ||v||`` into one weight once
(:meth:`fold`) instead of recomputing it on every call as the reference does.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _normalised_weight(weight_v: torch.Tensor, weight_g: torch.Tensor) -> torch.Tensor:
    # The same fused kernel the reference's hook calls, so folded weights are bit-identical to its per-call ones.
    return torch._weight_norm(weight_v, weight_g, 0)


class _WeightNormMixin:
    """Replaces ``weight`` by ``weight_g`` (norm, [O, 1, 1]) and ``weight_v`` (direction), norm over all but dim 0."""

    weight_g: nn.Parameter
    weight_v: nn.Parameter
    folded_weight: torch.Tensor | None

    def _split_weight(self) -> None:
        weight = self.weight.data  # type: ignore[attr-defined]
        del self.weight  # type: ignore[attr-defined]
        norm = weight.flatten(1).norm(dim=1).reshape(-1, *([1] * (weight.dim() - 1)))
        self.weight_g = nn.Parameter(norm.clone())
        self.weight_v = nn.Parameter(weight.clone())
        self.folded_weight = None

    def current_weight(self) -> torch.Tensor:
        """The effective weight: folded when inference folded it, else recomputed (differentiable)."""
        if self.folded_weight is not None and not self.training and self._fold_is_current():  # type: ignore[attr-defined]
            return self.folded_weight
        return _normalised_weight(self.weight_v, self.weight_g)

    @torch.no_grad()
    def fold(self) -> None:
        """Compute the weight once for inference; training mode, weight loading and in-place edits undo it."""
        self.folded_weight = _normalised_weight(self.weight_v, self.weight_g).detach()
        self._fold_versions = self._versions()

    def _versions(self) -> tuple[int, int, int, int]:
        # Every in-place change bumps a tensor's version; a new tensor has another id. Either makes the fold stale.
        return id(self.weight_v), self.weight_v._version, id(self.weight_g), self.weight_g._version

    def _fold_is_current(self) -> bool:
        return getattr(self, "_fold_versions", None) == self._versions()

    def _load_from_state_dict(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.folded_weight = None
        super()._load_from_state_dict(*args, **kwargs)  # type: ignore[misc]


class WeightNormConv1d(_WeightNormMixin, nn.Conv1d):
    """``nn.Conv1d`` with weight normalisation; input ``[B, C_in, T]``."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.current_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups)


class WeightNormConvTranspose1d(_WeightNormMixin, nn.ConvTranspose1d):
    """``nn.ConvTranspose1d`` with weight normalisation (norm per input channel, as the reference)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        return F.conv_transpose1d(
            x, self.current_weight(), self.bias, self.stride, self.padding, self.output_padding, self.groups,
            self.dilation,
        )


class NormConv1d(nn.Module):
    """A conv (``.conv``) followed by its normalisation (``.norm``): weight norm, time group norm, or none."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1,
                 groups: int = 1, bias: bool = True, norm: str = "none") -> None:
        super().__init__()
        conv_cls = WeightNormConv1d if norm == "weight_norm" else nn.Conv1d
        self.conv = conv_cls(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation,
                             groups=groups, bias=bias)
        self.norm = _make_norm(norm, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


class NormConvTranspose1d(nn.Module):
    """A transposed conv (``.convtr``) followed by its normalisation (``.norm``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 norm: str = "none") -> None:
        super().__init__()
        conv_cls = WeightNormConvTranspose1d if norm == "weight_norm" else nn.ConvTranspose1d
        self.convtr = conv_cls(in_channels, out_channels, kernel_size, stride=stride)
        self.norm = _make_norm(norm, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.convtr(x))


def _make_norm(norm: str, channels: int) -> nn.Module:
    if norm == "time_group_norm":
        # One group: statistics over channels and time per item (the paper's "layer norm over time").
        return nn.GroupNorm(1, channels, eps=1e-5)
    if norm in ("weight_norm", "none"):
        return nn.Identity()
    raise ValueError(f"unknown norm {norm!r}; allowed: weight_norm, time_group_norm, none")


def fold_weight_norms(module: nn.Module) -> None:
    """Fold every weight-normalised conv under ``module`` for inference."""
    for child in module.modules():
        if isinstance(child, _WeightNormMixin):
            child.fold()
