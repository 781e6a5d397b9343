"""The listening-test scenes of the screenshots: example designs, a runner window mid-session, made-up ratings.

Imported by ``packaging/screenshots.py`` (which puts the repository root and this folder on ``sys.path`` first);
not meant to run by itself. The designs are two items cut from the example clip (its speech and its notes) with
every condition the main window rendered, written into the :class:`~screenshot_setup.Shot`'s scratch folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import yaml
from screenshot_setup import Shot, wait_until

from app.core.conditions import MODEL, ConditionAnalysis
from app.core.listening.anchors import anchor_recipe, render_anchors
from app.core.listening.design import TestDesign
from app.core.listening.design_parse import load_design
from app.core.listening.randomise import draw_plan
from app.core.listening.storage import Storage
from app.core.listening.storage_records import Answer
from app.ui.listening.runner import TestRunnerWindow

TEST_WINDOW_SIZE = (1100, 700)
#: The example clip: speech up to here, then plucked notes (two test items).
SPEECH_END_S = 3.27
#: Made-up mean MUSHRA scores of the results screenshot, by signal (systems get theirs from their bitrate).
FIXED_SCORES = {"reference": 98.0, "anchor_lp70": 55.0, "anchor_lp35": 22.0}
LISTENERS = ("ana", "ben", "chloe", "dev", "emil", "fatima", "gus", "hana")
#: This listener rates the hidden reference low on every item: post-screening excludes them (and says why).
CARELESS_LISTENER = "gus"


def _condition_id(analysis: ConditionAnalysis) -> str:
    spec = analysis.spec
    return f"{spec.kind}_{spec.value:g}".replace(".", "_")


def _condition_label(shot: Shot, analysis: ConditionAnalysis) -> str:
    spec = analysis.spec
    if spec.kind != MODEL or spec.model_id is None:
        return spec.label
    entry = shot.window.catalog.entry(spec.model_id)
    name = Path(entry.source).stem if spec.model_id.startswith("file:") else spec.model_id
    return f"{name} {spec.value:g} kbps"


def example_design(shot: Shot, test_type: str, options: dict[str, object]) -> TestDesign:
    """A design of two items (the clip's speech and its notes) with every condition the window rendered."""
    if test_type in shot.designs:
        return shot.designs[test_type]
    window, folder = shot.window, shot.work / "design"
    clip = window.state.clip
    assert clip is not None
    rate = clip.sample_rate
    split = round((SPEECH_END_S if clip.duration_s > SPEECH_END_S + 1.0 else clip.duration_s / 2) * rate)
    parts = {"speech": slice(0, split), "notes": slice(split, None)}
    analyses = [a for a in window.workspace.conditions.analyses() if a is not None]
    conditions = {_condition_id(a): {"label": _condition_label(shot, a), **_bitrate(a)} for a in analyses}
    items = []
    for item, part in parts.items():
        files = {"reference": _write(folder / f"{item}_reference.wav", clip.audio[:, part], rate)}
        for analysis in analyses:
            cid = _condition_id(analysis)
            files[cid] = _write(folder / f"{item}_{cid}.wav", analysis.audio[:, part], rate)
        reference = files.pop("reference")
        items.append({"id": item, "reference": reference, "conditions": files})
    mapping = {
        "format_version": 1, "id": f"example-{test_type}", "name": f"Example {test_type.upper()} test",
        "description": "Made by packaging/screenshots.py from the example clip.", "type": test_type,
        "seed": 20261126, "conditions": conditions, "items": items, test_type: options,
    }
    path = folder / f"{test_type}.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    shot.designs[test_type] = design = load_design(path)
    return design


def _bitrate(analysis: ConditionAnalysis) -> dict[str, float]:
    requested = analysis.spec.requested_kbps
    return {} if requested is None else {"bitrate_kbps": float(requested)}


def _write(path: Path, audio: np.ndarray, sample_rate: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.ascontiguousarray(audio.T), sample_rate, subtype="FLOAT")
    return path.name


def open_runner(shot: Shot, design: TestDesign, listener: str) -> tuple[TestRunnerWindow, Storage]:
    """A test window on ``design`` with ``listener``'s session started (after its MUSHRA anchors render)."""
    storage = Storage(shot.work / f"{design.id}.sqlite")
    runner = TestRunnerWindow(storage, shot.engine(), shot.work / "bundles", anchor_dir=shot.work / "anchors")
    runner.resize(*TEST_WINDOW_SIZE)
    runner.show()
    runner.open_design(design.source or design.base_dir)
    runner.listener_edit.setText(listener)
    runner.start(listener)
    wait_until(lambda: not runner.preparing, 120.0)  # MUSHRA anchors render in a background job first
    if runner.session is None:
        raise RuntimeError(f"the test did not start: {runner.notices.notice_text('open')}")
    return runner, storage


def conditions_by_path(shot: Shot, design: TestDesign) -> dict[Path, str]:
    """Which condition each file of the design (and each anchor) is: for plausible made-up ratings."""
    found: dict[Path, str] = {}
    for item in design.items:
        found[item.reference] = "reference"
        found.update({path: cid for cid, path in item.conditions.items()})
    for anchors in render_anchors(design, shot.work / "anchors").values():
        found.update({path: aid for aid, path in anchors.items()})
    return found


def mean_score(design: TestDesign, condition: str) -> float:
    """Made-up mean scores: fixed for the reference and anchors, rising with bitrate for the systems."""
    if condition in FIXED_SCORES:
        return FIXED_SCORES[condition]
    bitrate = design.conditions[condition].bitrate_kbps or 6.0
    return float(np.clip(30.0 + 17.0 * np.log2(bitrate / 1.5), 25.0, 90.0))


def made_up_ratings(shot: Shot, design: TestDesign, storage: Storage) -> None:
    """Store a finished MUSHRA session per listener with noisy ratings around :func:`mean_score`."""
    storage.register_test(design, anchor_recipe=anchor_recipe())
    rng = np.random.default_rng(11)
    signals = ["reference", "anchor_lp35", "anchor_lp70", *design.conditions]
    for listener in LISTENERS:
        record = storage.create_session(design.id, listener, lambda n: draw_plan(design, n).to_json(),
                                        app_version="screenshots", transducer="headphones")
        bias = rng.normal(0.0, 4.0)
        for page, plan in enumerate(draw_plan(design, record.session_number).pages):
            answers = []
            for condition in signals:
                mean = 75.0 if condition == "reference" and listener == CARELESS_LISTENER else mean_score(
                    design, condition)
                score = 100.0 if condition == "reference" and mean > 95 and rng.random() < 0.7 else mean + bias
                rating = float(np.clip(round(score + rng.normal(0.0, 7.0)), 0, 100))
                answers.append(Answer(record.id, page, 0, plan.item, condition, rating=rating,
                                      time_ms=int(rng.integers(40_000, 120_000)), n_plays=int(rng.integers(2, 9))))
            storage.record_answers(answers)
        storage.finish_session(record.id)
