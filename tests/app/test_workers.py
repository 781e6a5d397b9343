"""JobRunner: results come back on the GUI thread; superseded and cancelled jobs are dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import CancelledError, RenderError
from app.workers import JobContext, JobRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    assert runner.shutdown(5000)


def test_result_arrives_on_the_gui_thread(qtbot: QtBot, runner: JobRunner) -> None:
    got: list[tuple[int, bool]] = []
    progress: list[float] = []

    def job(context: JobContext) -> int:
        context.progress(0.5, "half")
        return 42

    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda channel, busy: not busy):
        runner.submit(
            "x",
            job,
            lambda value: got.append((value, threading.current_thread() is threading.main_thread())),
            on_progress=lambda fraction, message: progress.append(fraction),
        )
    assert got == [(42, True)] and not runner.is_busy("x")
    qtbot.waitUntil(lambda: progress == [0.5])


def test_errors_go_to_on_failure(qtbot: QtBot, runner: JobRunner) -> None:
    errors: list[Exception] = []

    def job(context: JobContext) -> None:
        raise RenderError("bad bitrate")

    runner.submit("x", job, lambda value: pytest.fail("no result expected"), errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], RenderError) and str(errors[0]) == "bad bitrate"


def test_a_new_job_supersedes_the_old_one(qtbot: QtBot, runner: JobRunner) -> None:
    release = threading.Event()
    seen_cancel: list[bool] = []
    results: list[str] = []

    def slow(context: JobContext) -> str:
        release.wait(5)
        seen_cancel.append(context.cancelled())
        return "old"

    runner.submit("render", slow, results.append)
    runner.submit("render", lambda context: "new", results.append)
    qtbot.waitUntil(lambda: results == ["new"])
    release.set()
    qtbot.waitUntil(lambda: seen_cancel == [True])
    qtbot.wait(50)
    assert results == ["new"]  # the stale result was dropped


def test_cancel_drops_the_result_and_reports_not_busy(qtbot: QtBot, runner: JobRunner) -> None:
    release = threading.Event()
    results: list[object] = []
    failures: list[Exception] = []

    def job(context: JobContext) -> str:
        release.wait(5)
        if context.cancelled():
            raise CancelledError("stopped")
        return "done"

    runner.submit("render", job, results.append, failures.append)
    assert runner.is_busy("render")
    with qtbot.waitSignal(runner.busy_changed):
        runner.cancel("render")
    assert not runner.is_busy("render")
    release.set()
    assert runner.shutdown(5000)
    qtbot.wait(50)
    assert results == [] and failures == []
