"""Loss balancer of EnCodec (Défossez et al. 2022, Eq. 5), written from the paper and its §3.1 description.

Each generator loss ``ℓ_i`` is turned into a gradient ``g_i = ∂ℓ_i/∂x̂`` on the model *output* ``x̂``; the gradient
is rescaled to ``g̃_i = R · λ_i/Σλ · g_i / <‖g_i‖₂>_β`` and ``Σ g̃_i`` is backpropagated through the model. So
``λ_i`` fixes each loss's share of the gradient regardless of its natural scale, and ``R`` (``total_norm``) fixes
the overall size. ``<‖g_i‖₂>_β`` is a bias-corrected exponential moving average of the gradient norm.

The RVQ commitment loss is **not** balanced: it does not depend on ``x̂`` (it acts on the encoder through the
latents), so the training loop backpropagates ``penalty`` separately, with weight 1, before or after
:meth:`Balancer.backward`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import torch
from torch import Tensor
from torch import distributed as dist

__all__ = ["LOSS_WEIGHTS_24KHZ", "LOSS_WEIGHTS_48KHZ", "Balancer", "default_loss_weights"]

LOSS_WEIGHTS_24KHZ: Mapping[str, float] = MappingProxyType({"l1": 0.1, "mel": 1.0, "adv": 3.0, "feat": 3.0})
"""Paper weights at 24 kHz: λt (time L1), λf (multi-scale mel), λg (adversarial), λfeat (feature matching)."""
LOSS_WEIGHTS_48KHZ: Mapping[str, float] = MappingProxyType({"l1": 0.1, "mel": 1.0, "adv": 4.0, "feat": 4.0})
"""As :data:`LOSS_WEIGHTS_24KHZ` with λg = λfeat = 4, the paper's 48 kHz setting."""


def default_loss_weights(sample_rate: int) -> dict[str, float]:
    """The paper's balancer weights for a model at ``sample_rate`` Hz (48 kHz weights from 48 kHz up)."""
    return dict(LOSS_WEIGHTS_48KHZ if sample_rate >= 48_000 else LOSS_WEIGHTS_24KHZ)


