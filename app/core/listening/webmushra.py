"""Import a webMUSHRA YAML config (audiolabs/webMUSHRA ``configs/*.yaml``) as an EarBench design.

webMUSHRA format (read from its configs/default.yaml, ABX_nowav.yaml, bs1116_nowav.yaml): top-level ``testname``,
``testId``, ``pages``; a page is a mapping with ``type`` (``mushra``, ``bs1116``, ``paired_comparison``,
``likert_*``, ``generic``, ``consent``, ``volume``, ``finish``, ...) or a list whose first element is ``random``
(its pages are shuffled). Rating pages have ``id``, ``reference`` and ``stimuli`` ({name: wav}); MUSHRA pages add
``createAnchor35``/``createAnchor70``; paired comparison pages may set ``unforced`` (a "don't know" label). Paths
are relative to the webMUSHRA root folder (where index.html lives), usually the config folder's parent.

Mapping: one design per rating page type (the most frequent one unless ``page_type`` is given); each page becomes an
item, each stimulus name a condition (only names present on every page). Everything that does not fit is returned
as a warning, never dropped silently. ``paired_comparison`` (reference + A/B) is imported as ABX.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from app.core.errors import DesignError
from app.core.listening.design import ABX_TRIALS_DEFAULT, RESERVED_IDS, TestDesign
from app.core.listening.design_parse import parse_design

log = logging.getLogger(__name__)

PAGE_TYPES = {"mushra": "mushra", "bs1116": "bs1116", "paired_comparison": "abx"}
"""webMUSHRA rating page type -> EarBench test type."""
_NON_RATING_PAGES = {"generic", "consent", "volume", "finish"}


@dataclass(frozen=True)
class WebMushraImport:
    """The imported design and what could not be carried over."""

    design: TestDesign
    warnings: list[str]


def _safe_id(raw: Any, fallback: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(raw if raw is not None else "")).strip("_.-")[:64]
    return text or fallback


def _flatten(pages: list[Any], notes: list[str]) -> list[Mapping[str, Any]]:
    flat: list[Mapping[str, Any]] = []
    if pages and pages[0] == "random":
        notes.append("a 'random' page group; EarBench shuffles all pages from the design seed")
        pages = pages[1:]
    for index, page in enumerate(pages):
        if isinstance(page, list):
            flat.extend(_flatten(page, notes))
        elif isinstance(page, Mapping):
            flat.append(page)
        else:
            notes.append(f"pages[{index}]: not a page ({type(page).__name__}), skipped")
    return flat


def _choose_type(pages: list[Mapping[str, Any]], page_type: str | None, notes: list[str]) -> str:
    counts = Counter(str(p.get("type")) for p in pages)
    rating = {t: n for t, n in counts.items() if t in PAGE_TYPES}
    if page_type is None:
        if not rating:
            raise DesignError(f"webMUSHRA config: no page of a supported type ({', '.join(PAGE_TYPES)}); "
                              f"found {', '.join(sorted(counts)) or 'none'}")
        page_type = max(rating, key=lambda t: (rating[t], t == "mushra"))
    elif page_type not in PAGE_TYPES:
        raise DesignError(f"page_type {page_type!r} is not one of {', '.join(PAGE_TYPES)}")
    for other, n in sorted(counts.items()):
        if other == page_type:
            continue
        if other in _NON_RATING_PAGES:
            notes.append(f"{n} '{other}' page(s) not imported (EarBench has no such pages)")
        elif other in PAGE_TYPES:
            notes.append(f"{n} '{other}' page(s) not imported: a design holds one test type "
                         f"(import again with page_type={other!r})")
        else:
            notes.append(f"{n} '{other}' page(s) not imported: unsupported page type")
    return page_type


def _resolve_root(paths: list[str], candidates: list[Path]) -> Path:
    for root in candidates:
        if all((root / PurePosixPath(p)).is_file() for p in paths):
            return root
    raise DesignError("webMUSHRA config: audio files not found under " + " or ".join(str(c) for c in candidates)
                      + " (pass audio_root: the folder webMUSHRA's paths are relative to)")


def webmushra_mapping(
    config: Mapping[str, Any], page_type: str | None = None, seed: int | None = None,
    abx_trials: int = ABX_TRIALS_DEFAULT,
) -> tuple[dict[str, Any], list[str]]:
    """The EarBench design mapping (paths as written in the config) and the import warnings."""
    notes: list[str] = []
    if not isinstance(config, Mapping) or not isinstance(config.get("pages"), list):
        raise DesignError("webMUSHRA config: expected a mapping with a 'pages' list")
    pages = _flatten(config["pages"], notes)
    chosen = _choose_type(pages, page_type, notes)
    selected = [p for p in pages if p.get("type") == chosen]
    names = [list((p.get("stimuli") or {}).keys()) for p in selected]
    common = [n for n in names[0] if all(n in other for other in names[1:])]
    if not common:
        raise DesignError("webMUSHRA config: no stimulus name is shared by every page, so no condition fits all items")
    cond_ids: dict[str, str] = {}
    for name in common:
        cid = _safe_id(name, "condition")
        cid = f"c_{cid}" if cid in RESERVED_IDS or cid in cond_ids.values() else cid
        cond_ids[name] = cid
    items, seen = [], set()
    for index, page in enumerate(selected):
        item_id = _safe_id(page.get("id"), f"page{index + 1}")
        if item_id in seen:
            item_id = f"{item_id}_{index + 1}"
        seen.add(item_id)
        stimuli = page.get("stimuli") or {}
        if extra := [n for n in stimuli if n not in cond_ids]:
            notes.append(f"page {item_id}: stimuli {', '.join(map(str, extra))} not on every page, not imported")
        if chosen == "mushra":
            for key in ("createAnchor35", "createAnchor70"):
                if page.get(key) is False:
                    notes.append(f"page {item_id}: {key} is false, but EarBench always inserts both BS.1534-3 "
                                 "anchors on MUSHRA pages")
        if page.get("randomize") is False:
            notes.append(f"page {item_id}: randomize is false; EarBench always randomises the order")
        items.append({"id": item_id, "reference": page.get("reference"),
                      "conditions": {cid: stimuli[name] for name, cid in cond_ids.items()}})
    test_id = _safe_id(config.get("testId"), "webmushra")
    if seed is None:  # stable across imports of the same test
        seed = int.from_bytes(hashlib.sha256(test_id.encode()).digest()[:4], "big")
    mapping: dict[str, Any] = {
        "format_version": 1, "id": test_id, "name": str(config.get("testname") or test_id),
        "description": "Imported from a webMUSHRA config.", "type": PAGE_TYPES[chosen], "seed": seed,
        "conditions": {cid: {"label": str(name)} for name, cid in cond_ids.items()}, "items": items,
    }
    if chosen == "paired_comparison":
        unforced = any(p.get("unforced") for p in selected)
        mapping["abx"] = {"trials_per_item": abx_trials, "allow_dont_know": unforced}
        notes.append(f"paired_comparison (reference + A/B, one trial per stimulus) imported as ABX with "
                     f"{abx_trials} trials per item and condition")
    return mapping, notes


def import_webmushra_config(
    path: str | Path, audio_root: str | Path | None = None, page_type: str | None = None, seed: int | None = None,
    abx_trials: int = ABX_TRIALS_DEFAULT,
) -> WebMushraImport:
    """Read a webMUSHRA YAML config (safe_load) and validate it as an EarBench design; raises :class:`DesignError`.

    ``audio_root`` is the folder the config's audio paths are relative to; by default the config's folder or its
    parent (webMUSHRA's layout), whichever holds all the files. The design's ``base_dir`` is that folder.
    """
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DesignError(f"{path}: not a readable webMUSHRA YAML config ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignError(f"cannot read {path}: {exc}") from exc
    mapping, notes = webmushra_mapping(config, page_type=page_type, seed=seed, abx_trials=abx_trials)
    paths = [i["reference"] for i in mapping["items"]] + [p for i in mapping["items"] for p in i["conditions"].values()]
    if not all(isinstance(p, str) for p in paths):
        raise DesignError(f"{path}: every page needs a 'reference' and 'stimuli' given as file paths")
    candidates = [Path(audio_root)] if audio_root is not None else [path.parent, path.parent.parent]
    design = parse_design(mapping, _resolve_root(paths, candidates))
    for note in notes:
        log.warning("webMUSHRA import %s: %s", path.name, note)
    return WebMushraImport(design, notes)
