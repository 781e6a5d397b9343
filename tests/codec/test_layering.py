"""At run time, importing the codec (and the app's core) loads no Qt, no PortAudio and no training code."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("PySide6", "pyqtgraph", "sounddevice", "codec.training", "encodec", "tensorboard")


@pytest.mark.parametrize("module", ["codec", "codec.cli", "app.core"])
def test_import_pulls_in_nothing_forbidden(module: str) -> None:
    probe = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or m in {FORBIDDEN!r}]; "
        "print(','.join(sorted(bad)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
