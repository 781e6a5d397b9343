"""Streaming encoder and decoder for causal models (e.g. ``encodec_24khz``): any chunk size in, codes/audio out.

Both run the layers in fixed internal blocks (``block_frames`` latent frames), whatever chunks the caller pushes:
every block then has the same tensor shapes, so the floating-point kernels (and so every bit of the result) do not
depend on how the input was chunked. Chunked streaming therefore equals, bit for bit, the same engine fed the
whole input at once. Against the regular offline path (:meth:`codec.api.Codec.encode` / ``decode``), which runs
other tensor lengths and, for the decoder, other kernels, results agree to float rounding; docs/benchmarks.md
gives the measured differences.
"""

from __future__ import annotations

import numpy as np
import torch

from codec.model import EncodecModel
from codec.quantization import check_bitrate
from codec.streaming.layers import UnsupportedStreamingError
from codec.streaming.stack import StreamingSequential, wrap_stack

__all__ = ["StreamingDecoder", "StreamingEncoder", "check_streamable"]

_MIN_GEMM_ROWS = 4


def check_streamable(model: EncodecModel) -> None:
    """Raise :class:`UnsupportedStreamingError` unless the model is causal and unsegmented."""
    if not model.config.seanet.causal:
        raise UnsupportedStreamingError(f"{model.config.name} is not causal: use segment streaming instead")
    if model.config.segment_length is not None or model.config.normalize:
        raise UnsupportedStreamingError(f"{model.config.name} codes in normalised segments: not streamable")


def _as_batch(x: np.ndarray | torch.Tensor, rows: int, what: str) -> tuple[torch.Tensor, bool]:
    """``[R, n]`` or ``[S, R, n]`` → (``[S, R, n]`` tensor, whether the input had a stream axis)."""
    tensor = torch.as_tensor(x)
    if tensor.ndim == 2:
        tensor, batched = tensor.unsqueeze(0), False
    elif tensor.ndim == 3:
        batched = True
    else:
        raise ValueError(f"{what} must be [{rows}, n] or [streams, {rows}, n], got shape {tuple(tensor.shape)}")
    if tensor.shape[1] != rows:
        raise ValueError(f"{what} has {tensor.shape[1]} rows, expected {rows}")
    return tensor, batched


