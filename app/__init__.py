"""EarBench desktop app: hear what a neural audio codec does.

Layers (enforced by import-linter, see ``pyproject.toml``):

``app.core``
    Qt-free, sound-free domain logic (clips, models, renders).
``app.audio``
    The playback engine (sounddevice + numpy, no Qt).
``app.workers``
    Qt threading glue that runs ``app.core`` jobs off the GUI thread.
``app.ui``
    PySide6 + pyqtgraph views; owns no domain state.

``app.main`` is the composition root that builds and wires them.
"""

__version__ = "0.1.0"
