"""The content classifier: trained on the corpus shards, saved as model.safetensors with its canvas, read back on it."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from glyphgen.canvas import Canvas
from glyphgen.classifier import WEIGHTS_FILE, CharReader, ClassifierConfig, train_classifier, validation_accuracy
from glyphgen.errors import GlyphgenError
from glyphgen.render import render_glyphs
from glyphgen.resources import bundled_weights


def test_the_shipped_classifier_reads_on_the_canvas_its_config_names():
    folder = bundled_weights("classifier")
    assert json.loads((folder / "config.json").read_text())["canvas_size"] == 64
    assert (folder / WEIGHTS_FILE).is_file() and WEIGHTS_FILE == "model.safetensors"
    assert CharReader().canvas.size == 64


def test_a_classifier_saved_without_its_canvas_reads_on_the_default(tmp_path, reference):
    folder = tmp_path / "old"
    shutil.copytree(bundled_weights("classifier"), folder)
    config = json.loads((folder / "config.json").read_text())
    del config["canvas_size"]
    (folder / "config.json").write_text(json.dumps(config))
    old, shipped = CharReader(folder), CharReader()
    assert old.canvas.size == ClassifierConfig().canvas_size
    glyphs = render_glyphs(reference, "AaBb", Canvas(128))
    assert old.read(glyphs) == shipped.read(glyphs) == list("AaBb")


def test_classifier_settings_are_checked_like_every_other():
    config = ClassifierConfig.from_dict({"steps": 3, "widths": [8, 16], "canvas_size": 32})
    assert config.widths == (8, 16) and config.canvas_size == 32 and config.to_dict()["steps"] == 3
    with pytest.raises(GlyphgenError, match="unknown setting 'colour'"):
        ClassifierConfig.from_dict({"colour": "red"})


def test_training_reads_every_glyph_from_the_shards_and_saves_its_canvas(tiny_corpus, tmp_path, reference):
    config = ClassifierConfig(canvas_size=32, steps=2, batch_size=16, widths=(8, 16), device="cpu", checkpoint_every=1)
    folder = train_classifier(tiny_corpus, tmp_path / "run", config)
    saved = json.loads((folder / "config.json").read_text())
    assert saved["canvas_size"] == 32 and saved["widths"] == [8, 16] and (folder / WEIGHTS_FILE).is_file()
    reader = CharReader(folder)
    assert reader.canvas.size == 32 and len(reader.read(render_glyphs(reference, "Ag", Canvas(128)))) == 2
    overall, per_char, _ = validation_accuracy(reader, tiny_corpus)
    assert 0 <= overall <= 1 and not math.isnan(overall) and len(per_char) > 80
    assert np.isfinite(list(per_char.values())).all()


def test_a_build_notes_a_sample_that_plainly_shows_another_character(tmp_path, demo_folder, reference):
    """A k saved as x: the writer is told, naming the file; the rest of the demo hand raises no doubt."""
    from glyphgen.charset import get_charset
    from glyphgen.pipeline import note_doubts
    from glyphgen.samples import load_samples

    folder = tmp_path / "samples"
    shutil.copytree(demo_folder, folder)
    (folder / "uni006B.png").rename(folder / "uni0078.png")

    class Notes:
        said: list[str] = []

        def note(self, message: str) -> None:
            self.said.append(message)

    charset = get_charset("latin-core")
    notes = Notes()
    note_doubts(load_samples(folder, charset, reference, Canvas(128)), charset, notes)
    assert notes.said == [f"{folder / 'uni0078.png'}: this 'x' looks like 'k' to the content classifier; is it the right character?"]
