"""The flows (RealNVP, Glow): every layer and whole network inverts exactly, log-determinants are the Jacobian's, the likelihood learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from glyphgen.backends import get_backend
from glyphgen.backends.glow import Glow
from glyphgen.backends.realnvp import RealNVP
from glyphgen.errors import GlyphgenError
from glyphgen.nn.flows import ActNorm, AffineCoupling, Condition, InvertibleConv1x1, MultiScaleFlow, Squeeze, bits_per_pixel

from .conftest import HAND_SAMPLES as SAMPLES
from .conftest import tiny

STYLE_DIM, HIDDEN, FEATURES = 3, 6, 2


def perturbed(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` in double precision, every parameter moved off its initial value (a zero-initialised coupling is the identity)."""
    torch.manual_seed(1)
    module = module.double()
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    return module


def condition_for(side: int, batch: int = 1) -> Condition:
    torch.manual_seed(2)
    return Condition({side: torch.randn(batch, FEATURES, side, side, dtype=torch.double)}, torch.randn(batch, STYLE_DIM, dtype=torch.double))


def brute_force_log_det(function, x: torch.Tensor) -> float:
    """log|det| of the full Jacobian of ``function`` (one glyph in, a flat vector out) at ``x``."""
    jacobian = torch.autograd.functional.jacobian(function, x)
    return float(torch.linalg.slogdet(jacobian.reshape(x.numel(), x.numel()))[1])


LAYERS = {
    "checkerboard coupling": lambda: AffineCoupling(2, "checkerboard", 0, FEATURES, STYLE_DIM, HIDDEN),
    "checkerboard coupling, other squares": lambda: AffineCoupling(2, "checkerboard", 1, FEATURES, STYLE_DIM, HIDDEN),
    "channel coupling": lambda: AffineCoupling(3, "channel", 0, FEATURES, STYLE_DIM, HIDDEN),
    "channel coupling, other half, sigmoid gate": lambda: AffineCoupling(3, "channel", 1, FEATURES, STYLE_DIM, HIDDEN, gate="sigmoid"),
    "actnorm": lambda: ActNorm(3),
    "invertible 1x1 convolution": lambda: InvertibleConv1x1(3),
}


@pytest.mark.parametrize("kind", LAYERS)
def test_each_layer_inverts_and_its_log_determinant_is_the_jacobians(kind):
    layer = perturbed(LAYERS[kind]())
    channels = 2 if kind.startswith("checkerboard") else 3
    x = torch.randn(1, channels, 4, 4, dtype=torch.double, generator=torch.Generator().manual_seed(3))
    condition = condition_for(4)
    y, log_det = layer(x, condition)
    assert (layer.inverse(y, condition) - x).abs().max() < 1e-4
    assert float(log_det.detach()) == pytest.approx(brute_force_log_det(lambda v: layer(v, condition)[0].flatten(), x), abs=1e-6)
    assert abs(float(log_det.detach())) > 1e-3  # the test would catch a wrong log-determinant: this one is not zero


def test_squeeze_moves_pixels_into_channels_and_back():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    y, log_det = Squeeze()(x, condition_for(4))
    assert y.shape == (1, 4, 2, 2) and float(log_det) == 0
    assert torch.equal(Squeeze().inverse(y, condition_for(2)), x)


def tiny_flow(network_class: type[MultiScaleFlow]) -> MultiScaleFlow:
    torch.manual_seed(0)
    widths = [4, 6] if network_class is RealNVP else [4, 6, 6]
    return perturbed(network_class(widths, depth=2, hidden=HIDDEN, style_dim=STYLE_DIM, writers=2))


@pytest.mark.parametrize("network_class", [RealNVP, Glow])
def test_a_whole_flow_inverts_and_its_log_determinant_is_the_jacobians(network_class):
    flow = tiny_flow(network_class)
    generator = torch.Generator().manual_seed(4)
    x = torch.rand(1, 1, 8, 8, dtype=torch.double, generator=generator) - 0.5
    content = (torch.rand(1, 1, 8, 8, dtype=torch.double, generator=generator) > 0.5).double()
    flow.initialise(x + 0.5, content, torch.tensor([1]))  # Glow's actnorm from data, as in training
    condition = flow.condition(content, torch.tensor([1]))
    encoded = flow.encode(x, condition)
    assert len(encoded.latents) == len(flow.levels) > 1  # multi-scale: latents factored out at more than one scale
    back = flow.decode(lambda level, kept, side: encoded.latents[level], condition, 8)
    assert (back - x).abs().max() < 1e-4
    brute = brute_force_log_det(lambda v: torch.cat([z.flatten() for z in flow.encode(v, condition).latents]), x)
    assert float(encoded.log_det.detach()) == pytest.approx(brute, abs=1e-6)


