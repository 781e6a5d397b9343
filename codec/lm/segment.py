"""One segment's codes ``[K, T]`` to LM-coded bytes and back.

Each segment has its own coder and a fresh LM state. Frames are coded in time order; at frame ``t`` the LM sees the
indices ``1 + codes[:, t-1]`` (all zeros at ``t = 0``) and gives one distribution per codebook, and the codebooks of
the frame are coded in order ``k = 0..K-1`` under those distributions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import numpy as np
import torch

from codec.errors import BitstreamError
from codec.lm.coding import ArithmeticDecoder, ArithmeticEncoder, build_stable_quantized_cdf
from codec.lm.model import LMModel
from codec.lm.stepper import LMStepper


def _check_lm(lm: LMModel, num_codebooks: int) -> None:
    if num_codebooks > lm.n_q:
        raise BitstreamError(f"the LM predicts {lm.n_q} codebooks; the file uses {num_codebooks}")


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch threads, then restore the caller's setting."""
    before = torch.get_num_threads()
    if count != before:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count != before:
            torch.set_num_threads(before)


def _frame_cdfs(stepper: LMStepper, previous: torch.Tensor) -> list[list[int]]:
    """One LM step on ``previous`` ``[1, K, 1]`` → K quantized CDFs as int lists."""
    probas = stepper.step(previous)
    # All K columns at once: elementwise float32 ops give each column the bits it would get alone.
    return build_stable_quantized_cdf(probas[0, :, :, 0]).t().tolist()


def encode_segment_codes(fo: BinaryIO, codes: np.ndarray, lm: LMModel) -> None:
    """Arithmetic-code ``codes`` (int ``[K, T]`` in ``[0, card)``) into ``fo``, ending on a byte boundary."""
    num_codebooks, num_frames = codes.shape
    _check_lm(lm, num_codebooks)
    if codes.size and (codes.min() < 0 or codes.max() >= lm.card):
        raise BitstreamError(f"codes outside 0..{lm.card - 1} cannot be LM-coded")
    codes = np.asarray(codes, dtype=np.int64)
    # What the LM sees before frame t: nothing (zeros) at t = 0, else 1 + the codes of frame t - 1.
    previous = np.zeros((num_frames, 1, num_codebooks, 1), dtype=np.int64)
    previous[1:, 0, :, 0] = 1 + codes[:, :-1].T
    encoder = ArithmeticEncoder(fo)
    # No autograd bookkeeping per op (same kernels, same bits), and the LM's own thread count.
    with torch.inference_mode(), _torch_threads(lm.coding_threads):
        stepper = lm.stepper()
        block = stepper.block_frames  # every frame is known: the stepper runs blocks of them layer by layer
        for start in range(0, num_frames, block):
            probas = stepper.steps(torch.from_numpy(previous[start : start + block]))
            # All columns at once: elementwise float32 ops give each column the bits it would get alone.
            cdfs = build_stable_quantized_cdf(torch.cat([p[0, :, :, 0] for p in probas], dim=1)).t().tolist()
            for column, value in zip(cdfs, codes[:, start : start + len(probas)].T.reshape(-1).tolist(),
                                     strict=True):
                encoder.push(value, column)
    encoder.flush()


def decode_segment_codes(fo: BinaryIO, lm: LMModel, num_codebooks: int, num_frames: int) -> np.ndarray:
    """Read ``num_frames`` frames of ``num_codebooks`` codes written by :func:`encode_segment_codes`.

    Returns
    -------
    np.ndarray
        int64 ``[K, T]``.

    Raises
    ------
    BitstreamError
        If the stream is truncated or corrupt, or was coded with other probabilities (another LM, platform or
        ``coding_threads``).
    """
    _check_lm(lm, num_codebooks)
    decoder = ArithmeticDecoder(fo)
    columns: list[list[int]] = []
    previous = torch.zeros(1, num_codebooks, 1, dtype=torch.long)
    # No autograd bookkeeping per op (same kernels, same bits), and the LM's own thread count.
    with torch.inference_mode(), _torch_threads(lm.coding_threads):
        stepper = lm.stepper()
        for _ in range(num_frames):
            cdfs = _frame_cdfs(stepper, previous)
            frame = [decoder.pull(cdf) for cdf in cdfs]
            columns.append(frame)
            previous = torch.tensor(frame, dtype=torch.long).view(1, num_codebooks, 1) + 1
    if not columns:
        return np.zeros((num_codebooks, 0), dtype=np.int64)
    return np.array(columns, dtype=np.int64).T.copy()
