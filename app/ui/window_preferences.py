"""Applying and remembering the preferences: output device and buffer size, colour map, frequency axis, layout."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.audio.devices import DeviceScan, scan_output_devices
from app.ui.preferences_dialog import PreferencesDialog

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

logger = logging.getLogger(__name__)


class WindowPreferences:
    """Restores the saved preferences into a window and opens the Preferences dialog.

    ``scan`` lists output devices (replaced in tests).
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.scan = scan_output_devices
        self.dialog: PreferencesDialog | None = None

    def restore(self) -> None:
        """Apply the colour map, frequency axis, window layout and (if one was chosen) the output device."""
        window, settings = self.window, self.window.settings
        window.spectrograms.set_colormap(settings.colormap())
        window.actions_.log_frequency.setChecked(settings.log_frequency())  # its toggled signal applies it
        geometry, state = settings.window_state()
        if geometry is not None:
            window.restoreGeometry(geometry)
        if state is not None:
            window.restoreState(state)
        engine = window.playback.engine
        wanted = settings.output_device_name()
        if engine.available and settings.has_output_choice():
            scan = self.scan()
            device = next((d for d in scan.devices if d.label == wanted), engine.device)
            window.playback.configure_output(device, settings.blocksize())

    def set_log_frequency(self, enabled: bool) -> None:
        """View › Logarithmic frequency axis: redraw the spectrograms and remember the choice."""
        self.window.spectrograms.set_log_frequency(enabled)
        self.window.settings.set_log_frequency(enabled)

    def save_window_state(self) -> None:
        """Remember the window's geometry and toolbar/dock state."""
        self.window.settings.set_window_state(self.window.saveGeometry(), self.window.saveState())
        self.window.settings.sync()

    def open_dialog(self) -> PreferencesDialog:
        """Show the Preferences dialog (non-modal); OK applies and saves."""
        window, settings = self.window, self.window.settings
        scan = self.scan()
        engine = window.playback.engine
        current = settings.output_device_name() or ""
        self.dialog = dialog = PreferencesDialog(
            scan.devices, scan.problem, current, engine.blocksize, settings.colormap(), settings.anchors_by_default(),
            window,
        )
        dialog.accepted.connect(lambda: self.apply(dialog, scan))
        dialog.open()
        return dialog

    def apply(self, dialog: PreferencesDialog, scan: DeviceScan) -> None:
        """Save the dialog's choices and apply them now."""
        settings = self.window.settings
        settings.set_output(dialog.device_label, dialog.blocksize)
        settings.set_colormap(dialog.colormap)
        settings.set_anchors_by_default(dialog.anchors)
        self.window.spectrograms.set_colormap(dialog.colormap)
        device = next((d for d in scan.devices if d.label == dialog.device_label), scan.default)
        if device is not None:
            self.window.playback.configure_output(device, dialog.blocksize)
            self.window.notices.clear_notice("no-audio")
            self.window.update_controls()
        logger.info("Preferences: output %s, %d frames, %s", dialog.device_label or "default", dialog.blocksize,
                    dialog.colormap)
