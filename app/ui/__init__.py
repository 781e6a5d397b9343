"""PySide6 + pyqtgraph views. They render state held elsewhere and never import ``codec`` or ``torch``."""
