"""Streaming row: real-time factor of streaming encode + decode at 6 kbps, latency, and equality with offline.

Runs the 24 kHz architecture with random weights (codec.testing.random_model; speed does not depend on the
weights) on a synthetic signal, pushing one frame (320 samples) at a time as a live source would.

    .venv/bin/python benchmarks/streaming_benchmark.py --seconds 10 --threads 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from codec.api import Codec
from codec.streaming import StreamingDecoder, StreamingEncoder, latency
from codec.testing import random_model, synthetic_signal


def run(seconds: float, block_frames: int, codec: Codec, offline_kernels: bool) -> dict[str, float]:
    model = codec.model
    hop = model.config.hop_length
    audio = synthetic_signal(1, int(seconds * model.sample_rate), model.sample_rate, seed=1)[0].numpy()
    encoder = StreamingEncoder(model, 6.0, block_frames, offline_kernels)
    decoder = StreamingDecoder(model, block_frames)
    codes, out = [], []
    start = time.perf_counter()
    for offset in range(0, audio.shape[-1], hop):
        frame_codes = encoder.push(audio[:, offset : offset + hop])
        codes.append(frame_codes)
        out.append(decoder.push(frame_codes))
    codes.append(tail := encoder.flush())
    out += [decoder.push(tail), decoder.flush()]
    elapsed = time.perf_counter() - start
    streamed_codes = np.concatenate(codes, axis=-1)
    encoded = codec.encode(audio, model.sample_rate, 6.0)
    offline_codes = encoded.segments[0].codes[0]
    offline_audio = codec.decode(encoded)
    streamed_audio = np.concatenate(out, axis=-1)[:, : audio.shape[-1]]
    lat = latency(model, block_frames)
    return {
        "rtf": elapsed / seconds,
        "steady_ms": lat.steady_state_ms, "latency_samples": lat.samples, "latency_ms": lat.ms,
        "frames_equal": float((streamed_codes == offline_codes).all(axis=0).mean()),
        "max_abs_diff": float(np.abs(streamed_audio - offline_audio).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--block-frames", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--fast-kernels", action="store_true", help="offline_kernels=False (not bit-exact)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    codec = Codec(random_model("encodec_24khz"))
    print(f"encodec_24khz architecture, random weights, {args.seconds:g} s, {args.threads} thread(s), 6 kbps, "
          "pushing 320 samples at a time")
    print(f"offline_kernels={not args.fast_kernels}")
    print("| block frames | RTF enc+dec | steady-state latency | latency (start-up incl.) | codes = offline "
          "| audio max abs diff |")
    print("|---|---|---|---|---|---|")
    for block_frames in args.block_frames:
        r = run(args.seconds, block_frames, codec, not args.fast_kernels)
        print(f"| {block_frames} | {r['rtf']:.3f} | {r['steady_ms']:.1f} ms | {r['latency_samples']:.0f} samples "
              f"({r['latency_ms']:.1f} ms) | {100 * r['frames_equal']:.2f} % of frames | {r['max_abs_diff']:.1e} |")


if __name__ == "__main__":
    main()
