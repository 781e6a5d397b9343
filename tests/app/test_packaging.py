"""The desktop build without building it: the PyInstaller spec's contents, the runtime hook, the smoke-test script.

The real build (``make package``, 2-4 minutes, ~0.8 GB) is too slow for CI; these tests check what it is made of.
"""

from __future__ import annotations

import _ctypes
import ast
import ctypes.util
import json
import shutil
import stat
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import smoke_test  # noqa: E402  (packaging/ is not a package)


class _Recorder:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT: keeps the arguments."""

    calls: ClassVar[dict[str, tuple[tuple[Any, ...], dict[str, Any]]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        _Recorder.calls[type(self).__name__] = (args, kwargs)
        self.binaries = list(kwargs.get("binaries", []))
        self.datas = list(kwargs.get("datas", []))
        self.pure, self.scripts = [], []


def _literal(code: str, name: str) -> Any:
    """The value of a top-level ``NAME = <literal>`` in ``code``."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise KeyError(name)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Execute the spec with stand-ins for PyInstaller's build classes; returns its namespace."""
    dist = tmp_path_factory.mktemp("dist")
    (dist / "earbench").mkdir()
    code = (PACKAGING / "earbench.spec").read_text()
    for library in _literal(code, "STRIPPED_LIBRARIES"):  # the spec strips these after collecting: give it real ELFs
        target = dist / "earbench" / "_internal" / library
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(_ctypes.__file__, target)
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda package, **kwargs: [(f"/site/{package}/model/x.txt", f"{package}/model")]
    saved = {name: sys.modules.get(name) for name in ("PyInstaller", "PyInstaller.utils", "PyInstaller.utils.hooks")}
    sys.modules.update(
        {"PyInstaller": types.ModuleType("PyInstaller"), "PyInstaller.utils": types.ModuleType("u"),
         "PyInstaller.utils.hooks": hooks}
    )
    classes = {name: type(name, (_Recorder,), {}) for name in ("Analysis", "PYZ", "EXE", "COLLECT")}
    namespace: dict[str, Any] = {"SPECPATH": str(PACKAGING), "DISTPATH": str(dist), **classes}
    try:
        exec(compile(code, "earbench.spec", "exec"), namespace)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    namespace["_dist"] = dist
    return namespace


def test_spec_keeps_training_tests_and_the_oracle_out(spec: dict[str, Any]) -> None:
    excludes = set(spec["Analysis"].calls["Analysis"][1]["excludes"])
    required = {"codec.training", "tests", "encodec", "pytest", "hypothesis", "tensorboard", "ruff", "importlinter"}
    assert required <= excludes
    assert "torch.utils.tensorboard" in excludes and "PySide6.QtQml" in excludes
    # what the app imports at run time must not be excluded
    kept = {"codec", "app", "torch", "torch.distributed", "torch.testing._internal", "PySide6.QtSvg", "PySide6.QtTest"}
    assert not kept & excludes


def test_spec_entry_point_resources_and_libraries(spec: dict[str, Any]) -> None:
    args, kwargs = spec["Analysis"].calls["Analysis"]
    entry = Path(args[0][0])
    assert entry == PACKAGING / "launcher.py"
    tree = ast.parse(entry.read_text())
    assert any(isinstance(n, ast.ImportFrom) and n.module == "app.main" for n in tree.body)
    destinations = {(Path(src).name, dest) for src, dest in kwargs["datas"]}
    assert ("example.flac", "resources/examples") in destinations
    assert ("earbench.svg", "resources/icons") in destinations
    assert ("x.txt", "visqol/model") in destinations  # ViSQOL's SVR model travels with it
    models = ROOT / "resources" / "models"
    for model_file in models.glob("*") if models.is_dir() else []:
        assert (model_file.name, "resources/models") in destinations
    libraries = {Path(src).name.split(".so")[0] for src, _ in kwargs["binaries"]}
    assert {"libportaudio", "libopus"} <= libraries
    assert [Path(hook).name for hook in kwargs["runtime_hooks"]] == ["rthook_bundled_libs.py"]
    assert spec["COLLECT"].calls["COLLECT"][1]["name"] == "earbench"
    assert (spec["_dist"] / "earbench" / "earbench.desktop").is_file()


