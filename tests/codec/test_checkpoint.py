"""Checkpoints: official layouts load strictly from any path or torch hub's folder; ours rebuild from the file
alone; hostile or broken files are refused with a clear error and never execute code."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from codec import CheckpointError, ModelNotFoundError, find_official_checkpoints, list_models, load_codec
from codec.checkpoint import load_model, read_config, save_model
from codec.model.norm import WeightNormConv1d
from codec.testing import random_model, synthetic_signal


@pytest.fixture(scope="module")
def official_24k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file laid out exactly like ``encodec_24khz-d7cc33bc.th``: a torch-saved state dict with 252 keys."""
    hub = tmp_path_factory.mktemp("hub")
    path = hub / "encodec_24khz-d7cc33bc.th"
    torch.save(random_model("encodec_24khz", seed=3).state_dict(), path)
    return path


def test_official_file_loads_from_any_path(official_24k: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "weights.th"
    renamed.write_bytes(official_24k.read_bytes())
    for path in (official_24k, renamed):
        codec = load_codec(path)
        assert codec.name == "encodec_24khz"
        assert len(codec.model.state_dict()) == 252


def test_official_file_found_in_torch_hub_folder(official_24k: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch_home = official_24k.parent.parent / "torch_home"
    (torch_home / "hub" / "checkpoints").mkdir(parents=True, exist_ok=True)
    target = torch_home / "hub" / "checkpoints" / official_24k.name
    if not target.exists():
        os.link(official_24k, target)
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    assert find_official_checkpoints() == {"encodec_24khz": target}
    assert load_codec("encodec_24khz").source == target
    assert [m.name for m in list_models(search_dirs=[])] == ["encodec_24khz"]


def test_own_format_rebuilds_model_from_file_alone(tmp_path: Path) -> None:
    model = random_model("encodec_48khz", seed=1)
    path = save_model(model, tmp_path / "ours.safetensors", provenance={"steps": 12, "data": "unit test"})
    config = read_config(path)
    assert config.name == "encodec_48khz" and config.channels == 2 and config.segment_s == 1.0
    assert config.provenance == {"steps": 12, "data": "unit test"}
    loaded = load_model(path)
    x = synthetic_signal(2, 4_000, 48_000)
    with torch.inference_mode():
        assert torch.equal(loaded.encode(x, 6.0)[0].codes, model.eval().encode(x, 6.0)[0].codes)


def test_half_precision_file_is_half_the_size_and_decodes_alike(tmp_path: Path) -> None:
    model = random_model("encodec_24khz", seed=2).eval()
    full = save_model(model, tmp_path / "full.safetensors")
    half = save_model(model, tmp_path / "half.safetensors", half=True)
    assert half.stat().st_size < 0.55 * full.stat().st_size
    loaded = load_model(half)
    assert all(t.dtype == torch.float32 for t in loaded.state_dict().values() if t.is_floating_point())
    x = synthetic_signal(1, 24_000, 24_000)
    with torch.inference_mode():
        reference = model.decode(model.encode(x, 6.0))
        ours = loaded.decode(loaded.encode(x, 6.0))
    relative_error = (ours - reference).norm() / reference.norm()
    assert relative_error < 0.05


def test_weight_norm_is_folded_once_for_inference(tmp_path: Path) -> None:
    path = save_model(random_model("encodec_24khz"), tmp_path / "m.safetensors")
    model = load_model(path)
    convs = [m for m in model.modules() if isinstance(m, WeightNormConv1d)]
    assert convs and all(c.folded_weight is not None for c in convs)
    model.train()
    assert convs[0].current_weight().requires_grad


class _Exploit:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch /tmp/earbench-pwned",))


def test_pickled_code_is_refused_and_not_run(tmp_path: Path) -> None:
    path = tmp_path / "encodec_24khz-d7cc33bc.th"
    with open(path, "wb") as fo:
        pickle.dump({"x": _Exploit()}, fo)
    marker = Path("/tmp/earbench-pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match="not a loadable weights file"):
        load_codec(path)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"PK\x03\x04broken zip"])
def test_corrupt_files_are_refused(tmp_path: Path, content: bytes) -> None:
    for name in ("encodec_24khz-d7cc33bc.th", "model.safetensors"):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CheckpointError):
            load_codec(path)


def test_wrong_shapes_and_missing_keys_are_refused(tmp_path: Path) -> None:
    state = random_model("encodec_24khz").state_dict()
    state["encoder.model.0.conv.conv.weight_v"] = torch.zeros(3, 3, 3)
    torch.save(state, tmp_path / "bad.th")
    with pytest.raises(CheckpointError, match="does not match the encodec_24khz architecture"):
        load_codec(tmp_path / "bad.th")
    del state["encoder.model.0.conv.conv.weight_v"]
    torch.save(state, tmp_path / "missing.th")
    with pytest.raises(CheckpointError):
        load_codec(tmp_path / "missing.th")
    torch.save({"unrelated": torch.zeros(1)}, tmp_path / "foreign.th")
    with pytest.raises(CheckpointError, match="neither official EnCodec model"):
        load_codec(tmp_path / "foreign.th")


def test_non_finite_weights_are_refused(tmp_path: Path) -> None:
    state = random_model("encodec_24khz").state_dict()
    state["decoder.model.15.conv.conv.bias"] = torch.tensor([float("nan")])
    torch.save(state, tmp_path / "nan.th")
    with pytest.raises(CheckpointError, match="NaN or Inf"):
        load_codec(tmp_path / "nan.th")


@pytest.mark.parametrize("metadata", [
    {},
    {"earbench_format": "1", "earbench_config": "{not json"},
    {"earbench_format": "1", "earbench_config": "[1, 2]"},
    {"earbench_format": "1", "earbench_config": '{"name": "x"}'},
    {"earbench_format": "99", "earbench_config": "{}"},
])
def test_bad_safetensors_metadata_is_refused(tmp_path: Path, metadata: dict[str, str]) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata=metadata)
    with pytest.raises(CheckpointError):
        load_codec(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        load_model(tmp_path / "absent.th")
