"""The command line: info, encode, decode and reconstruct, with official names and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from codec.cli import main
from codec.testing import random_codec_checkpoint, random_model, synthetic_signal

from conftest import import_reference


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_codec_checkpoint(tmp_path_factory.mktemp("models") / "m.safetensors")


@pytest.fixture()
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "in.wav"
    sf.write(path, synthetic_signal(2, 22_050, 44_100)[0].numpy().T, 44_100)
    return path


@pytest.fixture()
def keep_threads():  # type: ignore[no-untyped-def]
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_info(model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert "1.5, 3, 6, 12, 24 kbps" in out and "24000 Hz" in out and "random_init" in out
    assert "UNTRAINED" in out


def test_reconstruct_keeps_rate_channels_and_length(model_path: Path, wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    assert main(["reconstruct", str(wav), str(out), "--model", str(model_path), "--bitrate", "6"]) == 0
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44_100, 2, 22_050, "FLOAT")


def test_encode_then_decode(model_path: Path, wav: Path, tmp_path: Path, keep_threads) -> None:  # type: ignore[no-untyped-def]
    ecdc, out = tmp_path / "x.ecdc", tmp_path / "x.wav"
    assert main(["--threads", "1", "encode", str(wav), str(ecdc), "--model", str(model_path), "--bitrate", "3"]) == 0
    assert torch.get_num_threads() == 1
    assert main(["decode", str(ecdc), str(out), "--model", str(model_path), "--subtype", "PCM_16"]) == 0
    info = sf.info(out)
    # .ecdc keeps the model's rate; the stereo input was coded as two mono streams.
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (24_000, 2, 12_000, "PCM_16")


@pytest.mark.oracle
def test_official_name_in_header_and_reference_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With official weights the header names the official model, and 0.1.1 decodes our file to the same audio."""
    encodec = import_reference()
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    model = random_model("encodec_24khz", seed=5)
    torch.save(model.state_dict(), checkpoints / "encodec_24khz-d7cc33bc.th")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    wav, ecdc, out = tmp_path / "in.wav", tmp_path / "x.ecdc", tmp_path / "out.wav"
    sf.write(wav, synthetic_signal(1, 24_000, 24_000)[0, 0].numpy(), 24_000)
    assert main(["encode", str(wav), str(ecdc), "--model", "encodec_24khz", "--bitrate", "6"]) == 0
    assert ecdc.read_bytes()[9:].startswith(b'{"m": "encodec_24khz", "al": 24000, "nc": 8, "lm": false}')
    assert main(["decode", str(ecdc), str(out)]) == 0  # model found from the header's name

    reference = encodec.EncodecModel.encodec_model_24khz(pretrained=False)
    reference.load_state_dict(model.state_dict())
    reference.eval()
    compress = __import__("encodec.compress", fromlist=["MODELS"])
    monkeypatch.setitem(compress.MODELS, "encodec_24khz", lambda: reference)
    with torch.inference_mode():
        ref_audio, rate = encodec.decompress(ecdc.read_bytes())
    ours, our_rate = sf.read(out, dtype="float32", always_2d=True)
    assert rate == our_rate == 24_000
    np.testing.assert_allclose(ours.T, ref_audio.numpy(), atol=1e-4)


@pytest.mark.parametrize(("args", "message"), [
    (["encode", "{missing}", "{out}", "--model", "{model}", "--bitrate", "6"], "no such file"),
    (["encode", "{wav}", "{out}", "--model", "{model}", "--bitrate", "5"], "allowed: 1.5, 3, 6, 12, 24"),
    (["encode", "{wav}", "{out}", "--model", "nope", "--bitrate", "6"], "no model file or installed model"),
    (["decode", "{wav}", "{out}", "--model", "{model}"], "not an .ecdc file"),
    (["--threads", "0", "info", "{model}"], "at least 1"),
])
def test_errors_are_one_clear_line(model_path: Path, wav: Path, tmp_path: Path, args: list[str], message: str,
                                   capsys: pytest.CaptureFixture[str], keep_threads) -> None:  # type: ignore[no-untyped-def]
    values = {"missing": tmp_path / "absent.wav", "out": tmp_path / "o", "model": model_path, "wav": wav}
    assert main([a.format(**values) for a in args]) == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and message in last_line


def test_truncated_ecdc_is_refused(model_path: Path, wav: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    ecdc = tmp_path / "x.ecdc"
    assert main(["encode", str(wav), str(ecdc), "--model", str(model_path), "--bitrate", "6"]) == 0
    data = ecdc.read_bytes()
    for cut in (5, 20, len(data) // 2, len(data) - 1):
        ecdc.write_bytes(data[:cut])
        assert main(["decode", str(ecdc), str(tmp_path / "o.wav"), "--model", str(model_path)]) == 2
        assert "truncated" in capsys.readouterr().err


def test_module_entry_point_runs(model_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "codec", "info", str(model_path)], capture_output=True, text=True,
                            env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "encodec_24khz" in result.stdout


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("info", "encode", "decode", "reconstruct"):
        assert command in out