def test_spec_drops_headers_and_test_libraries(spec: dict[str, Any]) -> None:
    keep = spec["_keep"]
    assert not keep(("torch/include/ATen/ATen.h", "/x", "DATA"))
    assert not keep(("torch/lib/libtorchbind_test.so", "/x", "BINARY"))
    assert not keep(("torch/bin/test_api", "/x", "BINARY")) and keep(("torch/bin/torch_shm_manager", "/x", "BINARY"))
    assert keep(("torch/lib/libtorch_cpu.so", "/x", "BINARY"))
    assert keep(("PySide6/Qt/plugins/platforms/libqoffscreen.so", "/x", "BINARY"))


def test_desktop_file_runs_earbench() -> None:
    entries = dict(
        line.split("=", 1) for line in (PACKAGING / "earbench.desktop").read_text().splitlines() if "=" in line
    )
    assert entries["Exec"].split()[0] == "earbench" and entries["Icon"] == "earbench"
    assert (ROOT / "resources" / "icons" / f"{entries['Icon']}.svg").is_file()


def test_runtime_hook_prefers_bundled_libraries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "libportaudio.so.2").write_bytes(b"")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"system-{name}")
    exec(compile((PACKAGING / "rthook_bundled_libs.py").read_text(), "rthook", "exec"), {"__name__": "rthook"})
    assert ctypes.util.find_library("portaudio") == str(tmp_path / "libportaudio.so.2")
    assert ctypes.util.find_library("opus") == "system-opus"


def test_smoke_script_measures_a_tree_and_reads_reports(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.so").write_bytes(b"x" * 1000)
    (tmp_path / "b.dat").write_bytes(b"y" * 24)
    (tmp_path / "link.so").symlink_to(tmp_path / "lib" / "a.so")
    assert smoke_test.bundle_size_bytes(tmp_path) == 1024
    out = "noise\nEARBENCH-SMOKE {\"passed\": false}\nEARBENCH-SMOKE {\"passed\": true}\n"
    assert smoke_test.parse_report(out) == {"passed": True} and smoke_test.parse_report("nothing") is None
    problems = smoke_test.failure_markers("ok\nModuleNotFoundError: No module named 'scipy'\nfine\n")
    assert problems == ["ModuleNotFoundError: No module named 'scipy'"]
    report = {"shared_libraries": {"portaudio": str(tmp_path / "lib" / "a.so"), "opus": "/usr/lib/libopus.so.0"}}
    expected = ["libopus came from /usr/lib/libopus.so.0, not from the bundle"]
    assert smoke_test.outside_bundle(report, tmp_path) == expected


def test_smoke_script_arguments() -> None:
    args = smoke_test.parse_args(["--app", "x/earbench", "--timeout-s", "5"])
    assert args.app == Path("x/earbench") and args.timeout_s == 5.0 and not args.python_module
    with pytest.raises(SystemExit):
        smoke_test.parse_args(["--timeout-s", "0"])


def _fake_app(folder: Path, body: str) -> Path:
    app = folder / "earbench"
    app.write_text(f"#!{sys.executable}\nimport json, sys, time\n{body}\n")
    app.chmod(app.stat().st_mode | stat.S_IXUSR)
    return app


def test_smoke_script_passes_a_good_build_and_fails_a_broken_one(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir(), bad.mkdir()
    report = {"passed": True, "window_shown_unix_s": 0, "done_unix_s": 0,
              "shared_libraries": {"portaudio": str(good / "libportaudio.so.2"), "opus": str(good / "libopus.so.0")}}
    good_app = _fake_app(good, f"report = {report!r}\nreport['window_shown_unix_s'] = report['done_unix_s'] = "
                               f"time.time()\nprint('EARBENCH-SMOKE ' + json.dumps(report))")
    summary_file = tmp_path / "summary.json"
    assert smoke_test.main(["--app", str(good_app), "--timeout-s", "60", "--json", str(summary_file)]) == 0
    summary = json.loads(summary_file.read_text())
    assert summary["passed"] and summary["bundle_size_mb"] is not None and summary["startup_s"] >= 0
    bad_app = _fake_app(bad, "print(\"ModuleNotFoundError: No module named 'torch'\", file=sys.stderr)\nsys.exit(1)")
    assert smoke_test.main(["--app", str(bad_app), "--timeout-s", "60"]) == 1
    assert smoke_test.main(["--app", str(tmp_path / "missing")]) == 2
