"""Tests for codec.bitstream.container: header/segment round trips, encodec 0.1.1 byte identity, hostile input."""

from __future__ import annotations

import io
import json
import math
import struct
import sys
import tracemalloc
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.bitstream.container import (
    EcdcHeader,
    frames_for_length,
    iter_segment_lengths,
    read_header,
    read_segment,
    segment_lengths,
    write_header,
    write_segment,
)
from codec.errors import BitstreamError

SEGMENT_48K, STRIDE_48K = 48_000, 47_520


def _oracle_binary() -> types.ModuleType:
    """encodec 0.1.1's binary module; ``import encodec`` needs torchaudio, which a stub stands in for."""
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    return pytest.importorskip("encodec.binary")


def _write_file(header: EcdcHeader, segments: list[tuple[np.ndarray, float | None]]) -> bytes:
    buffer = io.BytesIO()
    write_header(buffer, header)
    for codes, scale in segments:
        write_segment(buffer, codes, scale)
    return buffer.getvalue()


def _read_file(data: bytes, has_scale: bool) -> tuple[EcdcHeader, list[tuple[np.ndarray, float | None]]]:
    """Read a whole file the way a decoder does: header, then one segment per segment length."""
    buffer = io.BytesIO(data)
    header = read_header(buffer)
    segment, stride = (SEGMENT_48K, STRIDE_48K) if has_scale else (None, None)
    segments = [
        read_segment(buffer, header.num_codebooks, frames_for_length(length), has_scale)
        for length in iter_segment_lengths(header.audio_length, segment, stride)
    ]
    return header, segments


def _file_48k(audio_length: int = 50_000, num_codebooks: int = 2, seed: int = 0) -> tuple[EcdcHeader, list]:
    rng = np.random.default_rng(seed)
    header = EcdcHeader("encodec_48khz", audio_length, num_codebooks, False)
    segments = [
        (rng.integers(0, 1024, size=(num_codebooks, frames_for_length(length))), float(rng.uniform(0.01, 2.0)))
        for length in segment_lengths(audio_length, SEGMENT_48K, STRIDE_48K)
    ]
    return header, segments


def test_header_bytes_are_exact() -> None:
    buffer = io.BytesIO()
    write_header(buffer, EcdcHeader("encodec_24khz", 123456, 8, False))
    payload = b'{"m": "encodec_24khz", "al": 123456, "nc": 8, "lm": false}'
    assert buffer.getvalue() == b"ECDC\x00" + struct.pack("!I", len(payload)) + payload


@pytest.mark.oracle
@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=40), length=st.integers(0, 2**40), nc=st.integers(1, 1024), lm=st.booleans())
def test_header_matches_reference(name: str, length: int, nc: int, lm: bool) -> None:
    binary = _oracle_binary()
    ours, theirs = io.BytesIO(), io.BytesIO()
    write_header(ours, EcdcHeader(name, length, nc, lm))
    binary.write_ecdc_header(theirs, {"m": name, "al": length, "nc": nc, "lm": lm})
    assert ours.getvalue() == theirs.getvalue()
    assert read_header(io.BytesIO(theirs.getvalue())) == EcdcHeader(name, length, nc, lm)


@pytest.mark.oracle
@pytest.mark.parametrize("audio_length", [1, 320, 47_999, 48_000, 95_041, 150_000])
def test_48k_file_matches_reference_writer(audio_length: int) -> None:
    binary = _oracle_binary()
    header, segments = _file_48k(audio_length, num_codebooks=4, seed=audio_length)
    theirs = io.BytesIO()
    binary.write_ecdc_header(theirs, {"m": header.model_name, "al": audio_length, "nc": 4, "lm": False})
    for codes, scale in segments:
        theirs.write(struct.pack("!f", scale))
        packer = binary.BitPacker(10, theirs)
        for value in codes.T.reshape(-1):
            packer.push(int(value))
        packer.flush()
    assert _write_file(header, segments) == theirs.getvalue()
    read_back, read_segments = _read_file(theirs.getvalue(), has_scale=True)
    assert read_back == header
    for (codes, scale), (read_codes, read_scale) in zip(segments, read_segments, strict=True):
        np.testing.assert_array_equal(read_codes, codes)
        assert read_scale == pytest.approx(scale, rel=1e-7)


