"""The audition workspace: the current clip's conditions, rendered in background jobs, shown in the table and played.

Each condition row renders as its own job (channel ``condition:<id>``), so rows finish and appear one by one, a
cancelled or failed row does not stop the others, and the window never waits. A finished row is handed to the
playback engine as source ``row + 1`` at once (playback does not stop), and its spectrogram and difference are
computed in another job when it is selected.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from app.core.clip import Clip
from app.core.condition_render import VISQOL, ConditionRenderer, default_metrics
from app.core.conditions import ConditionAnalysis, ConditionList, ConditionSpec, RowState
from app.core.spectrogram import Spectrogram, compute_spectrogram, difference
from app.core.waveform import PeakEnvelope, peak_envelope
from app.ui.conditions_table import ConditionsModel
from app.ui.playback_controller import PlaybackController
from app.workers import JobContext, JobRunner

logger = logging.getLogger(__name__)

VIEW_CHANNEL = "condition-view"
METRICS_CHANNEL = "metrics"


def _channel(spec: ConditionSpec) -> str:
    return f"condition:{spec.cache_id}"


class Workspace(QObject):
    """Drives the rendering of the conditions of the current clip.

    Signals
    -------
    progress_changed(int, int, str)
        (rows finished, rows wanted, message) while rendering; (n, n, "") when idle.
    row_failed(str)
        A row could not be rendered; the text is for the user.
    view_ready(int, object, object, object)
        (row, condition spectrogram, difference spectrogram, envelope) for the selected row.
    """

    progress_changed = Signal(int, int, str)
    row_failed = Signal(str)
    view_ready = Signal(int, object, object, object)

    def __init__(
        self,
        renderer: ConditionRenderer,
        runner: JobRunner,
        playback: PlaybackController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.renderer, self.runner, self.playback = renderer, runner, playback
        self.conditions = ConditionList()
        self.model = ConditionsModel(self.conditions, self)
        self.clip: Clip | None = None
        self.original_spectrogram: Spectrogram | None = None
        #: Metrics computed with each render; None: the default (ViSQOL only for short clips).
        self.metrics: Sequence[str] | None = None
        self._views: dict[str, tuple[Spectrogram, Spectrogram | None, PeakEnvelope]] = {}

    # ------------------------------------------------------------------ items
    def set_clip(self, clip: Clip, original_spectrogram: Spectrogram, specs: Sequence[ConditionSpec]) -> None:
        """A new item: cancel every render, list ``specs`` and render them."""
        self.cancel()
        self.clip, self.original_spectrogram = clip, original_spectrogram
        self._views.clear()
        self.conditions.reset(specs)
        self.model.refresh()
        self.render_pending()

    def add(self, specs: Sequence[ConditionSpec]) -> list[int]:
        """Add conditions (duplicates are skipped) and render them; returns the new rows."""
        added = self.conditions.add(specs)
        if added:
            self.model.refresh()
            self._sync_playback()
            self.render_pending()
        return added

    def remove(self, row: int) -> None:
        """Remove a row (its render is cancelled); later rows move up one key."""
        if not 0 <= row < len(self.conditions):
            return
        self.runner.cancel(_channel(self.conditions.rows[row].spec))
        self.conditions.remove(row)
        self.model.refresh()
        self._sync_playback()
        self._report()

    def replace_specs(self, specs: Sequence[ConditionSpec]) -> None:
        """Replace the list with ``specs``, keeping finished rows that are still wanted, and render the rest."""
        self.cancel()
        kept = {row.spec: row for row in self.conditions.rows if row.state == RowState.DONE}
        self.conditions.reset(specs)
        for index, row in enumerate(self.conditions.rows):
            if row.spec in kept and kept[row.spec].analysis is not None:
                self.conditions.set_analysis(index, kept[row.spec].analysis)  # type: ignore[arg-type]
        self.model.refresh()
        self._sync_playback()
        self.render_pending()

    # ---------------------------------------------------------------- renders
    @property
    def rendering(self) -> bool:
        """Whether any row is rendering."""
        return any(row.state == RowState.RENDERING for row in self.conditions.rows)

    def render_pending(self) -> None:
        """Start a job for every row not rendered yet (failed rows are retried)."""
        if self.clip is None:
            return
        for index in self.conditions.pending():
            self._submit(index)
        self._report()

    def cancel(self) -> None:
        """Cancel every render; unfinished rows go back to pending."""
        for index, row in enumerate(self.conditions.rows):
            if row.state == RowState.RENDERING:
                self.runner.cancel(_channel(row.spec))
                self.conditions.set_state(index, RowState.PENDING)
        if self.conditions.rows:
            self.model.refresh()
        self._report()

    def _submit(self, index: int) -> None:
        clip, spec, metrics = self.clip, self.conditions.rows[index].spec, self.metrics
        assert clip is not None
        self.conditions.set_state(index, RowState.RENDERING)
        self.model.refresh_row(index)

        def job(context: JobContext) -> ConditionAnalysis:
            return self.renderer.render(clip, spec, context.cancelled, context.progress, metrics)

        self.runner.submit(
            _channel(spec),
            job,
            lambda analysis: self._on_rendered(clip, analysis),
            lambda exc: self._on_failed(clip, spec, exc),
            lambda fraction, message: self._report(message),
        )

    def _on_rendered(self, clip: Clip, analysis: ConditionAnalysis) -> None:
        index = self.conditions.index_of(analysis.spec)
        if clip is not self.clip or index is None:
            return
        self.conditions.set_analysis(index, analysis)
        self.model.refresh_row(index)
        self._sync_playback()
        logger.info("Rendered %s (lag %d samples)", analysis.spec.label, analysis.lag_samples)
        self._report()

    def _on_failed(self, clip: Clip, spec: ConditionSpec, exc: Exception) -> None:
        index = self.conditions.index_of(spec)
        if clip is not self.clip or index is None:
            return
        self.conditions.set_state(index, RowState.FAILED, str(exc))
        self.model.refresh_row(index)
        self.row_failed.emit(f"{spec.label}: {exc}")
        self._report()

    def _sync_playback(self) -> None:
        self.playback.set_conditions([row.analysis.audio if row.analysis else None for row in self.conditions.rows])

    def _report(self, message: str = "") -> None:
        rows = self.conditions.rows
        done = sum(row.state in (RowState.DONE, RowState.FAILED) for row in rows)
        wanted = done + sum(row.state == RowState.RENDERING for row in rows)
        self.progress_changed.emit(done, wanted, message if self.rendering else "")

    # ------------------------------------------------------------------ views
    def analysis(self, row: int) -> ConditionAnalysis | None:
        """Row ``row``'s analysis, or None."""
        return self.conditions.rows[row].analysis if 0 <= row < len(self.conditions) else None

    def request_view(self, row: int) -> None:
        """Compute (or reuse) the spectrogram, difference and envelope of a finished row; emits ``view_ready``."""
        analysis, clip, original = self.analysis(row), self.clip, self.original_spectrogram
        if analysis is None or clip is None:
            return
        cached = self._views.get(analysis.spec.cache_id)
        if cached is not None:
            self.view_ready.emit(row, *cached)
            return

        def job(context: JobContext) -> tuple[Spectrogram, Spectrogram | None, PeakEnvelope]:
            codec = compute_spectrogram(analysis.audio, clip.sample_rate)
            diff = difference(original, codec) if original is not None else None
            return codec, diff, peak_envelope(analysis.audio, clip.sample_rate)

        def done(view: tuple[Spectrogram, Spectrogram | None, PeakEnvelope]) -> None:
            if clip is self.clip:
                self._views[analysis.spec.cache_id] = view
                index = self.conditions.index_of(analysis.spec)
                if index is not None:
                    self.view_ready.emit(index, *view)

        self.runner.submit(VIEW_CHANNEL, job, done)

    # ---------------------------------------------------------------- metrics
    @property
    def visqol_missing(self) -> bool:
        """Whether some finished row has no ViSQOL yet (long clips get it on demand)."""
        return any(a is not None and VISQOL not in a.metrics for a in self.conditions.analyses())

    def compute_visqol(self) -> None:
        """Compute ViSQOL for every finished row lacking it, in one background job."""
        clip = self.clip
        todo = [a for a in self.conditions.analyses() if a is not None and VISQOL not in a.metrics]
        if clip is None or not todo:
            return

        def job(context: JobContext) -> list[ConditionAnalysis]:
            done = []
            for number, analysis in enumerate(todo):
                if context.cancelled():
                    break
                context.progress(number / len(todo), f"ViSQOL of {analysis.spec.label}…")
                done.append(self.renderer.add_metrics(clip, analysis, [VISQOL]))
            return done

        def finished(updated: list[ConditionAnalysis]) -> None:
            if clip is not self.clip:
                return
            for analysis in updated:
                index = self.conditions.index_of(analysis.spec)
                if index is not None and self.conditions.rows[index].analysis is not None:
                    self.conditions.rows[index].analysis = analysis
                    self.model.refresh_row(index)

        self.runner.submit(METRICS_CHANNEL, job, finished, lambda exc: self.row_failed.emit(f"ViSQOL: {exc}"))

    def default_metrics_for_clip(self) -> tuple[str, ...]:
        """The metrics a render of the current clip computes."""
        if self.metrics is not None:
            return tuple(self.metrics)
        return default_metrics(self.clip) if self.clip is not None else ()
