"""A listening-test design made from the workspace's item and conditions (Qt-free): it validates, round-trips
through YAML and the design loader, its randomisation follows the seed, MUSHRA gets its own reference and anchors,
and the design helper warns about too many signals, long excerpts and few items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.core.clip import Clip
from app.core.conditions import (
    ANCHOR,
    MODEL,
    OPUS,
    ConditionAnalysis,
    ConditionList,
    ConditionSpec,
    RowState,
)
from app.core.errors import DesignError
from app.core.listening.design import LOW_ANCHOR_ID, MID_ANCHOR_ID, REFERENCE_ID
from app.core.listening.design_parse import load_design, parse_design
from app.core.listening.from_workspace import (
    NewTest,
    WorkspaceItem,
    WorkspaceState,
    advise,
    build_design,
    condition_id,
    make_id,
    workspace_state,
)
from app.core.listening.randomise import draw_plan, mushra_signals

RATE_HZ = 8000
MODEL_6 = ConditionSpec(MODEL, 6.0, "encodec_24khz", "EnCodec 24 kHz")
OPUS_12 = ConditionSpec(OPUS, 12.0)
LOWPASS_35 = ConditionSpec(ANCHOR, 3.5)


def _audio(seed: int, duration_s: float = 0.05) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((1, int(duration_s * RATE_HZ)))).astype(np.float32)


def _state(specs: tuple[ConditionSpec, ...] = (MODEL_6, OPUS_12), duration_s: float = 0.05) -> WorkspaceState:
    renders = {spec: _audio(n + 1, duration_s) for n, spec in enumerate(specs)}
    item = WorkspaceItem("castanets take 1.wav", _audio(0, duration_s), RATE_HZ, renders)
    return WorkspaceState((item,), specs)


def _request(test_type: str = "abx", specs: tuple[ConditionSpec, ...] = (MODEL_6, OPUS_12), seed: int = 1234,
             **kwargs: object) -> NewTest:
    return NewTest("Codec check", test_type, specs, seed, **kwargs)  # type: ignore[arg-type]


def test_design_from_two_conditions_validates_and_round_trips(tmp_path: Path) -> None:
    state = _state()
    design = build_design(_request(abx_trials=12), state, tmp_path / "tests" / "check")
    path = tmp_path / "tests" / "check.yaml"
    assert design.source == path.resolve() and design.type == "abx" and design.seed == 1234
    assert design.options.trials_per_item == 12  # type: ignore[union-attr]
    # Conditions named the way the design format names them, mapped from the workspace's kinds.
    assert list(design.conditions) == ["encodec_24khz_6kbps", "opus_12kbps"]
    model = design.conditions["encodec_24khz_6kbps"]
    assert (model.label, model.bitrate_kbps, model.model) == ("EnCodec 24 kHz @ 6 kbps", 6.0, "encodec_24khz")
    assert design.conditions["opus_12kbps"].model == "opus"
    # The YAML goes through the existing loader and the plain-data round trip unchanged.
    assert load_design(path) == design
    assert parse_design(design.to_mapping(), design.base_dir) == design
    # The files hold the workspace's audio (reference and each render), inside the design's folder.
    (item,) = design.items
    assert item.id == "castanets-take-1"
    ref, rate = soundfile.read(str(item.reference), dtype="float32", always_2d=True)
    assert rate == RATE_HZ and np.array_equal(ref.T, state.items[0].reference)
    opus, _ = soundfile.read(str(item.conditions["opus_12kbps"]), dtype="float32", always_2d=True)
    assert np.array_equal(opus.T, state.items[0].renders[OPUS_12])
    assert all(p.is_relative_to(tmp_path / "tests" / "check_audio") for p in design.stimulus_paths())


def test_randomisation_is_reproducible_from_the_seed(tmp_path: Path) -> None:
    first = build_design(_request(seed=99), _state(), tmp_path / "a.yaml")
    again = build_design(_request(seed=99), _state(), tmp_path / "b.yaml")
    other = build_design(_request(seed=100), _state(), tmp_path / "c.yaml")
    assert first.id == again.id == "Codec-check-99"
    assert draw_plan(first, 1).to_json() == draw_plan(again, 1).to_json()
    assert draw_plan(first, 1).to_json() != draw_plan(other, 1).to_json()  # 32 X draws: a coincidence is 2**-32


def test_mushra_gets_hidden_reference_and_anchors_and_drops_the_workspace_anchors(tmp_path: Path) -> None:
    specs = (MODEL_6, OPUS_12, LOWPASS_35)
    advice = advise(_request("mushra", specs), _state(specs))
    assert advice.left_out == (LOWPASS_35,) and advice.n_systems == 2 and advice.n_signals == 5
    assert "at least 5" in advice.helper_text() and "5 items" in advice.helper_text()
    assert any("1 item(s) for 2 systems" in w for w in advice.warnings)
    design = build_design(_request("mushra", specs), _state(specs), tmp_path / "m.yaml")
    assert set(design.conditions) == {"encodec_24khz_6kbps", "opus_12kbps"}
    assert set(mushra_signals(design)) == {"encodec_24khz_6kbps", "opus_12kbps", REFERENCE_ID, LOW_ANCHOR_ID,
                                           MID_ANCHOR_ID}
    # Other test types keep a workspace anchor as an ordinary condition.
    abx = build_design(_request("abx", specs), _state(specs), tmp_path / "x.yaml")
    assert abx.conditions["lowpass_3_5khz"].label == "Anchor 3.5 kHz"


def test_too_many_mushra_conditions_are_refused_with_the_reason(tmp_path: Path) -> None:
    specs = tuple(ConditionSpec(MODEL, float(k), "m", "M") for k in range(1, 11))
    advice = advise(_request("mushra", specs), _state(specs))
    assert any("13 signals" in e and "at most 12" in e for e in advice.errors)
    with pytest.raises(DesignError, match="at most 12"):
        build_design(_request("mushra", specs), _state(specs), tmp_path / "m.yaml")
    assert not (tmp_path / "m.yaml").exists()
    assert not advise(_request("mushra", specs[:9]), _state(specs[:9])).errors  # 9 + 3 = 12 is allowed


def test_advice_warns_about_long_excerpts_short_abx_rounds_and_unrendered_conditions() -> None:
    long_state = _state(duration_s=12.5)
    assert any("excerpt is 12.5 s" in w for w in advise(_request("mushra"), long_state).warnings)
    assert any("10-25" in w for w in advise(_request("abx", abx_trials=5), _state()).warnings)
    assert not advise(_request("abx"), _state()).warnings
    missing = WorkspaceState(_state().items, (MODEL_6, OPUS_12, LOWPASS_35))
    errors = advise(_request("abx", missing.conditions), missing).errors
    assert any("Anchor 3.5 kHz is not rendered" in e for e in errors)
    assert advise(_request("abx", ()), _state()).errors == ("choose at least one condition",)


def test_workspace_state_takes_the_clip_and_only_finished_renders(tmp_path: Path) -> None:
    clip = Clip(tmp_path / "song.flac", _audio(0), RATE_HZ, "0" * 64)
    conditions = ConditionList([MODEL_6, OPUS_12])
    conditions.set_analysis(0, ConditionAnalysis(MODEL_6, _audio(1), 6.0, 0, RATE_HZ, 0.0, -3.0))
    conditions.set_state(1, RowState.RENDERING)
    state = workspace_state(clip, conditions)
    assert state.conditions == (MODEL_6, OPUS_12)
    assert state.is_rendered(MODEL_6) and not state.is_rendered(OPUS_12)
    assert state.items[0].name == "song.flac"
    assert workspace_state(None, conditions).items == ()


def test_ids_are_valid_design_ids() -> None:
    assert make_id("  Müller's test #1 ") == "M-ller-s-test-1"
    assert make_id("***") == "test"
    assert condition_id(ConditionSpec(MODEL, 1.5, "enc/24k", "E")) == "enc-24k_1_5kbps"
