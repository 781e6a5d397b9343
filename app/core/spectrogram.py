"""Spectrograms for display: STFT power in dB as float32 ``[freq, time]`` arrays, and their difference.

The arrays are shaped for pyqtgraph's fast path (see the architecture notes, section 4): float32, C-contiguous,
row-major ``[freq, time]``, no NaNs, drawn with the fixed levels below so no auto-levelling pass is needed.

Long clips are reduced to at most ``max_columns`` time columns by max-pooling groups of adjacent STFT frames (in
power): a GUI image of a few thousand columns stays responsive, and max-pooling, unlike striding, keeps short
transients and pre-echo visible. Frames are transformed in chunks, so memory stays bounded for hour-long clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal

#: Values are clipped below this (silence would otherwise be -inf).
FLOOR_DB = -120.0
#: Fixed colour range of the original and reconstruction spectra, dB re full scale.
SPECTRUM_LEVELS_DB = (-100.0, 0.0)
#: Fixed colour range of the difference (reconstruction - original), dB.
DIFFERENCE_LEVELS_DB = (-30.0, 30.0)
#: pyqtgraph colormap names: perceptual for spectra, diverging (blue-white-red) so "no change" reads as neutral.
SPECTRUM_COLORMAP = "inferno"
DIFFERENCE_COLORMAP = "CET-D1"
#: Default cap on the number of time columns.
MAX_COLUMNS = 4000

# Frames transformed per chunk, in samples (frames x n_fft x channels): ~32 MiB of complex64 output at most.
_CHUNK_SAMPLES = 1 << 22


@dataclass(frozen=True)
class Spectrogram:
    """Channel-mean power spectrogram in dB.

    Attributes
    ----------
    db : np.ndarray
        float32 [F, N], C-contiguous, row ``f`` is frequency ``freqs_hz[f]``, column ``n`` time ``times_s[n]``;
        dB re full scale (a full-scale sine reads 0 dB), floored at ``FLOOR_DB``.
    freqs_hz : np.ndarray
        float64 [F], bin centre frequencies, 0 .. sample_rate / 2.
    times_s : np.ndarray
        float64 [N], column centre times.
    sample_rate : int
        Rate of the analysed audio in Hz.
    hop : int
        Samples between two columns (the STFT hop times the pooling factor for long clips).
    log_frequency : bool
        False: rows are linearly spaced STFT bins. True: rows are log-spaced (see :mod:`app.core.frequency_scale`)
        and :attr:`extent` is in log10(Hz) vertically.
    """

    db: np.ndarray
    freqs_hz: np.ndarray
    times_s: np.ndarray
    sample_rate: int
    hop: int
    log_frequency: bool = False

    @property
    def column_s(self) -> float:
        """Duration one column covers, in seconds."""
        return self.hop / self.sample_rate

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(x0_s, y0, width_s, height)``: where the image's pixel edges lie, for ``ImageItem.setRect``.

        ``y0`` and ``height`` are in Hz, or in log10(Hz) for a log-frequency spectrogram (rows equally spaced there).
        """
        x0_s = float(self.times_s[0]) - self.column_s / 2
        width_s = self.db.shape[1] * self.column_s
        if self.log_frequency:
            step = float(np.log10(self.freqs_hz[1] / self.freqs_hz[0])) if self.freqs_hz.size > 1 else 1.0
            return x0_s, float(np.log10(self.freqs_hz[0])) - step / 2, width_s, self.db.shape[0] * step
        bin_hz = float(self.freqs_hz[1] - self.freqs_hz[0]) if self.freqs_hz.size > 1 else float(self.sample_rate)
        return x0_s, -bin_hz / 2, width_s, self.db.shape[0] * bin_hz


