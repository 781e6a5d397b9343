"""A listening-test design made from the workspace: its item(s) and the conditions rendered for them (Qt-free).

The result is an ordinary design (see :mod:`app.core.listening.design`): the rendered audio is written as WAV files
into ``<design stem>_audio/`` beside the YAML, the mapping is validated by :func:`parse_design`, written as YAML and
read back with :func:`load_design`, so a design made here is exactly what the Tests menu would open.

Workspace condition kinds map onto design conditions as follows (ids are stable and readable in the results):

* ``model`` at 6 kbps -> ``<model_id>_6kbps`` (label as in the workspace, ``bitrate_kbps``, ``model``)
* ``opus``/``mp3`` at 12 kbps -> ``opus_12kbps`` / ``mp3_12kbps`` (``bitrate_kbps``, ``model: opus``/``mp3``)
* ``anchor`` at 3.5 kHz -> ``lowpass_3_5khz``; in a MUSHRA test the workspace's anchors are left out instead,
  because the design inserts the hidden reference and both BS.1534-3 anchors itself.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from app.core.clip import Clip
from app.core.conditions import ANCHOR, MODEL, ConditionList, ConditionSpec, RowState
from app.core.errors import DesignError
from app.core.listening.design import (
    ABX_TRIALS_DEFAULT,
    ABX_TRIALS_RANGE,
    FORMAT_VERSION,
    MAX_EXCERPT_S,
    MUSHRA_MAX_SIGNALS,
    RESERVED_IDS,
    TestDesign,
    recommended_items,
)
from app.core.listening.design_parse import load_design, parse_design
from app.core.listening.records import TEST_TYPES

TEST_TYPE_NAMES = {"abx": "ABX", "ab": "AB preference", "mushra": "MUSHRA (BS.1534-3)", "bs1116": "BS.1116 (ABC/HR)"}
_ID_MAX = 64
_SEED_MAX = (1 << 31) - 1  # fits a Qt spin box; the design allows up to 2**63 - 1


@dataclass(frozen=True, eq=False)
class WorkspaceItem:
    """One item: the original and its rendered conditions, float32 [C, T] at ``sample_rate`` Hz; ``source`` is the
    file it came from (``offset_s`` into it for an excerpt)."""

    name: str
    reference: np.ndarray
    sample_rate: int
    renders: Mapping[ConditionSpec, np.ndarray]
    offset_s: float = 0.0
    source: Path | None = None

    @property
    def duration_s(self) -> float:
        return int(self.reference.shape[-1]) / self.sample_rate


@dataclass(frozen=True, eq=False)
class WorkspaceState:
    """What the workspace holds: its item(s) and its conditions in table order."""

    items: tuple[WorkspaceItem, ...]
    conditions: tuple[ConditionSpec, ...]

    def is_rendered(self, spec: ConditionSpec) -> bool:
        """Whether every item has a render of ``spec``."""
        return bool(self.items) and all(spec in item.renders for item in self.items)


def workspace_state(clip: Clip | None, conditions: ConditionList) -> WorkspaceState:
    """The workspace's current clip and condition rows as a :class:`WorkspaceState` (finished renders only)."""
    if clip is None:
        return WorkspaceState((), conditions.specs)
    renders = {row.spec: row.analysis.audio for row in conditions.rows
               if row.state == RowState.DONE and row.analysis is not None}
    item = WorkspaceItem(clip.name, clip.audio, clip.sample_rate, renders, clip.offset_s, clip.path)
    return WorkspaceState((item,), conditions.specs)


@dataclass(frozen=True)
class NewTest:
    """What the researcher chose: ``test_type`` is one of abx, ab, mushra, bs1116; ``abx_trials`` is per item and
    condition; ``test_id`` defaults to the name made into an id plus the seed."""

    name: str
    test_type: str
    conditions: tuple[ConditionSpec, ...]
    seed: int
    abx_trials: int = ABX_TRIALS_DEFAULT
    test_id: str | None = None


