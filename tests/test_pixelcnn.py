"""What the gated PixelCNN adds to the contract of tests/test_backends.py: causal masks without a blind spot,
an exact likelihood, sampling that is the forward pass cached, and a seed that gives one font."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from glyphgen.backends import get_backend
from glyphgen.backends.pixelcnn import ConditionalPixelCNN
from glyphgen.errors import GlyphgenError
from glyphgen.nn.autoregressive import GatedPixelCNN

from .conftest import HAND_SAMPLES as SAMPLES
from .conftest import tiny as tiny_backend


def tiny(**overrides):
    return tiny_backend("pixelcnn", **overrides)


def expected_receptive_field(size: int, i: int, j: int, layers: int, half: int) -> np.ndarray:
    """Every earlier pixel the two stacks reach: ``layers * half`` rows up, as far left and right, and as far left in the pixel's own row."""
    reach = layers * half
    field = np.zeros((size, size), dtype=bool)
    field[max(0, i - reach) : i, max(0, j - reach) : j + reach + 1] = True
    field[i, max(0, j - reach) : j] = True
    return field


@pytest.mark.parametrize("layers, kernel_size", [(1, 3), (3, 3), (2, 5)])
def test_a_pixel_sees_every_earlier_pixel_in_reach_and_never_itself_or_a_later_one(layers, kernel_size):
    size = 9
    torch.manual_seed(0)
    network = ConditionalPixelCNN([4, 8], 6, layers, kernel_size, 2, 1).double()
    glyph = torch.bernoulli(torch.full((1, 1, size, size), 0.5, dtype=torch.float64)).requires_grad_()
    content = torch.rand(1, 1, size, size, dtype=torch.float64)
    logits = network(glyph, content, torch.zeros(1, dtype=torch.long))
    for i, j in itertools.product(range(size), repeat=2):
        (gradient,) = torch.autograd.grad(logits[0, 0, i, j], glyph, retain_graph=True)
        seen = (gradient[0, 0] != 0).numpy()
        assert not seen.flatten()[i * size + j :].any(), f"pixel {(i, j)} sees itself or a later pixel"
        if i > 0 and j + 1 < size:
            assert seen[i - 1, j + 1], f"pixel {(i, j)} is blind to the pixel above and to the right"
        np.testing.assert_array_equal(seen, expected_receptive_field(size, i, j, layers, kernel_size // 2), err_msg=f"pixel {(i, j)}")


def test_the_likelihood_is_exact_every_binary_image_s_probability_sums_to_one():
    """On a 3x3 canvas all 512 images can be scored: where a pixel saw itself or a later one, they would not sum to 1."""
    torch.manual_seed(0)
    network = GatedPixelCNN(1, 8, 3, 3, 1, condition_channels=2, style_dim=3).double()
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=9)), dtype=torch.float64).reshape(-1, 1, 3, 3)
    condition, style = torch.randn(1, 2, 3, 3, dtype=torch.float64), torch.randn(1, 3, dtype=torch.float64)
    with torch.no_grad():
        logits = network(images, condition.expand(len(images), -1, -1, -1), style.expand(len(images), -1))
    log_probability = -F.binary_cross_entropy_with_logits(logits, images, reduction="none").sum(dim=(1, 2, 3))
    assert torch.exp(log_probability).sum().item() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("kernel_size, layers, size", [(3, 3, 7), (5, 2, 9)])
def test_cached_sampling_draws_what_the_full_forward_pass_draws(kernel_size, layers, size):
    torch.manual_seed(1)
    network = GatedPixelCNN(1, 6, layers, kernel_size, 1, condition_channels=4, style_dim=2).double()
    condition, style = torch.randn(3, 4, size, size, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    generator = torch.Generator()

    def choose(logits: torch.Tensor) -> torch.Tensor:
        return torch.bernoulli(torch.sigmoid(logits), generator=generator)

    generator.manual_seed(7)
    cached = network.sample((3, 1, size, size), network.conditions(condition, style, condition), choose)
    generator.manual_seed(7)
    naive = torch.zeros(3, 1, size, size, dtype=torch.float64)
    with torch.no_grad():
        for i, j in itertools.product(range(size), repeat=2):
            naive[:, :, i, j] = choose(network(naive, condition, style)[:, :, i, j])
    assert 0 < naive.mean() < 1
    torch.testing.assert_close(cached, naive, rtol=0, atol=0)


def test_training_lowers_the_bits_per_pixel_of_the_samples_and_they_are_exact_cross_entropy(task):
    content = np.stack([task.content[c] for c in SAMPLES])[:, None]
    truth = np.stack([task.style[c] for c in SAMPLES])[:, None]
    barely, trained = tiny(finetune_steps=1), tiny(finetune_steps=60)
    barely.fit(task)
    report = trained.fit(task)
    history = [h["bits_per_pixel"] for h in report.details["history"]]
    assert history[-1] < 0.8 * history[0], history
    before, after = barely.bits_per_pixel(content, truth, SAMPLES), trained.bits_per_pixel(content, truth, SAMPLES)
    assert before.shape == after.shape == (len(SAMPLES),) and np.isfinite(before).all() and np.isfinite(after).all()
    assert after.mean() < 0.7 * before.mean(), (before, after)
    # The truth is binarised at 0.5 first: a grey stroke scores as ink.
    grey = np.where(truth >= 0.5, 0.6, 0.1).astype(np.float32)
    np.testing.assert_allclose(trained.bits_per_pixel(content, grey, SAMPLES), after, rtol=1e-6)


def test_sampling_is_deterministic_given_the_seed(task):
    backend = tiny(finetune_steps=5)
    backend.fit(task)
    content = np.stack([task.content[c] for c in "dpqx"])[:, None]
    first, again = backend.generate(content, "dpqx"), backend.generate(content, "dpqx")
    np.testing.assert_array_equal(first, again)
    assert set(np.unique(first)) <= {0.0, 1.0}  # each pixel drawn from its Bernoulli
    backend.config.seed = 1
    assert not np.array_equal(backend.generate(content, "dpqx"), first)


def test_a_glyph_drawn_without_ink_is_drawn_again_alone(task, monkeypatch):
    backend = tiny(finetune_steps=1)
    backend.fit(task)
    draws = []

    def second_glyph_empty_at_first(shape, conditions, choose):
        draws.append((shape, [vertical.shape[0] for vertical, _ in conditions]))
        glyphs = torch.ones(shape)
        if len(draws) == 1:
            glyphs[1] = 0
        return glyphs

    monkeypatch.setattr(backend.network.pixels, "sample", second_glyph_empty_at_first)
    drawn = backend.generate(np.stack([task.content[c] for c in "dpq"])[:, None], "dpq")
    assert drawn.reshape(3, -1).max(axis=1).tolist() == [1.0, 1.0, 1.0]
    assert [shape for shape, _ in draws] == [(3, 1, 32, 32), (1, 1, 32, 32)]
    assert set(draws[1][1]) == {1}  # with that glyph's own conditioning


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"kernel_size": 4}, "setting 'kernel_size' must be odd (a masked kernel is centred on its pixel), not 4."),
        ({"kernel_size": 1}, "setting 'kernel_size' must be an integer ≥ 3, not 1."),
        ({"layers": 0}, "setting 'layers' must be an integer ≥ 1, not 0."),
    ],
)
def test_settings_a_masked_stack_cannot_have_are_refused_in_one_sentence(settings, message):
    with pytest.raises(GlyphgenError) as error:
        get_backend("pixelcnn").config_class.from_dict(settings, source="pixelcnn settings")
    assert str(error.value) == f"pixelcnn settings: {message}"
