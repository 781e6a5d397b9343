"""PyInstaller runtime hook: let ``ctypes.util.find_library`` see the shared libraries bundled with the app.

sounddevice looks PortAudio up with ``find_library("portaudio")`` and ``codec.baselines.opus`` looks libopus up with
``find_library("opus")``. On Linux PyInstaller leaves ``find_library`` alone, so it would only see the system's
libraries (``ldconfig``) and the app would fail on a machine without ``libportaudio2``/``libopus0``. This hook
prefers a ``lib<name>.so*`` shipped in the bundle and falls back to the system's.
"""

import ctypes.util
import os
import sys


def _install() -> None:
    bundle = getattr(sys, "_MEIPASS", None)
    if not bundle or not sys.platform.startswith("linux"):
        return
    system_find_library = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        prefix = f"lib{name}.so"
        matches = sorted(entry for entry in os.listdir(bundle) if entry.startswith(prefix))
        if matches:
            return os.path.join(bundle, matches[0])
        return system_find_library(name)

    ctypes.util.find_library = find_library


_install()