@dataclass(frozen=True)
class DesignAdvice:
    """The design helper's figures and what to tell the researcher before the design is written.

    ``errors`` stop the design from being built; ``warnings`` must be justified in the report (BS.1534-3 §10.2).
    ``left_out`` are the workspace anchors a MUSHRA test replaces with its own.
    """

    n_systems: int
    n_items: int
    recommended_items: int
    n_signals: int | None
    left_out: tuple[ConditionSpec, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    def helper_text(self) -> str:
        """One line of advice: the number of items BS.1534-3 §7.1 asks for, and the signals per MUSHRA page."""
        text = (f"{self.n_systems} system(s) under test: BS.1534-3 §7.1 asks for about {self.recommended_items} "
                f"items (1.5 x the systems, at least 5); the workspace gives {self.n_items}.")
        if self.n_signals is not None:
            text += (f" {self.n_signals} signals per page counting the hidden reference and both anchors "
                     f"(at most {MUSHRA_MAX_SIGNALS}).")
        if self.left_out:
            text += " The workspace's anchors are left out: MUSHRA inserts its own."
        return text


def random_seed() -> int:
    """A fresh randomisation seed, 1 to 2**31 - 1."""
    return random.SystemRandom().randint(1, _SEED_MAX)


def make_id(text: str, fallback: str = "test") -> str:
    """``text`` as a design id (letters, digits, ``_ . -``, starting with a letter or digit, ≤ 64 characters)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).lstrip("_.-")[:_ID_MAX].rstrip("_.-")
    return slug or fallback


def condition_id(spec: ConditionSpec) -> str:
    """The design id of a workspace condition, e.g. ``encodec_24khz_1_5kbps``, ``opus_12kbps``,
    ``lowpass_3_5khz``."""
    value = f"{spec.value:g}".replace(".", "_")
    if spec.kind == ANCHOR:
        return make_id(f"lowpass_{value}khz")
    prefix = spec.model_id if spec.kind == MODEL else spec.kind
    return make_id(f"{prefix}_{value}kbps", fallback=f"condition_{value}")


def _condition_fields(spec: ConditionSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"label": spec.label}
    if spec.kind != ANCHOR:
        out["bitrate_kbps"] = float(spec.value)
        out["model"] = spec.model_id if spec.kind == MODEL else spec.kind
    return out


def _systems(request: NewTest) -> tuple[list[ConditionSpec], list[ConditionSpec]]:
    """(conditions that go into the design, workspace anchors a MUSHRA test leaves out)."""
    if request.test_type != "mushra":
        return list(request.conditions), []
    return ([s for s in request.conditions if s.kind != ANCHOR], [s for s in request.conditions if s.kind == ANCHOR])


def advise(request: NewTest, state: WorkspaceState) -> DesignAdvice:
    """The design helper and the warnings/errors of ``request`` on ``state``, before anything is written."""
    systems, left_out = _systems(request)
    errors: list[str] = []
    warnings: list[str] = []
    if request.test_type not in TEST_TYPES:
        errors.append(f"test type {request.test_type!r} is not one of {', '.join(TEST_TYPES)}")
    if not request.name.strip():
        errors.append("give the test a name")
    if not state.items:
        errors.append("open an audio file first: the workspace has no item")
    if not systems:
        errors.append("choose at least one condition" + (" besides the anchors" if left_out else ""))
    for spec in systems:
        if state.items and not state.is_rendered(spec):
            errors.append(f"{spec.label} is not rendered yet (render it in the workspace, or leave it out)")
    n_signals = len(systems) + len(RESERVED_IDS) if request.test_type == "mushra" else None
    if n_signals is not None and n_signals > MUSHRA_MAX_SIGNALS:
        errors.append(
            f"{n_signals} signals per MUSHRA page counting the hidden reference and both anchors; BS.1534-3 §5.3 "
            f"allows at most {MUSHRA_MAX_SIGNALS} ({MUSHRA_MAX_SIGNALS - len(RESERVED_IDS)} conditions): "
            "split the conditions into blocks (separate tests)"
        )
    wanted = recommended_items(max(1, len(systems)))
    if request.test_type == "mushra":
        for item in state.items:
            if item.duration_s > MAX_EXCERPT_S:
                warnings.append(f"item {item.name}: excerpt is {item.duration_s:.1f} s; BS.1534-3 §5.1 asks for "
                                f"about 10 s, preferably ≤ {MAX_EXCERPT_S:g} s (choose a shorter excerpt)")
        if state.items and len(state.items) < wanted:
            warnings.append(f"{len(state.items)} item(s) for {len(systems)} systems; BS.1534-3 §7.1 recommends "
                            f"about 1.5 x the number of systems, at least 5: {wanted}")
    low, high = ABX_TRIALS_RANGE
    if request.test_type == "abx" and not low <= request.abx_trials <= high:
        warnings.append(f"{request.abx_trials} ABX trials per round; {low}-{high} are advised "
                        "(fewer lack power, more tire the listener)")
    return DesignAdvice(len(systems), len(state.items), wanted, n_signals, tuple(left_out), tuple(warnings),
                        tuple(errors))


def design_path_for(path: str | Path) -> Path:
    """``path`` with a ``.yaml`` suffix unless it already ends in ``.yaml``/``.yml``."""
    path = Path(path)
    return path if path.suffix.lower() in (".yaml", ".yml") else path.with_name(path.name + ".yaml")


def build_design(request: NewTest, state: WorkspaceState, path: str | Path) -> TestDesign:
    """Write the design YAML at ``path`` (``.yaml`` added if missing) and its audio in ``<stem>_audio/`` beside it,
    validated with the design schema, and return it as :func:`load_design` reads it back.

    Raises
    ------
    DesignError
        The request has errors (see :func:`advise`) or the design does not validate; nothing is left half-written
        in place of the YAML.
    """
    advice = advise(request, state)
    if advice.errors:
        raise DesignError("; ".join(advice.errors))
    path = design_path_for(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    systems, _ = _systems(request)
    chosen = dict(zip(_unique([condition_id(s) for s in systems], reserved=RESERVED_IDS), systems, strict=True))
    item_ids = _unique([make_id(Path(i.name).stem, "item") for i in state.items])
    audio_dir = path.parent / f"{path.stem}_audio"
    items = []
    for item_id, item in zip(item_ids, state.items, strict=True):
        reference = _write_wav(audio_dir / item_id / "reference.wav", item.reference, item.sample_rate)
        files = {cid: _write_wav(audio_dir / item_id / f"{cid}.wav", item.renders[spec], item.sample_rate)
                 for cid, spec in chosen.items()}
        items.append({"id": item_id, "reference": _relative(reference, path.parent),
                      "conditions": {cid: _relative(f, path.parent) for cid, f in files.items()}})
    mapping: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "id": request.test_id or make_id(f"{make_id(request.name)[:40]}-{request.seed}"),
        "name": request.name.strip(),
        "description": "Made from the EarBench workspace: " + ", ".join(i.name for i in state.items),
        "type": request.test_type,
        "seed": request.seed,
        "conditions": {cid: _condition_fields(spec) for cid, spec in chosen.items()},
        "items": items,
        request.test_type: _options(request),
    }
    design = parse_design(mapping, path.parent)  # the schema's checks, before the YAML exists
    text = "# EarBench listening-test design, made from the workspace (see app/core/listening/design.py).\n"
    text += yaml.safe_dump(design.to_mapping(), sort_keys=False, allow_unicode=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return load_design(path)


def _options(request: NewTest) -> dict[str, Any]:
    if request.test_type == "abx":
        return {"trials_per_item": request.abx_trials}
    return {}


def _unique(ids: Sequence[str], reserved: Sequence[str] = ()) -> list[str]:
    """``ids`` with a ``-2``, ``-3`` ... suffix on repeats (and on reserved ids)."""
    seen = set(reserved)
    out = []
    for base in ids:
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base[:_ID_MAX - 4]}-{n}", n + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write float32 [C, T] audio as 32-bit float WAV (codec output may exceed ±1)."""
    import soundfile  # local: keeps importing this module light

    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.ascontiguousarray(np.asarray(audio, dtype=np.float32).T), int(sample_rate),
                    subtype="FLOAT", format="WAV")
    return path


def _relative(path: Path, base_dir: Path) -> str:
    return path.relative_to(base_dir).as_posix()
