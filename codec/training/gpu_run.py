"""One prepared training run for a machine lent for a fixed time: no network, no installs, a wall-clock budget.

    python -m codec.training.gpu_run --corpus /path/to/corpus --budget-min 10 --out $OUT \
        [--init-from resources/models/earbench_24khz.safetensors] [--set batch_size=64]

Uses every GPU it finds (``torchrun`` for more than one), the ``small`` model and ``gpu`` overrides, trains until
the budget is spent, and leaves in ``--out`` only files small enough to bring back: the exported last and best
models, the CSV logs and ``summary.json`` (steps, steps/s, audio seconds/s, best validation metrics, device).
``--device cpu`` runs the same script here at small size, which is how it is tested before it travels.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

from codec.training.logger import read_csv

CONFIGS = Path(__file__).parent / "configs"
MAX_FILE_BYTES = 16 << 20  # what a lent machine's output folder brings back per file


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)  # the summary is written even when training fails at once
    run_dir = out / "run"
    manifest = Path(args.corpus)
    if manifest.is_dir() and (manifest / "manifest.json").exists():
        manifest = manifest / "manifest.json"
    overrides = [f"data.manifest={manifest}", f"out_dir={run_dir}", f"device={args.device}",
                 f"time_budget_s={args.budget_min * 60:.0f}", *args.set]
    if args.init_from:
        overrides.append(f"init_from={args.init_from}")
    configs = [CONFIGS / "base.yaml", CONFIGS / "small.yaml"]
    if args.device != "cpu":
        configs.append(CONFIGS / "gpu.yaml")
    configs += [Path(c) for c in args.config]
    command = [sys.executable, "-m", "codec.training", "train", "--no-resume"]
    gpus = torch.cuda.device_count() if args.device != "cpu" else 0
    if gpus > 1:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}",
                   "-m", "codec.training", "train", "--no-resume"]
    for config in configs:
        command += ["--config", str(config)]
    for override in overrides:
        command += ["--set", override]
    started = time.monotonic()
    result = subprocess.run(command, check=False)
    wall_s = time.monotonic() - started
    summary = collect(run_dir, out, wall_s, max(gpus, 1))
    summary["returncode"] = result.returncode
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return result.returncode


def collect(run_dir: Path, out: Path, wall_s: float, world_size: int) -> dict[str, object]:
    """Export best and last models next to the logs and summarise throughput and validation."""
    from codec.training.config import from_dict
    from codec.training.export import export_checkpoint
    from codec.training.state import BEST, LAST, load_state

    summary: dict[str, object] = {"wall_s": round(wall_s, 1), "world_size": world_size,
                                  "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}
    for name, exported in ((LAST, "model_last.safetensors"), (BEST, "model_best.safetensors")):
        if (run_dir / name).exists():
            export_checkpoint(run_dir / name, out / exported)
    for log in ("train.csv", "valid.csv"):
        if (run_dir / log).exists():
            shutil.copy(run_dir / log, out / log)
    if (run_dir / LAST).exists():
        state = load_state(run_dir / LAST)
        config = from_dict(state["config"])
        rows = read_csv(run_dir / "train.csv") if (run_dir / "train.csv").exists() else []
        summary.update(_throughput(rows, config.batch_size * world_size, config.data.segment_s))
        summary["steps"] = int(state["step"])
        summary["config"] = state["config"]
    if (run_dir / "valid.csv").exists():
        valid = read_csv(run_dir / "valid.csv")
        summary["validation_first"] = valid[0] if valid else None
        summary["validation_last"] = valid[-1] if valid else None
    too_large = [p.name for p in out.iterdir() if p.is_file() and p.stat().st_size > MAX_FILE_BYTES]
    summary["too_large_to_return"] = too_large
    return summary


def _throughput(rows: list[dict[str, str]], global_batch: int, segment_s: float) -> dict[str, float]:
    """Steps/s and audio seconds/s over the logged steps (the first logged row is the warm-up, left out)."""
    if len(rows) < 3:
        return {}
    first, last = rows[1], rows[-1]
    steps = int(last["step"]) - int(first["step"])
    seconds = float(last["wall_s"]) - float(first["wall_s"])
    if steps <= 0 or seconds <= 0:
        return {}
    steps_per_s = steps / seconds
    return {"steps_per_s": round(steps_per_s, 3), "audio_s_per_s": round(steps_per_s * global_batch * segment_s, 1)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m codec.training.gpu_run", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True, help="a corpus folder with manifest.json, or a folder of audio")
    parser.add_argument("--budget-min", type=float, required=True, help="wall-clock training budget in minutes")
    parser.add_argument("--out", required=True, help="output folder (exported models, logs, summary.json)")
    parser.add_argument("--init-from", help="start from these weights (model file or training checkpoint)")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--config", action="append", default=[], help="extra YAML override files")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    return parser


if __name__ == "__main__":
    sys.exit(main())
