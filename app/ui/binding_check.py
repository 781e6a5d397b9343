"""A start-up check for a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 on Python < 3.12 drops one reference to ``None`` on every call of a C++ method returning ``void``
(``setText``, ``processEvents``, ...) and one to ``True``/``False`` on every ``Signal.emit``. On Python 3.12+ these
objects are immortal and nothing happens; on 3.11 the interpreter aborts ("deallocating None") once the count reaches
zero, a few minutes into playback (each play-head update costs about four references). PySide6 6.11.3 is not
affected.
"""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtCore import QObject


def binding_drops_none_references(calls: int = 64) -> bool:
    """Call a ``void`` Qt method ``calls`` times and report whether ``None`` lost references on the way."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - calls // 2


def binding_problem() -> str | None:
    """A warning for the user when the installed Qt binding is affected, else None."""
    if not binding_drops_none_references():
        return None
    return (
        f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} corrupts Python's reference counts, "
        "so EarBench may crash after a few minutes of playback. Install PySide6-Essentials 6.11.3, "
        "or run EarBench on Python 3.12 or newer."
    )
