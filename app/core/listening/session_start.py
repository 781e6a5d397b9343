"""Starting or resuming a listener's session of a listening test (:class:`~app.core.listening.session.Session`).

Before the session is built, the test and the SHA-256 of every file it plays are stored (so a stimulus changed since
the test started is refused), and the MUSHRA anchors are rendered when not cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

from app.core.clip import file_sha256
from app.core.listening.anchors import AnchorRenderer, anchor_recipe, render_anchors
from app.core.listening.design import REFERENCE_ID, TestDesign, excerpt_duration_s
from app.core.listening.randomise import draw_plan
from app.core.listening.session import Session
from app.core.listening.storage import Storage
from app.core.listening.storage_records import StimulusFile


def _app_version() -> str:
    try:
        return metadata.version("earbench")
    except metadata.PackageNotFoundError:
        return "unknown"


def start_session(
    storage: Storage,
    design: TestDesign,
    listener: str,
    *,
    anchor_dir: Path | None = None,
    anchor_renderer: AnchorRenderer | None = None,
    app_version: str | None = None,
    model_versions: Mapping[str, str] | None = None,
    transducer: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Session:
    """Resume ``listener``'s unfinished session of ``design``, or start a new one.

    Registers the test and the SHA-256 of every stimulus (a stimulus that changed since the test started is refused
    with :class:`StorageError`), renders the MUSHRA anchors if they are not cached (``anchor_dir``, default
    :func:`~app.core.listening.anchors.default_anchor_dir`), and for a new session draws and stores its
    randomisation (:func:`~app.core.listening.randomise.draw_plan`). ``transducer`` ("headphones" or
    "loudspeakers", BS.1534-3 §8) and ``model_versions`` are stored with the session.
    """
    anchors: dict[str, dict[str, Path]] = {}
    lengths_s: dict[str, float] = {}
    if design.type == "mushra":
        anchors = render_anchors(design, anchor_dir, anchor_renderer)
        lengths_s = {item.id: excerpt_duration_s(item.reference) for item in design.items}
    storage.register_test(design, anchor_recipe=anchor_recipe() if anchors else None)
    stimuli = [
        StimulusFile(design.relative(i.reference), file_sha256(i.reference), "reference", i.id, REFERENCE_ID)
        for i in design.items
    ]
    stimuli += [
        StimulusFile(design.relative(p), file_sha256(p), "condition", i.id, cid)
        for i in design.items
        for cid, p in i.conditions.items()
    ]
    stimuli += [
        StimulusFile(f"anchor:{iid}/{aid}", file_sha256(p), "anchor", iid, aid)
        for iid, a in anchors.items()
        for aid, p in a.items()
    ]
    storage.record_stimuli(design.id, stimuli)
    record = storage.unfinished_session(design.id, listener)
    if record is None:
        record = storage.create_session(
            design.id, listener, lambda number: draw_plan(design, number).to_json(),
            app_version=app_version or _app_version(), model_versions=model_versions, transducer=transducer,
        )
    return Session(storage, design, record, anchors, excerpt_lengths_s=lengths_s, clock=clock)
