"""Output devices as plain dataclasses, and the default choice.

``sounddevice`` is imported lazily: without the PortAudio library its import raises ``OSError``, and the app must
still start (visual use works without sound).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class OutputDevice:
    """A PortAudio output device.

    Attributes
    ----------
    index : int
        PortAudio device index (what ``sounddevice`` takes as ``device``).
    name : str
        Device name.
    hostapi : str
        Host API name (ALSA, PulseAudio, Core Audio, WASAPI, ...).
    max_output_channels : int
        Output channels it offers.
    default_sample_rate : float
        Its preferred rate in Hz.
    is_default : bool
        Whether it is the system's default output.
    """

    index: int
    name: str
    hostapi: str
    max_output_channels: int
    default_sample_rate: float
    is_default: bool = False

    @property
    def label(self) -> str:
        """Name and host API, for menus."""
        return f"{self.name} ({self.hostapi})"


@dataclass(frozen=True)
class DeviceScan:
    """What a device scan found: output devices, or why there are none."""

    devices: tuple[OutputDevice, ...]
    problem: str | None = None

    @property
    def default(self) -> OutputDevice | None:
        """The system default output, else the first device, else None."""
        for device in self.devices:
            if device.is_default:
                return device
        return self.devices[0] if self.devices else None


def import_sounddevice() -> ModuleType:
    """Import ``sounddevice``; raises ``OSError`` when the PortAudio library is missing."""
    import sounddevice

    return sounddevice


def scan_output_devices() -> DeviceScan:
    """List output devices; never raises (a missing PortAudio or no device becomes ``problem``)."""
    try:
        sd = import_sounddevice()
    except OSError as exc:
        return DeviceScan((), f"The PortAudio library is missing ({exc}); install libportaudio2 to hear audio.")
    try:
        hostapis = sd.query_hostapis()
        default_index = sd.default.device[1]
        devices = tuple(
            OutputDevice(
                index=int(info["index"]),
                name=str(info["name"]),
                hostapi=str(hostapis[info["hostapi"]]["name"]),
                max_output_channels=int(info["max_output_channels"]),
                default_sample_rate=float(info["default_samplerate"]),
                is_default=int(info["index"]) == default_index,
            )
            for info in sd.query_devices()
            if info["max_output_channels"] > 0
        )
    except sd.PortAudioError as exc:
        return DeviceScan((), f"PortAudio could not list audio devices: {exc}")
    if not devices:
        return DeviceScan((), "No audio output device was found.")
    return DeviceScan(devices)
