"""Evaluate a model against Opus and MP3 on the held-out set, in one run per content kind, through `codec eval`.

    .venv/bin/python benchmarks/evaluate_default_model.py --model resources/models/earbench_24khz.safetensors \
        --eval-set /work/data/eval --write

The held-out set comes from `benchmarks/build_eval_set.py` (packages reserved for evaluation, never trained or
tuned on). Writes the raw JSON next to the model (`<model>.eval.json`), and with ``--write`` the table into the
model card (``MODEL_CARD.md`` beside the model) and into docs/evaluation.md, between marker comments.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_KBPS = (1.5, 3.0, 6.0, 12.0, 24.0)
REFERENCE_KBPS = (6.0, 12.0, 24.0)
MP3_KBPS = (8.0, 12.0, 24.0)  # LAME's lowest MP3 bitrate is 8 kbps: its lowest row stands in for 6
METRICS = ("visqol", "mel_distance", "si_sdr")
BEGIN, END = "<!-- eval:begin -->", "<!-- eval:end -->"


def run_eval(model: Path, folder: Path, content: str) -> dict:
    """One `python -m codec eval` run over ``folder``: our model at every bitrate, Opus and MP3 beside it."""
    conditions = [f"{model}@{b:g}" for b in MODEL_KBPS]
    conditions += [f"opus@{b:g}" for b in REFERENCE_KBPS] + [f"mp3@{b:g}" for b in MP3_KBPS]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "eval.json"
        command = [sys.executable, "-m", "codec", "eval", str(folder), "--content", content, "--json", str(out),
                   "--metrics", *METRICS]
        for condition in conditions:
            command += ["-c", condition]
        subprocess.run(command, check=True)
        return json.loads(out.read_text())


def table(results: dict[str, dict], model: Path) -> str:
    """Markdown: one row per condition, per content kind the three metrics (mean ± 95% CI half-width)."""
    kinds = list(results)
    header = "| condition | kbps (achieved) | " + " | ".join(
        f"{kind} ViSQOL | {kind} mel dist. | {kind} SI-SDR dB" for kind in kinds) + " |"
    lines = [header, "|" + "---|" * (2 + 3 * len(kinds))]
    rows: dict[str, list[str]] = {}
    for kind in kinds:
        for summary in results[kind]["summary"]:
            label = summary["condition"].replace(str(model), "ours")
            cells = rows.setdefault(label, [label, _kbps(summary)])
            for metric in METRICS:
                cells.append(_cell(summary["metrics"].get(metric)))
    lines += ["| " + " | ".join(cells) + " |" for cells in rows.values()]
    return "\n".join(lines)


def _kbps(summary: dict) -> str:
    achieved = summary.get("achieved_kbps")
    return f"{summary['requested_kbps']:g} ({achieved:.1f})" if achieved else f"{summary['requested_kbps']:g}"


def _cell(value: list | None) -> str:
    if not value or value[0] is None:
        return "n/a"
    mean, low, high, _count = value
    if low is None or high is None:
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {(high - low) / 2:.2f}"


def replace_section(path: Path, body: str, title: str) -> None:
    """Put ``body`` between the markers in ``path`` (appending a titled section with them if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN not in text:
        text = text.rstrip() + f"\n\n## {title}\n\n{BEGIN}\n{END}\n"
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n" + body + "\n" + text[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--eval-set", type=Path, default=Path("/work/data/eval"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    results = {kind: run_eval(args.model, args.eval_set / kind, kind) for kind in ("speech", "music")}
    args.model.with_suffix(".eval.json").write_text(json.dumps(results, indent=1))
    manifest = json.loads((args.eval_set / "manifest.json").read_text())
    counts = {kind: sum(1 for f in manifest["files"] if f["kind"] == kind) for kind in ("speech", "music")}
    # A mono model codes each channel of a stereo file as its own stream (twice the bits), while Opus and MP3
    # code both within the rate asked for: say when the set was mixed down so that every row spends its rate.
    downmix = (", mixed down to mono, since the model is mono: a stereo file would cost it twice the bits, while "
               "Opus and MP3 code both channels within the requested rate") if manifest.get("mono_downmix") else ""
    body = (f"`benchmarks/evaluate_default_model.py` → `python -m codec eval` on the held-out set "
            f"({counts['speech']} speech clips, {counts['music']} music excerpts from packages reserved for "
            f"evaluation{downmix}), one run per kind with every condition; mean ± half-width of the 95% CI over files. "
            "ViSQOL v3 audio mode against the full-band original at 48 kHz (higher is better); mel distance "
            "(lower is better); SI-SDR in dB (higher is better). MP3 starts at 8 kbps, LAME's lowest bitrate.\n\n"
            + table(results, args.model))
    print(body)
    if args.write:
        replace_section(args.model.parent / "MODEL_CARD.md", body, "Evaluation")
        replace_section(ROOT / "docs" / "evaluation.md", body, "The default model against Opus and MP3")


if __name__ == "__main__":
    main()
