"""A scripted listener for the durability test: answers a MUSHRA session through the Session API.

Usage: ``python listening_worker.py DB DESIGN ANCHOR_DIR LISTENER``. Prints ``START <session id> <position>`` once
the session is open (position = trials already answered), ``ACK <page>`` after each page's ``advance()`` returned
(its ratings are committed), and ``DONE`` at the end. Exits with status 3 if torch got imported (the listening
core must stay light). The parent kills it with SIGKILL at random points.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.core.listening.design_parse import load_design
from app.core.listening.session_start import start_session
from app.core.listening.storage import Storage


def main(db_path: str, design_path: str, anchor_dir: str, listener: str) -> int:
    design = load_design(design_path)
    storage = Storage(db_path)
    # The parent rendered the anchors into anchor_dir; a missing one would import codec (and fail the torch check).
    session = start_session(storage, design, listener, anchor_dir=Path(anchor_dir))
    print("START", session.id, session.progress[0], flush=True)
    while not session.finished:
        view = session.page
        assert view is not None
        if view.training:
            session.finish_training()
            continue
        for n, stimulus in enumerate(view.stimuli):
            session.note_play(stimulus.key)
            session.rate(stimulus.key, float((view.page * 7 + n * 13) % 101))
        session.advance()
        print("ACK", view.page, flush=True)
    print("DONE", flush=True)
    storage.close()
    return 3 if "torch" in sys.modules else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
