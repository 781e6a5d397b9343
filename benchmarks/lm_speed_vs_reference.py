"""Speed of our LM entropy coding against the reference ``encodec`` 0.1.1, same weights, same input, same threads.

For each preset (24 kHz mono at 6 kbps and 48 kHz stereo at 12 kbps by default), a reference model with random
weights (codebooks drawn from its latents) and a random LM (fixed seed) are loaded into ours. The reference's
``compress(..., use_lm=True)`` and ``decompress`` run offline by pointing its model table and ``get_lm_model`` at
them; ours is ``Codec.encode`` + ``write_ecdc`` with the LM, then ``read_ecdc`` + ``Codec.decode``. The ``.ecdc``
bytes must be identical and the decoded audio within 1e-4 (the script stops otherwise). Times are the best of
``--repeats`` runs under ``torch.inference_mode``, reference and ours alternating.

The reference is a test oracle (CC BY-NC 4.0): it is imported here and in tests only, never by ``codec``.

Usage: ``python benchmarks/lm_speed_vs_reference.py --seconds 10 --threads 1 --out docs/lm_benchmark.md``
(``--case encodec_24khz@3`` to choose presets and bitrates).
"""

from __future__ import annotations

import argparse
import datetime
import io
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from lm_step_costs import CONFIGS, ours, reference_setup, step_costs

from codec.ecdc import read_ecdc, write_ecdc
from codec.testing import synthetic_signal

DEFAULT_CASES = ("encodec_24khz@6", "encodec_48khz@12")
AUDIO_TOLERANCE = 1e-4


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(preset: str, seconds: float, bitrate: float, threads: int, repeats: int) -> dict[str, float]:
    """Best times (s) of both sides' encode and decode, the file size and the largest audio difference."""
    torch.set_num_threads(threads)
    encodec, ref, ref_lm = reference_setup(preset)
    codec, lm = ours(preset, ref, ref_lm, threads)
    rate = codec.sample_rate
    x = synthetic_signal(codec.model.config.channels, int(seconds * rate), rate, seed=1)[0]
    ref.set_target_bandwidth(bitrate)
    best = {"ref_encode": float("inf"), "ref_decode": float("inf"), "our_encode": float("inf"),
            "our_decode": float("inf"), "bytes": 0.0, "max_diff": 0.0}

    def our_encode() -> bytes:
        buffer = io.BytesIO()
        write_ecdc(buffer, codec.encode(x.numpy(), rate, bitrate), lm)
        return buffer.getvalue()

    def our_decode(data: bytes) -> object:
        return codec.decode(read_ecdc(io.BytesIO(data), lambda name: codec, lambda name: lm))

    with torch.inference_mode():
        for _ in range(repeats):
            t, ref_bytes = _timed(lambda: encodec.compress(ref, x, use_lm=True))
            best["ref_encode"] = min(best["ref_encode"], t)
            t, our_bytes = _timed(our_encode)
            best["our_encode"] = min(best["our_encode"], t)
            if our_bytes != ref_bytes:
                raise SystemExit(f"{preset} {seconds:g} s at {bitrate:g} kbps: .ecdc bytes differ from the reference's")
            t, (ref_audio, _) = _timed(lambda: encodec.decompress(ref_bytes))  # type: ignore[misc] # noqa: B023
            best["ref_decode"] = min(best["ref_decode"], t)
            t, our_audio = _timed(lambda: our_decode(our_bytes))  # noqa: B023
            best["our_decode"] = min(best["our_decode"], t)
            diff = float(abs(ref_audio.numpy() - our_audio).max())  # type: ignore[operator]
            best["max_diff"] = max(best["max_diff"], diff)
            best["bytes"] = float(len(our_bytes))
    if best["max_diff"] > AUDIO_TOLERANCE:
        raise SystemExit(f"{preset}: decoded audio differs by {best['max_diff']:.2e} > {AUDIO_TOLERANCE}")
    return best


def row(preset: str, bitrate: float, seconds: float, threads: int, result: dict[str, float]) -> str:
    """One row of the whole-file table."""
    ref_total = result["ref_encode"] + result["ref_decode"]
    our_total = result["our_encode"] + result["our_decode"]
    return (f"| {preset} | {seconds:g} s | {bitrate:g} kbps | {threads} | {int(result['bytes'])} B "
            f"| {result['ref_encode']:.2f} / {result['our_encode']:.2f} "
            f"| {result['ref_decode']:.2f} / {result['our_decode']:.2f} | {ref_total:.2f} / {our_total:.2f} "
            f"| {ref_total / our_total:.2f}x | {our_total / seconds:.2f} | identical | {result['max_diff']:.1e} |")


def step_row(preset: str, costs: dict[str, Any], result: dict[str, float], seconds: float,
             num_codebooks: int) -> str:
    """One row of the per-step table, with what a 10x faster whole file would leave each decoding step even if
    encoding and the model took no time at all."""
    frames = seconds * CONFIGS[preset]().frame_rate
    budget = (result["ref_encode"] + result["ref_decode"]) / 10 / frames * 1e3
    return (f"| {preset} | {num_codebooks} | {costs['window']} "
            f"| {costs['ref_step']:.2f} / {costs['our_step']:.2f} "
            f"| {costs['ref_step'] / costs['our_step']:.2f}x | {costs['floor']:.2f} "
            f"| {costs['ref_step'] / costs['floor']:.2f}x | {budget:.2f} |")