def compute_spectrogram(
    audio: np.ndarray, sample_rate: int, n_fft: int = 1024, hop: int = 256, max_columns: int = MAX_COLUMNS
) -> Spectrogram:
    """STFT power of float32 [C, T] audio, averaged over channels, in dB re full scale.

    Parameters
    ----------
    audio : np.ndarray
        Samples in [-1, 1], shape [C, T] with T > 0.
    sample_rate : int
        Rate in Hz.
    n_fft : int
        Frame length (periodic Hann window) and FFT size; ``n_fft // 2 + 1`` frequency rows.
    hop : int
        Samples between STFT frames. Frames are centred on ``k * hop`` (the signal is zero-padded by n_fft / 2).
    max_columns : int
        Upper bound on time columns; beyond it groups of ``ceil(frames / max_columns)`` frames are max-pooled.

    Returns
    -------
    Spectrogram
    """
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise ValueError(f"audio must have shape [C, T] with T > 0, got {audio.shape}")
    if n_fft < 2 or hop < 1 or max_columns < 1 or sample_rate <= 0:
        raise ValueError(f"bad parameters: n_fft={n_fft}, hop={hop}, max_columns={max_columns}, rate={sample_rate}")
    channels, num_samples = audio.shape
    padded = np.pad(np.asarray(audio, dtype=np.float32), ((0, 0), (n_fft // 2, n_fft - n_fft // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[:, ::hop]  # a view: [C, M, n_fft]
    num_frames = 1 + num_samples // hop
    frames = frames[:, :num_frames]
    pool = -(-num_frames // max_columns)
    num_columns = -(-num_frames // pool)
    window = scipy.signal.get_window("hann", n_fft).astype(np.float32)
    # |X|^2 of a sine of amplitude A peaks at (A * sum(w) / 2)^2; dividing by that makes a full-scale sine 0 dB.
    scale = 1.0 / (float(window.sum()) / 2.0) ** 2
    power = np.zeros((num_columns, n_fft // 2 + 1), dtype=np.float32)
    columns_per_chunk = max(1, _CHUNK_SAMPLES // (n_fft * channels * pool))
    for first in range(0, num_columns, columns_per_chunk):
        last = min(first + columns_per_chunk, num_columns)
        chunk = frames[:, first * pool : min(last * pool, num_frames)]
        spectrum = scipy.fft.rfft(chunk * window, axis=-1)
        frame_power = (spectrum.real**2 + spectrum.imag**2).mean(axis=0, dtype=np.float32)
        short = (last - first) * pool - frame_power.shape[0]  # the last group may hold fewer frames
        if short:
            frame_power = np.pad(frame_power, ((0, short), (0, 0)))
        power[first:last] = frame_power.reshape(last - first, pool, -1).max(axis=1)
    with np.errstate(divide="ignore"):  # log10(0) = -inf for digital silence, clipped to the floor next
        db = np.maximum(10.0 * np.log10(power.T * scale), np.float32(FLOOR_DB))
    column_hop = hop * pool
    # Column n pools frames n*pool .. n*pool + pool - 1, centred on their mean frame time.
    times_s = (np.arange(num_columns) * pool + (pool - 1) / 2) * hop / sample_rate
    return Spectrogram(
        db=np.ascontiguousarray(db, dtype=np.float32),
        freqs_hz=np.fft.rfftfreq(n_fft, 1.0 / sample_rate),
        times_s=times_s.astype(np.float64),
        sample_rate=sample_rate,
        hop=column_hop,
    )


def difference(original: Spectrogram, reconstruction: Spectrogram) -> Spectrogram:
    """Reconstruction minus original, in dB, on the same grid.

    Both must come from audio of the same rate and length analysed with the same parameters (the render service
    returns the reconstruction at the original's rate and length). For pooled long clips this is the difference of
    the pooled maxima, which is what the two spectra above it show.

    Raises
    ------
    ValueError
        The two grids differ.
    """
    if original.db.shape != reconstruction.db.shape:
        raise ValueError(f"spectrogram shapes differ: {original.db.shape} vs {reconstruction.db.shape}")
    if (original.sample_rate, original.hop, original.log_frequency) != (
        reconstruction.sample_rate, reconstruction.hop, reconstruction.log_frequency
    ):
        raise ValueError(
            f"spectrogram grids differ: {original.sample_rate} Hz / hop {original.hop} / log {original.log_frequency}"
            f" vs {reconstruction.sample_rate} Hz / hop {reconstruction.hop} / log {reconstruction.log_frequency}"
        )
    return Spectrogram(
        db=np.ascontiguousarray(reconstruction.db - original.db, dtype=np.float32),
        freqs_hz=original.freqs_hz,
        times_s=original.times_s,
        sample_rate=original.sample_rate,
        hop=original.hop,
        log_frequency=original.log_frequency,
    )
