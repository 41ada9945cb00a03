"""The retrieval baseline: finds the right font, matches weight, saves, and plug-ins register."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from glyphgen import backends, bitmap
from glyphgen.backends import FewShotTask, available_backends, get_backend
from glyphgen.backends.retrieval import RetrievalBackend, RetrievalConfig
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.cli.main import main
from glyphgen.render import render_glyphs
from glyphgen.samples import load_samples

CANVAS = Canvas(64)
SAMPLE_CHARS = "AHRabdegnoy"
UNSEEN = "BkqsW"


def library_font(library, stem):
    return next(p for p in library if p.stem.startswith(stem))


def task_from(folder, reference):
    samples = load_samples(folder, get_charset("latin"), reference, CANVAS)
    chars = SAMPLE_CHARS + UNSEEN
    content = dict(zip(chars, render_glyphs(reference, list(chars), CANVAS)))
    return FewShotTask(CANVAS, samples.on_canvas(CANVAS), content, reference)


@pytest.fixture(scope="module")
def courier_task(tmp_path_factory, reference, library):
    from PIL import Image

    from .conftest import draw_char

    folder = tmp_path_factory.mktemp("courier")
    courier = library_font(library, "CourierPrime")
    for char in SAMPLE_CHARS:
        Image.fromarray(draw_char(char, courier, size=150)).save(folder / f"uni{ord(char):04X}.png")
    return task_from(folder, reference), courier


def test_finds_the_font_the_samples_were_written_in(courier_task):
    task, courier = courier_task
    backend = RetrievalBackend(RetrievalConfig(canvas_size=64))
    report = backend.fit(task)
    assert backend.ranking[0].path == courier
    assert "CourierPrime" in report.summary
    # and draws characters it never saw the way that font does
    content = np.stack([task.content[c] for c in UNSEEN])[:, None]
    generated = backend.generate(content, UNSEEN)
    assert generated.shape == (len(UNSEEN), 1, 64, 64) and generated.dtype == np.float32
    assert 0.0 <= generated.min() and generated.max() <= 1.0
    truth = render_glyphs(courier, list(UNSEEN), CANVAS, scale=backend.ranking[0].scale)
    for made, real in zip(generated[:, 0], truth):
        assert bitmap.iou(bitmap.ink_mask(made), bitmap.ink_mask(real)) > 0.75


def test_matches_the_pen_width_of_the_samples(courier_task):
    task, _ = courier_task
    # The same samples written with a pen two pixels wider on each side.
    heavy = {c: bitmap.downsample(bitmap.offset_stroke(bitmap.upsample(g, 4), 8.0), 4) for c, g in task.style.items()}
    task = FewShotTask(task.canvas, heavy, task.content, task.reference_path)
    backend = RetrievalBackend(RetrievalConfig(canvas_size=64))
    backend.fit(task)
    generated = backend.generate(np.stack([task.content[c] for c in UNSEEN])[:, None], UNSEEN)

    def pen(glyphs):
        return np.median([bitmap.stroke_width(bitmap.ink_mask(bitmap.upsample(g, 4))) for g in glyphs])

    assert pen(generated[:, 0]) == pytest.approx(pen(heavy.values()), rel=0.2)


def test_save_and_load_give_the_same_glyphs(courier_task, tmp_path):
    task, _ = courier_task
    backend = RetrievalBackend(RetrievalConfig(canvas_size=64, k=2))
    backend.fit(task)
    backend.save(tmp_path / "fitted")
    again = RetrievalBackend.load(tmp_path / "fitted")
    content = np.stack([task.content[c] for c in UNSEEN])[:, None]
    np.testing.assert_array_equal(backend.generate(content, UNSEEN), again.generate(content, UNSEEN))
    assert again.config.k == 2


def test_a_plugin_backend_registers_through_its_entry_point(tmp_path, monkeypatch):
    package = tmp_path / "echo_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            '''
            from glyphgen.backends import Backend, FitReport

            class EchoBackend(Backend):
                """Writes the reference glyphs back unchanged."""
                name = "echo"
                family = "identity"

                def fit(self, task, *, progress=None):
                    return FitReport(0.0, "nothing to learn")

                def generate(self, content, chars):
                    return content.copy()

                def save(self, path):
                    self._write_config(path)

                @classmethod
                def load(cls, path):
                    return cls(cls._read_config(path))
            '''
        )
    )
    dist = tmp_path / "echo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[glyphgen.backends]\necho = echo_plugin:EchoBackend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(backends, "_REGISTRY", dict(backends._REGISTRY))

    assert "echo" in available_backends()
    assert get_backend("echo").__name__ == "EchoBackend"
    listing = CliRunner().invoke(main, ["backends"])
    assert listing.exit_code == 0
    assert any(line.startswith("echo") and "identity" in line for line in listing.output.splitlines())
    assert any(line.startswith("retrieval") and "non-parametric" in line for line in listing.output.splitlines())
