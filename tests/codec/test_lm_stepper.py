"""The LM stepper (cached key/value projections) gives encodec 0.1.1's LM probabilities bit for bit.

The cache is only sound where MKL gives a row of the whole window's product the bits of the row alone, which
``window_rows_match`` measures; these tests run past the window and through the buffer's wrap, at one and two
threads (whose short windows differ), and with every window forced onto the reference's whole-window product.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from codec.lm import LMModel, decode_segment_codes, encode_segment_codes
from codec.lm import stepper as stepper_module
from codec.lm.stepper import project_row, window_product, window_rows_match

from conftest import import_reference


@pytest.fixture()
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


def _reference_lm(n_q: int, past_context: int) -> torch.nn.Module:
    torch.manual_seed(5)
    encodec = import_reference()
    return encodec.model.LMModel(n_q=n_q, card=1024, dim=200, num_layers=5, past_context=past_context).eval()


def _ours(ref_lm: torch.nn.Module, n_q: int, past_context: int) -> LMModel:
    lm = LMModel(n_q=n_q, past_context=past_context).eval()
    lm.load_state_dict(ref_lm.state_dict(), strict=True)
    return lm


def _assert_steps_equal(forward: torch.nn.Module, ours: LMModel, num_codebooks: int, steps: int) -> None:
    """Step both through the same random frames; every step's probabilities must be bitwise equal."""
    generator = torch.Generator().manual_seed(steps)
    indices = torch.zeros(1, num_codebooks, 1, dtype=torch.long)
    state, offset = None, 0
    with torch.inference_mode():
        stepper = ours.stepper()
        for step in range(steps):
            expected, state, offset = forward(indices, state, offset)
            assert torch.equal(stepper.step(indices), expected), f"step {step}"
            indices = torch.randint(1, 1025, (1, num_codebooks, 1), generator=generator)


@pytest.mark.oracle
@pytest.mark.parametrize("threads", [1, 2], indirect=True)
def test_equals_reference_through_window_and_wrap(threads: int) -> None:
    # A short window reaches steady state, trims and wraps its buffers (2 x 21 rows) within 60 steps.
    ref = _reference_lm(n_q=4, past_context=20)
    _assert_steps_equal(ref, _ours(ref, 4, 20), num_codebooks=4, steps=60)


@pytest.mark.oracle
def test_equals_reference_with_the_24khz_window() -> None:
    # The official 24 kHz window (262 frames): every window size up to steady state, then the wrap at 526 rows.
    ref = _reference_lm(n_q=32, past_context=262)
    _assert_steps_equal(ref, _ours(ref, 32, 262), num_codebooks=2, steps=540)


def test_whole_window_product_when_rows_do_not_match(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    ours = LMModel(n_q=3, past_context=9).eval()
    monkeypatch.setattr(stepper_module, "window_rows_match", lambda *_: False)
    _assert_steps_equal(ours, ours, num_codebooks=3, steps=25)


@pytest.mark.parametrize("window", [2, 3, 4, 7, 12, 40, 263])
def test_window_rows_match_predicts_other_data(window: int) -> None:
    # Measured on its own probe once; it must hold (or fail) alike for other values of the same shapes.
    generator = torch.Generator().manual_seed(window)
    packed = torch.randn(600, 200, generator=generator) * 0.05
    weight, bias = packed.split([200, 400])[1], torch.randn(600, generator=generator).split([200, 400])[1]
    rows = F.layer_norm(torch.randn(1, window, 200, generator=generator), (200,))
    whole = window_product(rows, weight, bias).view(window, 400)
    pad = torch.zeros(4, 200)
    alone = torch.stack([project_row(rows[0, i], weight, bias, pad) for i in range(window)])
    assert window_rows_match(window, 200, 400) == torch.equal(whole, alone)


def test_files_do_not_depend_on_the_callers_thread_count() -> None:
    # The LM codes with its own thread count (one by default), so a file written by a caller using two threads
    # decodes in a caller using one, and the same bytes come out; the caller's setting is restored.
    torch.manual_seed(1)
    lm = LMModel(n_q=4, past_context=30).eval()
    codes = np.random.default_rng(2).integers(0, 1024, (4, 40))
    written = {}
    before = torch.get_num_threads()
    try:
        for threads in (2, 1):
            torch.set_num_threads(threads)
            buffer = io.BytesIO()
            encode_segment_codes(buffer, codes, lm)
            assert torch.get_num_threads() == threads
            written[threads] = buffer.getvalue()
            other = io.BytesIO(written[2])
            np.testing.assert_array_equal(decode_segment_codes(other, lm, 4, 40), codes)
    finally:
        torch.set_num_threads(before)
    assert written[1] == written[2]


def test_blocks_of_known_frames_equal_single_steps() -> None:
    # Encoding runs blocks layer by layer; each frame must get the probabilities of one step at a time, through
    # window fill, trimming and the buffer's moves (blocks of uneven sizes, window of 9 frames).
    torch.manual_seed(3)
    lm = LMModel(n_q=3, past_context=9).eval()
    frames = torch.randint(0, 1025, (50, 1, 3, 1), generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        single = lm.stepper()
        expected = [single.step(frame) for frame in frames]
        blocks = lm.stepper(block_frames=8)
        got: list[torch.Tensor] = []
        for start, size in zip([0, 1, 9, 17, 20, 28, 36, 44], [1, 8, 8, 3, 8, 8, 8, 6], strict=True):
            got += blocks.steps(frames[start : start + size])
        with pytest.raises(ValueError, match="1 to 8 frames"):
            blocks.steps(frames[:9])
    assert len(got) == len(expected)
    assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))


def test_refuses_an_lm_it_cannot_step_bit_exactly() -> None:
    with pytest.raises(ValueError, match="CPU in float32"):
        LMModel(n_q=2, past_context=4).double().stepper()
