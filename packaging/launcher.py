"""PyInstaller entry point of the desktop build: the same ``main`` as ``python -m app`` and the ``earbench`` script."""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
