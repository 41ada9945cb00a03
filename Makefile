# Quick start on a fresh machine (Python 3.11+ with pip and venv):
#   make demo   -- installs glyphgen into .venv, then builds the bundled demo font
#   make serve  -- installs glyphgen into .venv, then opens the page (glyphgen serve) in a browser
#   make test   -- installs glyphgen, pytest and ruff into .venv (and Debian's Chromium for the page's
#                  browser tests, where apt-get can), then lints and runs the tests

PYTHON ?= python3
# torch is installed first at a fixed CPU build so `make` stays fast and small;
# the package itself asks for a range, so GPU users get their CUDA build.
TORCH  ?= torch==2.13.0
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo demo-korean serve browser lint test bench fontbakery weights clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet '$(TORCH)'
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/glyphgen build --samples datasets/demo-hand/samples --out out/demo \
		--family "Glyphgen Demo" --designer "glyphgen" --force
	@echo "Open out/demo/preview.png, or install out/demo/GlyphgenDemo-Regular.otf"

# The Korean demo: 30 Hangul syllables in, a font of the 2,350 KS X 1001 syllables and ASCII out.
demo-korean: $(STAMP)
	$(BIN)/glyphgen build --samples datasets/demo-hangul/samples --charset korean --out out/demo-korean \
		--family "글리프젠 데모" --designer "glyphgen" --force
	@echo "Open out/demo-korean/preview.png, or install its .otf"

# The local web page: give samples, build, type with the font, download it.
serve: $(STAMP)
	$(BIN)/glyphgen serve

# The page's end-to-end tests drive Debian's Chromium through Playwright (which downloads no browser
# of its own). Installed here when missing and apt-get can; elsewhere those tests skip, or set
# GLYPHGEN_CHROMIUM to a Chromium or Chrome binary.
CHROMIUM ?= /usr/bin/chromium
APT_GET := $(shell command -v apt-get 2>/dev/null)
SUDO := $(shell test "$$(id -u)" -ne 0 && command -v sudo)
browser:
	@test -x $(CHROMIUM) || test -z "$(APT_GET)" || \
	  $(SUDO) apt-get install -y -q --no-install-recommends chromium >/dev/null || \
	  ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q --no-install-recommends chromium >/dev/null)
	@test -x $(CHROMIUM) && echo "browser tests: $$($(CHROMIUM) --version 2>/dev/null)" || echo "browser tests: no Chromium, they will skip"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint browser
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/pipeline_stages.py
	$(BIN)/python benchmarks/trace_fidelity.py
	$(BIN)/python benchmarks/classifier_accuracy.py
	$(BIN)/python benchmarks/compare_corpus.py
	$(BIN)/python benchmarks/sheet_reading.py
	$(BIN)/python benchmarks/sample_doubts.py
	$(BIN)/python benchmarks/serve.py
	$(BIN)/python -m pip install --quiet -e '.[bench]' && $(BIN)/python benchmarks/spacing.py

# Google Fonts' checks (the universal profile, network checks skipped) on the demo fonts, one format
# at a time (together, the TTF and OTF of one style read as two styles of a family). fontbakery
# lives in a venv of its own: it pins an older freetype-py than glyphgen renders with.
FONTBAKERY_VENV ?= .venv-fontbakery
fontbakery: demo
	test -x $(FONTBAKERY_VENV)/bin/fontbakery || ($(PYTHON) -m venv $(FONTBAKERY_VENV) && $(FONTBAKERY_VENV)/bin/python -m pip install --quiet fontbakery)
	for font in out/demo/GlyphgenDemo-Regular.ttf out/demo/GlyphgenDemo-Regular.otf; do \
	  $(FONTBAKERY_VENV)/bin/fontbakery check-universal --skip-network --succinct -l WARN $$font || exit 1; \
	done

# Rebuild every shipped model from nothing: the corpus, the classifier, then pretraining of
# every backend the registry says pretrains (resumable: run it again to continue), each
# model copied into the package. The larger GPU models: make weights TRAIN_CONFIG="--config gpu".
TRAIN_CONFIG ?=
# How the Korean models were trained on 2 CPU cores (a short run from the Latin weights).
KOREAN_TRAIN_CONFIG ?= --set pretrain_lr=3e-4 --set ema_decay=0.995 --set targets=8 --set pretrain_steps=3000

weights: $(STAMP)
	$(BIN)/glyphgen corpus build --out datasets/cache/corpus
	$(BIN)/glyphgen train-classifier --corpus datasets/cache/corpus --out runs/classifier $(if $(wildcard runs/classifier/checkpoints),--resume)
	cp runs/classifier/model/config.json runs/classifier/model/model.safetensors glyphgen/weights/classifier/
	for backend in $$($(BIN)/glyphgen backends --names --pretrainable); do \
	  $(BIN)/glyphgen train $$backend --corpus datasets/cache/corpus --out runs/$$backend $(TRAIN_CONFIG) $$(test -d runs/$$backend/checkpoints && echo --resume) && \
	  mkdir -p glyphgen/weights/$$backend && cp runs/$$backend/model/config.json runs/$$backend/model/model.safetensors glyphgen/weights/$$backend/ || exit 1; \
	done
	# Korean: its corpus, its classifier, then every backend made for Korean, grown from its
	# Latin model (the new jamo codes start at zero) and trained on Hangul.
	$(BIN)/glyphgen corpus build --script korean --out datasets/cache/corpus-korean
	$(BIN)/glyphgen train-classifier --corpus datasets/cache/corpus-korean --out runs/classifier-korean --steps 3500 \
	  --set widths=8,16,32,64,128 --set batch_size=64 $(if $(wildcard runs/classifier-korean/checkpoints),--resume)
	mkdir -p glyphgen/weights/classifier-korean && cp runs/classifier-korean/model/config.json runs/classifier-korean/model/model.safetensors glyphgen/weights/classifier-korean/
	for backend in $$($(BIN)/glyphgen backends --names --pretrainable --script korean); do \
	  $(BIN)/glyphgen train $$backend --corpus datasets/cache/corpus-korean --out runs/$$backend-korean --set weights=runs/$$backend/model \
	    $(KOREAN_TRAIN_CONFIG) $$(test -d runs/$$backend-korean/checkpoints && echo --resume) && \
	  mkdir -p glyphgen/weights/$$backend-korean && cp runs/$$backend-korean/model/config.json runs/$$backend-korean/model/model.safetensors glyphgen/weights/$$backend-korean/ || exit 1; \
	done

clean:
	rm -rf $(VENV) out .pytest_cache
