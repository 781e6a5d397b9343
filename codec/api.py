"""The codec as callers use it: numpy audio ``[C, T]`` at any rate and channel count in, codes or audio out.

A model codes ``M`` channels (1 or 2) at its own sample rate. Input is resampled with soxr and laid out as
``S`` streams of ``M`` channels: a mono model codes each channel of a stereo file as its own stream (and the bitrate
reported is what all streams really cost); a stereo model codes a mono file as one stream of two equal channels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from codec.audio import as_audio_array, resample
from codec.catalog import resolve_model
from codec.checkpoint import load_model
from codec.errors import BitstreamError, InvalidAudioError
from codec.model import EncodecModel, EncodedSegment, linear_overlap_add
from codec.quantization import check_bitrate

DECODE_BATCH_SEGMENTS = 8
ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each coded segment."""


@dataclass(frozen=True)
class CodedSegment:
    """Codes ``[S, K, F]`` (int64) of one segment for S streams, and per-stream scales ``[S]`` or None."""

    codes: np.ndarray
    scales: np.ndarray | None


@dataclass(frozen=True)
class EncodedAudio:
    """Everything needed to decode: codes per segment plus the audio's format.

    ``audio_length`` is in samples at the model's ``sample_rate``; ``input_*`` describe the audio before
    resampling and channel layout, so :meth:`Codec.decode` can return it in its original form.
    """

    model_name: str
    sample_rate: int
    audio_length: int
    num_codebooks: int
    bits_per_code: int
    segments: tuple[CodedSegment, ...]
    input_sample_rate: int
    input_channels: int
    input_length: int

    @property
    def num_streams(self) -> int:
        return int(self.segments[0].codes.shape[0])

    @property
    def duration_s(self) -> float:
        return self.audio_length / self.sample_rate

    @property
    def payload_bits(self) -> int:
        """Bits of codes (and float32 scales) as the ``.ecdc`` body stores them, without the header."""
        code_bits = sum(s.codes.size * self.bits_per_code for s in self.segments)
        scale_bits = sum(32 * s.scales.size for s in self.segments if s.scales is not None)
        return code_bits + scale_bits

    @property
    def bitrate_kbps(self) -> float:
        """Bits really spent per second of input (all streams, padding frames, scales)."""
        return self.payload_bits / max(self.duration_s, 1e-9) / 1000


class Codec:
    """A loaded model ready to code audio. Build it with :func:`load_codec`."""

    def __init__(self, model: EncodecModel, source: Path | None = None, name: str | None = None) -> None:
        self.model = model.prepare_for_inference()
        self.source = source
        self.name = name or model.config.name

    @property
    def sample_rate(self) -> int:
        return self.model.config.sample_rate

    @property
    def channels(self) -> int:
        return self.model.config.channels

    @property
    def bitrates_kbps(self) -> tuple[float, ...]:
        return self.model.config.bitrates_kbps

    @property
    def trained(self) -> bool:
        """False for random-weight models made for tests, which must never be presented as a codec."""
        return not self.model.config.provenance.get("random_init", False)

    @property
    def bits_per_code(self) -> int:
        return int(math.log2(self.model.config.quantizer.bins))

    def encode(self, audio: np.ndarray, sample_rate: int, bitrate_kbps: float,
               progress: ProgressCallback | None = None) -> EncodedAudio:
        """Code ``audio`` ``[C, T]`` (or ``[T]``) at ``bitrate_kbps`` (one of :attr:`bitrates_kbps`)."""
        bitrate = check_bitrate(bitrate_kbps, self.bitrates_kbps)
        samples = as_audio_array(audio)
        model_audio = resample(samples, sample_rate, self.sample_rate)
        streams = to_streams(model_audio, self.channels)
        x = torch.from_numpy(streams)
        segment = self.model.config.segment_length or x.shape[-1]
        starts = self.model.segment_starts(x.shape[-1])
        coded = []
        with torch.inference_mode():
            for i, start in enumerate(starts):
                seg = self.model.encode_segment(x[..., start : start + segment], bitrate)
                coded.append(_to_numpy(seg))
                if progress is not None:
                    progress(i + 1, len(starts))
        return EncodedAudio(
            model_name=self.name, sample_rate=self.sample_rate, audio_length=int(x.shape[-1]),
            num_codebooks=int(coded[0].codes.shape[1]), bits_per_code=self.bits_per_code, segments=tuple(coded),
            input_sample_rate=int(sample_rate), input_channels=int(samples.shape[0]),
            input_length=int(samples.shape[1]),
        )

    def decode(self, encoded: EncodedAudio, progress: ProgressCallback | None = None) -> np.ndarray:
        """Codes → float32 audio ``[C, T]`` with the input's channels, sample rate and length."""
        self._check_codes(encoded)
        segments = [_to_torch(seg) for seg in encoded.segments]
        decoded: list[torch.Tensor] = []
        with torch.inference_mode():
            # Segments of equal shape decode as one batch (the LSTM then steps once for all), a few at a time
            # so memory stays bounded and progress moves.
            for start in range(0, len(segments), DECODE_BATCH_SEGMENTS):
                decoded += self.model.decode_segments(segments[start : start + DECODE_BATCH_SEGMENTS])
                if progress is not None:
                    progress(len(decoded), len(segments))
            stride = self.model.config.segment_stride
            if stride is None:
                audio = decoded[0]
            else:
                audio = linear_overlap_add(decoded, stride)
        model_audio = audio[..., : encoded.audio_length].numpy()
        restored = from_streams(model_audio, encoded.input_channels)
        out = resample(restored, self.sample_rate, encoded.input_sample_rate)
        return _fit_length(out, encoded.input_length)

    def reconstruct(self, audio: np.ndarray, sample_rate: int, bitrate_kbps: float,
                    progress: ProgressCallback | None = None) -> np.ndarray:
        """Encode then decode: float32 ``[C, T]`` in the input's shape and sample rate."""
        return self.decode(self.encode(audio, sample_rate, bitrate_kbps, progress))

    def _check_codes(self, encoded: EncodedAudio) -> None:
        if not encoded.segments:
            raise BitstreamError("no segments to decode")
        n_q, bins = self.model.config.quantizer.n_q, self.model.config.quantizer.bins
        if not 1 <= encoded.num_codebooks <= n_q:
            raise BitstreamError(f"{encoded.num_codebooks} codebooks, but {self.name} has {n_q}")
        for seg in encoded.segments:
            if seg.codes.ndim != 3 or seg.codes.shape[1] != encoded.num_codebooks:
                raise BitstreamError(f"codes of shape {seg.codes.shape}, expected [S, {encoded.num_codebooks}, F]")
            if seg.codes.size and (seg.codes.min() < 0 or seg.codes.max() >= bins):
                raise BitstreamError(f"codes outside 0..{bins - 1}")


