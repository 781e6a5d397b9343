"""Reading listening-test designs: a YAML file (``yaml.safe_load`` only) or plain data, validated against an explicit
schema into the frozen dataclasses of :mod:`app.core.listening.design` (the format is described there).

Every problem raises :class:`~app.core.errors.DesignError` naming the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from app.core.errors import DesignError
from app.core.listening import schema
from app.core.listening.design import (
    ABX_TRIALS_DEFAULT,
    FORMAT_VERSION,
    MUSHRA_MAX_SIGNALS,
    REFERENCE_ID,
    RESERVED_IDS,
    AbOptions,
    AbxOptions,
    Bs1116Options,
    Condition,
    Item,
    MushraOptions,
    Options,
    TestDesign,
)
from app.core.listening.records import TEST_TYPES

MAX_DESIGN_BYTES = 1 << 20

_TOP_REQUIRED = ("format_version", "id", "name", "type", "seed", "conditions", "items")
_TOP_OPTIONAL = ("description", *TEST_TYPES)


def load_design(path: str | Path) -> TestDesign:
    """Read and validate a design YAML file (``yaml.safe_load`` only); raises :class:`DesignError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DesignError(f"cannot read design file {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_DESIGN_BYTES:
        raise DesignError(f"design file {path} is larger than {MAX_DESIGN_BYTES} bytes")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DesignError(f"design file {path} is not UTF-8 text") from exc
    except yaml.constructor.ConstructorError as exc:
        raise DesignError(
            f"design file {path}: YAML tags that construct objects are not allowed ({exc.problem})"
        ) from exc
    except yaml.YAMLError as exc:
        raise DesignError(f"design file {path} is not valid YAML: {exc}") from exc
    design = parse_design(data, path.parent)
    return _with_source(design, path)


def parse_design(mapping: Any, base_dir: str | Path) -> TestDesign:
    """Validate plain data (as ``yaml.safe_load`` returns it) into a :class:`TestDesign`; raises
    :class:`DesignError` naming the offending field. ``base_dir`` is the folder paths are relative to."""
    base_dir = Path(base_dir).resolve()
    data = schema.mapping(mapping, "design")
    schema.keys(data, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    version = schema.integer(data["format_version"], "format_version", minimum=0, maximum=1 << 30)
    if version != FORMAT_VERSION:
        raise DesignError(f"format_version: {version} is not supported (this EarBench reads {FORMAT_VERSION})")
    test_type = schema.text(data["type"], "type")
    if test_type not in TEST_TYPES:
        raise DesignError(f"type: {test_type!r} is not one of {', '.join(TEST_TYPES)}")
    conditions = _parse_conditions(data["conditions"])
    design = TestDesign(
        id=schema.identifier(data["id"], "id"),
        name=schema.text(data["name"], "name"),
        type=test_type,
        seed=schema.integer(data["seed"], "seed", minimum=0, maximum=(1 << 63) - 1),
        conditions=conditions,
        items=_parse_items(data["items"], conditions, base_dir),
        options=_parse_options(data, test_type, conditions),
        base_dir=base_dir,
        description=schema.text(data.get("description", ""), "description", allow_empty=True),
    )
    _check_signal_count(design)
    return design


def _parse_conditions(value: Any) -> dict[str, Condition]:
    conditions: dict[str, Condition] = {}
    for cid, spec in schema.mapping(value, "conditions").items():
        where = f"conditions.{cid}"
        schema.identifier(cid, where)
        if cid in RESERVED_IDS:
            raise DesignError(f"{where}: {cid!r} is reserved for the signal EarBench inserts itself")
        spec = schema.mapping(spec, where)
        schema.keys(spec, where, ("label",), ("bitrate_kbps", "model"))
        bitrate = spec.get("bitrate_kbps")
        model = spec.get("model")
        conditions[cid] = Condition(
            id=cid,
            label=schema.text(spec["label"], f"{where}.label"),
            bitrate_kbps=None if bitrate is None else schema.number(bitrate, f"{where}.bitrate_kbps", minimum=0.0),
            model=None if model is None else schema.text(model, f"{where}.model"),
        )
    if not conditions:
        raise DesignError("conditions: at least one condition is needed")
    return conditions


def _parse_items(value: Any, conditions: Mapping[str, Condition], base_dir: Path) -> tuple[Item, ...]:
    if not isinstance(value, list) or not value:
        raise DesignError("items: expected a non-empty list of items")
    items: list[Item] = []
    seen: set[str] = set()
    for index, spec in enumerate(value):
        where = f"items[{index}]"
        spec = schema.mapping(spec, where)
        schema.keys(spec, where, ("id", "reference", "conditions"), ())
        item_id = schema.identifier(spec["id"], f"{where}.id")
        if item_id in seen:
            raise DesignError(f"{where}.id: duplicate item id {item_id!r}")
        seen.add(item_id)
        files = schema.mapping(spec["conditions"], f"{where}.conditions")
        for cid in files:
            if cid not in conditions:
                raise DesignError(f"{where}.conditions.{cid}: not a condition declared under 'conditions'")
        for cid in conditions:
            if cid not in files:
                raise DesignError(f"{where}.conditions.{cid}: missing (every item needs every condition)")
        items.append(
            Item(
                id=item_id,
                reference=schema.audio_path(spec["reference"], f"{where}.reference", base_dir),
                conditions={
                    cid: schema.audio_path(files[cid], f"{where}.conditions.{cid}", base_dir) for cid in conditions
                },
            )
        )
    return tuple(items)


def _parse_options(data: Mapping[str, Any], test_type: str, conditions: Mapping[str, Condition]) -> Options:
    for other in TEST_TYPES:
        if other != test_type and other in data:
            raise DesignError(f"{other}: options for a {other} test, but type is {test_type}")
    spec = schema.mapping(data.get(test_type) or {}, test_type)
    if test_type == "abx":
        schema.keys(spec, "abx", (), ("trials_per_item", "allow_dont_know", "show_running_score"))
        return AbxOptions(
            trials_per_item=schema.integer(spec.get("trials_per_item", ABX_TRIALS_DEFAULT), "abx.trials_per_item",
                                           minimum=1, maximum=1000),
            allow_dont_know=schema.boolean(spec.get("allow_dont_know", False), "abx.allow_dont_know"),
            show_running_score=schema.boolean(spec.get("show_running_score", False), "abx.show_running_score"),
        )
    if test_type == "ab":
        schema.keys(spec, "ab", (), ("trials_per_item", "baseline"))
        baseline = schema.text(spec.get("baseline", REFERENCE_ID), "ab.baseline")
        if baseline != REFERENCE_ID and baseline not in conditions:
            raise DesignError(f"ab.baseline: {baseline!r} is neither 'reference' nor a condition id")
        if baseline != REFERENCE_ID and len(conditions) < 2:
            raise DesignError("ab.baseline: a condition baseline needs at least one other condition")
        trials = schema.integer(spec.get("trials_per_item", 1), "ab.trials_per_item", minimum=1, maximum=1000)
        return AbOptions(trials_per_item=trials, baseline=baseline)
    if test_type == "mushra":
        schema.keys(spec, "mushra", (), ("training", "require_max_rating"))
        return MushraOptions(
            training=schema.boolean(spec.get("training", True), "mushra.training"),
            require_max_rating=schema.boolean(spec.get("require_max_rating", False), "mushra.require_max_rating"),
        )
    schema.keys(spec, "bs1116", (), ())
    return Bs1116Options()


def _check_signal_count(design: TestDesign) -> None:
    if design.type != "mushra":
        return
    n_signals = len(design.conditions) + len(RESERVED_IDS)
    if n_signals > MUSHRA_MAX_SIGNALS:
        raise DesignError(
            f"conditions: a MUSHRA page holds at most {MUSHRA_MAX_SIGNALS} signals counting the hidden reference "
            f"and both anchors (BS.1534-3 §5.3), so at most {MUSHRA_MAX_SIGNALS - len(RESERVED_IDS)} conditions; "
            f"this design has {len(design.conditions)}. Split the conditions into blocks (separate tests)."
        )


def _with_source(design: TestDesign, path: Path) -> TestDesign:
    object.__setattr__(design, "source", path.resolve())
    return design
