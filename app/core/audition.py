"""The state of an unblinded audition: one clip, the model and bitrate chosen, and the reconstruction heard.

Qt-free; the main window asks it for render requests and hands it results, and it decides which results are still
wanted (a result for a clip that has since been replaced is dropped).
"""

from __future__ import annotations

import itertools

from app.core.clip import Clip
from app.core.renders import RenderRequest, RenderResult

#: Source indices in the playback engine.
ORIGINAL, RECONSTRUCTION = 0, 1


class AuditionState:
    """The current clip, the selected model/bitrate and the latest accepted reconstruction."""

    def __init__(self) -> None:
        self.clip: Clip | None = None
        self.model_id: str | None = None
        self.bitrate_kbps: float | None = None
        self.reconstruction: RenderResult | None = None
        self._request_ids = itertools.count(1)
        self._pending_id: int | None = None

    def set_clip(self, clip: Clip) -> None:
        """Make ``clip`` current; forgets the reconstruction and any pending request."""
        self.clip = clip
        self.reconstruction = None
        self._pending_id = None

    def select(self, model_id: str | None, bitrate_kbps: float | None) -> None:
        """Record the model and bitrate the next render should use."""
        self.model_id = model_id
        self.bitrate_kbps = bitrate_kbps

    @property
    def can_render(self) -> bool:
        """Whether a clip, a model and a bitrate are all chosen."""
        return self.clip is not None and self.model_id is not None and self.bitrate_kbps is not None

    def new_request(self) -> RenderRequest:
        """Build the request for the current selection; it supersedes any pending one."""
        if self.clip is None or self.model_id is None or self.bitrate_kbps is None:
            raise ValueError("choose a clip, a model and a bitrate before rendering")
        request = RenderRequest(self.clip, self.model_id, self.bitrate_kbps, next(self._request_ids))
        self._pending_id = request.request_id
        return request

    def cancel_pending(self) -> None:
        """Forget the pending request (its result will be refused)."""
        self._pending_id = None

    def accept(self, result: RenderResult) -> bool:
        """Keep ``result`` if it answers the pending request for the current clip; return whether it was kept."""
        request = result.request
        if request.request_id != self._pending_id or request.clip is not self.clip:
            return False
        self.reconstruction = result
        self._pending_id = None
        return True

    @property
    def reconstruction_is_current(self) -> bool:
        """Whether the reconstruction matches the selected model and bitrate."""
        result = self.reconstruction
        return (
            result is not None
            and result.request.model_id == self.model_id
            and result.request.bitrate_kbps == self.bitrate_kbps
        )


#: The shortest loop (BS.1534-3 asks for at least 500 ms).
MIN_LOOP_S = 0.5


def loop_region(start_s: float, end_s: float, duration_s: float, min_s: float = MIN_LOOP_S) -> tuple[float, float]:
    """Order, clamp to ``[0, duration_s]`` and widen to at least ``min_s`` a loop from two marks in seconds.

    A too-short loop grows at its end (or, at the end of the clip, at its start) to ``min_s``.

    Raises
    ------
    ValueError
        The clip is shorter than ``min_s``.
    """
    if duration_s < min_s:
        raise ValueError(f"the clip is shorter than the {min_s:g} s minimum loop")
    start, end = sorted((min(max(start_s, 0.0), duration_s), min(max(end_s, 0.0), duration_s)))
    if end - start < min_s:
        end = min(start + min_s, duration_s)
        start = end - min_s
    return start, end
