# Quick start on a fresh machine (Python 3.10+ with pip and venv):
#   make demo   -- installs glyphgen into .venv, then builds the bundled demo font
#   make test   -- installs glyphgen and pytest into .venv, then runs the tests

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/glyphgen build --samples datasets/demo-hand/samples --out out/demo \
		--family "Glyphgen Demo" --designer "glyphgen" --force
	@echo "Open out/demo/preview.png, or install out/demo/GlyphgenDemo-Regular.otf"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/pipeline_stages.py
	$(BIN)/python benchmarks/trace_fidelity.py

clean:
	rm -rf $(VENV) out .pytest_cache
