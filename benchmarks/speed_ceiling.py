"""How fast any implementation with the reference's codes could be, measured against where ours spends its time.

``speed_vs_reference.py`` measures the speed-up; this script asks how much is left. Codes equal the reference's
only if the encoder repeats the reference's arithmetic bit for bit (one ulp of a latent flips codes), so the
encoder's floor is the time of the reference's own kernels, which ours already calls on the same values. The
decoder need not be bit-exact, but it cannot do less than its matrix products (at this core's measured GEMM peak)
plus, for models with time group norm, one read pass for each norm's statistics and one read-write pass to apply
it, and an ``expm1`` for each negative ELU input. One run, one thread, the same input and weights for both:

1. reference and our encode and decode times (best of ``--repeats``; codes checked identical);
2. ``torch.profiler`` self times of our encode and decode, by operator (the least of two profiled calls);
3. the encoder floor: every operator that computes values (all but copies, allocation and views);
4. the decoder floor: its FLOPs (counted by hooks on the reference decoder) at the GEMM peak of a large
   ``torch.mm``, plus the norm passes at the measured per-element cost of ``sum`` and an in-place ``mul``, plus
   an ``expm1`` for each negative ELU input;
5. the ceiling (reference total / floor) and the budget that 1.5x leaves for everything else.

Usage: ``python benchmarks/speed_ceiling.py --preset encodec_48khz --bitrate 12 --seconds 30 --out
docs/speed_ceiling.md``
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed_vs_reference import Timing, cpu_model, reference_pair, run_case

from codec.testing import synthetic_signal

TARGET_SPEEDUP = 1.5
# Operators that only move, allocate or view data: an implementation could avoid all of them, so they are not
# part of any floor. Everything else in the encoder computes a value the codes depend on.
MOVEMENT = {
    "aten::copy_", "aten::empty", "aten::empty_strided", "aten::empty_like", "aten::slice", "aten::select",
    "aten::view", "aten::as_strided", "aten::unsqueeze", "aten::squeeze", "aten::permute", "aten::transpose",
    "aten::t", "aten::flip", "aten::cat", "aten::stack", "aten::narrow", "aten::contiguous", "aten::clone",
    "aten::resize_", "aten::zero_", "aten::fill_", "aten::zeros", "aten::detach", "aten::alias", "aten::expand",
    "aten::_to_copy", "aten::to", "aten::reshape", "aten::unbind", "aten::split", "aten::chunk",
    "aten::constant_pad_nd", "aten::reflection_pad1d", "aten::pad", "aten::lift_fresh", "aten::split_with_sizes",
    "aten::_unsafe_view", "aten::result_type", "aten::item", "aten::_local_scalar_dense", "aten::new_empty",
}


def self_times(fn: Callable[[], object], runs: int = 2) -> dict[str, float]:
    """Self CPU seconds of each operator in a call of ``fn``: the least over ``runs`` profiled calls.

    The profiler's own bookkeeping lands mostly between operators, not in their self time (measured here: 35 k
    operators in our 30 s encode add ~1.6 s of wall clock but self times within noise of the unprofiled kernels).
    """
    best: dict[str, float] = {}
    for _ in range(runs):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fn()
        for event in prof.key_averages():
            seconds = event.self_cpu_time_total / 1e6
            best[event.key] = min(best.get(event.key, seconds), seconds)
    return best


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Best wall-clock seconds of ``repeats`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def gemm_peak_gflops(size: int = 1536, repeats: int = 5) -> float:
    """Best GFLOP/s of one large float32 ``torch.mm`` on this thread count: the core's practical peak."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    out = torch.empty(size, size)
    seconds = best_time(lambda: torch.mm(a, b, out=out), repeats)
    return 2 * size**3 / seconds / 1e9


def pass_costs(numel: int = 1_536_000, repeats: int = 20) -> tuple[float, float, float]:
    """Seconds per element of a read pass (``sum``), an in-place read-write pass (``mul_``) and NumPy's
    ``expm1`` (the fastest vectorised one here), on a tensor of one 1 s segment's 32-channel activations."""
    x = torch.randn(numel)
    read = best_time(lambda: x.sum(), repeats)
    write = best_time(lambda: x.mul_(1.0), repeats)
    negative, out = -np.abs(x.numpy()), np.empty(numel, dtype=np.float32)
    expm1 = best_time(lambda: np.expm1(negative, out=out), repeats)
    return read / numel, write / numel, expm1 / numel