class _BlockRunner:
    """Feeds a streaming stack fixed blocks of ``block`` input steps, keeping the remainder for later."""

    def __init__(self, stack: StreamingSequential, block: int) -> None:
        self.stack, self.block = stack, block
        self.pending: torch.Tensor | None = None
        self.finished = False

    def push(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.finished:
            raise RuntimeError("push after flush: make a new streaming object for a new signal")
        if self.pending is not None and self.pending.shape[:2] != x.shape[:2]:
            raise ValueError(f"chunk of shape {tuple(x.shape)} after chunks of {tuple(self.pending.shape[:2])}")
        self.pending = x if self.pending is None else torch.cat([self.pending, x], dim=-1)
        out: list[torch.Tensor] = []
        start = 0
        while self.pending.shape[-1] - start >= self.block:
            y = self.stack.step(self.pending[..., start : start + self.block])
            start += self.block
            if y is not None:
                out.append(y)
        self.pending = self.pending[..., start:].clone() if start else self.pending
        return out

    def flush(self) -> list[torch.Tensor]:
        if self.finished:
            return []
        self.finished = True
        out = []
        if self.pending is not None and self.pending.shape[-1]:
            y = self.stack.step(self.pending)
            if y is not None:
                out.append(y)
        tail = self.stack.flush()
        if tail is not None:
            out.append(tail)
        return out


class StreamingEncoder:
    """Audio chunks ``[C, n]`` (or ``[S, C, n]`` for S streams) at the model's rate → codes ``[K, frames]``.

    The codes of all pushes plus :meth:`flush` are those of the whole signal: ``ceil(T / hop)`` frames.

    Parameters
    ----------
    block_frames : int
        Latent frames per internal block. The encoder waits for a whole block before coding it, so the
        steady-state algorithmic latency is ``block_frames · hop`` samples (see :func:`latency`).
    offline_kernels : bool
        Zero-extend short convolution inputs so they take the kernels of long offline signals: codes then equal
        the offline encoder's bit for bit (one thread). False is faster for small blocks; codes then differ
        from offline where a latent sits within float rounding of a codebook decision boundary.
    """

    def __init__(self, model: EncodecModel, bitrate_kbps: float, block_frames: int = 1,
                 offline_kernels: bool = True) -> None:
        check_streamable(model)
        if block_frames < 1:
            raise ValueError(f"block_frames must be at least 1, got {block_frames}")
        self.model = model.eval()
        self.bitrate_kbps = check_bitrate(bitrate_kbps, model.config.bitrates_kbps)
        self.num_codebooks = model.quantizer.codebooks_for(self.bitrate_kbps)
        self.block_frames = block_frames
        self.stack = wrap_stack(model.encoder.model, offline_kernels)
        self._runner = _BlockRunner(self.stack, block_frames * model.config.hop_length)
        self._batched: bool | None = None
        self._streams = 1

    def push(self, audio: np.ndarray | torch.Tensor) -> np.ndarray:
        """Code what the new samples complete: int64 ``[K, f]`` (``[S, K, f]``), ``f`` possibly 0."""
        x, batched = _as_batch(audio, self.model.config.channels, "audio")
        self._batched, self._streams = batched, x.shape[0]
        with torch.inference_mode():
            return self._codes(self._runner.push(x.float()), x.shape[0])

    def flush(self) -> np.ndarray:
        """End of input: the remaining codes (the offline end-of-signal padding applies here)."""
        with torch.inference_mode():
            return self._codes(self._runner.flush(), self._streams)

    def _quantize(self, latent: torch.Tensor) -> torch.Tensor:
        """Codes ``[B, K, F]`` of ``latent`` ``[B, D, F]``, one block at a time."""
        frames = latent.shape[-1]
        if frames < _MIN_GEMM_ROWS:
            # The distance matrix product of fewer rows takes another BLAS kernel, which rounds otherwise than
            # offline's; repeats of the last frame (codes dropped) keep the common kernel (measured, per row exact).
            latent = torch.cat([latent, latent[..., -1:].expand(*latent.shape[:-1], _MIN_GEMM_ROWS - frames)], -1)
        return self.model.quantizer.encode(latent, self.bitrate_kbps)[..., :frames]

    def _codes(self, latents: list[torch.Tensor], streams: int) -> np.ndarray:
        if latents:
            # One quantizer call per internal block: its matrix shapes, too, then never depend on the chunking.
            codes = torch.cat([self._quantize(z) for z in latents], dim=-1).numpy()
        else:
            codes = np.zeros((streams, self.num_codebooks, 0), dtype=np.int64)
        return codes.astype(np.int64) if self._batched else codes[0].astype(np.int64)


class StreamingDecoder:
    """Code chunks ``[K, f]`` (or ``[S, K, f]``) → float32 audio ``[C, f · hop]`` as soon as the layers allow."""

    def __init__(self, model: EncodecModel, block_frames: int = 1) -> None:
        check_streamable(model)
        if block_frames < 1:
            raise ValueError(f"block_frames must be at least 1, got {block_frames}")
        self.model = model.eval()
        self.block_frames = block_frames
        # The offline decoder runs its own GEMM kernels, so the encoder's kernel matching would buy nothing here.
        self.stack = wrap_stack(model.decoder.model, offline_kernels=False)
        self._runner = _BlockRunner(self.stack, block_frames)
        self._batched: bool | None = None
        self._streams = 1
        self._num_codebooks: int | None = None

    def push(self, codes: np.ndarray | torch.Tensor) -> np.ndarray:
        """Decode new frames; returns the audio they make ready, ``[C, n]`` (``[S, C, n]``), ``n`` possibly 0."""
        tensor = torch.as_tensor(np.asarray(codes, dtype=np.int64))
        if self._num_codebooks is None:
            self._num_codebooks = int(tensor.shape[-2]) if tensor.ndim >= 2 else 0
        c, batched = _as_batch(tensor, self._num_codebooks, "codes")
        self._batched, self._streams = batched, c.shape[0]
        with torch.inference_mode():
            latent = self.model.quantizer.decode(c) if c.shape[-1] else None
            chunks = self._runner.push(latent) if latent is not None else []
        return self._audio(chunks, c.shape[0])

    def flush(self) -> np.ndarray:
        """End of codes: whatever audio is still held back."""
        with torch.inference_mode():
            return self._audio(self._runner.flush(), self._streams)

    def _audio(self, chunks: list[torch.Tensor], streams: int) -> np.ndarray:
        if chunks:
            audio = torch.cat(chunks, dim=-1).numpy().astype(np.float32, copy=False)
        else:
            audio = np.zeros((streams, self.model.config.channels, 0), dtype=np.float32)
        return audio if self._batched else audio[0]
