# Quick start on a fresh machine (Python 3.11+ with pip and venv):
#   make demo   -- installs glyphgen into .venv, then builds the bundled demo font
#   make test   -- installs glyphgen, pytest and ruff into .venv, then lints and runs the tests

PYTHON ?= python3
# torch is installed first at a fixed CPU build so `make` stays fast and small;
# the package itself asks for a range, so GPU users get their CUDA build.
TORCH  ?= torch==2.13.0
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo lint test bench weights clean

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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/pipeline_stages.py
	$(BIN)/python benchmarks/trace_fidelity.py
	$(BIN)/python benchmarks/classifier_accuracy.py
	$(BIN)/python benchmarks/compare_corpus.py

# Rebuild every shipped model from nothing: the corpus, the classifier, then pretraining of
# every backend the registry says pretrains (resumable: run it again to continue), each
# model copied into the package. The larger GPU models: make weights TRAIN_CONFIG="--config gpu".
TRAIN_CONFIG ?=

weights: $(STAMP)
	$(BIN)/glyphgen corpus build --out datasets/cache/corpus
	$(BIN)/glyphgen train-classifier --corpus datasets/cache/corpus --out runs/classifier $(if $(wildcard runs/classifier/checkpoints),--resume)
	cp runs/classifier/model/config.json runs/classifier/model/model.safetensors glyphgen/weights/classifier/
	for backend in $$($(BIN)/glyphgen backends --names --pretrainable); do \
	  $(BIN)/glyphgen train $$backend --corpus datasets/cache/corpus --out runs/$$backend $(TRAIN_CONFIG) $$(test -d runs/$$backend/checkpoints && echo --resume) && \
	  mkdir -p glyphgen/weights/$$backend && cp runs/$$backend/model/config.json runs/$$backend/model/model.safetensors glyphgen/weights/$$backend/ || exit 1; \
	done

clean:
	rm -rf $(VENV) out .pytest_cache
