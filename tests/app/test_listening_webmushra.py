"""webMUSHRA config import: pages become items, stimuli conditions; what does not fit is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.core.errors import DesignError
from app.core.listening.webmushra import import_webmushra_config

# Shaped like webMUSHRA's configs/default.yaml: paths relative to the webMUSHRA root (the configs folder's parent).
CONFIG = """\
testname: Codec test
testId: codec_test
bufferSize: 2048
stopOnErrors: true
remoteService: service/write.php
pages:
    - type: generic
      id: first_page
      name: Welcome
      content: Hello
    - type: mushra
      id: trial1
      name: MUSHRA 1
      reference: configs/resources/audio/ref.wav
      createAnchor35: true
      createAnchor70: false
      stimuli:
          C1: configs/resources/audio/c1.wav
          C2: configs/resources/audio/c2.wav
    -
          - random
          - type: mushra
            id: trial2
            reference: configs/resources/audio/ref.wav
            createAnchor35: true
            createAnchor70: true
            stimuli:
                C1: configs/resources/audio/c1.wav
                C2: configs/resources/audio/c2.wav
                C3: configs/resources/audio/c3.wav
    - type: paired_comparison
      id: trialAB
      unforced: I don't know
      reference: configs/resources/audio/ref.wav
      stimuli:
          C1: configs/resources/audio/c1.wav
    - type: likert_single_stimulus
      id: lss
      stimuli:
          C1: configs/resources/audio/c1.wav
    - type: finish
      name: Thank you
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    audio = tmp_path / "webmushra" / "configs" / "resources" / "audio"
    audio.mkdir(parents=True)
    for name in ("ref", "c1", "c2", "c3"):
        soundfile.write(audio / f"{name}.wav", np.zeros(480), 48000)
    path = tmp_path / "webmushra" / "configs" / "codec.yaml"
    path.write_text(CONFIG)
    return path


def test_mushra_pages_become_items_and_the_rest_is_reported(config_file: Path) -> None:
    result = import_webmushra_config(config_file)
    design = result.design
    assert (design.id, design.name, design.type) == ("codec_test", "Codec test", "mushra")
    assert [item.id for item in design.items] == ["trial1", "trial2"]
    assert list(design.conditions) == ["C1", "C2"] and design.conditions["C1"].label == "C1"
    root = config_file.parent.parent
    assert design.base_dir == root.resolve()
    assert design.items[1].conditions["C2"] == design.base_dir / "configs/resources/audio/c2.wav"
    text = "\n".join(result.warnings)
    assert "'random' page group" in text
    assert "C3 not on every page" in text
    assert "createAnchor70 is false" in text
    assert "1 'generic' page(s) not imported" in text and "1 'finish' page(s) not imported" in text
    assert "1 'paired_comparison' page(s) not imported" in text and "page_type='paired_comparison'" in text
    assert "1 'likert_single_stimulus' page(s) not imported: unsupported page type" in text
    assert import_webmushra_config(config_file).design == design  # stable seed from testId


def test_paired_comparison_imported_as_abx(config_file: Path) -> None:
    result = import_webmushra_config(config_file, page_type="paired_comparison", seed=5, abx_trials=16)
    design = result.design
    assert design.type == "abx" and design.seed == 5
    assert design.options.allow_dont_know is True and design.options.trials_per_item == 16
    assert any("imported as ABX" in w for w in result.warnings)


def test_missing_audio_and_hostile_yaml_rejected(config_file: Path, tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="audio files not found"):
        import_webmushra_config(config_file, audio_root=tmp_path)
    evil = tmp_path / "evil.yaml"
    evil.write_text('pages: !!python/object/apply:os.system ["echo hi"]\n')
    with pytest.raises(DesignError, match="not a readable webMUSHRA YAML"):
        import_webmushra_config(evil)
    only_finish = tmp_path / "finish.yaml"
    only_finish.write_text("testId: x\npages:\n  - type: finish\n")
    with pytest.raises(DesignError, match="no page of a supported type"):
        import_webmushra_config(only_finish)
