"""Reference lossy codecs (Opus, MP3, Vorbis) at a requested bitrate, for comparison with the neural codec.

:func:`encode_decode` encodes ``[C, T]`` audio in memory, decodes it again and reports the bitrate the encoded bytes
really cost (``encoded_bytes * 8 / duration``, container and framing overhead included) next to the requested one.

How the bitrate is controlled, per codec
----------------------------------------
* **Opus** through libopus directly (ctypes, Debian ``libopus0``), hard CBR with 20 ms frames. libsndfile only maps
  ``compression_level`` to a VBR target, and its Ogg pages and headers add about 1 kB: on a few seconds at 6 kbps
  it delivers over 8 kbps, so 6-8 kbps were out of reach. With CBR every packet has a fixed size, chosen so that
  payload plus our framing (one length byte per packet, as in RFC 6716 self-delimiting framing, and a 15-byte
  header) equals the request. Range 6-510 kbps. The encoder look-ahead (pre-skip) is dropped on decoding, as an
  Ogg Opus decoder would, so the output is aligned with the input.
* **MP3** through soundfile (LAME), ABR mode (``bitrate_mode='AVERAGE'``), whose mean bitrate follows
  ``compression_level`` linearly; we bisect the level on the measured size. Where ABR cannot go low enough we fall
  back to CBR at LAME's minimum (8 kbps). The sample rate is the one LAME itself picks for the bitrate (its
  ``optimum_samplefreq`` rule: 8 kHz up to 28 kbps, 16 kHz to 44, 22.05 kHz to 52, 24 kHz to 72, 32 kHz to 88 kbps),
  or the lowest MPEG rate not below a lower input rate. MP3 cannot go below 8 kbps (:class:`CodecError`). mpg123
  removes LAME's encoder + decoder delay (576 + 529 = 1105 samples) itself when the stream has a LAME/Info tag; the
  lowest CBR settings have none and come back 1105 samples late, which we detect from the decoded length and
  remove, so the output is aligned.
* **Vorbis** through soundfile, ``compression_level`` (= 1 - quality) bisected on the measured size. Vorbis has a
  content-dependent floor (about 60 kbps at 48 kHz, 40 kbps at 24 kHz, 25 kbps at 8 kHz mono): we take the highest
  sample rate (at most the input's) whose floor is within 3 % of the request, and raise :class:`CodecError` when even
  8 kHz cannot go that low (in practice below ~25 kbps).

The decoded audio is always float32 ``[C, T]`` at the input's sample rate and channel count, trimmed or zero-padded
to the input length. Opus and MP3 take one or two channels.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile as sf

from codec.audio import as_audio_array, check_sample_rate, resample
from codec.baselines.opus import encode_decode_opus, libopus_version
from codec.errors import CodecError, InvalidAudioError

__all__ = ["CODECS", "ENCODER_VERSION", "MIN_DURATION_S", "LossyResult", "encode_decode", "libopus_version"]

CODECS = ("opus", "mp3", "vorbis")
ENCODER_VERSION = "lossy-1"
"""Changes whenever the way a bitrate is reached changes, so cached results from older settings are not reused."""

TOLERANCE = 0.03
"""The level search stops once the achieved bitrate is within 3 % of the request (the promise is 15 %)."""
MIN_DURATION_S = 0.1
_MAX_STEPS = 14
_MP3_DELAY = 1105
_MP3_MIN_KBPS = 8.0
_MP3_MAX_LEVEL = 0.999  # libsndfile's MP3 encoder refuses compression_level 1.0
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_MP3_MAX_KBPS = {8000: 64, 11025: 64, 12000: 64, 16000: 160, 22050: 160, 24000: 160}  # MPEG-2/2.5; MPEG-1: 320
_VORBIS_RATES = (48000, 44100, 32000, 24000, 22050, 16000, 11025, 8000)
# LAME's CBR/ABR lowpass table (kbps -> Hz) and optimum_samplefreq thresholds (lowpass Hz -> sample rate).
_LAME_LOWPASS = ((8, 2000), (16, 3700), (24, 3900), (32, 5500), (40, 7000), (48, 7500), (56, 10000), (64, 11000),
                 (80, 13500), (96, 15100), (112, 15600), (128, 17000), (160, 17500), (192, 18600), (224, 19400),
                 (256, 19700), (320, 20500))
_LAME_RATE_FOR_LOWPASS = ((3970, 8000), (4510, 11025), (5420, 12000), (7230, 16000), (9970, 22050), (11220, 24000),
                          (15250, 32000), (15960, 44100))


@dataclass(frozen=True, eq=False)  # eq=False: comparing arrays field by field is ambiguous
class LossyResult:
    """One encode/decode round trip.

    Attributes
    ----------
    audio : np.ndarray
        Decoded float32 ``[C, T]``, same shape and sample rate as the input, aligned with it.
    requested_kbps, achieved_kbps : float
        The request, and ``encoded_bytes * 8 / duration / 1000`` (container/framing overhead included).
    encoded_bytes : int
        Size of the encoded stream.
    codec_sample_rate : int
        The rate the codec ran at, in Hz (the input is resampled to it and back).
    settings : dict
        What was set: codec, mode, compression level or libopus bitrate, container.
    """

    audio: np.ndarray
    codec: str
    requested_kbps: float
    achieved_kbps: float
    encoded_bytes: int
    codec_sample_rate: int
    settings: dict[str, Any] = field(default_factory=dict)


def _kbps(num_bytes: int, num_samples: int, sample_rate: int) -> float:
    return num_bytes * 8.0 / (num_samples / sample_rate) / 1000.0


def _encode_sf(samples: np.ndarray, sample_rate: int, file_format: str, subtype: str, level: float,
               mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", sample_rate, samples.shape[0], subtype, format=file_format,
                      compression_level=level, bitrate_mode=mode) as handle:
        handle.write(samples.T)
    return buffer.getvalue()


def _decode_sf(data: bytes) -> np.ndarray:
    frames, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return np.ascontiguousarray(frames.T)


def _search_level(encode: Callable[[float], bytes], target_bytes: float, low: float, high: float,
                  at_high: bytes | None = None) -> tuple[float, bytes]:
    """Bisect ``compression_level`` in [low, high] (size falls as the level rises) towards ``target_bytes``.

    Returns the (level, bytes) whose size is closest to the target; stops early within :data:`TOLERANCE`.
    """
    best = (high, at_high if at_high is not None else encode(high))
    for _ in range(_MAX_STEPS):
        if abs(len(best[1]) / target_bytes - 1.0) <= TOLERANCE:
            break
        middle = 0.5 * (low + high)
        data = encode(middle)
        if abs(len(data) - target_bytes) < abs(len(best[1]) - target_bytes):
            best = (middle, data)
        if len(data) > target_bytes:
            low = middle
        else:
            high = middle
    return best


def _lame_sample_rate(bitrate_kbps: float, input_rate: int) -> int:
    """The output rate LAME itself picks for a CBR/ABR bitrate (lame.c ``optimum_samplefreq``).

    The lowpass comes from the nearest table bitrate; an input below the suggested rate is coded at the lowest MPEG
    rate not below the input (no upsampling beyond that).
    """
    _, lowpass_hz = min(_LAME_LOWPASS, key=lambda row: abs(row[0] - bitrate_kbps))
    suggested = next((rate for limit, rate in _LAME_RATE_FOR_LOWPASS if lowpass_hz <= limit), 48000)
    if input_rate < suggested:
        return next((rate for rate in _MP3_RATES if rate >= input_rate), _MP3_RATES[-1])
    return suggested


def _mp3(samples: np.ndarray, sample_rate: int, bitrate_kbps: float) -> tuple[np.ndarray, bytes, int, dict]:
    if bitrate_kbps < _MP3_MIN_KBPS:
        raise CodecError(f"MP3 cannot go below {_MP3_MIN_KBPS:g} kbps (LAME's lowest bitrate); "
                         f"requested {bitrate_kbps:g} kbps")
    rate = _lame_sample_rate(bitrate_kbps, sample_rate)
    max_kbps = _MP3_MAX_KBPS.get(rate, 320)
    if bitrate_kbps > max_kbps:
        raise CodecError(f"MP3 at {rate} Hz cannot exceed {max_kbps} kbps; requested {bitrate_kbps:g} kbps")
    coded = resample(samples, sample_rate, rate)
    target = bitrate_kbps * 1000 / 8 * coded.shape[1] / rate

    def encode(level: float) -> bytes:
        return _encode_sf(coded, rate, "MP3", "MPEG_LAYER_III", level, "AVERAGE")

    level, data = _search_level(encode, target, 0.0, _MP3_MAX_LEVEL)
    settings = {"bitrate_mode": "AVERAGE", "compression_level": level}
    if len(data) > target * (1 + TOLERANCE):  # below ABR's floor: CBR reaches LAME's minimum bitrate
        cbr = _encode_sf(coded, rate, "MP3", "MPEG_LAYER_III", _MP3_MAX_LEVEL, "CONSTANT")
        if abs(len(cbr) - target) < abs(len(data) - target):
            data, settings = cbr, {"bitrate_mode": "CONSTANT", "compression_level": _MP3_MAX_LEVEL}
    decoded = _decode_sf(data)
    # With a LAME/Info tag (every setting but the lowest CBR ones, whose frames are too small for it) mpg123 trims
    # the encoder and decoder delay itself and returns exactly the input length; without one the output is late by
    # 1105 samples and longer by at least that much.
    delay = _MP3_DELAY if decoded.shape[1] >= coded.shape[1] + _MP3_DELAY else 0
    return decoded[:, delay:], data, rate, {**settings, "container": "MP3", "delay_removed_samples": delay}


def _vorbis(samples: np.ndarray, sample_rate: int, bitrate_kbps: float) -> tuple[np.ndarray, bytes, int, dict]:
    rates = [rate for rate in _VORBIS_RATES if rate <= sample_rate] or [_VORBIS_RATES[-1]]
    floors = []
    for rate in rates:
        coded = resample(samples, sample_rate, rate)
        target = bitrate_kbps * 1000 / 8 * coded.shape[1] / rate

        def encode(level: float, coded: np.ndarray = coded, rate: int = rate) -> bytes:
            return _encode_sf(coded, rate, "OGG", "VORBIS", level)

        lowest = encode(1.0)
        floors.append(f"{_kbps(len(lowest), coded.shape[1], rate):.1f} kbps at {rate} Hz")
        if len(lowest) <= target * (1 + TOLERANCE):
            level, data = _search_level(encode, target, 0.0, 1.0, at_high=lowest)
            settings = {"compression_level": level, "vorbis_quality": 1.0 - level, "container": "OGG"}
            return _decode_sf(data), data, rate, settings
    raise CodecError(f"Vorbis cannot go as low as {bitrate_kbps:g} kbps for this audio; its lowest bitrates are "
                     f"{', '.join(floors)}")


_ENCODERS = {"opus": encode_decode_opus, "mp3": _mp3, "vorbis": _vorbis}


def encode_decode(audio: np.ndarray, sample_rate: int, codec: str, bitrate_kbps: float) -> LossyResult:
    """Encode ``[C, T]`` audio with a reference codec at ``bitrate_kbps`` and decode it again.

    Parameters
    ----------
    audio : np.ndarray
        ``[C, T]`` or ``[T]`` samples (see :func:`codec.audio.as_audio_array`).
    sample_rate : int
        In Hz.
    codec : {"opus", "mp3", "vorbis"}
    bitrate_kbps : float
        The requested bitrate, kbit/s, for all channels together.

    Returns
    -------
    LossyResult
        Decoded float32 ``[C, T]`` with the input's shape and rate, and the achieved bitrate.

    Raises
    ------
    InvalidAudioError
        Invalid audio, audio shorter than :data:`MIN_DURATION_S`, or more than 2 channels for Opus/MP3.
    CodecError
        Unknown codec, or a bitrate the codec cannot reach (the message says the codec's range).
    """
    samples = as_audio_array(audio)
    sample_rate = check_sample_rate(sample_rate)
    name = str(codec).lower()
    if name not in _ENCODERS:
        raise CodecError(f"unknown reference codec {codec!r}; choose one of {', '.join(CODECS)}")
    if isinstance(bitrate_kbps, bool) or not isinstance(bitrate_kbps, (int, float)) or not np.isfinite(bitrate_kbps):
        raise CodecError(f"bitrate_kbps must be a finite number, got {bitrate_kbps!r}")
    if bitrate_kbps <= 0:
        raise CodecError(f"bitrate_kbps must be positive, got {bitrate_kbps!r}")
    num_channels, num_samples = samples.shape
    if num_samples < MIN_DURATION_S * sample_rate:
        raise InvalidAudioError(f"reference codecs need at least {MIN_DURATION_S:g} s of audio (their headers and "
                                f"frames would dominate the bitrate), got {num_samples / sample_rate:.4f} s")
    if name in ("opus", "mp3") and num_channels > 2:
        raise InvalidAudioError(f"{name} takes mono or stereo audio, got {num_channels} channels")
    decoded, data, codec_rate, settings = _ENCODERS[name](samples, sample_rate, float(bitrate_kbps))
    output = np.zeros((num_channels, num_samples), dtype=np.float32)
    decoded = decoded[:, : int(np.ceil(num_samples * codec_rate / sample_rate)) + 1]
    if decoded.shape[1] > 0:  # a few samples of input can decode to nothing; the output is then silence
        decoded = resample(decoded, codec_rate, sample_rate)
        length = min(num_samples, decoded.shape[1])
        output[:, :length] = decoded[:num_channels, :length]
    output.flags.writeable = False  # the result is frozen, and the cache may hand the same array out again
    achieved = _kbps(len(data), num_samples, sample_rate)
    return LossyResult(output, name, float(bitrate_kbps), achieved, len(data), codec_rate,
                       {"codec": name, "encoder_version": ENCODER_VERSION, **settings})
