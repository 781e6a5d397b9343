"""``python -m codec.training``: train (CPU, one GPU, or under ``torchrun``), resume and export.

    python -m codec.training train --config codec/training/configs/base.yaml --set out_dir=runs/a
    torchrun --nproc_per_node 8 -m codec.training train --config ... --config codec/training/configs/gpu.yaml
    python -m codec.training export runs/a/best.pt resources/models/earbench_24khz.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codec.errors import CodecError
from codec.training.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codec.training", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model (resumes from out_dir/last.pt when it exists)")
    train.add_argument("--config", action="append", default=[], help="YAML config; later files override earlier")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one key")
    train.add_argument("--no-resume", action="store_true", help="start over even if out_dir has a checkpoint")
    export = sub.add_parser("export", help="write a training checkpoint's model in the app's model format")
    export.add_argument("checkpoint", type=Path)
    export.add_argument("output", type=Path)
    export.add_argument("--name", help="model name to store (default: the name in the training config)")
    export.add_argument("--half", action="store_true", help="store float16 weights (half the file size)")
    select = sub.add_parser("select", help="re-score checkpoints on more and longer validation crops; print the best")
    select.add_argument("checkpoints", type=Path, nargs="+")
    select.add_argument("--items", type=int, default=16, help="validation crops (ViSQOL on all of them)")
    select.add_argument("--segment-s", type=float, default=3.0, help="length of each crop in seconds")
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "select":
            return _select(args.checkpoints, args.items, args.segment_s)
        return _export(args.checkpoint, args.output, args.name, args.half)
    except (ConfigError, CodecError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    from codec.training.distributed import init_distributed, shutdown
    from codec.training.trainer import Trainer

    config = load_config(args.config, args.set)
    context = init_distributed(config.device)
    try:
        trainer = Trainer(config, context)
        if not args.no_resume and trainer.resume():
            print(f"resumed at step {trainer.step}", file=sys.stderr)
        exported = trainer.fit()
        if exported is not None:
            print(f"exported {exported}")
    finally:
        shutdown(context)
    return 0


def _select(checkpoints: list[Path], items: int, segment_s: float) -> int:
    from codec.training.select import select_best

    best, scored = select_best(checkpoints, items, segment_s)
    print("checkpoint,step,visqol,mel,sisdr," + ",".join(f"visqol_{b:g}" for b in (1.5, 6.0, 24.0)))
    for path, m in scored:
        per_rate = ",".join(f"{m[f'visqol_{b:g}']:.3f}" for b in (1.5, 6.0, 24.0))
        print(f"{path},{m['step']:.0f},{m['visqol']:.3f},{m['mel']:.3f},{m['sisdr']:.2f},{per_rate}")
    print(f"best: {best}")
    return 0


def _export(checkpoint: Path, output: Path, name: str | None, half: bool) -> int:
    from codec.training.export import export_checkpoint

    print(f"exported {export_checkpoint(checkpoint, output, name, half)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
