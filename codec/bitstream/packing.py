"""Fixed-width bit packing of codebook indices, as in the body of an ``.ecdc`` file without the LM.

Codes ``[K, T]`` are written frame-major (``for t: for k:``). Each value occupies ``bits`` bits and the stream is
LSB-first: bit ``j`` of the ``i``-th value is stream bit ``i * bits + j``, and stream bit ``8 * b + m`` is bit ``m`` of
byte ``b``. The last byte is padded with zero high bits. This is the byte layout of encodec 0.1.1's ``BitPacker``,
implemented here with vectorised NumPy so that hours of codes pack in well under a second.
"""

from __future__ import annotations

import operator

import numpy as np

from codec.errors import BitstreamError

__all__ = ["MAX_BITS", "pack_codes", "packed_size", "unpack_codes"]

MAX_BITS = 32
"""Widest value :func:`pack_codes` supports (codes are unpacked through ``uint32``)."""

_CHUNK_VALUES = 1 << 20
"""Values handled per vectorised step; a multiple of 8, so every chunk ends on a byte boundary."""


def _check_bits(bits: int) -> int:
    if isinstance(bits, bool):
        raise ValueError("bits must be an integer, not a bool")
    bits = operator.index(bits)
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be in 1..{MAX_BITS}, got {bits}")
    return bits


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not a bool")
    value = operator.index(value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def packed_size(num_codebooks: int, num_frames: int, bits: int = 10) -> int:
    """Number of bytes that ``num_codebooks * num_frames`` values of ``bits`` bits occupy once packed.

    Parameters
    ----------
    num_codebooks, num_frames : int
        ``K`` and ``T`` of a code array ``[K, T]``; both >= 0.
    bits : int
        Bits per value, 1..32.

    Returns
    -------
    int
        ``ceil(K * T * bits / 8)``, computed exactly with integers.
    """
    num_values = _check_count(num_codebooks, "num_codebooks") * _check_count(num_frames, "num_frames")
    return -(-num_values * _check_bits(bits) // 8)


def _values_to_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """``[N]`` uint32 values -> ``[N * bits]`` uint8 bits, LSB of each value first."""
    as_bytes = values.astype("<u4", copy=False).view(np.uint8).reshape(-1, 4)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :bits].reshape(-1)


def _bits_to_values(bit_array: np.ndarray, bits: int) -> np.ndarray:
    """``[N * bits]`` uint8 bits -> ``[N]`` int64 values (inverse of :func:`_values_to_bits`)."""
    per_value = bit_array.reshape(-1, bits)
    padded = np.zeros((per_value.shape[0], 32), dtype=np.uint8)
    padded[:, :bits] = per_value
    as_bytes = np.packbits(padded, axis=1, bitorder="little")
    return as_bytes.view("<u4").reshape(-1).astype(np.int64)


def pack_codes(codes: np.ndarray, bits: int = 10) -> bytes:
    """Pack integer codes frame-major and LSB-first into bytes.

    Parameters
    ----------
    codes : np.ndarray
        Integer array ``[K, T]`` with every value in ``[0, 2**bits)``.
    bits : int
        Bits per value, 1..32 (10 for EnCodec's 1024-entry codebooks).

    Returns
    -------
    bytes
        ``packed_size(K, T, bits)`` bytes; the final partial byte is padded with zero bits.

    Raises
    ------
    ValueError
        If ``codes`` is not a 2-D integer array, or a value does not fit in ``bits`` bits.
    """
    bits = _check_bits(bits)
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape [K, T], got {codes.ndim} dimension(s) with shape {codes.shape}")
    if codes.dtype == np.bool_ or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be an integer array, got dtype {codes.dtype}")
    if codes.size == 0:
        return b""
    low, high = int(codes.min()), int(codes.max())
    if low < 0 or high >= 1 << bits:
        raise ValueError(f"codes must lie in [0, {1 << bits}) to fit in {bits} bits, got values in [{low}, {high}]")
    values = np.ascontiguousarray(codes.T).reshape(-1).astype(np.uint32)
    chunks = [
        np.packbits(_values_to_bits(values[start : start + _CHUNK_VALUES], bits), bitorder="little").tobytes()
        for start in range(0, values.size, _CHUNK_VALUES)
    ]
    return b"".join(chunks)


def unpack_codes(data: bytes, num_codebooks: int, num_frames: int, bits: int = 10) -> np.ndarray:
    """Unpack codes written by :func:`pack_codes`.

    Parameters
    ----------
    data : bytes-like
        Packed bytes; only the first ``packed_size(num_codebooks, num_frames, bits)`` are used.
    num_codebooks, num_frames : int
        ``K`` and ``T`` of the array to rebuild.
    bits : int
        Bits per value, 1..32.

    Returns
    -------
    np.ndarray
        int64 codes ``[K, T]``.

    Raises
    ------
    BitstreamError
        If ``data`` holds fewer bytes than the codes need.
    """
    num_codebooks = _check_count(num_codebooks, "num_codebooks")
    num_frames = _check_count(num_frames, "num_frames")
    bits = _check_bits(bits)
    needed = packed_size(num_codebooks, num_frames, bits)
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size < needed:
        raise BitstreamError(
            f"packed codes are truncated: {num_codebooks} codebooks x {num_frames} frames x {bits} bits need "
            f"{needed} bytes, got {raw.size}"
        )
    num_values = num_codebooks * num_frames
    values = np.empty(num_values, dtype=np.int64)
    bytes_per_chunk = _CHUNK_VALUES * bits // 8
    for chunk_index, start in enumerate(range(0, num_values, _CHUNK_VALUES)):
        count = min(_CHUNK_VALUES, num_values - start)
        byte_start = chunk_index * bytes_per_chunk
        chunk_bytes = raw[byte_start : byte_start + -(-count * bits // 8)]
        chunk_bits = np.unpackbits(chunk_bytes, bitorder="little")[: count * bits]
        values[start : start + count] = _bits_to_values(chunk_bits, bits)
    return np.ascontiguousarray(values.reshape(num_frames, num_codebooks).T)
