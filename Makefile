# EarBench. `make run` sets everything up and starts the app; `make test` sets everything up and runs every check.
# Made for a fresh Debian 12 machine (run as root, or with sudo) with Python 3.11 at `python3`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ORACLE := $(VENV)/.oracle

# Shared libraries the Python wheels need but do not bundle: PortAudio for sounddevice, libopus for the Opus
# reference codec (driven through ctypes for exact bitrates), the rest for Qt.
SYSTEM_PACKAGES := libportaudio2 libopus0 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The reference implementation, a test oracle only (CC BY-NC 4.0): never a project dependency, never shipped.
ORACLE_PACKAGES := encodec==0.1.1 einops==0.8.2

.PHONY: run test lint system-packages package

run: system-packages $(INSTALLED)
	$(BIN)/python -m app resources/examples/example.flac

test: system-packages lint $(ORACLE)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Installs only the packages that are missing, so a machine that has them all does nothing.
system-packages:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
		dpkg -s $$package 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$package"; \
	done; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

# The desktop build (PyInstaller, one folder: dist/earbench/earbench), then the smoke test on it. The build takes
# 2-4 minutes and makes a folder of about 0.75 GB (torch alone is 0.39 GB), so `make test` does not run it.
PACKAGER := $(VENV)/.packager

package: system-packages $(PACKAGER)
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/earbench.spec
	$(BIN)/python packaging/smoke_test.py --app dist/earbench/earbench

$(PACKAGER): $(INSTALLED)
	$(BIN)/python -m pip install -e ".[package]"
	touch $@

$(ORACLE): | $(INSTALLED)
	$(BIN)/python -m pip install --no-deps $(ORACLE_PACKAGES)
	touch $@
