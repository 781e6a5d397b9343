"""The quantized CDF and the 24-bit arithmetic coder of ``.ecdc`` files with ``lm: true``.

Both follow encodec 0.1.1 exactly (the output bytes are part of the file format): the CDF is built with float32
torch ops from the LM's probabilities, and the coder works on Python ints with a range of ``2**24``. Bits leave the
coder through a 1-bit LSB-first packer, so the first coded bit is bit 0 of the first byte.
"""

from __future__ import annotations

import math
from typing import BinaryIO

import torch

from codec.errors import BitstreamError

TOTAL_RANGE_BITS = 24
MIN_RANGE = 2


def min_coded_bytes(num_symbols: int, card: int = 1024, total_range_bits: int = TOTAL_RANGE_BITS) -> int:
    """A lower bound on the bytes one coded segment of ``num_symbols`` symbols (alphabet ``card``) occupies.

    Every symbol keeps a range of at least ``MIN_RANGE``, so none holds more than ``2**bits - MIN_RANGE * (card - 1)``
    of the ``2**bits`` total, and decoding one shrinks the interval by at least that ratio: it costs at least
    ``-log2(1 - MIN_RANGE * (card - 1) / 2**bits)`` bits (1.76e-4 for 1024 symbols), each read bit doubling the
    interval back. Half that cost is used, as slack for float rounding in the CDF. A non-empty segment also reads
    ``bits`` bits before its first symbol. Readers compare a header's declared codes with the bytes a file really has:
    each byte can stand for at most about 91,000 codes, so the LM's work is bounded by the file's size.
    """
    if num_symbols <= 0:
        return 0
    bits_per_symbol = -math.log2(1 - MIN_RANGE * (card - 1) / 2**total_range_bits) / 2
    return max(total_range_bits // 8, math.ceil(num_symbols * bits_per_symbol / 8))


def build_stable_quantized_cdf(pdf: torch.Tensor, total_range_bits: int = TOTAL_RANGE_BITS, roundoff: float = 1e-8,
                               min_range: int = MIN_RANGE) -> torch.Tensor:
    """Quantize probabilities to integer ranges that every symbol keeps (at least ``min_range`` wide).

    Parameters
    ----------
    pdf : torch.Tensor
        float32 ``[N]`` (or ``[N, K]``: one distribution per column; each column gives the same result as alone).
    total_range_bits : int
        The coder's range; the last CDF value is at most ``2**total_range_bits``.
    roundoff : float
        Probabilities are floored to this step first (the format's value is 1e-8).
    min_range : int
        Smallest range of a symbol, >= 2 so that every symbol stays decodable.

    Returns
    -------
    torch.Tensor
        int64 cumulative ranges, the shape of ``pdf``, increasing along the first axis.
    """
    if min_range < 2:
        raise ValueError(f"min_range must be at least 2, got {min_range}")
    total_range = 2**total_range_bits
    alpha = min_range * pdf.shape[0] / total_range
    if alpha > 1:
        raise ValueError(f"{pdf.shape[0]} symbols of at least {min_range} do not fit in {total_range_bits} bits")
    pdf = pdf.detach()
    if roundoff:
        pdf = (pdf / roundoff).floor() * roundoff
    # Mix with a uniform distribution so each symbol keeps min_range; the products are float32 as in the format.
    ranges = (((1 - alpha) * total_range) * pdf).floor().long()
    ranges += min_range
    return torch.cumsum(ranges, dim=0)


class BitWriter:
    """Single bits into bytes, LSB first; :meth:`flush` pads the last byte with zeros."""

    def __init__(self, fo: BinaryIO) -> None:
        self._fo = fo
        self._byte = 0
        self._count = 0
        self._buffer = bytearray()

    def push(self, bit: int) -> None:
        self._byte |= bit << self._count
        self._count += 1
        if self._count == 8:
            self._buffer.append(self._byte)
            self._byte = 0
            self._count = 0

    def flush(self) -> None:
        if self._count:
            self._buffer.append(self._byte)
            self._byte = 0
            self._count = 0
        self._fo.write(bytes(self._buffer))
        self._buffer.clear()


class BitReader:
    """Single bits from a file, LSB first, reading one byte at a time (never past what the coder needs)."""

    def __init__(self, fo: BinaryIO) -> None:
        self._fo = fo
        self._byte = 0
        self._count = 0

    def pull(self) -> int | None:
        """The next bit, or None at the end of the file."""
        if self._count == 0:
            data = self._fo.read(1)
            if not data:
                return None
            self._byte = data[0]
            self._count = 8
        bit = self._byte & 1
        self._byte >>= 1
        self._count -= 1
        return bit


class ArithmeticEncoder:
    """Codes symbols under quantized CDFs into a bit stream (one instance per segment).

    The state is the interval ``[low, high]``, rescaled so it always spans at least ``2**24``; ``max_bit`` is the
    highest bit not yet written. Bits shared by ``low`` and ``high`` are final and go out at once.
    """

    def __init__(self, fo: BinaryIO, total_range_bits: int = TOTAL_RANGE_BITS) -> None:
        self.total_range_bits = total_range_bits
        self._writer = BitWriter(fo)
        self.low = 0
        self.high = 0
        self.max_bit = -1

    def push(self, symbol: int, cdf: list[int]) -> None:
        """Code ``symbol`` under ``cdf`` (cumulative ranges from :func:`build_stable_quantized_cdf`, as ints)."""
        total = 2**self.total_range_bits
        while self.high - self.low + 1 < total:
            self.low *= 2
            self.high = self.high * 2 + 1
            self.max_bit += 1
        range_low = 0 if symbol == 0 else cdf[symbol - 1]
        range_high = cdf[symbol] - 1
        scale = (self.high - self.low + 1) / total
        # Float scaling of exact ints below 2**53, as the format's reference does it (the bytes depend on it).
        effective_low = math.ceil(range_low * scale)
        effective_high = math.floor(range_high * scale)
        self.high = self.low + effective_high
        self.low = self.low + effective_low
        self._flush_common_prefix()

    def _flush_common_prefix(self) -> None:
        while self.max_bit >= 0:
            bit = self.low >> self.max_bit
            if bit != self.high >> self.max_bit:
                break
            self.low -= bit << self.max_bit
            self.high -= bit << self.max_bit
            self._writer.push(bit)
            self.max_bit -= 1

    def flush(self) -> None:
        """Write the remaining bits of ``low`` and pad to a whole byte; the encoder is then spent."""
        while self.max_bit >= 0:
            self._writer.push((self.low >> self.max_bit) & 1)
            self.max_bit -= 1
        self._writer.flush()


class ArithmeticDecoder:
    """Reads the symbols an :class:`ArithmeticEncoder` wrote, given the same CDFs in the same order.

    It reads one byte at a time and never more than the encoder wrote for this segment, so the next segment starts
    at the right place. Any inconsistency (a corrupt stream or mismatched probabilities) raises
    :class:`BitstreamError`.
    """

    def __init__(self, fo: BinaryIO, total_range_bits: int = TOTAL_RANGE_BITS) -> None:
        self.total_range_bits = total_range_bits
        self._reader = BitReader(fo)
        self.low = 0
        self.high = 0
        self.current = 0
        self.max_bit = -1

    def pull(self, cdf: list[int]) -> int:
        """The next symbol under ``cdf``.

        Raises
        ------
        BitstreamError
            If the stream ends early, or the bits fall outside every symbol's range.
        """
        total = 2**self.total_range_bits
        while self.high - self.low + 1 < total:
            bit = self._reader.pull()
            if bit is None:
                raise BitstreamError("file is truncated: the LM-coded stream ended sooner than expected")
            self.low *= 2
            self.high = self.high * 2 + 1
            self.current = self.current * 2 + bit
            self.max_bit += 1
        base = self.low
        current = self.current
        scale = (self.high - base + 1) / total
        ceil, floor = math.ceil, math.floor
        # The same bisection as the reference, on locals (it is the decoder's inner loop); symbol ranges can leave
        # gaps, and landing in one is an error.
        lo_idx, hi_idx = 0, len(cdf) - 1
        while True:
            if hi_idx < lo_idx:
                raise BitstreamError("corrupt LM-coded stream: binary search failed (the data, the LM or its "
                                     "thread count differs from the encoder's; see --lm-threads)")
            mid = (lo_idx + hi_idx) // 2
            low = base + ceil((cdf[mid - 1] if mid > 0 else 0) * scale)
            high = base + floor((cdf[mid] - 1) * scale)
            if current < low:
                hi_idx = mid - 1
            elif current > high:
                lo_idx = mid + 1
            else:
                break
        self.low, self.high = low, high
        while self.max_bit >= 0:
            bit = self.low >> self.max_bit
            if bit != self.high >> self.max_bit:
                break
            self.low -= bit << self.max_bit
            self.high -= bit << self.max_bit
            self.current -= bit << self.max_bit
            self.max_bit -= 1
        return mid
