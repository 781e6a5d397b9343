"""The ``.ecdc`` container without the LM: header and per-segment bodies, byte-identical to encodec 0.1.1.

Layout::

    header   struct '!4sBI': b'ECDC', version 0, uint32 big-endian length N of the JSON that follows
    JSON     json.dumps({"m": model_name, "al": audio_length, "nc": num_codebooks, "lm": use_lm}).encode()
    segment  [scale as big-endian float32, only for models that normalise (48 kHz)]
             codes [K, T], frame-major, 10 bits each, LSB-first, padded to a whole byte (see ``packing``)

Readers treat the file as hostile: every malformed, truncated or absurd field raises :class:`BitstreamError`, and no
allocation is sized by the header before the bytes behind it have actually been read.
"""

from __future__ import annotations

import json
import math
import operator
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from codec.bitstream.packing import pack_codes, packed_size, unpack_codes
from codec.errors import BitstreamError

__all__ = [
    "CODE_BITS",
    "MAGIC",
    "VERSION",
    "EcdcHeader",
    "frames_for_length",
    "iter_segment_lengths",
    "read_header",
    "read_segment",
    "segment_lengths",
    "write_header",
    "write_segment",
]

MAGIC = b"ECDC"
VERSION = 0
CODE_BITS = 10
MAX_JSON_BYTES = 64 * 1024
MAX_AUDIO_LENGTH = 2**40
MAX_CODEBOOKS = 1024
MAX_STREAMS = 64
READ_CHUNK_BYTES = 1 << 20

