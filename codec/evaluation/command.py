"""``python -m codec eval``: score conditions against references over files and folders, print and save a table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from codec.errors import CodecError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``eval`` subcommand."""
    from codec.evaluation.metrics import ALL_METRICS

    parser = sub.add_parser("eval", help="score conditions (codec bitrates, Opus, MP3, anchors) against references")
    parser.add_argument("inputs", nargs="+", type=Path, help="audio files or folders (searched recursively)")
    parser.add_argument("--condition", "-c", action="append", required=True, dest="conditions",
                        help="MODEL@KBPS, opus@KBPS, mp3@KBPS, vorbis@KBPS, anchor@3.5, anchor@7 or reference; "
                             "repeat for each condition")
    parser.add_argument("--metrics", nargs="+", default=list(ALL_METRICS), choices=ALL_METRICS,
                        help="metrics to compute (default: all)")
    parser.add_argument("--content", choices=("speech", "music", "unknown"), default="unknown",
                        help="what the files hold: PESQ and STOI are skipped for music, flagged for unknown")
    parser.add_argument("--json", type=Path, help="write every record and the summary as JSON")
    parser.add_argument("--csv", type=Path, help="write one row per (file, condition) as CSV")


def audio_files(inputs: list[Path]) -> list[Path]:
    """The audio files named, or found under the folders named, in a stable order."""
    found: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise CodecError(f"{path}: no such file or folder")
    if not found:
        raise CodecError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {', '.join(map(str, inputs))}")
    return found


def _items(files: list[Path]) -> Iterator[tuple[str, np.ndarray, int]]:
    from codec.audio import read_audio

    for path in files:
        audio, sample_rate = read_audio(path)
        yield str(path), audio, sample_rate


def run(args: argparse.Namespace) -> None:
    """Execute ``eval``: table on stdout, optional JSON and CSV files."""
    from tqdm import tqdm

    from codec.api import Codec, load_codec
    from codec.evaluation.conditions import parse_condition
    from codec.evaluation.metrics import compute_metrics
    from codec.evaluation.report import evaluate, format_table, summarise, write_csv, write_json

    specs = [parse_condition(c) for c in args.conditions]
    files = audio_files(args.inputs)
    codecs: dict[str, Codec] = {}

    def loader(name: str) -> Codec:
        if name not in codecs:
            codecs[name] = load_codec(name)
        return codecs[name]

    def metric_fn(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> dict[str, float | None]:
        values = compute_metrics(reference, degraded, sample_rate, content=args.content, metrics=args.metrics)
        return {name: result.value for name, result in values.items()}

    bar = tqdm(total=len(files) * len(specs), desc="eval", unit="pair", file=sys.stderr, leave=False)
    try:
        records = evaluate(_items(files), specs, metric_fn, loader,
                           progress=lambda done, total: bar.update(done - bar.n))
    finally:
        bar.close()
    summaries = summarise(records)
    print(f"{len(files)} file(s), content: {args.content}; mean ± half-width of the 95% CI over files")
    print(format_table(summaries, args.metrics))
    if args.json:
        write_json(args.json, records, summaries)
    if args.csv:
        write_csv(args.csv, records, args.metrics)
