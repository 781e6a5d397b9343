"""Play a known A/B item through the real engine and PortAudio, switching at a known sample; print what happened.

Run by ``test_portaudio_playback.py`` in a subprocess whose ``XDG_CONFIG_HOME`` points at an ALSA config that sends
the default device into a WAV file (ALSA reads its config when PortAudio initializes, on ``import sounddevice``).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import numpy as np
import sounddevice as sd

from app.audio.devices import scan_output_devices
from app.audio.engine import PlaybackEngine
from app.audio.stream import StreamLike, sounddevice_stream

RATE = 48_000
LENGTH = RATE * 3 // 2  # 1.5 s
SWITCH_AFTER = RATE  # ask for source B once 1 s has been played
FREQS_HZ = (440.0, 660.0)


def tone(freq_hz: float) -> np.ndarray:
    t = np.arange(LENGTH) / RATE
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)[:, None]


def main() -> None:
    scan = scan_output_devices()
    if scan.default is None:
        raise SystemExit(f"no device: {scan.problem}")
    switch: dict[str, int] = {}
    finished = threading.Event()
    engine: PlaybackEngine

    def stream_factory(**kwargs: Any) -> StreamLike:
        callback = kwargs.pop("callback")

        def switching_callback(outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
            callback(outdata, frames, time_info, status)
            mixer = engine._mixer
            if mixer is not None and "at" in switch and not mixer.playing:
                finished.set()  # the item ended; the file sink is not paced, so stop before it fills the disk
                raise sd.CallbackStop
            if mixer is not None and "at" not in switch and mixer.position_samples >= SWITCH_AFTER:
                mixer.select_source(1)  # what the GUI thread would do; taken at the next block's first sample
                switch["at"] = mixer.position_samples

        return sounddevice_stream(callback=switching_callback, **kwargs)

    engine = PlaybackEngine(scan.default, stream_factory=stream_factory, blocksize=512)
    engine.load([tone(f) for f in FREQS_HZ], RATE)
    engine.play()
    if not finished.wait(timeout=20.0):
        raise SystemExit("playback did not finish within 20 s")
    engine.close()
    json.dump(
        {"switch_at": switch.get("at"), "fade_samples": round(0.005 * RATE), "device": scan.default.name}, sys.stdout
    )


if __name__ == "__main__":
    main()
