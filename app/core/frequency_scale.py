"""Linear or logarithmic frequency axis for the spectrograms: resampling the rows, positions and tick labels.

A log-frequency spectrogram has ``LOG_ROWS`` rows equally spaced in log10(Hz) from a low edge to the Nyquist
frequency; the view draws it with y in log10(Hz), so the same band-limit line, zoom range or tick maps through
:func:`frequency_position`. Each row takes the loudest STFT bin inside its band where the band holds bins (high
frequencies, where a row spans many bins: a narrow tone between row centres is not lost, the same max-pooling the
time axis uses for long clips), else the dB value interpolated at its centre (low frequencies, where rows are finer
than bins). Qt-free: the view only calls these functions.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.core.spectrogram import Spectrogram, difference

#: Rows of a log-frequency spectrogram (about the 513 bins of the default 1024-point STFT).
LOG_ROWS = 512
#: The lowest row sits at the first non-zero STFT bin, kept within this range (Hz): below the first bin there is no
#: information, and a 20 Hz floor keeps fine-resolution analyses from spending rows on infrasound.
LOG_LOW_HZ_RANGE = (20.0, 50.0)
#: Ticks at 1-2-5 steps per decade are labelled; the other integer multiples are unlabelled minor ticks.
_LABELLED_STEPS = (1, 2, 5)


def log_low_hz(spectrogram: Spectrogram) -> float:
    """Frequency of the lowest log row for ``spectrogram``'s linear STFT grid, in Hz."""
    bin_hz = float(spectrogram.freqs_hz[1] - spectrogram.freqs_hz[0])
    low, high = LOG_LOW_HZ_RANGE
    return min(max(bin_hz, low), high)


def log_row_frequencies(low_hz: float, high_hz: float, rows: int = LOG_ROWS) -> np.ndarray:
    """float64 [rows] row-centre frequencies from ``low_hz`` to ``high_hz``, equally spaced in log frequency."""
    if not 0.0 < low_hz < high_hz or rows < 2:
        raise ValueError(f"bad log axis: {low_hz} Hz to {high_hz} Hz in {rows} rows")
    return np.geomspace(low_hz, high_hz, rows)


def to_log_frequency(spectrogram: Spectrogram, rows: int = LOG_ROWS) -> Spectrogram:
    """The same spectrogram on log-spaced rows: db float32 [rows, N], ``log_frequency`` True.

    A spectrogram already on log rows is returned as is. Levels are kept: a tone reads the same dB on both axes.
    """
    if spectrogram.log_frequency:
        return spectrogram
    freqs_hz, db = spectrogram.freqs_hz, spectrogram.db
    centres_hz = log_row_frequencies(log_low_hz(spectrogram), float(freqs_hz[-1]), rows)
    # Interpolation at the row centres, in dB, by fractional bin index (freqs_hz is evenly spaced).
    position = np.interp(centres_hz, freqs_hz, np.arange(freqs_hz.size, dtype=np.float64))
    lower = np.minimum(position.astype(np.intp), freqs_hz.size - 2)
    fraction = (position - lower).astype(np.float32)[:, None]
    out = db[lower] * (1.0 - fraction) + db[lower + 1] * fraction
    # Band edges halfway (geometrically) between row centres; rows whose band holds bins take the loudest one.
    ratio = float(np.sqrt(centres_hz[1] / centres_hz[0]))
    edges_hz = np.concatenate([centres_hz[:1] / ratio, centres_hz * ratio])
    starts = np.searchsorted(freqs_hz, edges_hz[:-1])
    stops = np.searchsorted(freqs_hz, edges_hz[1:])
    filled = stops > starts
    if filled.any():
        # Filled bands tile the bins between the first filled start and the last filled stop without gaps.
        pooled = np.maximum.reduceat(db[: stops[filled][-1]], starts[filled], axis=0)
        out[filled] = np.maximum(out[filled], pooled)
    return replace(
        spectrogram, db=np.ascontiguousarray(out, dtype=np.float32), freqs_hz=centres_hz, log_frequency=True
    )


def as_displayed(spectrogram: Spectrogram | None, log_frequency: bool) -> Spectrogram | None:
    """A linear-row ``spectrogram`` on the frequency axis asked for (None stays None)."""
    return to_log_frequency(spectrogram) if log_frequency and spectrogram is not None else spectrogram


def displayed_difference(
    original: Spectrogram | None, codec: Spectrogram | None, diff: Spectrogram | None
) -> Spectrogram | None:
    """The difference to draw under the displayed ``original`` and ``codec`` spectra.

    On linear rows that is ``diff`` (linear rows, codec - original) itself. On log rows it is recomputed from the two
    log spectra, because pooling the loudest bin does not commute with subtraction: the difference then shows
    exactly what the two spectra above it show (as for the max-pooled columns of long clips).
    """
    if diff is None or codec is None or not codec.log_frequency:
        return diff
    if original is None or not original.log_frequency:
        return to_log_frequency(diff)
    return difference(original, codec)


def frequency_position(hz: float, log_frequency: bool) -> float:
    """Where frequency ``hz`` is drawn on the vertical axis: Hz, or log10(Hz) (``hz`` <= 0 clamps to 1 Hz)."""
    return float(np.log10(max(hz, 1.0))) if log_frequency else float(hz)


def frequency_at(position: float, log_frequency: bool) -> float:
    """Inverse of :func:`frequency_position`: the frequency in Hz drawn at ``position``."""
    return float(10.0**position) if log_frequency else float(position)


def format_hz(hz: float) -> str:
    """A tick label: ``50``, ``500``, ``1k``, ``2.5k``, ``20k``."""
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def log_frequency_ticks(low_hz: float, high_hz: float) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Ticks for a log axis from ``low_hz`` to ``high_hz``: (major, minor) lists of (log10(Hz), label).

    Major ticks at 1, 2 and 5 per decade (..., 50, 100, 200, 500, 1k, ..., 20k) are labelled; minor ticks at the
    other integer multiples carry no label.
    """
    major: list[tuple[float, str]] = []
    minor: list[tuple[float, str]] = []
    for decade in range(int(np.floor(np.log10(low_hz))), int(np.ceil(np.log10(high_hz))) + 1):
        for step in range(1, 10):
            hz = step * 10.0**decade
            if low_hz <= hz <= high_hz:
                position = float(np.log10(hz))
                if step in _LABELLED_STEPS:
                    major.append((position, format_hz(hz)))
                else:
                    minor.append((position, ""))
    return major, minor
