# Quick start on a fresh machine (Python 3.11+ with pip and venv):
#   make demo   -- installs glyphgen into .venv, then builds the bundled demo font
#   make test   -- installs glyphgen and pytest into .venv, then runs the tests

PYTHON ?= python3
# torch is installed first at a fixed CPU build so `make` stays fast and small;
# the package itself asks for a range, so GPU users get their CUDA build.
TORCH  ?= torch==2.13.0
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test bench weights clean

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

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/pipeline_stages.py
	$(BIN)/python benchmarks/trace_fidelity.py
	$(BIN)/python benchmarks/classifier_accuracy.py
	$(BIN)/python benchmarks/compare_corpus.py

# Rebuild every shipped model from nothing: the corpus, then pretraining of fewshot, the
# classifier and the five image-to-image families (resumable: run it again to continue),
# each model copied into the package.
TRANSLATION_FAMILIES = pix2pix cgan cyclegan vae ddpm

weights: $(STAMP)
	$(BIN)/glyphgen corpus build --out datasets/cache/corpus
	$(BIN)/glyphgen train fewshot --corpus datasets/cache/corpus --out runs/fewshot $(if $(wildcard runs/fewshot/checkpoints),--resume)
	cp runs/fewshot/model/config.json runs/fewshot/model/weights.safetensors glyphgen/weights/fewshot/
	$(BIN)/glyphgen train-classifier --corpus datasets/cache/corpus --out runs/classifier $(if $(wildcard runs/classifier/checkpoints),--resume)
	cp runs/classifier/model/config.json runs/classifier/model/weights.safetensors glyphgen/weights/classifier/
	for family in $(TRANSLATION_FAMILIES); do \
	  $(BIN)/glyphgen train $$family --corpus datasets/cache/corpus --out runs/$$family $$(test -d runs/$$family/checkpoints && echo --resume) && \
	  mkdir -p glyphgen/weights/$$family && cp runs/$$family/model/config.json runs/$$family/model/model.safetensors glyphgen/weights/$$family/ || exit 1; \
	done

clean:
	rm -rf $(VENV) out .pytest_cache