class Balancer:
    """Backpropagates a weighted set of losses through the model output with normalised gradients (Eq. 5).

    Args:
        weights: ``λ_i`` per loss name (e.g. :data:`LOSS_WEIGHTS_24KHZ`); only these names are accepted.
        beta: EMA decay of the gradient norms (0.999 in the paper; 0 uses the current norm only).
        total_norm: ``R``, the norm the balanced gradient aims at (1 in the paper).
        per_item: norm of each batch item's gradient, averaged over the batch (the reference), instead of the norm
            of the whole batch's gradient.
        eps: added to the EMA norm before dividing.
        sync_ranks: average the norms over ``torch.distributed`` ranks when a process group is initialised (the
            reference does); a no-op in a single process.

    The ratio uses ``Σλ`` over the losses passed to each :meth:`backward` (or :meth:`gradient`) call, so a step
    without e.g. the adversarial losses shares the whole ``R`` among the others.
    """

    def __init__(self, weights: dict[str, float], beta: float = 0.999, total_norm: float = 1.0, per_item: bool = True,
                 eps: float = 1e-12, sync_ranks: bool = True) -> None:
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"weights must be non-negative with a positive sum, got {dict(weights)}")
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {beta}")
        if total_norm <= 0 or eps < 0:
            raise ValueError(f"total_norm must be positive and eps non-negative, got {total_norm} and {eps}")
        self.weights = dict(weights)
        self.beta = beta
        self.total_norm = total_norm
        self.per_item = per_item
        self.eps = eps
        self.sync_ranks = sync_ranks
        self._totals: dict[str, float] = {}  # EMA numerator: Σ β^k · norm
        self._fixes: dict[str, float] = {}  # EMA denominator: Σ β^k (bias correction)

    def _norm(self, grad: Tensor) -> Tensor:
        if self.per_item and grad.dim() > 1:
            return grad.flatten(1).norm(dim=1).mean()
        return grad.norm()

    def _update_ema(self, name: str, norm: float) -> float:
        self._totals[name] = self.beta * self._totals.get(name, 0.0) + norm
        self._fixes[name] = self.beta * self._fixes.get(name, 0.0) + 1.0
        return self._totals[name] / self._fixes[name]

    def _check(self, losses: dict[str, Tensor]) -> None:
        unknown = sorted(set(losses) - set(self.weights))
        if unknown:
            raise ValueError(f"losses {unknown} have no balancer weight; known: {sorted(self.weights)}")
        if not losses:
            raise ValueError("no losses to balance")
        for name, loss in losses.items():
            if loss.dim() != 0:
                raise ValueError(f"loss {name!r} must be a scalar, got shape {list(loss.shape)}")
        if sum(self.weights[name] for name in losses) <= 0:
            raise ValueError(f"the weights of {sorted(losses)} sum to zero")

    def gradient(self, losses: dict[str, Tensor], output: Tensor) -> tuple[Tensor, dict[str, float]]:
        """The balanced gradient ``Σ g̃_i`` on ``output`` (same shape) and each loss's norm, without backpropagating.

        For loops that backpropagate it themselves, e.g. in one ``torch.autograd.backward([output, penalty],
        [gradient, ones])`` call so that DistributedDataParallel synchronises once. Updates the EMA like
        :meth:`backward`. The loss graphs are kept (``retain_graph``): the model's part is still needed.

        When a ``torch.distributed`` process group is initialised and ``sync_ranks`` is on, the norms are averaged
        over the ranks (one small all-reduce), so every rank applies the same scales and keeps the same EMA state;
        every rank must then pass the same loss names.
        """
        self._check(losses)
        names = sorted(losses)  # same order on every rank for the all-reduce
        grads = []
        for name in names:
            (grad,) = torch.autograd.grad(losses[name], [output], retain_graph=True, allow_unused=True)
            grads.append(torch.zeros_like(output) if grad is None else grad)
        norm_tensor = torch.stack([self._norm(grad).detach().float() for grad in grads])
        if self.sync_ranks and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            dist.all_reduce(norm_tensor)
            norm_tensor /= dist.get_world_size()
        norms = dict(zip(names, norm_tensor.tolist(), strict=True))  # one device sync for all losses
        weight_sum = sum(self.weights[name] for name in names)
        balanced = torch.zeros_like(output)
        for name, grad in zip(names, grads, strict=True):
            average = self._update_ema(name, norms[name])
            balanced.add_(grad, alpha=self.weights[name] / weight_sum * self.total_norm / (self.eps + average))
        return balanced, norms

    def backward(self, losses: dict[str, Tensor], output: Tensor) -> dict[str, float]:
        """Backpropagate ``Σ g̃_i`` from ``output`` (the model's ``x̂``, e.g. ``[B, C, T]``) into the model.

        Args:
            losses: scalar losses by name, each a function of ``output``; names must be in ``weights``.
            output: the tensor the gradients are taken against; the model's parameters receive ``.grad``.

        Returns:
            Each loss's gradient norm ``‖g_i‖₂`` this step (per item and averaged, if ``per_item``), for logging.
        """
        balanced, norms = self.gradient(losses, output)
        output.backward(balanced)
        return norms

    def state_dict(self) -> dict[str, Any]:
        """The EMA state as plain floats (fine for ``torch.load(weights_only=True)``); resumed runs continue exactly."""
        return {"beta": self.beta, "totals": dict(self._totals), "fixes": dict(self._fixes)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the configured weights and beta stay those of the constructor."""
        totals, fixes = dict(state["totals"]), dict(state["fixes"])
        if set(totals) != set(fixes) or not set(totals) <= set(self.weights):
            raise ValueError(f"balancer state for {sorted(totals)} does not match weights {sorted(self.weights)}")
        self._totals = {name: float(v) for name, v in totals.items()}
        self._fixes = {name: float(v) for name, v in fixes.items()}