@settings(max_examples=40, deadline=None)
@given(length=st.integers(1, 200_000), nc=st.integers(1, 32), has_scale=st.booleans(), seed=st.integers(0, 99))
def test_file_round_trip(length: int, nc: int, has_scale: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    segment, stride = (SEGMENT_48K, STRIDE_48K) if has_scale else (None, None)
    segments = [
        (
            rng.integers(0, 1024, size=(nc, frames_for_length(n))),
            float(np.float32(rng.uniform(1e-8, 3))) if has_scale else None,
        )
        for n in segment_lengths(length, segment, stride)
    ]
    header = EcdcHeader("encodec_48khz" if has_scale else "encodec_24khz", length, nc, False)
    read_back, read_segments = _read_file(_write_file(header, segments), has_scale)
    assert read_back == header
    for (codes, scale), (read_codes, read_scale) in zip(segments, read_segments, strict=True):
        np.testing.assert_array_equal(read_codes, codes)
        assert read_scale == scale


def test_every_truncation_raises_bitstream_error() -> None:
    header, segments = _file_48k(audio_length=50_000, num_codebooks=2)
    data = _write_file(header, segments)
    _read_file(data, has_scale=True)
    for size in range(len(data)):
        with pytest.raises(BitstreamError):
            _read_file(data[:size], has_scale=True)


def _raw_header(payload: bytes, magic: bytes = b"ECDC", version: int = 0, length: int | None = None) -> bytes:
    return struct.pack("!4sBI", magic, version, len(payload) if length is None else length) + payload


def _json_header(**fields: object) -> bytes:
    metadata = {"m": "encodec_24khz", "al": 24000, "nc": 8, "lm": False}
    metadata.update(fields)
    return _raw_header(json.dumps({k: v for k, v in metadata.items() if v is not _DROP}).encode())


_DROP = object()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated"),
        (b"ECD", "truncated"),
        (_raw_header(b"{}", magic=b"RIFF"), "magic"),
        (_raw_header(b"{}", version=1), "version"),
        (_raw_header(b"", length=2**32 - 1), "more than"),
        (_raw_header(b'{"m": "x"}', length=100), "truncated"),
        (_raw_header(b"\xff\xfe{}"), "UTF-8 JSON"),
        (_raw_header(b"{not json"), "UTF-8 JSON"),
        (_raw_header(b"[" * 60_000), "UTF-8 JSON|JSON object"),
        (_raw_header(b"[1, 2]"), "JSON object"),
        (_json_header(nc=_DROP), "nc"),
        (_json_header(lm=_DROP, m=_DROP), "m, lm"),
        (_json_header(al=True), "'al' must be int"),
        (_json_header(nc=True), "'nc' must be int"),
        (_json_header(al=24000.0), "'al' must be int"),
        (_json_header(al=None), "'al' must be int"),
        (_json_header(lm=1), "'lm' must be bool"),
        (_json_header(m=24), "'m' must be str"),
        (_json_header(al=-1), "audio length"),
        (_json_header(al=2**40 + 1), "audio length"),
        (_json_header(nc=0), "codebooks"),
        (_json_header(nc=1025), "codebooks"),
        (_raw_header(b'{"m": "x", "al": 1' + b"0" * 5000 + b', "nc": 1, "lm": false}'), "UTF-8 JSON"),
        (_raw_header(b'{"m": "x", "al": NaN, "nc": 1, "lm": false}'), "'al' must be int"),
    ],
)
def test_hostile_headers_raise(data: bytes, message: str) -> None:
    with pytest.raises(BitstreamError, match=message):
        read_header(io.BytesIO(data))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
header_like = st.fixed_dictionaries({}, optional={key: json_values for key in ("m", "al", "nc", "lm")})
typed_header = st.fixed_dictionaries(
    {"m": st.text(max_size=8), "al": st.integers(-(2**41), 2**41), "nc": st.integers(-5, 2000), "lm": st.booleans()}
)
fuzzed_headers = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda tail: b"ECDC\x00" + tail, st.binary(max_size=64)),
    st.builds(lambda payload: _raw_header(payload), st.binary(max_size=64)),
    st.builds(lambda obj: _raw_header(json.dumps(obj).encode()), header_like | typed_header),
    st.builds(lambda payload, cut: _raw_header(payload)[:cut], st.binary(max_size=32), st.integers(0, 40)),
)