FILE_HEADER = ("| model | input | bitrate | threads | file | encode ref / ours (s) | decode ref / ours (s) "
               "| total ref / ours (s) | speed-up | RTF ours (enc+dec) | bytes | max abs diff |\n" + "|---" * 12 + "|")
STEP_HEADER = ("| model | codebooks | window (frames) | LM step ref / ours (ms) | speed-up "
               "| one-row products + attention alone (ms) | step speed-up at that floor "
               "| 10x whole file leaves per decoding step, all else free (ms) |\n" + "|---" * 8 + "|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", default=None,
                        help=f"PRESET@KBPS, repeatable (default: {' '.join(DEFAULT_CASES)})")
    parser.add_argument("--seconds", type=float, default=10.0, help="input length (default 10)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per measurement; the best counts (default 2)")
    parser.add_argument("--out", type=Path, help="also write the result as markdown to this file")
    args = parser.parse_args(argv)
    file_rows, step_rows = [FILE_HEADER], [STEP_HEADER]
    for case in args.case or DEFAULT_CASES:
        preset, _, kbps = case.partition("@")
        bitrate = float(kbps)
        result = run(preset, args.seconds, bitrate, args.threads, args.repeats)
        num_codebooks = round(bitrate * 1000 / CONFIGS[preset]().frame_rate / 10)  # 10 bits per code
        costs = step_costs(preset, args.threads, num_codebooks)
        file_rows.append(row(preset, bitrate, args.seconds, args.threads, result))
        step_rows.append(step_row(preset, costs, result, args.seconds, num_codebooks))
        print(file_rows[-1], step_rows[-1], sep="\n", flush=True)
    text, steps = "\n".join(file_rows), "\n".join(step_rows)
    print(text, steps, sep="\n\n")
    if args.out is not None:
        command = "python benchmarks/lm_speed_vs_reference.py " + " ".join(sys.argv[1:] if argv is None else argv)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown(command, text, steps))
        print(f"\nwritten to {args.out}")
    return 0


def markdown(command: str, text: str, steps: str) -> str:
    return f"""# LM entropy coding: speed against the reference

Generated by `{command}` on {datetime.date.today().isoformat()}, {platform.processor() or platform.machine()},
torch {torch.__version__}, Python {platform.python_version()}.

Whole `.ecdc` encode (model encode + LM coding) and decode (LM decoding + model decode), ours against encodec
0.1.1's `compress(..., use_lm=True)` / `decompress`, same random model and LM weights; bytes checked identical.

{text}

## Per LM step (1 thread)

The LM starts afresh for each segment, so at 48 kHz (1 s segments) its window holds at most 150 frames: there the
mean over whole segments is shown; at 24 kHz the steps once the window is full.

{steps}

## What changed, and why this is not 10x

Decoding must rebuild the encoder's LM probabilities bit for bit, and the reference must read our files, so every
frame runs the reference's float32 ops on the same shapes; only what is computed when changes:

- **Cached key/value projections** (`codec/lm/stepper.py`). The reference projects the keys and values of its
  whole window (up to 263 x 200 @ 200 x 400 at 24 kHz, five layers) at every frame. MKL gives a row of a product of
  4 or more rows the same bits whatever the other rows, so each frame's row is projected once (as the last row of a
  4-row product) and kept. Short windows are the exception (here 2-3 rows with one thread, also 5-11 with two,
  where a row lands in an edge block), so `window_rows_match` measures, per window size and thread count, whether
  the whole product equals the kept rows on random data; the few windows that fail run the reference's whole
  product. Tests compare every step with encodec 0.1.1's LM through the window and the buffer wrap at 1 and 2
  threads.
- **Encoding in blocks.** The encoder knows every frame, so it runs blocks of 32 frames layer by layer: each
  operation for every frame of the block before the next operation. Each frame still gets exactly its own
  one-frame operations (tested against single steps and the reference's bytes), but a weight matrix is read from
  memory once per block instead of once per frame. Decoding cannot do this: frame t's input is frame t - 1's
  decoded codes.
- Earlier: no `nn.MultiheadAttention` / `nn.TransformerEncoderLayer` dispatch (the same torch ops called directly,
  same order, same views), cached masks (exact 0 / -inf), `inference_mode`, one CDF build and one `.tolist()` per
  frame, a decoder bisection on locals.

What is left is the decoder's floor in the per-step table (steps one at a time, as decoding runs them): a frame's
rows must be multiplied one at a time (a 1-row product has other bits than the same row in a larger product), so
every decoding step reads every weight matrix of the five layers and of the K output layers (about 16 MB at
K = 8), which does not stay in this machine's cache, and attention must run the reference's kernel on the same
window; the floor column times exactly those calls, alone. A 10x faster whole file would leave each decoding step
less than that floor even if encoding and the model took no time at all (last column), so with byte-identical
output 10x is out of reach here. In a real step the same products take longer (profiled: the output layers
~0.11 ms each, from memory at ~7 GB/s) because the step's other data evict the weights; the arithmetic coder is
under 5 %.
"""


if __name__ == "__main__":
    raise SystemExit(main())