def to_streams(audio: np.ndarray, model_channels: int) -> np.ndarray:
    """``[C, T]`` → ``[S, M, T]``: channel groups of the model's width (fewer channels are repeated)."""
    channels = audio.shape[0]
    if channels < model_channels:
        if channels != 1:
            raise InvalidAudioError(f"cannot lay out {channels} channels for a {model_channels}-channel model")
        return np.repeat(audio, model_channels, axis=0)[None]
    streams = math.ceil(channels / model_channels)
    padded = np.concatenate([audio, np.repeat(audio[-1:], streams * model_channels - channels, axis=0)])
    return np.ascontiguousarray(padded.reshape(streams, model_channels, -1))


def from_streams(streams: np.ndarray, channels: int) -> np.ndarray:
    """Inverse of :func:`to_streams`: ``[S, M, T]`` → ``[C, T]`` (an upmixed mono input is averaged back)."""
    flat = streams.reshape(-1, streams.shape[-1])
    if channels < streams.shape[1]:
        return flat.mean(axis=0, keepdims=True, dtype=np.float32)
    return np.ascontiguousarray(flat[:channels], dtype=np.float32)


def _fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    if audio.shape[1] >= length:
        return np.ascontiguousarray(audio[:, :length])
    return np.pad(audio, ((0, 0), (0, length - audio.shape[1])))


def _to_torch(segment: CodedSegment) -> EncodedSegment:
    scales = None if segment.scales is None else torch.from_numpy(segment.scales).view(-1, 1)
    return EncodedSegment(torch.from_numpy(segment.codes), scales)


def _to_numpy(segment: EncodedSegment) -> CodedSegment:
    scales = None if segment.scale is None else segment.scale.reshape(-1).numpy().astype(np.float32)
    return CodedSegment(segment.codes.numpy().astype(np.int64), scales)


def load_codec(name_or_path: str | os.PathLike[str], search_dirs: list[Path] | None = None,
               hub_dir: Path | None = None) -> Codec:
    """Load a codec by path, official name (``encodec_24khz``) or installed model name (no downloads)."""
    path = resolve_model(name_or_path, search_dirs, hub_dir)
    return Codec(load_model(path), source=path)


def available_bitrates(name_or_path: str | os.PathLike[str]) -> tuple[float, ...]:
    """Bitrates (kbps) a model offers, from its config."""
    from codec.catalog import describe

    return describe(resolve_model(name_or_path)).bitrates_kbps