_HEADER_STRUCT = struct.Struct("!4sBI")
_SCALE_STRUCT = struct.Struct("!f")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class EcdcHeader:
    """Metadata at the start of an ``.ecdc`` file.

    Attributes
    ----------
    model_name : str
        ``m``: the model that wrote the file (validity is the caller's business).
    audio_length : int
        ``al``: samples per channel of the input, before padding; 0..2**40.
    num_codebooks : int
        ``nc``: codebooks ``K`` used per frame; 1..1024.
    use_lm : bool
        ``lm``: whether the body is arithmetic-coded with the LM.
    num_streams : int
        ``streams``, an EarBench extension written only when above 1: a mono model coding each channel of a
        multichannel file as its own stream. Each segment then holds every stream in turn. 0.1.1 ignores the key
        and reads the first stream.
    """

    model_name: str
    audio_length: int
    num_codebooks: int
    use_lm: bool
    num_streams: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.model_name, str):
            raise BitstreamError(f"model name must be a string, got {type(self.model_name).__name__}")
        if not isinstance(self.use_lm, bool):
            raise BitstreamError(f"use_lm must be a bool, got {type(self.use_lm).__name__}")
        object.__setattr__(self, "audio_length", _as_int(self.audio_length, "audio length"))
        object.__setattr__(self, "num_codebooks", _as_int(self.num_codebooks, "number of codebooks"))
        if not 0 <= self.audio_length <= MAX_AUDIO_LENGTH:
            raise BitstreamError(f"audio length must be in 0..{MAX_AUDIO_LENGTH} samples, got {self.audio_length}")
        if not 1 <= self.num_codebooks <= MAX_CODEBOOKS:
            raise BitstreamError(f"number of codebooks must be in 1..{MAX_CODEBOOKS}, got {self.num_codebooks}")
        object.__setattr__(self, "num_streams", _as_int(self.num_streams, "number of streams"))
        if not 1 <= self.num_streams <= MAX_STREAMS:
            raise BitstreamError(f"number of streams must be in 1..{MAX_STREAMS}, got {self.num_streams}")


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise BitstreamError(f"{name} must be an integer, not a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise BitstreamError(f"{name} must be an integer, got {type(value).__name__}") from None


def _read_exactly(fo: BinaryIO, size: int, what: str) -> bytes:
    """Read ``size`` bytes in bounded chunks, so a lying length costs only the bytes that really exist."""
    parts: list[bytes] = []
    received = 0
    while received < size:
        part = fo.read(min(size - received, READ_CHUNK_BYTES))
        if not part:
            raise BitstreamError(f"file is truncated: {what} needs {size} bytes, only {received} remain")
        parts.append(part)
        received += len(part)
    return b"".join(parts)


def _header_json(header: EcdcHeader) -> bytes:
    metadata: dict[str, Any] = {
        "m": header.model_name, "al": header.audio_length, "nc": header.num_codebooks, "lm": header.use_lm,
    }
    if header.num_streams > 1:
        metadata["streams"] = header.num_streams
    return json.dumps(metadata).encode("utf-8")


def write_header(fo: BinaryIO, header: EcdcHeader) -> None:
    """Write the magic, version and JSON metadata.

    Raises
    ------
    BitstreamError
        If the JSON would exceed the 64 KiB a reader accepts (a very long model name).
    """
    payload = _header_json(header)
    if len(payload) > MAX_JSON_BYTES:
        raise BitstreamError(f"header metadata is {len(payload)} bytes, more than the {MAX_JSON_BYTES} allowed")
    fo.write(_HEADER_STRUCT.pack(MAGIC, VERSION, len(payload)))
    fo.write(payload)


def _parse_metadata(payload: bytes) -> EcdcHeader:
    try:
        metadata = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BitstreamError(f"header metadata is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise BitstreamError(f"header metadata must be a JSON object, got {type(metadata).__name__}")
    missing = [key for key in ("m", "al", "nc", "lm") if key not in metadata]
    if missing:
        raise BitstreamError(f"header metadata lacks the key(s) {', '.join(missing)}")
    expected = {"m": str, "al": int, "nc": int, "lm": bool}
    for key, kind in expected.items():
        value = metadata[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BitstreamError(f"header field {key!r} must be {kind.__name__}, got {type(value).__name__}")
    streams = metadata.get("streams", 1)
    if not isinstance(streams, int) or isinstance(streams, bool):
        raise BitstreamError(f"header field 'streams' must be int, got {type(streams).__name__}")
    return EcdcHeader(metadata["m"], metadata["al"], metadata["nc"], metadata["lm"], streams)


def read_header(fo: BinaryIO) -> EcdcHeader:
    """Read and validate the header written by :func:`write_header` (or by encodec 0.1.1).

    Raises
    ------
    BitstreamError
        On a bad magic or version, an absurd JSON length, malformed or mistyped metadata, out-of-range values,
        or a file that ends early.
    """
    magic, version, json_length = _HEADER_STRUCT.unpack(_read_exactly(fo, _HEADER_STRUCT.size, "the header"))
    if magic != MAGIC:
        raise BitstreamError(f"not an .ecdc file: magic is {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise BitstreamError(f"unsupported .ecdc version {version}; only version {VERSION} exists")
    if json_length > MAX_JSON_BYTES:
        raise BitstreamError(f"header metadata claims {json_length} bytes, more than the {MAX_JSON_BYTES} allowed")
    return _parse_metadata(_read_exactly(fo, json_length, "the header metadata"))


def write_segment(fo: BinaryIO, codes: np.ndarray, scale: float | None) -> None:
    """Write one segment: the optional scale, then the codes packed at 10 bits.

    Parameters
    ----------
    codes : np.ndarray
        Integer codes ``[K, T]`` in ``[0, 1024)``.
    scale : float or None
        The segment's normalisation scale (48 kHz), or None for models that do not normalise.
    """
    if scale is not None:
        scale = float(scale)
        if not math.isfinite(scale) or not 0 < scale <= _FLOAT32_MAX:
            raise BitstreamError(f"segment scale must be a finite positive float32, got {scale}")
        fo.write(_SCALE_STRUCT.pack(scale))
    fo.write(pack_codes(codes, CODE_BITS))


def read_segment(fo: BinaryIO, num_codebooks: int, num_frames: int, has_scale: bool) -> tuple[np.ndarray, float | None]:
    """Read one segment written by :func:`write_segment`.

    Parameters
    ----------
    num_codebooks : int
        ``K`` from the header.
    num_frames : int
        ``T`` of this segment, from :func:`frames_for_length` of its length in samples.
    has_scale : bool
        True for models that normalise (48 kHz).

    Returns
    -------
    codes : np.ndarray
        int64 codes ``[K, T]``.
    scale : float or None
        The scale, or None when ``has_scale`` is False.
    """
    num_codebooks = _as_int(num_codebooks, "number of codebooks")
    num_frames = _as_int(num_frames, "number of frames")
    if not 1 <= num_codebooks <= MAX_CODEBOOKS or num_frames < 0:
        raise ValueError(f"invalid segment shape [{num_codebooks}, {num_frames}]")
    scale = None
    if has_scale:
        (scale,) = _SCALE_STRUCT.unpack(_read_exactly(fo, _SCALE_STRUCT.size, "a segment scale"))
        if not math.isfinite(scale) or scale <= 0:
            raise BitstreamError(f"segment scale must be finite and positive, got {scale}")
    size = packed_size(num_codebooks, num_frames, CODE_BITS)
    data = _read_exactly(fo, size, f"a segment of {num_codebooks} x {num_frames} codes")
    return unpack_codes(data, num_codebooks, num_frames, CODE_BITS), scale


def iter_segment_lengths(audio_length: int, segment_length: int | None, segment_stride: int | None) -> Iterator[int]:
    """Lazily yield the samples per segment; see :func:`segment_lengths`."""
    audio_length = _as_int(audio_length, "audio length")
    if audio_length < 0:
        raise ValueError(f"audio length must be >= 0, got {audio_length}")
    if segment_length is None:
        yield audio_length
        return
    segment_length = _as_int(segment_length, "segment length")
    stride = segment_length if segment_stride is None else _as_int(segment_stride, "segment stride")
    if segment_length <= 0 or stride <= 0:
        raise ValueError(f"segment length and stride must be positive, got {segment_length} and {stride}")
    for offset in range(0, audio_length, stride):
        yield min(segment_length, audio_length - offset)


def segment_lengths(audio_length: int, segment_length: int | None, segment_stride: int | None) -> list[int]:
    """Samples in each segment of a file, in order.

    Parameters
    ----------
    audio_length : int
        ``al`` from the header.
    segment_length : int or None
        Samples per segment (48000 for the 48 kHz model), or None for one segment holding everything (24 kHz).
    segment_stride : int or None
        Samples between segment starts (47520 for the 48 kHz model); None means ``segment_length``.

    Returns
    -------
    list of int
        ``[audio_length]`` without segmentation, else ``min(segment_length, L - offset)`` for each
        ``offset in range(0, L, stride)``. Readers of untrusted files should prefer :func:`iter_segment_lengths`.
    """
    return list(iter_segment_lengths(audio_length, segment_length, segment_stride))


def frames_for_length(num_samples: int, hop_length: int = 320) -> int:
    """Frames ``T`` the encoder produces for ``num_samples`` samples: exactly ``ceil(num_samples / hop_length)``.

    encodec 0.1.1's reader uses a float formula that is one frame too many for some lengths (its issue #35, e.g.
    53760 samples at 24 kHz); this integer form matches what its encoder writes.
    """
    num_samples = _as_int(num_samples, "number of samples")
    hop_length = _as_int(hop_length, "hop length")
    if num_samples < 0 or hop_length <= 0:
        raise ValueError(f"need num_samples >= 0 and hop_length > 0, got {num_samples} and {hop_length}")
    return -(-num_samples // hop_length)
