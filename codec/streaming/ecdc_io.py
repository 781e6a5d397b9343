"""``.ecdc`` bodies written and read a block of frames at a time (same bytes as :mod:`codec.ecdc`).

A 24 kHz file is one segment whose codes of each stream follow each other, so each stream's codes are spooled to
a temporary file while coding and packed into the body at the end; reading opens the file once per stream at
that stream's offset. Blocks of a multiple of 4 frames pack to whole bytes (4 · K · 10 bits), so packing block by
block gives the bytes of packing all at once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from codec.bitstream import pack_codes, packed_size, unpack_codes
from codec.errors import BitstreamError

CODE_BITS = 10
BLOCK_FRAMES = 4096  # a multiple of 4: whole bytes per block


class CodeSpool:
    """Codes of one stream ``[K, f]`` appended block by block to a temporary file (int16), then packed out."""

    def __init__(self, num_codebooks: int) -> None:
        self.num_codebooks = num_codebooks
        self.frames = 0
        self._file = tempfile.TemporaryFile()

    def append(self, codes: np.ndarray) -> None:
        """Append ``[K, f]`` codes (frame-major on disk)."""
        if codes.shape[-1]:
            np.ascontiguousarray(codes.T, dtype=np.int16).tofile(self._file)
            self.frames += codes.shape[-1]

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
        """The spooled codes again, ``[K, f]`` per block."""
        self._file.seek(0)
        for start in range(0, self.frames, block_frames):
            count = min(block_frames, self.frames - start)
            flat = np.fromfile(self._file, dtype=np.int16, count=count * self.num_codebooks)
            yield flat.reshape(count, self.num_codebooks).T.astype(np.int64)

    def all_codes(self) -> np.ndarray:
        """Every code ``[K, F]`` in memory (for the LM coder, which needs the whole segment)."""
        parts = list(self.blocks())
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.num_codebooks, 0), dtype=np.int64)

    def write_packed(self, fo: BinaryIO) -> None:
        """Pack the codes at 10 bits into ``fo``: the bytes of ``pack_codes`` on all of them."""
        for block in self.blocks():
            fo.write(pack_codes(block, CODE_BITS))
        if self.frames == 0:
            fo.write(pack_codes(np.zeros((self.num_codebooks, 0), dtype=np.int64), CODE_BITS))

    def close(self) -> None:
        self._file.close()


def read_exactly(fo: BinaryIO, size: int, what: str) -> bytes:
    """``size`` bytes or :class:`BitstreamError` naming ``what``."""
    data = fo.read(size)
    if len(data) != size:
        raise BitstreamError(f"file is truncated: {what} needs {size} bytes, only {len(data)} remain")
    return data


def iter_packed_codes(fo: BinaryIO, num_codebooks: int, num_frames: int,
                      block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Unpack ``[K, num_frames]`` packed codes from ``fo``'s position on, ``[K, f]`` per block."""
    for start in range(0, num_frames, block_frames):
        count = min(block_frames, num_frames - start)
        data = read_exactly(fo, packed_size(num_codebooks, count, CODE_BITS), f"codes of frames {start}..")
        yield unpack_codes(data, num_codebooks, count, CODE_BITS)
