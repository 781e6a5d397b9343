"""Training throughput on this machine: steps/s and audio seconds/s for the model sizes and loss sets we use.

    .venv/bin/python benchmarks/training_throughput.py --manifest /work/data/corpus/manifest.json --steps 20

Times ``Trainer.train_step`` only (data loading included, validation and checkpoints excluded), after two warm-up
steps that include k-means initialisation. Prints a table and, with ``--write``, replaces the throughput section
of docs/training.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from codec.training.config import load_config
from codec.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "codec" / "training" / "configs"
DOC = ROOT / "docs" / "training.md"
BEGIN, END = "<!-- throughput:begin -->", "<!-- throughput:end -->"

CASES = [
    ("small (16 filters), reconstruction only", ["small.yaml"], ["loss.adversarial=false"]),
    ("small (16 filters), with discriminator", ["small.yaml"], ["loss.discriminator_probability=1.0"]),
    ("official size (32 filters), reconstruction only", [], ["loss.adversarial=false", "batch_size=8"]),
    ("official size (32 filters), with discriminator", [], ["loss.discriminator_probability=1.0", "batch_size=8"]),
]


def measure(manifest: str, files: list[str], overrides: list[str], steps: int, threads: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        config = load_config([CONFIGS / "base.yaml", *(CONFIGS / f for f in files)], [
            f"data.manifest={manifest}", f"out_dir={out}", f"threads={threads}", "device=cpu", *overrides])
        trainer = Trainer(config, show_progress=False)
        batches = trainer.batches(0)
        for _ in range(2):
            trainer.train_step(next(batches))
            trainer.step += 1
        started = time.perf_counter()
        for _ in range(steps):
            trainer.train_step(next(batches))
            trainer.step += 1
        elapsed = time.perf_counter() - started
        params = sum(p.numel() for p in trainer.model.parameters())
    steps_per_s = steps / elapsed
    return {"params_m": params / 1e6, "batch": config.batch_size, "steps_per_s": steps_per_s,
            "audio_s_per_s": steps_per_s * config.batch_size * config.data.segment_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", default="/work/data/corpus/manifest.json")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the table into docs/training.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = [f"Measured by `benchmarks/training_throughput.py --steps {args.steps} --threads {args.threads}` on "
             f"{os.cpu_count()} CPU cores (torch {torch.__version__}, load average {load:.1f} at the start; other "
             "work on the machine slows these figures down), 1 s crops at 24 kHz:", "",
             "| configuration | params (M) | batch | steps/s | audio s/s |", "|---|---|---|---|---|"]
    for name, files, overrides in CASES:
        result = measure(args.manifest, files, overrides, args.steps, args.threads)
        line = (f"| {name} | {result['params_m']:.2f} | {result['batch']} | {result['steps_per_s']:.2f} | "
                f"{result['audio_s_per_s']:.1f} |")
        print(line, flush=True)
        lines.append(line)
    if args.write:
        text = DOC.read_text(encoding="utf-8")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        DOC.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
