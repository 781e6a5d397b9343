"""Tests for codec.bitstream.packing: round trips, exact sizes, and byte identity with encodec 0.1.1's BitPacker."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.bitstream.packing import pack_codes, packed_size, unpack_codes
from codec.errors import BitstreamError


def _oracle_binary() -> types.ModuleType:
    """encodec 0.1.1's binary module; ``import encodec`` needs torchaudio, which a stub stands in for."""
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    return pytest.importorskip("encodec.binary")


def _oracle_pack(codes: np.ndarray, bits: int) -> bytes:
    binary = _oracle_binary()
    buffer = io.BytesIO()
    packer = binary.BitPacker(bits, buffer)
    num_codebooks, num_frames = codes.shape
    for t in range(num_frames):
        for k in range(num_codebooks):
            packer.push(int(codes[k, t]))
    packer.flush()
    return buffer.getvalue()


@st.composite
def code_arrays(draw: st.DrawFn, max_codebooks: int = 12, max_frames: int = 40) -> tuple[np.ndarray, int]:
    bits = draw(st.integers(1, 32))
    num_codebooks = draw(st.integers(1, max_codebooks))
    num_frames = draw(st.integers(0, max_frames))
    seed = draw(st.integers(0, 2**32 - 1))
    codes = np.random.default_rng(seed).integers(0, 2**bits, size=(num_codebooks, num_frames), dtype=np.int64)
    return codes, bits


@settings(max_examples=80, deadline=None)
@given(code_arrays())
def test_round_trip(case: tuple[np.ndarray, int]) -> None:
    codes, bits = case
    data = pack_codes(codes, bits)
    assert len(data) == packed_size(*codes.shape, bits)
    decoded = unpack_codes(data, *codes.shape, bits)
    assert decoded.dtype == np.int64
    assert decoded.shape == codes.shape
    np.testing.assert_array_equal(decoded, codes)


@pytest.mark.oracle
@settings(max_examples=40, deadline=None)
@given(code_arrays())
def test_matches_reference_bitpacker(case: tuple[np.ndarray, int]) -> None:
    codes, bits = case
    assert pack_codes(codes, bits) == _oracle_pack(codes, bits)


@pytest.mark.oracle
def test_reference_bitunpacker_reads_our_bytes() -> None:
    binary = _oracle_binary()
    codes = np.random.default_rng(1).integers(0, 1024, size=(8, 75))
    unpacker = binary.BitUnpacker(10, io.BytesIO(pack_codes(codes)))
    pulled = [unpacker.pull() for _ in range(codes.size)]
    np.testing.assert_array_equal(np.array(pulled).reshape(75, 8).T, codes)


def test_layout_is_frame_major_and_lsb_first() -> None:
    # Frame 0 holds codebooks 0 and 1 (values 1 and 2), frame 1 holds 3 and 4.
    codes = np.array([[1, 3], [2, 4]])
    stream = 1 | 2 << 10 | 3 << 20 | 4 << 30
    assert pack_codes(codes) == stream.to_bytes(5, "little")


def test_partial_byte_is_zero_padded() -> None:
    assert pack_codes(np.array([[1023]])) == bytes([0xFF, 0x03])
    assert pack_codes(np.array([[1]]), bits=1) == b"\x01"


@pytest.mark.parametrize(
    ("num_codebooks", "num_frames", "bits", "expected"),
    [(1, 1, 10, 2), (4, 1, 10, 5), (32, 75, 10, 3000), (3, 7, 10, 27), (1, 0, 10, 0), (5, 3, 1, 2), (2, 2, 32, 16)],
)
def test_packed_size(num_codebooks: int, num_frames: int, bits: int, expected: int) -> None:
    assert packed_size(num_codebooks, num_frames, bits) == expected


def test_packed_size_is_exact_for_huge_counts() -> None:
    assert packed_size(1024, 2**40 // 320, 10) == 1024 * (2**40 // 320) * 10 // 8


def test_unpack_truncated_data_raises() -> None:
    data = pack_codes(np.zeros((8, 10), dtype=np.int64))
    with pytest.raises(BitstreamError, match="truncated"):
        unpack_codes(data[:-1], 8, 10)


def test_unpack_ignores_trailing_bytes() -> None:
    codes = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(unpack_codes(pack_codes(codes) + b"\xff\xff", 3, 4), codes)


def test_unpack_accepts_buffers() -> None:
    codes = np.arange(12).reshape(3, 4)
    data = pack_codes(codes)
    np.testing.assert_array_equal(unpack_codes(bytearray(data), 3, 4), codes)
    np.testing.assert_array_equal(unpack_codes(memoryview(data), 3, 4), codes)


def test_long_input_spans_several_chunks() -> None:
    codes = np.random.default_rng(2).integers(0, 1024, size=(32, 40_000))
    np.testing.assert_array_equal(unpack_codes(pack_codes(codes), 32, 40_000), codes)


@pytest.mark.parametrize(
    ("codes", "bits", "message"),
    [
        (np.array([[1024]]), 10, r"\[0, 1024\)"),
        (np.array([[-1]]), 10, r"\[0, 1024\)"),
        (np.array([[2]]), 1, r"\[0, 2\)"),
        (np.array([1, 2]), 10, r"\[K, T\]"),
        (np.zeros((1, 2, 3), dtype=np.int64), 10, r"\[K, T\]"),
        (np.array([[0.5]]), 10, "integer"),
        (np.array([[True]]), 10, "integer"),
        (np.array([[1]]), 0, "bits"),
        (np.array([[1]]), 33, "bits"),
    ],
)
def test_pack_rejects_bad_input(codes: np.ndarray, bits: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pack_codes(codes, bits)


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="num_frames"):
        packed_size(1, -1)
    with pytest.raises(ValueError, match="num_codebooks"):
        unpack_codes(b"", -1, 0)
