"""Running ``app.core`` jobs off the GUI thread, with results delivered back on it.

A job is a plain function ``fn(context) -> result`` (usually a bound core method such as
``RenderService.render``). :class:`JobRunner` runs it on a thread pool and calls ``on_success``/``on_failure`` on
the GUI thread through a queued signal. Jobs are grouped in *channels* ("load", "render", ...): submitting to a
channel supersedes its previous job, which is cancelled cooperatively (``context.cancelled()``) and whose result is
dropped when it arrives (the napari slicer's request-id stale-drop). Only ``PySide6.QtCore`` and ``app.core`` are
imported here.

The pool is the standard library's ``ThreadPoolExecutor`` rather than ``QThreadPool``: in PySide6 6.12 both
``QThreadPool.start(callable)`` and a Python ``QRunnable.run`` drop one reference to ``None`` per job, which crashes
the interpreter ("deallocating None") after a few thousand jobs. Queued signals work from any thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.core.errors import CancelledError, EarBenchError

logger = logging.getLogger(__name__)


class JobContext:
    """What a job sees in its worker thread: a cancellation flag and a progress reporter."""

    def __init__(self, cancel_event: threading.Event, report: Callable[[float, str], None]) -> None:
        self._cancel_event = cancel_event
        self._report = report

    def cancelled(self) -> bool:
        """Whether the GUI no longer wants this job's result (check between steps)."""
        return self._cancel_event.is_set()

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress, 0..1, with a short message."""
        self._report(fraction, message)


@dataclass
class _Record:
    channel: str
    on_success: Callable[[Any], None]
    on_failure: Callable[[Exception], None] | None
    on_progress: Callable[[float, str], None] | None
    cancel_event: threading.Event


class JobRunner(QObject):
    """Runs jobs on a private thread pool, one current job per channel.

    Signals
    -------
    busy_changed(str, bool)
        A channel started or finished (or was cancelled).
    """

    busy_changed = Signal(str, bool)
    _finished = Signal(int, bool, object)
    _progressed = Signal(int, float, str)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="earbench-job")
        self._futures: set[Future[None]] = set()
        self._ids = itertools.count(1)
        self._records: dict[int, _Record] = {}
        self._current: dict[str, int] = {}
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)

    def submit(
        self,
        channel: str,
        fn: Callable[[JobContext], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[Exception], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
    ) -> int:
        """Run ``fn(context)`` in the pool, superseding the channel's current job; returns the job id."""
        self.cancel(channel, notify=False)
        job_id = next(self._ids)
        event = threading.Event()
        self._records[job_id] = _Record(channel, on_success, on_failure, on_progress, event)
        self._current[channel] = job_id
        context = JobContext(event, lambda fraction, message: self._progressed.emit(job_id, fraction, message))
        self._futures = {f for f in self._futures if not f.done()}
        self._futures.add(self._pool.submit(self._run, job_id, fn, context))
        self.busy_changed.emit(channel, True)
        return job_id

    def cancel(self, channel: str, notify: bool = True) -> None:
        """Cancel the channel's current job; its result, if it still comes, is dropped."""
        job_id = self._current.pop(channel, None)
        if job_id is None:
            return
        record = self._records.get(job_id)
        if record is not None:
            record.cancel_event.set()
        if notify:
            self.busy_changed.emit(channel, False)

    def is_busy(self, channel: str) -> bool:
        """Whether the channel has a current job."""
        return channel in self._current

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every job and wait for them; returns False if jobs were still running at the timeout."""
        for channel in list(self._current):
            self.cancel(channel)
        _, running = wait(self._futures, timeout=timeout_ms / 1000)
        self._pool.shutdown(wait=False, cancel_futures=True)
        return not running

    def _run(self, job_id: int, fn: Callable[[JobContext], Any], context: JobContext) -> None:
        """Worker thread: run the job and hand the outcome to the GUI thread."""
        try:
            result: Any = fn(context)
            ok = True
        except CancelledError as exc:
            result, ok = exc, False
        except EarBenchError as exc:
            logger.info("Job %d failed: %s", job_id, exc)
            result, ok = exc, False
        except Exception as exc:
            logger.exception("Job %d raised an unexpected error", job_id)
            result, ok = exc, False
        self._finished.emit(job_id, ok, result)

    @Slot(int, bool, object)
    def _deliver(self, job_id: int, ok: bool, result: Any) -> None:
        record = self._records.pop(job_id, None)
        if record is None or self._current.get(record.channel) != job_id:
            logger.debug("Dropping the stale result of job %d", job_id)
            return
        del self._current[record.channel]
        self.busy_changed.emit(record.channel, False)
        if ok:
            record.on_success(result)
        elif not isinstance(result, CancelledError) and record.on_failure is not None:
            record.on_failure(result)

    @Slot(int, float, str)
    def _deliver_progress(self, job_id: int, fraction: float, message: str) -> None:
        record = self._records.get(job_id)
        if record is not None and record.on_progress is not None and self._current.get(record.channel) == job_id:
            record.on_progress(fraction, message)
