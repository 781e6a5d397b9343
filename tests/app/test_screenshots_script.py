"""packaging/screenshots.py: its screen list and arguments (the screenshots themselves need Xvfb and are not taken)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "packaging" / "screenshots.py"
#: Screens the user guide shows; a rename in the script must follow the docs.
GUIDE_SCREENS = {"workspace", "spectrograms", "add_conditions", "preferences", "key_guide", "about", "mushra", "abx",
                 "results"}


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("earbench_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_every_guide_screen_is_listed_once_and_written_under_its_name(script: ModuleType) -> None:
    assert set(script.SCREENS) == GUIDE_SCREENS
    guide = (SCRIPT.parents[1] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    for name in GUIDE_SCREENS:
        assert f"screenshots/{name}.png" in guide, name
        assert f'"{name}.png"' in Path(script.__file__).read_text(encoding="utf-8"), name


def test_only_picks_screens_in_list_order_and_refuses_unknown_names(script: ModuleType) -> None:
    args = script.parse_arguments(["--only", "about", "workspace", "--out", "x"])
    assert args.out == Path("x")
    chosen = script.selected_screens(args.only)
    assert chosen == [script.screen_workspace, script.screen_about]
    assert script.selected_screens(script.parse_arguments([]).only) == list(script.SCREENS.values())
    with pytest.raises(SystemExit):
        script.parse_arguments(["--only", "no_such_screen"])