@settings(max_examples=300, deadline=None)
@given(fuzzed_headers)
def test_fuzzed_headers_only_raise_bitstream_error(data: bytes) -> None:
    try:
        header = read_header(io.BytesIO(data))
    except BitstreamError:
        return
    assert isinstance(header, EcdcHeader)


def test_lying_header_does_not_allocate_before_data_exists() -> None:
    buffer = io.BytesIO(_json_header(al=2**40, nc=1024) + b"\x00" * 1000)
    header = read_header(buffer)
    tracemalloc.start()
    try:
        with pytest.raises(BitstreamError, match="truncated"):
            read_segment(buffer, header.num_codebooks, frames_for_length(header.audio_length), has_scale=False)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_bytes < 16 * 2**20


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), float("-inf"), -1.0, 0.0])
def test_bad_scale_is_rejected_when_read(scale: float) -> None:
    data = struct.pack("!f", scale) + b"\x00" * 10
    with pytest.raises(BitstreamError, match="scale"):
        read_segment(io.BytesIO(data), 1, 8, has_scale=True)


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), -1.0, 0.0, 1e39])
def test_bad_scale_is_rejected_when_written(scale: float) -> None:
    with pytest.raises(BitstreamError, match="scale"):
        write_segment(io.BytesIO(), np.zeros((1, 1), dtype=np.int64), scale)


def test_header_validates_its_fields() -> None:
    assert EcdcHeader("encodec_24khz", np.int64(5), np.int32(8), True).audio_length == 5
    with pytest.raises(BitstreamError, match="bool"):
        EcdcHeader("encodec_24khz", True, 8, False)
    with pytest.raises(BitstreamError, match="use_lm"):
        EcdcHeader("encodec_24khz", 5, 8, 1)
    with pytest.raises(BitstreamError, match="more than"):
        write_header(io.BytesIO(), EcdcHeader("x" * 70_000, 5, 8, False))


def test_segment_lengths() -> None:
    assert segment_lengths(53_760, None, None) == [53_760]
    assert segment_lengths(0, SEGMENT_48K, STRIDE_48K) == []
    assert segment_lengths(48_000, SEGMENT_48K, STRIDE_48K) == [48_000, 480]
    assert segment_lengths(100_000, SEGMENT_48K, STRIDE_48K) == [48_000, 48_000, 4_960]
    assert segment_lengths(10, 4, None) == [4, 4, 2]
    for bad in [(-1, None, None), (10, 0, 5), (10, 4, 0)]:
        with pytest.raises(ValueError):
            segment_lengths(*bad)


@given(st.integers(1, 10_000_000))
def test_segment_count_matches_spec(length: int) -> None:
    assert len(segment_lengths(length, SEGMENT_48K, STRIDE_48K)) == math.ceil(length / STRIDE_48K)


@pytest.mark.parametrize(
    ("num_samples", "sample_rate"),
    [
        (53_760, 24_000),
        (6_720, 48_000),
        (13_440, 48_000),
        (16_320, 48_000),
        (26_880, 48_000),
        (32_640, 48_000),
        (36_800, 48_000),
    ],
)
def test_frames_for_lengths_where_0_1_1_is_wrong(num_samples: int, sample_rate: int) -> None:
    frame_rate = sample_rate // 320
    reference_reader_frames = math.ceil(num_samples / sample_rate * frame_rate)
    assert frames_for_length(num_samples) == -(-num_samples // 320) == reference_reader_frames - 1


@given(st.integers(0, 2**40), st.integers(1, 4096))
def test_frames_for_length_is_integer_ceil(num_samples: int, hop_length: int) -> None:
    frames = frames_for_length(num_samples, hop_length)
    assert (frames - 1) * hop_length < num_samples <= frames * hop_length or num_samples == frames == 0


def test_frames_for_length_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        frames_for_length(-1)
    with pytest.raises(ValueError):
        frames_for_length(10, 0)
