"""The training loop: the same code on the CPU, one GPU, and many GPUs through ``torchrun``.

Every random choice is reproducible: data items are a pure function of (seed, index), per-step choices of
(seed, step), and torch's own generator (k-means init, dead-code replacement) is saved in checkpoints, so a run
stopped and resumed ends with exactly the weights of a run that never stopped (on the CPU).
"""

from __future__ import annotations

import copy
import math
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from codec.model.encodec import EncodecModel, build_model
from codec.training import state as checkpoints
from codec.training.balancer import Balancer
from codec.training.config import TrainConfig
from codec.training.data import TrainingCrops
from codec.training.discriminator import MultiScaleSTFTDiscriminator
from codec.training.distributed import DistContext, all_reduce_gradients, broadcast_flag
from codec.training.export import export_model
from codec.training.init import he_init_
from codec.training.logger import TrainingLogger
from codec.training.losses import MultiScaleMelLoss
from codec.training.steps import (
    backward_generator,
    discriminator_loss,
    generator_losses,
    plan_step,
    update_ema,
)
from codec.training.validation import selection_score, validate


class Trainer:
    """Owns the model, discriminators, optimisers and balancer of one run, and its checkpoints in ``out_dir``."""

    def __init__(self, config: TrainConfig, context: DistContext | None = None, show_progress: bool = True) -> None:
        self.config = config
        self.context = context or DistContext()
        self.out_dir = Path(config.out_dir)
        self.device = self.context.device
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.model_config = config.model.build_config()
        self.model: EncodecModel = build_model(self.model_config).to(self.device).train()
        if config.model.init == "he":
            he_init_(self.model)
        elif config.model.init != "torch":
            raise ValueError(f"model.init={config.model.init!r}: expected 'he' or 'torch'")
        if config.init_from:
            self._init_weights(Path(config.init_from))
        self.ema = copy.deepcopy(self.model) if config.optim.ema_decay else None
        self.discriminators = self._build_discriminators().to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.optim.lr, betas=config.optim.betas)
        self.disc_optimizer = torch.optim.Adam(self.discriminators.parameters(), lr=config.optim.lr,
                                               betas=config.optim.betas) if len(self.discriminators) else None
        weights = {k: v for k, v in config.loss.weights.items() if config.loss.adversarial or k in ("l1", "mel")}
        self.balancer = Balancer(weights, beta=config.loss.balancer_beta) if config.loss.balancer else None
        self.mel_loss = MultiScaleMelLoss(self.model_config.sample_rate).to(self.device)
        self.train_data = TrainingCrops(config.data, "train")
        self._valid_clips: torch.Tensor | None = None
        self.step = 0
        self.best_score = -math.inf
        self.network: nn.Module = self.model
        if self.context.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = DistributedDataParallel(self.model, device_ids=ids)
        if config.compile and self.device.type == "cuda":
            # Pays on GPUs (fused elementwise kernels); on the CPU compile time outweighs the gain for short runs.
            self.network = torch.compile(self.network)  # type: ignore[assignment]
        self.show_progress = show_progress
        self.logger: TrainingLogger | None = None

    # ----------------------------------------------------------------------------------------------- set-up
    def _build_discriminators(self) -> nn.ModuleDict:
        """One discriminator per bandwidth (paper §3.4), or one shared, or none without adversarial losses."""
        if not self.config.loss.adversarial:
            return nn.ModuleDict()
        keys = [_key(b) for b in self.model_config.bitrates_kbps] if self.config.loss.discriminator_per_bandwidth \
            else ["shared"]
        return nn.ModuleDict({k: MultiScaleSTFTDiscriminator(filters=self.config.loss.discriminator_filters,
                                                             channels=self.model_config.channels) for k in keys})

    def _discriminator_for(self, bitrate_kbps: float) -> MultiScaleSTFTDiscriminator:
        key = _key(bitrate_kbps) if self.config.loss.discriminator_per_bandwidth else "shared"
        return self.discriminators[key]  # type: ignore[return-value]

    def _init_weights(self, path: Path) -> None:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            weights = load_file(str(path))
        else:
            weights = checkpoints.generator_weights(path)
        self.model.load_state_dict(weights, strict=True)

    # ----------------------------------------------------------------------------------------------- the loop
    def batches(self, start_step: int):  # type: ignore[no-untyped-def]
        """Batches ``[B, C, T]`` from ``start_step`` on: item indices depend only on (step, rank), so a resumed run
        and every rank draw the data an uninterrupted run would."""
        loader = torch.utils.data.DataLoader(
            self.train_data, batch_sampler=_StepBatches(start_step, self.config.batch_size, self.context),
            num_workers=self.config.num_workers, pin_memory=self.device.type == "cuda")
        return iter(loader)

    def fit(self) -> Path | None:
        """Train until ``steps`` or the time budget; returns the exported model file (rank 0) or None."""
        started = time.monotonic()
        if self.context.is_main:
            self.logger = TrainingLogger(self.out_dir, self.config.steps, self.step, self.show_progress)
        if self.step == 0:
            self.run_validation()  # the starting point of the validation curve
        batches = self.batches(self.step)
        budget = self.config.time_budget_s
        while self.step < self.config.steps:
            metrics = self.train_step(next(batches).to(self.device, non_blocking=True))
            self.step += 1
            self._after_step(metrics)
            over_budget = budget is not None and time.monotonic() - started > budget
            if broadcast_flag(over_budget, self.context):
                break
        return self.finish()

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        """One optimisation step on ``x`` ``[B, C, T]``; returns the logged values."""
        plan = plan_step(self.config.seed, self.step, self.model_config.bitrates_kbps, self.config.loss)
        with self._autocast():
            x_hat, quantized = self.network(x, plan.bitrate_kbps, self.config.loss.fix_commitment_gradient)
        x_hat = x_hat.float()
        logged: dict[str, float] = {"bitrate_kbps": plan.bitrate_kbps}
        discriminator = self._discriminator_for(plan.bitrate_kbps) if plan.adversarial else None
        if discriminator is not None and plan.update_discriminator:
            logged["d_loss"] = self._discriminator_step(discriminator, x, x_hat)
        losses = generator_losses(x, x_hat, self.mel_loss, discriminator)
        self.optimizer.zero_grad(set_to_none=True)
        norms = backward_generator(losses, x_hat, quantized.penalty, self.config.loss, self.balancer)
        if self.config.optim.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.optim.grad_clip)
        self.optimizer.step()
        if self.ema is not None:
            update_ema(self.ema, self.model, self.config.optim.ema_decay or 0.0)
        logged.update({name: float(value.detach()) for name, value in losses.items()})
        logged["commitment"] = float(quantized.penalty.detach())
        logged.update({f"gradnorm_{k}": v for k, v in norms.items()})
        return logged

    def _discriminator_step(self, discriminator: MultiScaleSTFTDiscriminator, x: torch.Tensor,
                            x_hat: torch.Tensor) -> float:
        if self.disc_optimizer is None:
            raise RuntimeError("a discriminator step without discriminators")
        self.disc_optimizer.zero_grad(set_to_none=True)
        loss = discriminator_loss(discriminator, x, x_hat)
        loss.backward()
        all_reduce_gradients(discriminator, self.context)
        self.disc_optimizer.step()
        return float(loss.detach())

    def _autocast(self) -> Any:
        if self.config.precision == "bf16" and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def _after_step(self, metrics: dict[str, float]) -> None:
        if self.logger is not None:
            self.logger.advance(self.step, {k: v for k, v in metrics.items() if k in ("mel", "l1", "adv")})
            if self.step % self.config.log_every_steps == 0:
                self.logger.log("train", self.step, metrics)
        if self.step % self.config.validation.every_steps == 0:
            self.run_validation()
        if self.step % self.config.checkpoint_every_steps == 0:
            self.save()

    def finish(self) -> Path | None:
        """Final validation, checkpoint and export (rank 0), then close the logs."""
        if self.step % self.config.validation.every_steps != 0:
            self.run_validation()
        self.save()
        exported = self.export(self.out_dir / "model.safetensors") if self.context.is_main else None
        if self.logger is not None:
            self.logger.close()
        return exported

    # ----------------------------------------------------------------------------------------------- validation
    def validation_clips(self) -> torch.Tensor:
        if self._valid_clips is None:
            crops = TrainingCrops(self.config.data, "valid")
            self._valid_clips = torch.stack([crops[i] for i in range(len(crops))])
        return self._valid_clips

    def run_validation(self) -> dict[str, float] | None:
        """Score the EMA (or live) weights on the validation crops; keep ``best.pt`` by the selection metric."""
        if not self.context.is_main:
            return None
        model = self.ema if self.ema is not None else self.model
        bitrates = [b for b in self.config.validation.bitrates_kbps if b in self.model_config.bitrates_kbps]
        metrics = validate(model, self.validation_clips(), bitrates, self.config.validation.visqol_clips)
        if self.logger is not None:
            self.logger.log("valid", self.step, metrics)
        score = selection_score(metrics, self.config.validation.selection_metric)
        if math.isfinite(score) and score > self.best_score:
            self.best_score = score
            checkpoints.save_state(self.out_dir / checkpoints.BEST, self.state_dict())
        if self.config.validation.keep_snapshots:
            checkpoints.save_state(self.out_dir / "snapshots" / f"step_{self.step}.pt", self.state_dict())
        return metrics

    # ----------------------------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "config": self.config.to_dict(),
            "model_config": self.model_config.to_dict(),
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "discriminators": self.discriminators.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "disc_optimizer": self.disc_optimizer.state_dict() if self.disc_optimizer is not None else None,
            "balancer": self.balancer.state_dict() if self.balancer is not None else None,
            "best_score": self.best_score,
            "rng": checkpoints.rng_state(),
        }

    def save(self) -> Path | None:
        if not self.context.is_main:
            return None
        return checkpoints.save_state(self.out_dir / checkpoints.LAST, self.state_dict())

    def resume(self, path: Path | None = None) -> bool:
        """Continue from ``path`` (default ``out_dir/last.pt``) when it exists; True if it did."""
        path = path or self.out_dir / checkpoints.LAST
        if not path.exists():
            return False
        state = checkpoints.load_state(path, map_location=self.device)
        self.model.load_state_dict(state["model"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        # A warm-up run without discriminators may resume into an adversarial one: they then start fresh.
        if self.disc_optimizer is not None and state.get("disc_optimizer") is not None:
            self.discriminators.load_state_dict(state["discriminators"])
            self.disc_optimizer.load_state_dict(state["disc_optimizer"])
        if self.balancer is not None and state.get("balancer") is not None:
            self.balancer.load_state_dict(state["balancer"])
        self.step = int(state["step"])
        self.best_score = float(state.get("best_score", -math.inf))
        checkpoints.restore_rng(state["rng"])
        return True

    def export(self, path: Path) -> Path:
        """Write the inference model (EMA weights when kept) in the format the app and CLI load."""
        model = self.ema if self.ema is not None else self.model
        return export_model(model, path, self.config.to_dict(), self.step, self.context.world_size)


class _StepBatches:
    """Index batches for a virtual dataset: batch ``s`` of rank ``r`` holds items ``((s·W + r)·B + i)``."""

    def __init__(self, start_step: int, batch_size: int, context: DistContext) -> None:
        self.start_step = start_step
        self.batch_size = batch_size
        self.context = context

    def __iter__(self):  # type: ignore[no-untyped-def]
        step = self.start_step
        while True:
            first = (step * self.context.world_size + self.context.rank) * self.batch_size
            yield list(range(first, first + self.batch_size))
            step += 1

    def __len__(self) -> int:
        return 1 << 62


def _key(bitrate_kbps: float) -> str:
    return f"{bitrate_kbps:g}".replace(".", "_")
