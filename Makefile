# storybeat: `make demo` and `make test` do all set-up on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench eval-audio serve install browser fonts clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need Python 3.11 ($(PY))"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -c "import engine.audio; engine.audio.warm_up()" || true
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the browser tests (installed when missing and we are root).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium missing: browser tests will be skipped (not in CI)"; }

# fontconfig and a CJK font for the lyrics' font-fallback tests (installed when missing and we are root).
fonts:
	@{ command -v fc-match >/dev/null 2>&1 && [ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ]; } || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig fonts-droid-fallback >/dev/null) || echo "fontconfig or fonts-droid-fallback missing: the font-fallback tests will be skipped (not in CI)"; }

demo: $(STAMP)
	$(BIN)/python -m engine demo

test: $(STAMP) browser fonts
	$(BIN)/python -m pytest -q

# The inner loop: no browser, no ffmpeg renders or worker processes end to end (tests marked slow).
test-fast: $(STAMP) fonts
	$(BIN)/python -m pytest -q -m "not slow"

bench: eval-audio
	$(BIN)/python bench/run_all.py

# The real-music evaluation corpus (data/corpus/) from Debian packages; apt-get, fluidsynth when root.
eval-audio: $(STAMP)
	$(BIN)/pip install -q -e '.[test,bench]'
	@command -v espeak-ng >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null) || echo "espeak-ng missing: the lyrics bench will say so"; }
	$(BIN)/python bench/corpus.py build

serve: $(STAMP)
	$(BIN)/python -m api

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
