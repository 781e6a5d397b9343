"""Smoke-test a desktop build: launch it offscreen with ``--smoke-test`` and check that it really worked.

    python packaging/smoke_test.py [--app dist/earbench/earbench] [--timeout-s 600] [--json report.json]

The app opens the bundled example clip, renders one condition through its normal render path, prints a report line
and exits. This script fails (exit 1) when the app exits non-zero, times out, prints no report, prints an import or
missing-library error (as friture's CI does), or, for a frozen build, loads PortAudio or libopus from outside the
bundle. It prints the bundle size and the start-up time (launch to window shown, and to the first render done).
It runs the app as a fresh user (empty config, cache and log folders) so the user's own settings play no part.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_APP = ROOT / "dist" / "earbench" / "earbench"
REPORT_PREFIX = "EARBENCH-SMOKE "  # app/smoke.py prints it
#: Output that means a module or a shared library is missing from the build.
FAILURE_MARKERS = (
    "ModuleNotFoundError",
    "ImportError",
    "No module named",
    "cannot open shared object file",
    "library not found",
    "Failed to execute script",
    "Could not load the Qt platform plugin",
    "Traceback (most recent call last)",
)
#: Libraries a frozen build must load from its own folder.
BUNDLED_LIBRARIES = ("portaudio", "opus")


@dataclass
class SmokeResult:
    """What one launch showed; ``problems`` empty means passed."""

    returncode: int | None
    wall_s: float
    report: dict[str, object] | None
    output: str
    problems: list[str] = field(default_factory=list)
    startup_s: float | None = None
    first_render_s: float | None = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """``[--app PATH] [--timeout-s S] [--json PATH] [--python-module]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=Path, default=DEFAULT_APP, help="the built program (default: %(default)s)")
    parser.add_argument("--timeout-s", type=float, default=600.0, help="give up after this long (default: 600)")
    parser.add_argument("--json", type=Path, help="also write the measurements here as JSON")
    parser.add_argument(
        "--python-module", action="store_true", help="run `python -m app` from the source tree instead of a build"
    )
    args = parser.parse_args(argv)
    if args.timeout_s <= 0:
        parser.error("--timeout-s must be positive")
    return args


def bundle_size_bytes(folder: Path) -> int:
    """Total size of the files under ``folder`` in bytes (links are not followed or counted twice)."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def failure_markers(output: str) -> list[str]:
    """The lines of ``output`` that carry a :data:`FAILURE_MARKERS` entry."""
    return [line.strip() for line in output.splitlines() if any(marker in line for marker in FAILURE_MARKERS)]


def parse_report(stdout: str) -> dict[str, object] | None:
    """The app's JSON report (the last line starting with :data:`REPORT_PREFIX`), or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(REPORT_PREFIX):
            return json.loads(line[len(REPORT_PREFIX) :])
    return None


def outside_bundle(report: dict[str, object], bundle_dir: Path) -> list[str]:
    """Which of :data:`BUNDLED_LIBRARIES` the app loaded from outside ``bundle_dir`` (or did not load at all)."""
    loaded = report.get("shared_libraries") or {}
    assert isinstance(loaded, dict)
    problems = []
    for name in BUNDLED_LIBRARIES:
        path = loaded.get(name)
        if path is None:
            problems.append(f"lib{name} was not loaded")
        elif not Path(str(path)).resolve().is_relative_to(bundle_dir.resolve()):
            problems.append(f"lib{name} came from {path}, not from the bundle")
    return problems


def fresh_user_env(home: Path) -> dict[str, str]:
    """The environment for an offscreen run as a user with empty config, data, cache and state folders."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    env.pop("EARBENCH_MODEL_PATH", None)
    return env


def run_smoke(command: list[str], timeout_s: float, bundle_dir: Path | None = None) -> SmokeResult:
    """Run ``command`` (the app with ``--smoke-test``) and judge its output; ``bundle_dir`` for frozen builds."""
    with tempfile.TemporaryDirectory(prefix="earbench-smoke-home-") as home:
        launched = time.time()
        try:
            done = subprocess.run(
                command, env=fresh_user_env(Path(home)), capture_output=True, text=True, timeout=timeout_s, cwd=home
            )
        except subprocess.TimeoutExpired as exc:
            output = _text(exc.stdout) + _text(exc.stderr)
            return SmokeResult(None, time.time() - launched, None, output, [f"timed out after {timeout_s:g} s"])
    result = SmokeResult(done.returncode, time.time() - launched, parse_report(done.stdout), done.stdout + done.stderr)
    if done.returncode != 0:
        result.problems.append(f"exit status {done.returncode}")
    result.problems += [f"output: {line}" for line in failure_markers(result.output)]
    if result.report is None:
        result.problems.append("no smoke report on stdout")
        return result
    if not result.report.get("passed"):
        result.problems.append(f"app reported failure: {result.report.get('error')}")
    if bundle_dir is not None:
        result.problems += outside_bundle(result.report, bundle_dir)
    result.startup_s = _seconds_since(launched, result.report.get("window_shown_unix_s"))
    result.first_render_s = _seconds_since(launched, result.report.get("done_unix_s"))
    return result


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")


def _seconds_since(start_unix_s: float, value: object) -> float | None:
    return round(float(value) - start_unix_s, 2) if isinstance(value, (int, float)) else None


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test; 0 passed, 1 failed, 2 no build to test."""
    args = parse_args(argv)
    if args.python_module:
        command, bundle_dir, size_bytes = [sys.executable, "-m", "app", "--smoke-test"], None, None
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    else:
        if not args.app.is_file() or not os.access(args.app, os.X_OK):
            print(f"smoke test: no executable at {args.app}; build it with `make package`", file=sys.stderr)
            return 2
        bundle_dir = args.app.resolve().parent
        command, size_bytes = [str(args.app.resolve()), "--smoke-test"], bundle_size_bytes(bundle_dir)
    result = run_smoke([*command, "--smoke-timeout-s", str(args.timeout_s)], args.timeout_s + 30, bundle_dir)
    summary = {
        "passed": not result.problems,
        "bundle_size_mb": round(size_bytes / 1e6, 1) if size_bytes is not None else None,
        "startup_s": result.startup_s,
        "first_render_s": result.first_render_s,
        "wall_s": round(result.wall_s, 2),
        "problems": result.problems,
        "report": result.report,
    }
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"bundle size: {summary['bundle_size_mb']} MB" if size_bytes is not None else "bundle size: (not a build)")
    print(f"start-up (launch to window shown): {result.startup_s} s; launch to first render done: "
          f"{result.first_render_s} s; total {summary['wall_s']} s")
    if result.problems:
        print("SMOKE TEST FAILED:\n  " + "\n  ".join(result.problems), file=sys.stderr)
        print(result.output[-4000:], file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
