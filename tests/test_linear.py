"""The linear families: PPCA's closed form, FastICA's unmixing, the conditional Gaussian, and the pca / ica backends end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from glyphgen.backends import FewShotTask, get_backend
from glyphgen.canvas import Canvas
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.linear import PPCA, StyleModel, fast_ica, principal_axes
from glyphgen.render import render_glyphs

from .conftest import HAND_CHARS as CHARS
from .conftest import HAND_SAMPLES as SAMPLES
from .conftest import tiny


def low_rank(rng, count=4000, dimension=60, rank=5, noise=0.05):
    """Data of known rank and noise: ``rank`` directions with variances 9, 8, ... over isotropic noise."""
    basis = np.linalg.qr(rng.standard_normal((dimension, rank)))[0]
    scales = np.sqrt(np.arange(9, 9 - rank, -1.0))
    return rng.standard_normal((count, rank)) * scales @ basis.T + noise * rng.standard_normal((count, dimension)) + 3.0, basis, scales**2


def test_ppca_recovers_the_rank_the_variances_and_the_noise_of_low_rank_data():
    data, basis, variances = low_rank(np.random.default_rng(0))
    axes = principal_axes(np.array_split(data, 7), components=5)
    np.testing.assert_allclose(axes.eigenvalues, variances + 0.05**2, rtol=0.1)
    assert abs(np.linalg.det(axes.eigenvectors.T @ basis)) > 0.99  # the same subspace
    model = PPCA.from_axes(axes)
    assert model.noise_variance == pytest.approx(0.05**2, rel=0.1)  # the mean discarded eigenvalue
    # W^T W holds the eigenvalues less the noise (the ML solution), and the posterior code decodes to the projection.
    np.testing.assert_allclose(
        np.sort(np.linalg.eigvalsh(model.weights.T.astype(float) @ model.weights)), np.sort(axes.eigenvalues - model.noise_variance), rtol=1e-4
    )
    residual = data - model.decode(model.encode(data))
    assert 1 - np.sum(residual**2) / np.sum((data - data.mean(0)) ** 2) == pytest.approx(axes.explained_variance, abs=1e-4)
    assert axes.explained_variance == pytest.approx(variances.sum() / (variances.sum() + 60 * 0.05**2), abs=0.01)


def test_ppca_on_glyphs_explains_what_its_eigenvalues_say(library):
    canvas = Canvas(24)
    glyphs = np.concatenate([render_glyphs(font, "abcdefghijklmnopqrstuvwxyz", canvas) for font in library[:8]]).reshape(-1, 24 * 24)
    for components in (4, 16):
        axes = principal_axes([glyphs], components)
        model = PPCA.from_axes(axes)
        reconstructed = model.decode(model.encode(glyphs))
        kept = 1 - np.sum((glyphs - reconstructed) ** 2) / np.sum((glyphs - glyphs.mean(0)) ** 2)
        assert kept == pytest.approx(axes.explained_variance, abs=1e-3)
        eigenvalues = np.linalg.eigvalsh(np.cov(glyphs.T, bias=True))[::-1]
        assert axes.explained_variance == pytest.approx(eigenvalues[:components].sum() / eigenvalues.sum(), abs=1e-4)


@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "deflation"])
def test_fast_ica_recovers_independent_sources_from_a_known_mixture(symmetric):
    rng = np.random.default_rng(1)
    count = 5000
    sources = np.stack([np.sign(np.sin(np.linspace(0, 60, count))), rng.laplace(size=count), rng.uniform(-1, 1, count), np.sin(np.linspace(0, 37, count))], 1)
    sources = (sources - sources.mean(0)) / sources.std(0)
    mixed = sources @ rng.standard_normal((4, 4)).T
    # whiten, unmix, compare each found source with its best-matching true one (up to order and sign)
    values, vectors = np.linalg.eigh(np.cov(mixed.T, bias=True))
    whitened = (mixed - mixed.mean(0)) @ vectors / np.sqrt(values)
    fit = fast_ica(whitened, symmetric=symmetric, seed=3)
    assert fit.converged
    found = whitened @ fit.rotation.T
    correlation = np.abs(np.corrcoef(found.T, sources.T)[:4, 4:])
    assert sorted(correlation.argmax(axis=1)) == [0, 1, 2, 3]
    assert correlation.max(axis=1).min() > 0.95


def test_the_conditional_gaussian_finds_a_writers_offset_from_few_samples():
    rng = np.random.default_rng(2)
    q, fonts, chars = 3, 200, 40
    coefficients = np.eye(q) + 0.2 * rng.standard_normal((q, q))
    content = rng.standard_normal((chars, q))
    offsets = 1.5 * rng.standard_normal((fonts, q))
    writer = np.repeat(np.arange(fonts), chars)
    style = np.tile(content, (fonts, 1)) @ coefficients + offsets[writer] + 0.1 * rng.standard_normal((fonts * chars, q))
    model = StyleModel.fit(np.tile(content, (fonts, 1)), style, writer, ridge=0.0)
    np.testing.assert_allclose(model.coefficients, coefficients, atol=0.05)
    np.testing.assert_allclose(np.diag(model.between), 1.5**2, rtol=0.25)
    np.testing.assert_allclose(np.diag(model.within), 0.1**2, rtol=0.1)
    # a new writer, five samples: the offset is found, and the prediction of unseen characters is close
    offset = np.array([2.0, -1.0, 0.5])
    person = model.adapt(content[:5], content[:5] @ coefficients + offset + 0.1 * rng.standard_normal((5, q)))
    np.testing.assert_allclose(person.offset, offset - model.intercept, atol=0.15)
    mean, covariance = model.conditional(content[5:], person)
    assert np.abs(mean - (content[5:] @ coefficients + offset)).max() < 0.3
    assert np.all(np.linalg.eigvalsh(covariance) > 0)


@pytest.fixture(scope="module")
def trained(tiny_corpus, tmp_path_factory):
    """`glyphgen train` of each linear family on the tiny corpus's three training fonts, at 32 px."""
    folders = {}
    for name in ("pca", "ica"):
        out = tmp_path_factory.mktemp(name)
        result = CliRunner().invoke(main, ["train", name, "--corpus", str(tiny_corpus), "--out", str(out), "--set", "canvas_size=32", "--set", "components=10"])
        assert result.exit_code == 0, result.output
        folders[name] = out / "model"
    return folders