def decoder_work(ref: nn.Module, frames: list) -> tuple[float, int, int]:
    """(FLOPs, elements normalised by group norm, negative ELU inputs) of the reference decoder over ``frames``,
    counted by hooks."""
    flops = 0.0
    normed = negatives = 0

    def conv_hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal flops
        per_output = module.in_channels // module.groups * module.kernel_size[0]
        if isinstance(module, nn.ConvTranspose1d):  # each input sample feeds C_out · k outputs
            flops += 2.0 * inputs[0].numel() * module.out_channels * module.kernel_size[0]
        else:
            flops += 2.0 * output.numel() * per_output

    def lstm_hook(module: nn.LSTM, inputs: tuple, output: tuple) -> None:
        nonlocal flops
        steps = inputs[0].shape[0] * inputs[0].shape[1]
        size = module.hidden_size
        flops += 2.0 * steps * module.num_layers * 4 * size * (module.input_size + size)

    def norm_hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal normed
        normed += output.numel()

    def elu_hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal negatives
        negatives += int((inputs[0] < 0).sum())

    handles = []
    for module in ref.decoder.modules():
        if isinstance(module, nn.ELU):
            handles.append(module.register_forward_hook(elu_hook))
        if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.LSTM):
            handles.append(module.register_forward_hook(lstm_hook))
        elif isinstance(module, nn.GroupNorm):
            handles.append(module.register_forward_hook(norm_hook))
    try:
        with torch.inference_mode():
            ref.decode(frames)
    finally:
        for handle in handles:
            handle.remove()
    return flops, normed, negatives


PRODUCTS = {"aten::addmm", "aten::addmm_", "aten::mm", "aten::bmm", "aten::mkldnn_rnn_layer",
            "aten::mkldnn_convolution", "aten::_slow_conv2d_forward", "aten::convolution"}


@dataclass
class Measurement:
    """Every figure of the report for one preset at one thread (seconds unless named otherwise)."""

    ref: Timing
    ours: Timing
    max_diff: float
    encode_ops: dict[str, float]  # our encode's self time per operator
    decode_ops: dict[str, float]
    flops: float  # the decoder's
    normed: int  # elements the decoder's group norms normalise
    negatives: int  # negative ELU inputs in the decoder
    peak_gflops: float
    read_s: float  # per element
    write_s: float  # per element
    expm1_s: float  # per element

    @property
    def encode_floor(self) -> float:
        # Never above the measured encode: profiling noise must not make the floor look higher than the real thing.
        computed = sum(t for name, t in self.encode_ops.items() if name not in MOVEMENT)
        return min(self.ours.encode, computed)

    @property
    def products(self) -> float:
        """Our decoder's time in matrix products and the LSTM."""
        return sum(t for name, t in self.decode_ops.items() if name in PRODUCTS)

    @property
    def gemm_floor(self) -> float:
        return self.flops / (self.peak_gflops * 1e9)

    @property
    def norm_floor(self) -> float:
        return self.normed * (self.read_s + self.write_s)

    @property
    def elu_floor(self) -> float:
        return self.negatives * self.expm1_s

    @property
    def decode_floor(self) -> float:
        return self.gemm_floor + self.norm_floor + self.elu_floor


def measure(preset: str, bitrate: float, seconds: float, repeats: int) -> Measurement:
    """Time, profile and count one preset at one thread."""
    torch.set_num_threads(1)
    ref_time, our_time, max_diff = run_case(preset, bitrate, seconds, 1, repeats)
    ref, ours = reference_pair(preset)
    ref.set_target_bandwidth(bitrate)
    x = synthetic_signal(ours.channels, int(seconds * ours.sample_rate), ours.sample_rate, seed=1)
    with torch.inference_mode():
        frames = ref.encode(x)
        segments = ours.encode(x, bitrate)
        ours.decode(segments)  # warm the decoder's scratch buffers as the timed runs had them
        encode_ops = self_times(lambda: ours.encode(x, bitrate))
        decode_ops = self_times(lambda: ours.decode(segments))
    flops, normed, negatives = decoder_work(ref, frames)
    read_s, write_s, expm1_s = pass_costs()
    return Measurement(ref_time, our_time, max_diff, encode_ops, decode_ops, flops, normed, negatives,
                       gemm_peak_gflops(), read_s, write_s, expm1_s)


