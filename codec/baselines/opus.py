"""Opus at an exact bitrate through libopus (Debian ``libopus0``) via ctypes.

libsndfile only turns its ``compression_level`` into a VBR target and cannot go below about 8 kbps, so Opus is
driven directly: hard CBR, 20 ms frames, each packet sized so that payload plus our framing equals the request.
The packets are kept in a minimal stream of our own (a 15-byte header and one length prefix per packet), not Ogg.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import struct

import numpy as np

from codec.audio import resample
from codec.errors import CodecError

_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_OPUS_MIN_KBPS, _OPUS_MAX_KBPS = 6.0, 510.0
_OPUS_FRAMES_PER_S = 50  # 20 ms packets, libopus's default
_OPUS_HEADER = struct.Struct("<4sIBHI")  # magic, sample rate, channels, pre-skip, samples: 15 bytes per stream
_OPUS_MAGIC = b"EBop"
_OPUS_APPLICATION_AUDIO, _OPUS_SET_BITRATE, _OPUS_SET_VBR, _OPUS_GET_LOOKAHEAD = 2049, 4002, 4006, 4027
_OPUS_MAX_PACKET = 1275


@functools.cache
def _libopus() -> ctypes.CDLL:
    name = ctypes.util.find_library("opus")
    if name is None:
        raise CodecError("the Opus reference codec needs the libopus library (Debian/Ubuntu: apt install libopus0)")
    lib = ctypes.CDLL(name)
    lib.opus_encoder_create.restype = lib.opus_decoder_create.restype = ctypes.c_void_p
    error_pointer = ctypes.POINTER(ctypes.c_int)
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, error_pointer]
    lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, error_pointer]
    lib.opus_encode_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int32]
    lib.opus_decode_float.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_void_p,
                                      ctypes.c_int, ctypes.c_int]
    lib.opus_encoder_destroy.argtypes = lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_get_version_string.restype = ctypes.c_char_p
    lib.opus_get_version_string.argtypes = []
    return lib


def libopus_version() -> str | None:
    """libopus's version string ("libopus 1.3.1"), or None when the library is not installed."""
    try:
        return _libopus().opus_get_version_string().decode()
    except CodecError:
        return None


def _opus_length_prefix(length: int) -> bytes:
    """RFC 6716 section 3.2.1 packet length: one byte below 252, else two."""
    if length < 252:
        return bytes([length])
    first = 252 + (length & 3)
    return bytes([first, (length - first) >> 2])


def _opus_encode(samples: np.ndarray, sample_rate: int, bitrate_kbps: float) -> tuple[bytes, dict]:
    """Hard-CBR libopus packets, each sized so that payload + length prefix = the requested bitrate."""
    lib = _libopus()
    num_channels, num_samples = samples.shape
    packet_total = max(2, round(bitrate_kbps * 1000 / 8 / _OPUS_FRAMES_PER_S))
    payload = min(packet_total - len(_opus_length_prefix(packet_total - 1)), _OPUS_MAX_PACKET)
    error = ctypes.c_int()
    encoder = lib.opus_encoder_create(sample_rate, num_channels, _OPUS_APPLICATION_AUDIO, ctypes.byref(error))
    if not encoder or error.value != 0:
        raise CodecError(f"libopus could not create an encoder (error {error.value})")
    try:
        handle = ctypes.c_void_p(encoder)
        lib.opus_encoder_ctl(handle, _OPUS_SET_BITRATE, ctypes.c_int32(payload * 8 * _OPUS_FRAMES_PER_S))
        lib.opus_encoder_ctl(handle, _OPUS_SET_VBR, ctypes.c_int32(0))
        lookahead = ctypes.c_int32()
        lib.opus_encoder_ctl(handle, _OPUS_GET_LOOKAHEAD, ctypes.byref(lookahead))
        frame = sample_rate // _OPUS_FRAMES_PER_S
        # Prepend nothing, append the look-ahead plus padding to whole frames, so the tail is fully coded.
        total = -(-(num_samples + lookahead.value) // frame) * frame
        pcm = np.zeros((total, num_channels), dtype=np.float32)
        pcm[:num_samples] = samples.T
        out = ctypes.create_string_buffer(_OPUS_MAX_PACKET + 1)
        chunks = [_OPUS_HEADER.pack(_OPUS_MAGIC, sample_rate, num_channels, lookahead.value, num_samples)]
        for start in range(0, total, frame):
            block = np.ascontiguousarray(pcm[start : start + frame])
            length = lib.opus_encode_float(encoder, block.ctypes.data, frame, out, _OPUS_MAX_PACKET)
            if length < 0:
                raise CodecError(f"libopus failed to encode (error {length})")
            chunks += [_opus_length_prefix(length), out.raw[:length]]
    finally:
        lib.opus_encoder_destroy(encoder)
    settings = {"bitrate_mode": "CBR", "libopus_bitrate_bps": payload * 8 * _OPUS_FRAMES_PER_S,
                "frame_ms": 1000 // _OPUS_FRAMES_PER_S, "pre_skip_samples": lookahead.value}
    return b"".join(chunks), settings


def _opus_decode(data: bytes) -> np.ndarray:
    """Decode :func:`_opus_encode`'s stream to float32 ``[C, T]``, dropping the pre-skip as Ogg Opus does."""
    lib = _libopus()
    magic, sample_rate, num_channels, pre_skip, num_samples = _OPUS_HEADER.unpack_from(data)
    if magic != _OPUS_MAGIC:
        raise CodecError("not an EarBench Opus packet stream")
    error = ctypes.c_int()
    decoder = lib.opus_decoder_create(sample_rate, num_channels, ctypes.byref(error))
    if not decoder or error.value != 0:
        raise CodecError(f"libopus could not create a decoder (error {error.value})")
    max_frame = sample_rate * 120 // 1000
    pcm = np.zeros((max_frame, num_channels), dtype=np.float32)
    blocks, position = [], _OPUS_HEADER.size
    try:
        while position < len(data):
            length, position = data[position], position + 1
            if length >= 252:
                length, position = length + 4 * data[position], position + 1
            decoded = lib.opus_decode_float(decoder, data[position : position + length], length, pcm.ctypes.data,
                                            max_frame, 0)
            if decoded < 0:
                raise CodecError(f"libopus failed to decode (error {decoded})")
            blocks.append(pcm[:decoded].copy())
            position += length
    finally:
        lib.opus_decoder_destroy(decoder)
    return np.ascontiguousarray(np.concatenate(blocks)[pre_skip : pre_skip + num_samples].T)


def encode_decode_opus(samples: np.ndarray, sample_rate: int, bitrate_kbps: float
                       ) -> tuple[np.ndarray, bytes, int, dict]:
    """``[C, T]`` through Opus at ``bitrate_kbps`` → (decoded ``[C, T]`` at the codec's rate, bytes, rate, settings)."""
    if not _OPUS_MIN_KBPS <= bitrate_kbps <= _OPUS_MAX_KBPS:
        raise CodecError(f"Opus takes {_OPUS_MIN_KBPS:g} to {_OPUS_MAX_KBPS:g} kbps; requested {bitrate_kbps:g} kbps")
    rate = next(r for r in _OPUS_RATES if r >= min(sample_rate, 48000))
    data, settings = _opus_encode(resample(samples, sample_rate, rate), rate, bitrate_kbps)
    return _opus_decode(data), data, rate, {**settings, "container": "earbench-opus-packets"}
