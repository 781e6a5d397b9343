"""Qt-free parts of the audition workspace: condition lists, defaults, loops, recent files, excerpts, rendering."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from app.core.audition import loop_region
from app.core.clip import Clip, excerpt
from app.core.condition_render import ConditionRenderer
from app.core.conditions import ANCHOR, MODEL, OPUS, ConditionList, ConditionSpec, RowState, default_conditions
from app.core.export import ExportError, write_audio, write_csv
from app.core.models import ModelCatalog, ModelEntry
from app.core.recent_files import add_recent, prune_missing
from app.core.renders import RenderService

ENTRY_24K = ModelEntry("m24", "M24", "m24", 24_000, 1, (1.5, 3.0, 6.0, 12.0, 24.0))
ENTRY_48K = ModelEntry("m48", "M48", "m48", 48_000, 2, (3.0, 6.0, 12.0, 24.0))


def test_default_conditions_follow_the_model() -> None:
    labels = [s.label for s in default_conditions(ENTRY_24K, anchors=True)]
    assert labels == ["M24 @ 1.5 kbps", "M24 @ 6 kbps", "M24 @ 24 kbps", "Opus @ 12 kbps", "Anchor 3.5 kHz",
                      "Anchor 7 kHz"]
    assert [s.value for s in default_conditions(ENTRY_48K)] == [6.0, 24.0, 12.0]  # 1.5 is not offered at 48 kHz
    assert [s.kind for s in default_conditions(None)] == [OPUS]


def test_condition_list_refuses_duplicates_and_follows_a_new_model() -> None:
    conditions = ConditionList(default_conditions(ENTRY_24K))
    assert conditions.add([ConditionSpec(OPUS, 12.0), ConditionSpec(ANCHOR, 3.5)]) == [4]
    conditions.set_state(0, RowState.FAILED, "boom")
    assert conditions.pending() == [0, 1, 2, 3, 4]
    conditions.replace_model(ENTRY_48K)  # 1.5 kbps is dropped, 6 and 24 move to the new model
    assert [(s.kind, s.model_id, s.value) for s in conditions.specs][:2] == [(MODEL, "m48", 6.0), (MODEL, "m48", 24.0)]
    assert len(conditions) == 4
    with pytest.raises(ValueError):
        ConditionSpec(MODEL, 6.0)


def test_loop_region_is_ordered_clamped_and_at_least_half_a_second() -> None:
    assert loop_region(2.0, 1.0, 10.0) == (1.0, 2.0)
    assert loop_region(3.0, 3.1, 10.0) == (3.0, 3.5)
    assert loop_region(9.9, 9.8, 10.0) == (9.5, 10.0)
    with pytest.raises(ValueError):
        loop_region(0.0, 0.1, 0.4)


def test_recent_files_most_recent_first_at_most_ten_missing_pruned(tmp_path: Path) -> None:
    recent: list[str] = []
    for n in range(12):
        recent = add_recent(recent, tmp_path / f"{n}.wav")
    recent = add_recent(recent, tmp_path / "5.wav")
    assert len(recent) == 10 and recent[0].endswith("5.wav") and recent.count(str(tmp_path / "5.wav")) == 1
    (tmp_path / "5.wav").touch()
    assert prune_missing(recent) == [str(tmp_path / "5.wav")]


def test_excerpt_has_its_own_hash_and_offset() -> None:
    clip = Clip(Path("a.wav"), np.arange(48_000, dtype=np.float32)[None] / 48_000, 24_000, "h")
    part = excerpt(clip, 0.5, 1.0)
    assert part.num_samples == 24_000 and part.offset_s == 0.5 and part.audio[0, 0] == clip.audio[0, 12_000]
    assert part.sha256 != clip.sha256 and excerpt(clip, 0.0, 5.0) is clip


class HalfCodec:
    name, sample_rate, channels, bitrates_kbps = "half", 24_000, 1, (6.0,)

    def reconstruct(self, audio: np.ndarray, sample_rate: int, bitrate_kbps: float, progress: Any = None) -> Any:
        return 0.5 * audio


def test_renderer_aligns_measures_and_caches(tmp_path: Path) -> None:
    catalog = ModelCatalog(lister=list)
    catalog.register(ModelEntry("half", "Half", "half", 24_000, 1, (6.0,)), HalfCodec())
    renderer = ConditionRenderer(RenderService(catalog), lossy_cache_dir=tmp_path)
    audio = np.random.default_rng(1).uniform(-0.3, 0.3, (1, 24_000)).astype(np.float32)
    clip = Clip(Path("n.wav"), audio, 24_000, "noise")
    spec = ConditionSpec(MODEL, 6.0, "half", "Half")
    analysis = renderer.render(clip, spec, metrics=("si_sdr",))
    assert analysis.lag_samples == 0 and analysis.achieved_kbps is None
    assert analysis.loudness_deviation_lu == pytest.approx(-6.02, abs=0.05)
    assert analysis.metrics["si_sdr"] > 60 and renderer.render(clip, spec).from_cache
    anchor = renderer.render(clip, ConditionSpec(ANCHOR, 3.5), metrics=())
    assert anchor.achieved_kbps is None and anchor.spec.requested_kbps is None
    assert anchor.true_peak_dbtp < analysis.true_peak_dbtp + 6.1


def test_export_writers(tmp_path: Path) -> None:
    audio = np.linspace(-1.5, 1.5, 2400, dtype=np.float32).reshape(2, 1200)
    write_audio(tmp_path / "a.wav", audio, 24_000)
    back, rate = sf.read(tmp_path / "a.wav", dtype="float32", always_2d=True)
    assert rate == 24_000 and np.array_equal(back.T, audio)  # float WAV keeps overs
    write_audio(tmp_path / "a.flac", audio, 24_000)
    assert np.abs(sf.read(tmp_path / "a.flac")[0]).max() <= 1.0
    with pytest.raises(ExportError, match=r"\.wav or \.flac"):
        write_audio(tmp_path / "a.mp3", audio, 24_000)
    write_csv(tmp_path / "t.csv", ["a", "b"], [["1", "2"]])
    assert list(csv.reader(open(tmp_path / "t.csv"))) == [["a", "b"], ["1", "2"]]
