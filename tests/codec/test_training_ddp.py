"""Two training processes on the CPU (gloo), as ``torchrun`` would start them: ranks stay in lock-step."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp
from test_training_loop import write_clips

from codec.training.config import load_config
from codec.training.distributed import init_distributed, shutdown
from codec.training.trainer import Trainer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _digest(module: torch.nn.Module) -> str:
    """Of the parameters: codebooks are buffers that DDP broadcasts from rank 0 before each forward, and each rank's
    last EMA step after that is local until the next broadcast."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.named_parameters()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _rank_main(rank: int, world_size: int, port: int, out: str, data: str) -> None:
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    config = load_config([Path("codec/training/configs/base.yaml")], [
        f"data.manifest={data}", "data.segment_s=0.5", "data.valid_items=2", "model.n_filters=4",
        "model.lstm_layers=1", "model.dimension=32", "batch_size=2", "steps=3", "threads=1", "device=cpu",
        "validation.visqol_clips=0", "validation.bitrates_kbps=[6.0]", "validation.selection_metric=mel",
        "loss.discriminator_filters=4", "loss.discriminator_probability=1.0", f"out_dir={out}/run"])
    context = init_distributed("cpu")
    try:
        trainer = Trainer(config, context, show_progress=False)
        first_batch = next(trainer.batches(0))
        trainer.fit()
        Path(out, f"rank{rank}.txt").write_text(
            f"{_digest(trainer.model)} {_digest(trainer.discriminators)} {float(first_batch.sum()):.6f}")
    finally:
        shutdown(context)


def test_two_ranks_keep_identical_weights_on_different_data(tmp_path: Path) -> None:
    data = write_clips(tmp_path / "clips")
    mp.spawn(_rank_main, args=(2, _free_port(), str(tmp_path), str(data)), nprocs=2, join=True)
    model0, disc0, batch0 = (tmp_path / "rank0.txt").read_text().split()
    model1, disc1, batch1 = (tmp_path / "rank1.txt").read_text().split()
    assert model0 == model1, "DDP must keep the generator identical on every rank"
    assert disc0 == disc1, "discriminator gradients are averaged over ranks"
    assert batch0 != batch1, "each rank trains on its own share of the data"
    assert (tmp_path / "run" / "model.safetensors").exists()
    assert (tmp_path / "run" / "last.pt").exists()
