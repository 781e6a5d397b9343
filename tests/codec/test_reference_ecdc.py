"""``.ecdc`` files: ours equal encodec 0.1.1's ``compress(..., use_lm=False)`` byte for byte, and each side decodes
the other's files."""

from __future__ import annotations

import io

import pytest
import torch

from codec.api import Codec
from codec.ecdc import read_ecdc, write_ecdc
from codec.testing import synthetic_signal

from conftest import affected_by_issue_35, import_reference

pytestmark = pytest.mark.oracle

CASES = {
    "encodec_24khz": (24_000, 1, (1.5, 3.0, 6.0, 12.0, 24.0)),
    "encodec_48khz": (48_000, 2, (3.0, 6.0, 12.0, 24.0)),
}
LENGTHS = (1, 321, 47_520, 100_003)


def our_codec(model_pair, preset: str) -> Codec:  # type: ignore[no-untyped-def]
    _, ours = model_pair(preset)
    return Codec(ours, name=preset)


@pytest.mark.parametrize("preset", CASES)
@pytest.mark.parametrize("length", LENGTHS)
def test_files_byte_identical(model_pair, patched_reference_models, preset: str, length: int) -> None:  # type: ignore[no-untyped-def]
    encodec = import_reference()
    ref, _ = model_pair(preset)
    codec = our_codec(model_pair, preset)
    sample_rate, channels, bitrates = CASES[preset]
    x = synthetic_signal(channels, length, sample_rate, seed=length)
    for bitrate in bitrates:
        ref.set_target_bandwidth(bitrate)
        with torch.inference_mode():
            reference_bytes = encodec.compress(ref, x[0], use_lm=False)
        ours = io.BytesIO()
        write_ecdc(ours, codec.encode(x[0].numpy(), sample_rate, bitrate))
        assert ours.getvalue() == reference_bytes, f"{preset} {length} samples {bitrate} kbps"


@pytest.mark.parametrize("preset", CASES)
@pytest.mark.parametrize("length", LENGTHS)
def test_each_side_decodes_the_others_files(model_pair, patched_reference_models, preset: str, length: int) -> None:  # type: ignore[no-untyped-def]
    encodec = import_reference()
    ref, ours_model = model_pair(preset)
    codec = our_codec(model_pair, preset)
    sample_rate, channels, bitrates = CASES[preset]
    x = synthetic_signal(channels, length, sample_rate, seed=length + 1)
    bitrate = bitrates[1]
    ref.set_target_bandwidth(bitrate)
    with torch.inference_mode():
        reference_bytes = encodec.compress(ref, x[0], use_lm=False)
    ours = io.BytesIO()
    write_ecdc(ours, codec.encode(x[0].numpy(), sample_rate, bitrate))

    # We read the reference's file (our reader uses integer frame counts, so every length works).
    decoded = codec.decode(read_ecdc(io.BytesIO(reference_bytes), lambda name: codec))
    with torch.inference_mode():
        expected = ref.decode(ref.encode(x))[0, :, :length].numpy()
    assert decoded.shape == (channels, length)
    assert abs(decoded - expected).max() <= 1e-4

    # The reference reads ours, except at lengths where its own reader fails (#35).
    if affected_by_issue_35(length, sample_rate, ours_model.config.segment_stride):
        pytest.skip("encodec 0.1.1 cannot read this length (its issue #35)")
    with torch.inference_mode():
        ref_decoded, ref_rate = encodec.decompress(ours.getvalue())
    assert ref_rate == sample_rate
    assert abs(ref_decoded.numpy() - decoded).max() <= 1e-4


def test_issue_35_lengths_decode_with_our_reader(model_pair) -> None:  # type: ignore[no-untyped-def]
    """53760 samples at 24 kHz is where 0.1.1's reader runs out of bytes; ours reads it."""
    codec = our_codec(model_pair, "encodec_24khz")
    assert affected_by_issue_35(53_760, 24_000, None)
    x = synthetic_signal(1, 53_760, 24_000)[0].numpy()
    buffer = io.BytesIO()
    write_ecdc(buffer, codec.encode(x, 24_000, 6.0))
    buffer.seek(0)
    audio = codec.decode(read_ecdc(buffer, lambda name: codec))
    assert audio.shape == (1, 53_760)
