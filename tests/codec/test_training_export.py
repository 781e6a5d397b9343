"""Model files record how they were trained, including the weights a run started from."""

from __future__ import annotations

from pathlib import Path

from codec.checkpoint import save_model
from codec.config import PRESETS, ModelConfig
from codec.model import build_model
from codec.training.export import MAX_HISTORY, provenance


def _tiny_config() -> ModelConfig:
    config = PRESETS["encodec_24khz"]().to_dict()
    config["seanet"] |= {"n_filters": 2, "lstm_layers": 1, "dimension": 8}
    config["quantizer"] |= {"dimension": 8, "n_q": 2, "bins": 4}
    return ModelConfig.from_dict({**config, "name": "tiny"})


def _run_config(init_from: Path | None) -> dict:
    return {"batch_size": 32, "seed": 0, "data": {"segment_s": 1.0, "manifest": "corpus/manifest.json"},
            "init_from": str(init_from) if init_from else None}


def test_provenance_of_a_fresh_run_has_no_history() -> None:
    record = provenance(_run_config(None), step=12)
    assert record["trained_steps"] == 12 and record["batch_size"] == 32
    assert "init_from" not in record


def test_provenance_keeps_the_history_of_the_weights_a_run_started_from(tmp_path: Path) -> None:
    first = save_model(build_model(_tiny_config()), tmp_path / "first.safetensors",
                       provenance=provenance(_run_config(None), step=7000) | {"batch_size": 8})
    second = provenance(_run_config(first), step=5053)
    assert second["init_from"]["file"] == "first.safetensors"
    assert second["init_from"]["trained_steps"] == 7000 and second["init_from"]["batch_size"] == 8
    # The second sitting's own file is gone (a lent machine's scratch space): its name is all that is kept.
    third = provenance(_run_config(tmp_path / "gone" / "last.pt"), step=2539)
    assert third["init_from"] == {"file": "last.pt"}


def test_provenance_stops_on_a_checkpoint_that_started_from_itself(tmp_path: Path, monkeypatch) -> None:
    # A run restarted with init_from set to its own last.pt: its checkpoint names itself as its source.
    own = tmp_path / "last.pt"
    monkeypatch.setattr("codec.training.export.load_state",
                        lambda path: {"config": _run_config(own), "step": 3})
    record = provenance(_run_config(own), step=3)
    depth = 0
    while "init_from" in record:
        record, depth = record["init_from"], depth + 1
    assert record == {"file": "last.pt"} and depth == MAX_HISTORY + 1
