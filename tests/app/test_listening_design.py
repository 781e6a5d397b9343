"""Listening-test designs: schema validation, hostile YAML, path confinement, round trip, randomisation."""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from listening_fixtures import design_mapping, write_design, write_wav

from app.core.errors import DesignError
from app.core.listening.design import (
    LOW_ANCHOR_ID,
    MID_ANCHOR_ID,
    REFERENCE_ID,
    AbxOptions,
    MushraOptions,
    design_warnings,
    recommended_items,
)
from app.core.listening.design_parse import load_design, parse_design
from app.core.listening.randomise import Plan, draw_plan, mushra_signals

EXAMPLE = Path(__file__).with_name("listening_example_design.yaml")


def _set(mapping: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``mapping`` with ``dotted`` (``items.0.id``) set to ``value``."""
    out = copy.deepcopy(mapping)
    *parents, last = dotted.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return out


def test_example_design_loads_and_round_trips(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "design.yaml")
    for n, name in enumerate(["castanets", "speech"]):
        for suffix in ("", "_1_5", "_3", "_6"):
            write_wav(tmp_path / "audio" / f"{name}{suffix}.wav", seed=10 * n + len(suffix))
    design = load_design(tmp_path / "design.yaml")
    assert design.type == "mushra" and design.id == "encodec-mushra-example"
    assert design.options == MushraOptions(training=True, require_max_rating=False)
    assert design.conditions["enc_3"].bitrate_kbps == 3.0
    assert design.items[1].conditions["enc_6"] == tmp_path.resolve() / "audio" / "speech_6.wav"
    assert parse_design(design.to_mapping(), design.base_dir) == design
    assert parse_design(yaml.safe_load(yaml.safe_dump(design.to_mapping())), tmp_path) == design
    paths = design.stimulus_paths()
    assert len(paths) == 8 and len(set(paths)) == 8 and all(p.is_file() for p in paths)


def test_defaults_per_type(tmp_path: Path) -> None:
    design = parse_design(design_mapping(tmp_path, "abx"), tmp_path)
    assert design.options == AbxOptions(trials_per_item=16, allow_dont_know=False, show_running_score=False)
    assert design.to_mapping()["abx"] == {"trials_per_item": 16, "allow_dont_know": False, "show_running_score": False}


@pytest.mark.parametrize(
    ("dotted", "value", "field"),
    [
        ("colour", "red", "colour"),  # unknown top-level key
        ("items.0.gain_db", 3, "items[0]"),  # unknown nested key
        ("conditions.c1.codec_version", "x", "conditions.c1"),
        ("mushra", {"trainning": True}, "mushra"),
        ("seed", "abc", "seed"),
        ("seed", True, "seed"),
        ("seed", -1, "seed"),
        ("conditions.c1.bitrate_kbps", "6 kbps", "conditions.c1.bitrate_kbps"),
        ("conditions.c1.label", None, "conditions.c1.label"),
        ("type", "mos", "type"),
        ("format_version", 2, "format_version"),
        ("id", "has space", "id"),
        ("items", [], "items"),
        ("mushra", {"training": "yes"}, "mushra.training"),
        ("abx", {"trials_per_item": 16}, "abx"),  # options of another type
        ("conditions.reference", {"label": "mine"}, "conditions.reference"),  # reserved id
    ],
)
def test_schema_errors_name_the_field(tmp_path: Path, dotted: str, value: Any, field: str) -> None:
    mapping = _set(design_mapping(tmp_path, "mushra", options={"training": True}), dotted, value)
    with pytest.raises(DesignError, match="^" + re.escape(field)):
        parse_design(mapping, tmp_path)


def test_missing_key_duplicate_ids_and_incomplete_items(tmp_path: Path) -> None:
    mapping = design_mapping(tmp_path, "mushra")
    del mapping["seed"]
    with pytest.raises(DesignError, match="seed: missing"):
        parse_design(mapping, tmp_path)
    mapping = design_mapping(tmp_path, "mushra")
    with pytest.raises(DesignError, match=r"items\[1\]\.id: duplicate item id 'item00'"):
        parse_design(_set(mapping, "items.1.id", "item00"), tmp_path)
    del mapping["items"][0]["conditions"]["c2"]
    with pytest.raises(DesignError, match=r"items\[0\]\.conditions\.c2: missing"):
        parse_design(mapping, tmp_path)
    mapping = design_mapping(tmp_path, "mushra")
    with pytest.raises(DesignError, match=r"items\[0\]\.conditions\.c9: not a condition"):
        parse_design(_set(mapping, "items.0.conditions.c9", "audio/ref_0.wav"), tmp_path)


def test_missing_audio_file_is_named(tmp_path: Path) -> None:
    mapping = _set(design_mapping(tmp_path, "mushra"), "items.1.reference", "audio/nope.wav")
    with pytest.raises(DesignError, match=r"items\[1\]\.reference: file 'audio/nope.wav' not found"):
        parse_design(mapping, tmp_path)


@pytest.mark.parametrize("path", ["../outside.wav", "audio/../../outside.wav", "/etc/passwd", "C:/x.wav",
                                  "C:\\x.wav", "\\\\server\\share\\x.wav"])
def test_paths_escaping_the_design_folder_are_rejected(tmp_path: Path, path: str) -> None:
    folder = tmp_path / "design"
    write_wav(tmp_path / "outside.wav", seed=1)
    mapping = _set(design_mapping(folder, "mushra"), "items.0.reference", path)
    with pytest.raises(DesignError, match=r"items\[0\]\.reference: .*(absolute|leave|outside)"):
        parse_design(mapping, folder)


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlink_out_of_the_design_folder_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "design"
    mapping = design_mapping(folder, "mushra")
    write_wav(tmp_path / "secret.wav", seed=1)
    (folder / "audio" / "link.wav").symlink_to(tmp_path / "secret.wav")
    with pytest.raises(DesignError, match="outside the design file's folder"):
        parse_design(_set(mapping, "items.0.conditions.c1", "audio/link.wav"), folder)


def test_yaml_tags_that_construct_objects_are_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    design_path = write_design(tmp_path, "mushra")
    text = design_path.read_text(encoding="utf-8")
    hostile = text.replace("name: A mushra test", f"name: !!python/object/apply:builtins.open ['{marker}', 'w']")
    assert hostile != text
    design_path.write_text(hostile, encoding="utf-8")
    with pytest.raises(DesignError, match="tags that construct objects are not allowed"):
        load_design(design_path)
    design_path.write_text("!!python/object/apply:os.system ['echo hacked']\n", encoding="utf-8")
    with pytest.raises(DesignError, match="tags that construct objects are not allowed"):
        load_design(design_path)
    assert not marker.exists()


def test_invalid_yaml_and_non_mapping_documents(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("items: [unclosed\n", encoding="utf-8")
    with pytest.raises(DesignError, match="not valid YAML"):
        load_design(path)
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(DesignError, match="design: expected a mapping"):
        load_design(path)
    with pytest.raises(DesignError, match="cannot read"):
        load_design(tmp_path / "absent.yaml")


def test_mushra_pages_hold_at_most_twelve_signals(tmp_path: Path) -> None:
    nine = tuple(f"c{i}" for i in range(9))
    design = parse_design(design_mapping(tmp_path, "mushra", conditions=nine, n_items=1), tmp_path)
    assert len(mushra_signals(design)) == 12
    ten = (*nine, "c9")
    with pytest.raises(DesignError, match=r"at most 12 signals .* at most 9 conditions; this design has 10"):
        parse_design(design_mapping(tmp_path, "mushra", conditions=ten, n_items=1), tmp_path)
    # ABX has no such page: ten conditions are fine there.
    assert len(parse_design(design_mapping(tmp_path, "abx", conditions=ten, n_items=1), tmp_path).conditions) == 10


def test_ab_baseline_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match=r"ab\.baseline"):
        parse_design(design_mapping(tmp_path, "ab", options={"baseline": "c7"}), tmp_path)
    assert parse_design(design_mapping(tmp_path, "ab", options={"baseline": "c1"}), tmp_path).options.baseline == "c1"


def test_recommended_items_follow_bs1534() -> None:
    # BS.1534-3 §7.1 p.13: about 1.5 x the number of systems, at least 5 excerpts.
    assert [recommended_items(n) for n in (1, 3, 4, 6, 9)] == [5, 5, 6, 9, 14]
    with pytest.raises(ValueError):
        recommended_items(0)


def test_design_warnings(tmp_path: Path) -> None:
    long_design = parse_design(design_mapping(tmp_path / "a", "mushra", n_items=1, duration_s=12.5), tmp_path / "a")
    warnings = design_warnings(long_design)
    assert any("item00: excerpt is 12.5 s" in w for w in warnings)
    assert any("recommends" in w and ": 5" in w for w in warnings)
    abx = parse_design(design_mapping(tmp_path / "b", "abx", options={"trials_per_item": 40}), tmp_path / "b")
    assert any("10-25" in w for w in design_warnings(abx))
    ok = parse_design(design_mapping(tmp_path / "c", "mushra", n_items=5), tmp_path / "c")
    assert design_warnings(ok) == []


def test_randomisation_is_reproducible_from_seed_and_session_number(tmp_path: Path) -> None:
    design = parse_design(design_mapping(tmp_path, "mushra", n_items=6, conditions=("a", "b", "c")), tmp_path)
    plan = draw_plan(design, 3)
    assert draw_plan(design, 3) == plan
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.to_json()["seed"] == design.seed and plan.to_json()["session_number"] == 3
    others = [draw_plan(design, n) for n in (1, 2, 4)]
    assert all(o.pages != plan.pages for o in others)  # sessions differ from each other
    reseeded = parse_design({**design.to_mapping(), "seed": design.seed + 1}, tmp_path)
    assert draw_plan(reseeded, 3).pages != plan.pages
    assert sorted(p.item for p in plan.pages) == [i.id for i in design.items]
    signals = sorted(mushra_signals(design))
    assert all(sorted(p.order) == signals for p in plan.pages)
    assert {REFERENCE_ID, LOW_ANCHOR_ID, MID_ANCHOR_ID} <= set(signals)
    assert len({p.order for p in plan.pages}) > 1  # each page shuffled on its own


def test_abx_x_is_redrawn_every_trial(tmp_path: Path) -> None:
    design = parse_design(design_mapping(tmp_path, "abx", n_items=5, options={"trials_per_item": 40}), tmp_path)
    plan = draw_plan(design, 1)
    assert len(plan.pages) == 10 and all(len(p.draws) == 40 for p in plan.pages)
    counts = Counter(d for p in plan.pages for d in p.draws)
    assert set(counts) == {"A", "B"}
    assert 160 <= counts["A"] <= 240  # 400 fair coin flips: mean 200, sd 10
    runs = sum(a != b for p in plan.pages for a, b in zip(p.draws[:-1], p.draws[1:], strict=True))
    assert 150 <= runs <= 240  # independent draws switch about half the time (390 pairs)
    assert {(p.item, p.condition) for p in plan.pages} == {(i.id, c) for i in design.items for c in ("c1", "c2")}
