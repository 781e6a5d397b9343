"""Session flow per protocol: MUSHRA gating and training, ABX X draws and running score, AB sides, BS.1116 grades,
resume with the stored randomisation, warnings, and anchors made by the codec."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from listening_fixtures import fake_anchor, write_design, write_wav

from app.core.errors import StorageError
from app.core.listening.design_parse import load_design
from app.core.listening.randomise import draw_plan
from app.core.listening.session import Session, SessionError
from app.core.listening.session_start import start_session
from app.core.listening.storage import Storage


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def _start(tmp_path: Path, test_type: str, listener: str = "alice", **kwargs: Any) -> tuple[Session, Storage]:
    folder = tmp_path / test_type
    design = load_design(folder / "design.yaml") if (folder / "design.yaml").exists() else \
        load_design(write_design(folder, test_type, **kwargs))
    storage = Storage(tmp_path / "ratings.sqlite")
    session = start_session(storage, design, listener, anchor_dir=tmp_path / "anchors", anchor_renderer=fake_anchor,
                            clock=Clock(), transducer="headphones")
    return session, storage


def _complete_page(session: Session, value: float = 50.0) -> None:
    view = session.page
    assert view is not None
    for s in view.stimuli:
        session.note_play(s.key)
        session.rate(s.key, value)
    session.advance()


def test_mushra_cannot_advance_before_every_signal_is_played_and_rated(tmp_path: Path) -> None:
    session, storage = _start(tmp_path, "mushra", options={"training": False, "require_max_rating": True})
    view = session.page
    assert view is not None and session.phase == "test" and not view.training
    assert len(view.stimuli) == 5 and view.reference is not None and view.scale is not None
    assert [s.label for s in view.stimuli] == ["1", "2", "3", "4", "5"]  # blind
    assert session.ratings == {s.key: None for s in view.stimuli}  # sliders start unset
    assert not session.can_advance()
    with pytest.raises(SessionError, match="cannot advance yet"):
        session.advance()
    for s in view.stimuli[:-1]:
        session.note_play(s.key)
        session.rate(s.key, 40)
    session.rate(view.stimuli[-1].key, 100)
    assert session.blocking_reasons() == [f"play {view.stimuli[-1].key}"]  # rated but never played
    session.note_play(view.stimuli[-1].key)
    session.rate(view.stimuli[-1].key, None)  # unset again
    assert not session.can_advance()
    session.rate(view.stimuli[-1].key, 99)
    assert session.blocking_reasons() == ["rate at least one signal 100 (the hidden reference is among them)"]
    session.rate(view.stimuli[-1].key, 100)
    session.note_switch()
    session.note_switch()
    session._clock.now_s += 12.5  # type: ignore[attr-defined]
    session.advance()
    rows = storage.tidy_rows()
    assert sorted(r.condition for r in rows) == ["anchor_lp35", "anchor_lp70", "c1", "c2", "reference"]
    assert {(r.page, r.trial, r.time_ms, r.n_switches, r.n_plays) for r in rows} == {(0, 0, 12500, 2, 1)}
    assert sorted(r.rating for r in rows) == [40, 40, 40, 40, 100]
    with pytest.raises(ValueError, match="outside"):
        session.rate(session.page.stimuli[0].key, 101)
    with pytest.raises(SessionError, match="use rate"):
        session.answer("A")


def test_mushra_training_shows_names_and_stores_nothing(tmp_path: Path) -> None:
    session, storage = _start(tmp_path, "mushra", n_items=2, options={"training": True})
    assert session.phase == "training"
    view = session.page
    assert view is not None and view.training and view.n_pages == 2
    labels = [s.label for s in view.stimuli]
    assert labels == ["Codec c1", "Codec c2", "Hidden reference", "Anchor 3.5 kHz", "Anchor 7 kHz"]
    session.note_play(view.stimuli[0].key)
    session.rate(view.stimuli[0].key, 12)
    assert session.can_advance()  # training asks for nothing
    session.advance()
    session.rate(session.page.stimuli[1].key, 34)
    session.advance()
    assert session.phase == "test" and storage.tidy_rows() == []
    assert storage.session(session.id).training_done_at is not None
    # Resuming after training goes straight to the test.
    session2, _ = _start(tmp_path, "mushra")
    assert session2.id == session.id and session2.phase == "test"


def test_abx_draws_x_per_trial_and_scores_hidden_by_default(tmp_path: Path) -> None:
    session, storage = _start(tmp_path, "abx", n_items=2, options={"trials_per_item": 10})
    plan = session.plan
    seen_x = []
    while not session.finished:
        view = session.page
        assert view is not None and view.choices == ("A", "B") and view.n_trials == 10
        assert session.running_score is None
        x_path = next(s.path for s in view.stimuli if s.key == "X")
        a_path, b_path = (next(s.path for s in view.stimuli if s.key == k) for k in "AB")
        truth = "A" if x_path == a_path else "B"
        assert truth == plan.pages[view.page].draws[view.trial] and x_path in (a_path, b_path)
        seen_x.append(truth)
        with pytest.raises(SessionError, match="dont_know"):
            session.answer("dont_know")
        session.note_play("X")
        session.answer("A")
        session.advance()
    rows = storage.tidy_rows()
    assert len(rows) == 40 and Counter(r.condition for r in rows) == {"c1": 20, "c2": 20}
    assert [r.correct for r in rows] == [x == "A" for x in seen_x]
    assert {r.answer for r in rows} == {"A"} and {r.n_plays for r in rows} == {1}
    assert set(seen_x) == {"A", "B"}


def test_abx_dont_know_and_running_score_when_configured(tmp_path: Path) -> None:
    options = {"trials_per_item": 4, "allow_dont_know": True, "show_running_score": True}
    session, storage = _start(tmp_path, "abx", n_items=1, conditions=("c1",), options=options)
    assert session.running_score == (0, 0)
    session.answer("dont_know")
    session.advance()
    assert session.running_score == (0, 0)  # "don't know" is kept apart
    for _ in range(3):
        plan_page = session.plan.pages[session.page.page]
        session.answer(plan_page.draws[session.page.trial])  # always right
        session.advance()
    assert session.finished and session.running_score is None
    rows = storage.tidy_rows()
    assert (rows[0].answer, rows[0].correct) == ("dont_know", None)
    assert all(r.correct for r in rows[1:])


def test_ab_preference_is_stored_independent_of_the_side(tmp_path: Path) -> None:
    session, storage = _start(tmp_path, "ab", n_items=4, conditions=("c1",), options={"trials_per_item": 3})
    sides = []
    while not session.finished:
        view = session.page
        assert view.choices == ("left", "right") and [s.label for s in view.stimuli] == ["1", "2"]
        condition_side = next(s.key for s in view.stimuli if s.path.name.startswith("c1"))
        sides.append(condition_side)
        session.answer(condition_side)  # always prefer the codec
        session.advance()
    assert set(sides) == {"left", "right"}
    assert {(r.answer, r.condition, r.correct) for r in storage.tidy_rows()} == {("B", "c1", None)}


def test_bs1116_hidden_reference_and_grade_scale(tmp_path: Path) -> None:
    session, storage = _start(tmp_path, "bs1116", n_items=3, conditions=("c1",))
    where_ref = []
    while not session.finished:
        view = session.page
        assert view.reference is not None and [s.key for s in view.stimuli] == ["A", "B"]
        hidden_ref = [s.key for s in view.stimuli if s.path == view.reference.path]
        assert len(hidden_ref) == 1
        where_ref.append(hidden_ref[0])
        for bad in (0.9, 5.1, 4.55, float("nan")):
            with pytest.raises(ValueError):
                session.rate("A", bad)
        for s in view.stimuli:
            session.note_play(s.key)
            session.rate(s.key, 5.0 if s.key == hidden_ref[0] else 3.4)
        session.advance()
    rows = storage.tidy_rows()
    assert len(rows) == 6
    assert {(r.condition, r.rating) for r in rows} == {("reference", 5.0), ("c1", 3.4)}
    assert len({(r.page, r.trial) for r in rows}) == 3  # both grades of a trial share page and trial
    assert [p.draws[0] for p in session.plan.pages] == where_ref


def test_resume_restores_randomisation_and_position(tmp_path: Path) -> None:
    session, storage = _start(tmp_path, "mushra", n_items=4, options={"training": False})
    record = storage.session(session.id)
    assert record.randomisation == draw_plan(session.design, record.session_number).to_json()
    assert record.transducer == "headphones" and record.app_version
    _complete_page(session)
    _complete_page(session)
    half_page = session.page
    session.note_play(half_page.stimuli[0].key)
    session.rate(half_page.stimuli[0].key, 10)  # not committed: lost with the session object
    storage.close()
    resumed, storage = _start(tmp_path, "mushra")
    assert resumed.id == session.id and resumed.plan == session.plan
    assert resumed.progress == (2, 4) and resumed.page == half_page
    assert all(v is None for v in resumed.ratings.values())
    _complete_page(resumed)
    _complete_page(resumed)
    assert resumed.finished and storage.session(resumed.id).finished_at is not None
    assert len(storage.tidy_rows()) == 4 * 5
    # A finished session is not resumed: the next one gets number 2 and its own order.
    again, storage = _start(tmp_path, "mushra")
    assert again.id != session.id and again.record.session_number == 2 and again.plan.pages != session.plan.pages


def test_a_stimulus_changed_after_the_test_started_is_refused(tmp_path: Path) -> None:
    _, storage = _start(tmp_path, "abx", n_items=1, conditions=("c1",))
    storage.close()
    write_wav(tmp_path / "abx" / "audio" / "c1_0.wav", seed=999)  # re-rendered behind the test's back
    with pytest.raises(StorageError, match=r"item00/c1\) of test 'test-abx' differs"):
        _start(tmp_path, "abx")


def test_mushra_warnings(tmp_path: Path) -> None:
    session, _ = _start(tmp_path, "mushra", n_items=1, duration_s=12.2, options={"training": False})
    assert any("12.2 s" in w for w in session.warnings)
    view = session.page
    for s in view.stimuli:
        session.rate(s.key, 85)
    assert any("80-100" in w for w in session.warnings)
    by_condition = {s.path.name: s.key for s in view.stimuli}
    session.rate(by_condition["c1_0.wav"], 50)
    assert not any("80-100" in w for w in session.warnings)  # only one of two systems high: not "most"


def test_anchors_made_by_the_codec_filter(tmp_path: Path) -> None:
    """The default renderer is the codec's mask-verified low-pass (imported only here)."""
    design = load_design(write_design(tmp_path / "t", "mushra", n_items=1, options={"training": False}))
    storage = Storage(tmp_path / "r.sqlite")
    session = start_session(storage, design, "dave", anchor_dir=tmp_path / "anchors")
    ref, rate = soundfile.read(str(design.items[0].reference), dtype="float32")
    by_label = {}
    for s in session.page.stimuli:
        audio, anchor_rate = soundfile.read(str(s.path), dtype="float32")
        assert anchor_rate == rate and audio.shape == ref.shape
        by_label[s.path.name] = audio
    lp35 = next(a for name, a in by_label.items() if "anchor_lp35" in name)
    spectrum = np.abs(np.fft.rfft(lp35)) ** 2
    freqs = np.fft.rfftfreq(lp35.size, 1 / rate)
    ref_spectrum = np.abs(np.fft.rfft(ref)) ** 2
    assert spectrum[freqs > 3900].sum() < 1e-3 * ref_spectrum[freqs > 3900].sum()
    assert np.allclose(spectrum[freqs < 3000].sum(), ref_spectrum[freqs < 3000].sum(), rtol=0.05)
    assert {f.role for f in storage.stimuli(design.id)} == {"reference", "condition", "anchor"}
