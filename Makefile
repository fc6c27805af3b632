# Two entry points, each sets up what it needs on first use:
#   make demo   napari with the FAIR assistant and the demo acquisition
#   make test   ruff, mypy, then the whole test suite, headless (virtual X server at
#               1366x768, the acquisition-PC screen the panels must fit)
#   make corpus every case of the bad-input corpus through every entry point
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages: venv support, Qt's xcb platform libraries, OpenGL (Mesa), a virtual X server,
# and a headless Chromium that opens the dataset report in the tests
SYSTEM_PACKAGES := python3-venv xvfb xauth libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 \
	libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0 \
	libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 chromium

.PHONY: demo test corpus lint system-deps clean

system-deps:
	@if command -v dpkg-query >/dev/null; then \
	  missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	  if [ -n "$$missing" ]; then echo "Installing system packages: $$missing"; \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[testing]"
	touch $(STAMP)

demo: system-deps $(STAMP)
	$(PY) -m napari_fairly.widgets.launch

test: system-deps $(STAMP) lint
	xvfb-run -a -s "-screen 0 1366x768x24" $(PY) -m pytest

corpus: system-deps $(STAMP)
	FAIRLY_CORPUS=full $(PY) -m pytest -s tests/corpus

# the style and the types CI holds every change to (mypy: core and cli.py, strict)
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts docs
	$(VENV)/bin/ruff format --check src tests benchmarks scripts docs
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
