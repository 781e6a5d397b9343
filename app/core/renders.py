"""Rendering reconstructions: (clip, model, bitrate) -> the codec's output, aligned with the clip, cached.

A :class:`RenderRequest` is an immutable snapshot built on the GUI thread; :meth:`RenderService.render` runs in a
worker and may be cancelled between steps. Results are cached by (clip SHA-256, model id, bitrate), so switching
back to a bitrate already heard is instant.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.core.clip import Clip
from app.core.errors import CancelledError, EarBenchError, RenderError
from app.core.models import CodecLike, ModelCatalog

#: Called with (fraction 0..1, message) as a render advances.
ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class RenderKey:
    """What identifies a reconstruction: the clip's content, the model and the bitrate."""

    clip_sha256: str
    model_id: str
    bitrate_kbps: float


@dataclass(frozen=True)
class RenderRequest:
    """An immutable render job; ``request_id`` lets the GUI drop results it no longer wants."""

    clip: Clip
    model_id: str
    bitrate_kbps: float
    request_id: int = 0

    @property
    def key(self) -> RenderKey:
        """The cache key of this request."""
        return RenderKey(self.clip.sha256, self.model_id, float(self.bitrate_kbps))


@dataclass(frozen=True)
class RenderResult:
    """A finished reconstruction.

    Attributes
    ----------
    request : RenderRequest
        The request it answers.
    audio : np.ndarray
        float32 [C, T], same shape and rate as ``request.clip.audio``, read-only.
    model_name : str
        The model's display name when it was rendered.
    elapsed_s : float
        Wall time the codec took (0 for a cache hit).
    from_cache : bool
        Whether it came from the cache.
    achieved_kbps : float or None
        Bits the encoded stream really spent per second (None when the codec only offers ``reconstruct``).
    """

    request: RenderRequest
    audio: np.ndarray
    model_name: str
    elapsed_s: float
    from_cache: bool = False
    achieved_kbps: float | None = None


class RenderCache:
    """A thread-safe LRU cache of reconstructions, bounded by total bytes."""

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[RenderKey, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: RenderKey) -> np.ndarray | None:
        """Return the cached audio for ``key`` (marking it recently used), or None."""
        with self._lock:
            audio = self._items.get(key)
            if audio is not None:
                self._items.move_to_end(key)
            return audio

    def put(self, key: RenderKey, audio: np.ndarray) -> None:
        """Store ``audio`` under ``key``, evicting the least recently used entries beyond ``max_bytes``."""
        with self._lock:
            self._items[key] = audio
            self._items.move_to_end(key)
            while len(self._items) > 1 and self.nbytes > self.max_bytes:
                self._items.popitem(last=False)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return sum(a.nbytes for a in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


def _never_cancelled() -> bool:
    return False


def _ignore_progress(fraction: float, message: str) -> None:
    pass


def match_length(audio: np.ndarray, num_samples: int) -> np.ndarray:
    """Trim or zero-pad float32 [C, T'] to [C, num_samples]."""
    channels, length = audio.shape
    if length == num_samples:
        return audio
    if length > num_samples:
        return audio[:, :num_samples]
    padded = np.zeros((channels, num_samples), dtype=np.float32)
    padded[:, :length] = audio
    return padded


class RenderService:
    """Runs codec reconstructions for the app (call :meth:`render` from a worker thread).

    Renders are serialized: a codec may hold per-call state (its bitrate), so two never run at once.
    """

    def __init__(self, catalog: ModelCatalog, cache: RenderCache | None = None) -> None:
        self._catalog = catalog
        self.cache = cache if cache is not None else RenderCache()
        self._codec_lock = threading.Lock()
        self._achieved_kbps: dict[RenderKey, float | None] = {}

    def render(
        self,
        request: RenderRequest,
        cancelled: Callable[[], bool] = _never_cancelled,
        progress: ProgressCallback = _ignore_progress,
    ) -> RenderResult:
        """Reconstruct ``request.clip`` through the model at the bitrate.

        Raises
        ------
        CancelledError
            ``cancelled()`` returned True between two steps.
        RenderError
            The model cannot be loaded or the codec rejected the audio or bitrate.
        """
        entry = self._catalog.entry(request.model_id)
        cached = self.cache.get(request.key)
        if cached is not None:
            achieved = self._achieved_kbps.get(request.key)
            return RenderResult(request, cached, entry.display_name, 0.0, from_cache=True, achieved_kbps=achieved)
        if request.bitrate_kbps not in entry.bitrates_kbps:
            offered = ", ".join(f"{b:g}" for b in entry.bitrates_kbps)
            raise RenderError(f"{entry.display_name} offers {offered} kbps, not {request.bitrate_kbps:g}")
        _check(cancelled)
        progress(0.0, f"Loading {entry.display_name}…")
        codec = self._load(request.model_id)
        with self._codec_lock:
            _check(cancelled)
            progress(0.2, f"Coding at {request.bitrate_kbps:g} kbps…")

            def on_segment(done: int, total: int) -> None:
                _check(cancelled)  # raising here stops the codec between segments
                progress(0.2 + 0.8 * done / max(total, 1), f"Coding at {request.bitrate_kbps:g} kbps…")

            started = time.perf_counter()
            audio, achieved = self._reconstruct(codec, request, on_segment)
            elapsed_s = time.perf_counter() - started
        _check(cancelled)
        progress(1.0, "Done")
        audio.flags.writeable = False
        self.cache.put(request.key, audio)
        self._achieved_kbps[request.key] = achieved
        return RenderResult(request, audio, entry.display_name, elapsed_s, achieved_kbps=achieved)

    def _load(self, model_id: str) -> CodecLike:
        try:
            return self._catalog.codec(model_id)
        except EarBenchError as exc:
            raise RenderError(f"Cannot load the model: {exc}") from exc

    @staticmethod
    def _reconstruct(
        codec: CodecLike, request: RenderRequest, on_segment: Callable[[int, int], None]
    ) -> tuple[np.ndarray, float | None]:
        """Return (audio [C, T] at the clip's shape, achieved kbps or None).

        A codec with ``encode``/``decode`` (``codec.Codec``) is run in two steps so the bitrate it really spent is
        known; a codec offering only ``reconstruct`` reports none.
        """
        clip = request.clip
        achieved: float | None = None
        encode, decode = getattr(codec, "encode", None), getattr(codec, "decode", None)
        try:
            if callable(encode) and callable(decode):
                encoded = encode(clip.audio, clip.sample_rate, request.bitrate_kbps, progress=on_segment)
                achieved = float(encoded.bitrate_kbps)
                out = decode(encoded)
            else:
                out = codec.reconstruct(clip.audio, clip.sample_rate, request.bitrate_kbps, progress=on_segment)
        except CancelledError:
            raise
        except Exception as exc:  # the codec's errors carry user-readable messages; anything else is a bug there
            raise RenderError(f"The codec failed: {exc}") from exc
        out = np.asarray(out, dtype=np.float32)
        if out.ndim != 2 or out.shape[0] != clip.channels:
            raise RenderError(f"The codec returned shape {out.shape}, expected [{clip.channels}, T]")
        out = np.array(match_length(out, clip.num_samples), dtype=np.float32, order="C")
        if not np.isfinite(out).all():
            raise RenderError("The codec returned NaN or infinite samples")
        return out, achieved


def _check(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise CancelledError("Render cancelled")
