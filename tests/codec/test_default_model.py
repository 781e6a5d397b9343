"""The model EarBench ships: it loads by its catalog name, is trained, codes the example clip better at 6 kbps
than at 1.5 kbps, and carries a model card with the sections the card must have."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codec import load_codec
from codec.audio import read_audio
from codec.catalog import DEFAULT_MODEL
from codec.checkpoint import read_config
from codec.evaluation.spectral import mel_distance

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "resources" / "models"
MODEL_FILE = MODEL_DIR / f"{DEFAULT_MODEL}.safetensors"
EXAMPLE = ROOT / "resources" / "examples" / "example.flac"


@pytest.fixture(scope="module")
def shipped_codec():
    return load_codec(DEFAULT_MODEL)


def test_default_model_ships_small_and_with_its_provenance() -> None:
    assert MODEL_FILE.is_file()
    assert MODEL_FILE.stat().st_size < 40 * 1024**2  # tens of MB at most in git
    config = read_config(MODEL_FILE)
    assert config.name == DEFAULT_MODEL and config.sample_rate == 24_000 and config.channels == 1
    assert config.seanet.causal  # streamable
    assert config.bitrates_kbps == (1.5, 3.0, 6.0, 12.0, 24.0)
    assert config.provenance["trained_steps"] > 0


def test_default_model_loads_by_name_and_is_trained(shipped_codec) -> None:
    assert shipped_codec.source == MODEL_FILE
    assert shipped_codec.trained


def test_more_bits_give_a_closer_reconstruction_of_the_example(shipped_codec) -> None:
    audio, sample_rate = read_audio(EXAMPLE)
    excerpt = audio[:, : 4 * sample_rate]  # four seconds keep the test quick
    distances = {
        kbps: mel_distance(excerpt, shipped_codec.reconstruct(excerpt, sample_rate, kbps), sample_rate)
        for kbps in (1.5, 6.0)
    }
    assert np.isfinite(list(distances.values())).all()
    assert distances[6.0] < distances[1.5]


def test_model_card_has_every_section_and_a_measured_table() -> None:
    card = (MODEL_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    for heading in ("## Architecture", "## Data", "## Training", "## Evaluation", "## Limitations"):
        assert heading in card
    table = card.split("<!-- eval:begin -->")[1].split("<!-- eval:end -->")[0]
    for condition in ("earbench_24khz@1.5", "earbench_24khz@24", "opus@6", "mp3@8", "mp3@24"):
        assert f"| {condition} |" in table
