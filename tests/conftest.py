"""Repository-wide pytest setup.

Qt must not look for a display on machines without one (it aborts the whole process), so the offscreen platform is
chosen here, before any test module can import Qt. Codec-specific fixtures live in ``tests/codec/conftest.py`` and
app fixtures in ``tests/app/conftest.py``.
"""

import os

if not os.environ.get("QT_QPA_PLATFORM"):  # unset or empty: no display to rely on
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

# Property tests draw the same examples on every run (a CI result must not depend on luck); set
# HYPOTHESIS_PROFILE=explore to search with fresh random examples locally.
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