def _top(ops: dict[str, float], count: int) -> list[tuple[str, float]]:
    merged: dict[str, float] = defaultdict(float)
    for name, seconds in ops.items():
        merged["data movement (copies, views, allocation)" if name in MOVEMENT else name] += seconds
    return sorted(merged.items(), key=lambda item: -item[1])[:count]


def report(preset: str, bitrate: float, seconds: float, m: Measurement) -> str:
    """The markdown report."""
    ref, ours = m.ref, m.ours
    floor = m.encode_floor + m.decode_floor
    lines = [
        f"Input: {seconds:g} s, {preset} at {bitrate:g} kbps, 1 thread. Codes identical to the reference's; "
        f"decoded audio within {m.max_diff:.1e}.",
        "",
        "| | reference (s) | ours (s) | floor (s) |",
        "|---|---|---|---|",
        f"| encode | {ref.encode:.2f} | {ours.encode:.2f} | {m.encode_floor:.2f} |",
        f"| decode | {ref.decode:.2f} | {ours.decode:.2f} | {m.decode_floor:.2f} |",
        f"| total | {ref.total:.2f} | {ours.total:.2f} | {floor:.2f} |",
        f"| speed-up over the reference | | {ref.total / ours.total:.2f}x | {ref.total / floor:.2f}x (ceiling) |",
        "",
        f"- **Encoder floor**: the self time of every operator in our encode that computes a value, "
        f"{m.encode_floor:.2f} s. These are the reference's own kernels on the same values: identical codes "
        "allow no other.",
        f"- **Decoder floor**: {m.flops / 1e9:.1f} GFLOP at this core's measured GEMM peak of "
        f"{m.peak_gflops:.0f} GFLOP/s, {m.gemm_floor:.2f} s (ours spends {m.products:.2f} s in matrix products "
        f"and the LSTM, {m.flops / m.products / 1e9:.0f} GFLOP/s); plus {m.normed / 1e6:.0f} M group-normalised "
        f"elements x (one read pass, {m.read_s * 1e9:.2f} ns, and one read-write pass, {m.write_s * 1e9:.2f} ns), "
        f"{m.norm_floor:.3f} s; plus {m.negatives / 1e6:.0f} M negative ELU inputs x NumPy's `expm1` "
        f"({m.expm1_s * 1e9:.2f} ns), {m.elu_floor:.3f} s.",
        f"- **Budget**: {TARGET_SPEEDUP}x needs a total of {ref.total / TARGET_SPEEDUP:.2f} s, so everything beyond "
        f"the floor (data movement, the rest of the element-wise work, Python) would have to fit in "
        f"{ref.total / TARGET_SPEEDUP - floor:.2f} s. In ours it takes {ours.total - floor:.2f} s.",
        "",
        "Our encode by operator (self time, s):",
        "",
        "| operator | s |",
        "|---|---|",
        *[f"| {name} | {t:.3f} |" for name, t in _top(m.encode_ops, 10)],
        "",
        "Our decode by operator (self time, s; NumPy's `expm1` in the ELU runs outside torch and is not listed):",
        "",
        "| operator | s |",
        "|---|---|",
        *[f"| {name} | {t:.3f} |" for name, t in _top(m.decode_ops, 10)],
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="encodec_48khz", choices=["encodec_24khz", "encodec_48khz"])
    parser.add_argument("--bitrate", type=float, default=12.0, help="kbps (default 12)")
    parser.add_argument("--seconds", type=float, default=30.0, help="input length (default 30)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best counts (default 3)")
    parser.add_argument("--out", type=Path, help="also write the report as markdown to this file")
    args = parser.parse_args(argv)
    measurement = measure(args.preset, args.bitrate, args.seconds, args.repeats)
    text = report(args.preset, args.bitrate, args.seconds, measurement)
    print(text)
    if args.out is not None:
        command = "python benchmarks/speed_ceiling.py " + " ".join(sys.argv[1:] if argv is None else argv)
        args.out.write_text(
            f"# How fast could it be with the reference's codes?\n\nGenerated by `{command}` on "
            f"{datetime.date.today().isoformat()}; CPU: {cpu_model()}, torch {torch.__version__}, "
            f"Python {platform.python_version()}. Method: the docstring of `benchmarks/speed_ceiling.py`.\n\n"
            f"{text}\n")
        print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