@pytest.mark.parametrize("name", ["pca", "ica"])
def test_train_writes_a_model_that_a_build_fits_on_samples_and_draws_from(name, trained, task, tmp_path):
    saved = json.loads((trained[name] / "config.json").read_text())
    assert saved["model"]["fonts"] == 3 and 0 < saved["model"]["explained_variance"] < 1  # the training fonts only
    backend_class = get_backend(name)
    backend = backend_class(backend_class.config_class.from_dict({"weights": str(trained[name]), "components": 99}))
    assert backend.model_canvas().size == 32
    report = backend.fit(task)
    assert backend.config.components == 10  # the model's, not the setting's
    assert "10 components explaining" in report.summary and "style from 8 samples" in report.summary
    targets = "dpqx"
    content = np.stack([task.content[c] for c in targets])[:, None]
    drawn = backend.generate(content, targets)
    assert drawn.shape == (4, 1, 32, 32) and drawn.dtype == np.float32 and 0 <= drawn.min() and drawn.max() <= 1
    assert drawn.max() > 0.5  # ink, not a blank
    backend.save(tmp_path / "fitted")
    np.testing.assert_allclose(backend_class.load(tmp_path / "fitted").generate(content, targets), drawn, atol=1e-6)
    assert backend.bits_per_pixel(content, drawn, targets) is None


@pytest.mark.parametrize("name", ["pca", "ica"])
def test_the_samples_move_the_drawing_towards_the_hand(name, task, library):
    """The glyphs drawn with the samples' offset are nearer the writer's hand than without it (the basis of the 18 library fonts)."""
    from glyphgen.linear import Person

    backend_class = get_backend(name)
    targets = "dpqx"
    content = np.stack([task.content[c] for c in targets])[:, None]
    for font in (library[3], library[6], library[12]):
        hand = dict(zip(CHARS, render_glyphs(font, CHARS, task.canvas)))
        backend = backend_class(backend_class.config_class.from_dict(backend_class.tiny_settings))
        backend.fit(FewShotTask(canvas=task.canvas, style={c: hand[c] for c in SAMPLES}, content=task.content))
        truth = np.stack([hand[c] for c in targets])[:, None]
        adapted = np.abs(backend.generate(content, targets) - truth).mean()
        backend.person = Person(np.zeros_like(backend.person.offset), backend.person.covariance, 0)
        assert adapted < np.abs(backend.generate(content, targets) - truth).mean()


def test_pca_samples_differ_from_its_mean_and_repeat_with_the_seed(trained, task):
    pca = get_backend("pca")
    content = np.stack([task.content[c] for c in "dpqx"])[:, None]

    def drawn(**settings):
        backend = pca(pca.config_class.from_dict({"weights": str(trained["pca"]), **settings}))
        backend.fit(task)
        return backend.generate(content, "dpqx")

    sample = drawn(draw="sample")
    assert np.abs(sample - drawn(draw="mean")).mean() > 1e-3
    np.testing.assert_array_equal(sample, drawn(draw="sample"))
    assert np.abs(sample - drawn(draw="sample", seed=1)).mean() > 1e-3


def test_weights_that_are_not_a_model_say_so(tmp_path, task):
    pca = get_backend("pca")
    with pytest.raises(GlyphgenError, match=r"setting 'weights' \(.*nowhere\): not library, bundled or a model folder"):
        pca(pca.config_class.from_dict({"weights": str(tmp_path / "nowhere")})).fit(task)
    with pytest.raises(GlyphgenError, match="config.json: no saved backend here"):
        pca(pca.config_class.from_dict({"weights": str(tmp_path)})).fit(task)
    with pytest.raises(GlyphgenError, match="components' .1024. must be fewer than the canvas's 1024 pixels"):
        pca.config_class.from_dict({"canvas_size": 32, "components": 1024})


def test_the_content_the_basis_cannot_hold_is_kept(task):
    """A stroke too rare for the basis (q's descender) comes back from the content glyph, so q is not drawn as a."""
    from glyphgen import bitmap

    drawn = {}
    for keep in (True, False):
        backend = tiny("pca", weights="library", keep_residual=keep)
        backend.fit(task)
        content = np.stack([task.content[c] for c in "q"])[:, None]
        drawn[keep] = backend.generate(content, "q")[0, 0]
    below = task.canvas.baseline_row + 2  # rows under the baseline: only the descender has ink there
    assert bitmap.ink_mask(drawn[True])[int(below) :].sum() > bitmap.ink_mask(drawn[False])[int(below) :].sum()
