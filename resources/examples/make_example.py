"""Make ``example.flac``: a short mono 24 kHz clip of synthetic speech followed by a few plucked notes.

Run from anywhere (needs ``espeak-ng`` on PATH, plus numpy, soundfile and soxr)::

    python resources/examples/make_example.py [--out PATH]

The speech comes from espeak-ng (its output is not covered by its GPL); the notes are synthesized here. The result
is ours and released under CC0 (see README.md). The script is deterministic for a given espeak-ng version.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SAMPLE_RATE = 24_000
TEXT = "This is EarBench. Can you hear the codec?"
VOICE = "en-us"
WORDS_PER_MINUTE = 160
#: (MIDI note, start in s after the speech, length in s): a rising A-major arpeggio with a final chord.
NOTES = ((57, 0.00, 0.9), (61, 0.22, 0.9), (64, 0.44, 0.9), (69, 0.66, 1.4), (73, 0.66, 1.4), (76, 0.66, 1.4))
PEAK_DBFS = -3.0


def speech(text: str = TEXT) -> np.ndarray:
    """Synthesize ``text`` with espeak-ng and return float32 mono samples at ``SAMPLE_RATE``."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    wav = subprocess.run(
        ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    return soxr.resample(samples[:, 0], rate, SAMPLE_RATE, quality="VHQ").astype(np.float32)


def pluck(midi_note: int, length_s: float) -> np.ndarray:
    """A plucked-string-like tone: decaying harmonics with a 5 ms attack and a 30 ms release."""
    t = np.arange(round(length_s * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 440.0 * 2.0 ** ((midi_note - 69) / 12)
    tone = sum(
        (0.6**k) * np.exp(-t * (2.5 + 1.5 * k)) * np.sin(2 * np.pi * f0 * (k + 1) * t + 0.3 * k) for k in range(6)
    )
    envelope = np.minimum(1.0, t / 0.005) * np.minimum(1.0, (length_s - t) / 0.03)
    return (tone * envelope).astype(np.float32)


def make_example() -> np.ndarray:
    """The full clip: 0.15 s silence, speech, a short gap, the notes, 0.2 s tail; peak at ``PEAK_DBFS``."""
    voice = speech()
    voice /= np.abs(voice).max()
    notes_start = round(0.15 * SAMPLE_RATE) + len(voice) + round(0.25 * SAMPLE_RATE)
    total = notes_start + round((max(s + d for _, s, d in NOTES) + 0.2) * SAMPLE_RATE)
    clip = np.zeros(total, dtype=np.float32)
    start = round(0.15 * SAMPLE_RATE)
    clip[start : start + len(voice)] += 0.9 * voice
    for note, offset_s, length_s in NOTES:
        tone = pluck(note, length_s)
        at = notes_start + round(offset_s * SAMPLE_RATE)
        clip[at : at + len(tone)] += 0.35 * tone
    return (clip * (10 ** (PEAK_DBFS / 20) / np.abs(clip).max())).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("example.flac"))
    args = parser.parse_args()
    clip = make_example()
    sf.write(args.out, clip, SAMPLE_RATE, subtype="PCM_16", format="FLAC")
    print(f"wrote {args.out}: {len(clip) / SAMPLE_RATE:.2f} s, {args.out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
