"""Repository-wide pytest setup.

Qt must not look for a display on machines without one (it aborts the whole process), so the offscreen platform is
chosen here, before any test module can import Qt. Codec-specific fixtures live in ``tests/codec/conftest.py`` and
app fixtures in ``tests/app/conftest.py``.
"""

import os

if not os.environ.get("QT_QPA_PLATFORM"):  # unset or empty: no display to rely on
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
