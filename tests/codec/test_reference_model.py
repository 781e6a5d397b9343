"""Our model against the reference encodec 0.1.1 with identical random weights: codes equal, audio within 1e-4."""

from __future__ import annotations

import pytest
import torch

from codec.config import encodec_24khz, encodec_48khz
from codec.model import build_model
from codec.testing import synthetic_signal

pytestmark = pytest.mark.oracle

PRESETS = {
    "encodec_24khz": (24_000, 1, (1.5, 3.0, 6.0, 12.0, 24.0)),
    "encodec_48khz": (48_000, 2, (3.0, 6.0, 12.0, 24.0)),
}
# 1 sample, just under/at/over one hop, one exact 48 kHz segment stride, just over one second, and a few seconds.
LENGTHS = (1, 319, 320, 321, 47_520, 48_001, 100_003)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("length", LENGTHS)
def test_codes_identical_and_audio_close(model_pair, preset: str, length: int) -> None:
    ref, ours = model_pair(preset)
    sample_rate, channels, bitrates = PRESETS[preset]
    x = synthetic_signal(channels, length, sample_rate, seed=length)
    for bitrate in bitrates:
        ref.set_target_bandwidth(bitrate)
        with torch.inference_mode():
            ref_frames = ref.encode(x)
            our_segments = ours.encode(x, bitrate)
            assert len(our_segments) == len(ref_frames)
            for (ref_codes, ref_scale), seg in zip(ref_frames, our_segments, strict=False):
                assert torch.equal(seg.codes, ref_codes), f"codes differ at {bitrate} kbps"
                if ref_scale is None:
                    assert seg.scale is None
                else:
                    assert torch.equal(seg.scale, ref_scale)
            ref_audio = ref.decode(ref_frames)
            our_audio = ours.decode(our_segments)
        assert our_audio.shape == ref_audio.shape
        assert (our_audio - ref_audio).abs().max().item() <= 1e-4


@pytest.mark.parametrize("preset", PRESETS)
def test_codebooks_are_meaningfully_used(model_pair, preset: str) -> None:
    """Guard the test recipe itself: random codebooks that collapse to a few codes would prove little."""
    _, ours = model_pair(preset)
    sample_rate, channels, bitrates = PRESETS[preset]
    x = synthetic_signal(channels, sample_rate, sample_rate, seed=7)
    with torch.inference_mode():
        codes = ours.encode(x, bitrates[-1])[0].codes
    distinct_first_layer = torch.unique(codes[0, 0]).numel()
    assert distinct_first_layer > 0.3 * codes.shape[-1]


@pytest.mark.parametrize(("preset", "factory", "keys"), [
    ("encodec_24khz", encodec_24khz, 252),
    ("encodec_48khz", encodec_48khz, 224),
])
def test_state_dicts_load_both_ways_strict(model_pair, preset: str, factory, keys: int) -> None:  # type: ignore[no-untyped-def]
    ref, ours = model_pair(preset)
    ours_state = ours.state_dict()
    assert len(ours_state) == keys
    assert list(ours_state) == list(ref.state_dict())
    fresh = build_model(factory())
    fresh.load_state_dict(ref.state_dict(), strict=True)
    ref.load_state_dict(ours_state, strict=True)
    for name, tensor in ref.state_dict().items():
        assert torch.equal(tensor, ours_state[name]), name
