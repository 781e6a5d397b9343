"""The LM benchmark's shared set-up and its per-step measurements (see ``lm_speed_vs_reference.py``).

``reference_setup`` builds encodec 0.1.1's model and LM with random weights (the reference is a test oracle, CC
BY-NC 4.0: imported by benchmarks and tests only), ``ours`` loads them into our codec and LM, and ``step_costs``
times single LM steps of both, and the floor a bit-identical step cannot go below.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable
from typing import Any

import torch

from codec.api import Codec
from codec.config import ModelConfig, encodec_24khz, encodec_48khz
from codec.lm import LMModel, build_lm
from codec.model import build_model
from codec.testing import fill_codebooks_from_latents

CONFIGS: dict[str, Callable[[], ModelConfig]] = {"encodec_24khz": encodec_24khz, "encodec_48khz": encodec_48khz}
LM_CODEBOOKS = {"encodec_24khz": 32, "encodec_48khz": 16}


def reference_setup(preset: str, seed: int = 0) -> tuple[types.ModuleType, torch.nn.Module, torch.nn.Module]:
    """(encodec module, reference model, reference LM), patched so compress/decompress never download."""
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))  # encodec imports it, never uses it here
    import encodec

    compress_module = sys.modules["encodec.compress"]

    torch.manual_seed(seed)
    factory = getattr(encodec.EncodecModel, f"encodec_model_{preset.removeprefix('encodec_')}")
    ref = factory(pretrained=False).eval()
    fill_codebooks_from_latents(ref, ref.sample_rate, ref.channels, ref.normalize, seed)
    ref.name = preset
    torch.manual_seed(seed)
    frame_rate = CONFIGS[preset]().frame_rate
    ref_lm = encodec.model.LMModel(n_q=LM_CODEBOOKS[preset], card=1024, dim=200, num_layers=5,
                                   past_context=int(3.5 * frame_rate)).eval()
    compress_module.MODELS[preset] = lambda: ref
    ref.get_lm_model = lambda: ref_lm
    return encodec, ref, ref_lm


def ours(preset: str, ref: torch.nn.Module, ref_lm: torch.nn.Module, threads: int) -> tuple[Codec, LMModel]:
    """Our codec and LM with the reference's weights; the LM codes with the reference's thread count."""
    config = CONFIGS[preset]()
    model = build_model(config)
    model.load_state_dict(ref.state_dict(), strict=True)
    lm: LMModel = build_lm(LM_CODEBOOKS[preset], config.frame_rate)
    lm.load_state_dict(ref_lm.state_dict(), strict=True)
    lm.coding_threads = threads  # the reference's LM codes with torch's thread count
    return Codec(model.prepare_for_inference(), name=preset), lm


def _per_step_ms(new_stream: Callable[[], Callable[[torch.Tensor], object]], num_codebooks: int,
                 stream_steps: int, timed_steps: int) -> float:
    """Mean ms of the last ``timed_steps`` steps of streams of ``stream_steps`` steps (fresh state each, as each
    segment of a file gets), after one untimed stream, on random frames."""
    generator = torch.Generator().manual_seed(7)
    frames = torch.randint(1, 1025, (stream_steps, 1, num_codebooks, 1), generator=generator)
    elapsed = 0.0
    with torch.inference_mode():
        for timed in (False, True, True):
            step = new_stream()
            for index, frame in enumerate(frames):
                start = time.perf_counter()
                step(frame)
                if timed and index >= stream_steps - timed_steps:
                    elapsed += time.perf_counter() - start
    return elapsed / (2 * timed_steps) * 1e3


def _floor_ms(lm: LMModel, num_codebooks: int, repeats: int, window: int) -> float:
    """Mean ms of what one step cannot avoid, run alone: per layer the one-row products (q, key/value row, output,
    two feed-forward) and the attention over ``window`` frames, then the K output layers. A frame's row must be
    multiplied alone (a row of a larger product has other bits) and attention must run the reference's kernel on
    the same shapes, so no bit-identical step takes less; here the weights also stay warmer in cache than in a
    real step."""
    products: list[tuple[torch.Tensor, torch.Tensor]] = []
    for layer in lm.transformer.layers:
        dim = layer.self_attn.embed_dim
        w_q, w_kv = layer.self_attn.in_proj_weight.split([dim, 2 * dim])
        b_q, b_kv = layer.self_attn.in_proj_bias.split([dim, 2 * dim])
        products += [(w_q, b_q), (w_kv, b_kv), (layer.self_attn.out_proj.weight, layer.self_attn.out_proj.bias),
                     (layer.linear1.weight, layer.linear1.bias), (layer.linear2.weight, layer.linear2.bias)]
    products += [(lm.linears[k].weight, lm.linears[k].bias) for k in range(num_codebooks)]
    rows = {w.shape[1]: torch.randn(1, 1, w.shape[1]) for w, _ in products}
    heads = lm.transformer.layers[0].self_attn.num_heads
    head_dim = lm.dim // heads
    query = torch.randn(1, heads, 1, head_dim)
    keys = [torch.randn(2, window, heads * head_dim) for _ in lm.transformer.layers]
    views = [(k[0].view(window, heads, head_dim).transpose(0, 1).unsqueeze(0),
              k[1].view(window, heads, head_dim).transpose(0, 1).unsqueeze(0)) for k in keys]
    mask = torch.zeros(1, 1, 1, window)

    def one_step() -> None:
        for w, b in products:
            torch.nn.functional.linear(rows[w.shape[1]], w, b)
        for k, v in views:
            torch.nn.functional.scaled_dot_product_attention(query, k, v, mask, 0.0, False)

    with torch.inference_mode():
        one_step()
        start = time.perf_counter()
        for _ in range(repeats):
            one_step()
    return (time.perf_counter() - start) / repeats * 1e3


def _stream_steps(preset: str) -> tuple[int, int]:
    """(steps of one LM stream, steps to time at its end): at 24 kHz 200 steps once the window (262 frames) is
    full; at 48 kHz whole 1 s segments, each coded with a fresh LM state, so the window never exceeds 150."""
    config = CONFIGS[preset]()
    window = int(3.5 * config.frame_rate)
    if config.segment_s is None:
        return window + 200, 200
    segment = round(config.segment_s * config.frame_rate)
    return (window + 200, 200) if window < segment else (segment, segment)


def step_costs(preset: str, threads: int, num_codebooks: int) -> dict[str, Any]:
    """Per-step ms in a stream as real files run it: the reference LM, ours, and the floor."""
    torch.set_num_threads(threads)
    _, ref, ref_lm = reference_setup(preset)
    _, lm = ours(preset, ref, ref_lm, threads)
    stream_steps, timed_steps = _stream_steps(preset)

    def reference_stream() -> Callable[[torch.Tensor], object]:
        state: list[object] = [None, 0]

        def step(frame: torch.Tensor) -> None:
            _, state[0], state[1] = ref_lm(frame, state[0], state[1])

        return step

    # The floor's attention runs over the mean window of the timed steps (a cheaper floor, never a dearer one).
    mean_window = stream_steps - timed_steps // 2 if timed_steps < stream_steps else stream_steps // 2
    return {"ref_step": _per_step_ms(reference_stream, num_codebooks, stream_steps, timed_steps),
            "our_step": _per_step_ms(lambda: lm.stepper().step, num_codebooks, stream_steps, timed_steps),
            "floor": _floor_ms(lm, num_codebooks, 200, min(mean_window, lm.past_context + 1)),
            "window": f"{lm.past_context + 1} (full)" if timed_steps < stream_steps else f"1-{stream_steps}"}