def test_actnorm_starts_from_the_first_batch_statistics():
    flow = Glow([4, 6], depth=1, hidden=HIDDEN, style_dim=STYLE_DIM, writers=1)
    glyphs = torch.rand(6, 1, 8, 8)
    flow.initialise(glyphs, torch.rand(6, 1, 8, 8), torch.zeros(6, dtype=torch.long))
    norm = next(m for m in flow.modules() if isinstance(m, ActNorm))
    y, _ = norm(torch.nn.functional.pixel_unshuffle(glyphs - 0.5, 2), None)  # the first actnorm reads the squeezed glyph
    assert y.mean(dim=(0, 2, 3)).abs().max() < 1e-5 and (y.std(dim=(0, 2, 3)) - 1).abs().max() < 1e-3


def test_bits_per_pixel_is_the_two_level_bound():
    # The uniform density on [0, 1)^pixels (log p = 0) gives each binary image's cell, of volume 2**-pixels, that
    # probability: one bit per pixel; a density of 2**pixels on one cell gives its image probability 1: no bits.
    pixels = 64
    assert float(bits_per_pixel(torch.tensor([0.0]), pixels)) == pytest.approx(1.0)
    assert float(bits_per_pixel(torch.tensor([pixels * np.log(2)]), pixels)) == pytest.approx(0.0)


@pytest.mark.parametrize("name", ["realnvp", "glow"])
def test_training_lowers_the_bits_per_pixel_of_the_training_glyphs(name, task):
    content = np.stack([task.content[c] for c in SAMPLES])[:, None]
    truth = np.stack([task.style[c] for c in SAMPLES])[:, None]
    untrained = tiny(name, finetune_steps=0)
    untrained.fit(task)
    before = untrained.bits_per_pixel(content, truth, SAMPLES)
    trained = tiny(name, finetune_steps=20, finetune_lr=3e-3)
    report = trained.fit(task)
    after = trained.bits_per_pixel(content, truth, SAMPLES)
    history = report.details["history"]
    assert history[-1]["bits_per_pixel"] < history[0]["bits_per_pixel"]
    assert before.shape == after.shape == (len(SAMPLES),) and np.isfinite(before).all() and np.isfinite(after).all()
    assert after.mean() < 0.8 * before.mean(), (before.mean(), after.mean())
    np.testing.assert_array_equal(after, trained.bits_per_pixel(content, truth, SAMPLES))  # the dequantisation noise is seeded


def test_glow_samples_at_its_temperature(task):
    backend = tiny("glow", finetune_steps=5)
    backend.fit(task)
    assert type(backend.config)().temperature == 0.0  # the mode: cleaner glyphs than the paper's 0.7 (see GlowConfig)
    content = np.stack([task.content[c] for c in "dp"])[:, None]
    drawn = {}
    for temperature, seed in ((0.0, 0), (0.0, 1), (1.0, 0), (1.0, 1)):
        backend.config.temperature, backend.config.seed = temperature, seed
        drawn[temperature, seed] = backend.generate(content, "dp")
    assert set(np.unique(drawn[1.0, 0])) <= {0.0, 1.0}  # binary glyphs: the dequantised sample thresholded
    np.testing.assert_array_equal(drawn[0.0, 0], drawn[0.0, 1])  # at 0, every latent is its prior's mean: no chance left
    assert not np.array_equal(drawn[1.0, 0], drawn[1.0, 1])


def test_glow_needs_a_level_to_flow_through():
    with pytest.raises(GlyphgenError, match="setting 'widths' must hold at least 2 widths for glow"):
        get_backend("glow").config_class.from_dict({"widths": [16]})
