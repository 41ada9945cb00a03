"""The adversarial families behave as their papers say: WGAN-GP's critic, StyleGAN's demodulation and mixing, DCGAN's players."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from glyphgen.backends import get_backend
from glyphgen.errors import GlyphgenError
from glyphgen.nn.adversarial import gradient_penalty
from glyphgen.nn.dcgan import ConditionalDCGAN, DCGANDiscriminator, DCGANGenerator
from glyphgen.nn.stylegan import ConditionalStyleGAN, ModulatedConv2d, mixed
from glyphgen.training import Trainer

from .conftest import tiny


def test_the_wgan_gp_critic_learns_the_wasserstein_distance_with_unit_gradients():
    """Real N(2, 1) against a frozen generator's N(0, 1): the critic's estimate grows to about the true distance, 2 sqrt(d)."""
    torch.manual_seed(0)
    dim = 2
    generator = nn.Linear(dim, dim)  # frozen: the critic alone trains
    with torch.no_grad():
        generator.weight.copy_(torch.eye(dim))
        generator.bias.zero_()
    mlp = nn.Sequential(nn.Linear(dim, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    model = SimpleNamespace(discriminator=lambda x, style: mlp(x).flatten())
    optimizer = torch.optim.Adam(mlp.parameters(), 1e-3, betas=get_backend("wgan-gp").betas)

    def minimize(loss, name):
        assert name == "discriminator"
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    backend = tiny("wgan-gp")
    backend.trainer = SimpleNamespace(minimize=minimize)
    estimates = []
    for _ in range(300):
        real, fake = torch.randn(128, dim) + 2, generator(torch.randn(128, dim)).detach()
        estimates.append(float(backend.judge(model, real, fake, None)["wasserstein"]))
    true = 2 * dim**0.5
    # A soft penalty settles where the distance's pull balances it: for a linear critic, gradients of 1 + W / (2 lambda), and so an estimate that much above W.
    settled = 1 + true / (2 * backend.config.penalty_weight)
    assert abs(estimates[0]) < 0.5 and 0.8 * true < sum(estimates[-20:]) / 20 < 1.1 * settled * true, estimates[::30]

    real, fake = torch.randn(512, dim) + 2, torch.randn(512, dim)
    share = torch.rand(512, 1)
    between = (share * real + (1 - share) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(mlp(between).sum(), between)
    norm = float(grad.norm(dim=1).mean())  # near the penalty's target 1, where the soft penalty settles
    assert abs(norm - settled) < 0.1 and abs(norm - 1) < 0.25, norm
    assert gradient_penalty(mlp, real, fake) < 0.06


def test_a_wgan_gp_step_trains_the_critic_n_critic_times(task, monkeypatch):
    calls = []
    minimize = Trainer.minimize
    monkeypatch.setattr(Trainer, "minimize", lambda self, loss, name=None: (calls.append(name or "generator"), minimize(self, loss, name)))
    report = tiny("wgan-gp", n_critic=3, finetune_steps=2).fit(task)
    assert calls == ["discriminator"] * 3 + ["generator"] + ["discriminator"] * 3 + ["generator"]
    assert {"wasserstein", "penalty"} <= report.details["history"][-1].keys()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in tiny("wgan-gp").new_network().discriminator.modules())  # per-sample penalty


@pytest.mark.parametrize("seed", range(4))
def test_demodulation_keeps_unit_variance_whatever_the_style(seed):
    torch.manual_seed(seed)
    x = torch.randn(6, 32, 32, 32)
    stds, plain = [], []
    for scale in (0.1, 1.0, 10.0):
        w = scale * torch.randn(6, 16)
        conv = ModulatedConv2d(32, 24, 3, 16)
        nn.init.normal_(conv.affine.weight, 0, scale)  # styles far from the initial ones
        with torch.no_grad():
            stds.append(float(conv(x, w).std()))
            conv.demodulate = False
            plain.append(float(conv(x, w).std()))
    assert all(0.8 < s < 1.25 for s in stds), stds
    assert max(plain) / min(plain) > 2, plain  # without demodulation the style sets the scale


def test_two_styles_switched_at_a_layer_differ_from_both_pure_styles():
    torch.manual_seed(0)
    model = ConditionalStyleGAN(
        [8, 16, 32], style_dim=8, noise_dim=4, w_dim=16, mapping_layers=2, discriminator_width=8, discriminator_layers=2, canvas_size=32
    )
    content = torch.zeros(1, 1, 32, 32)
    content[..., 8:24, 12:20] = 1.0
    first, second = model.w(torch.randn(2, 8), torch.zeros(2, 4)).split(1)
    layers = model.synthesis.layers
    assert layers == 5

    def drawn(ws):
        with torch.no_grad():
            return model.synthesize(content, ws, torch.Generator().manual_seed(0))  # the same per-layer noise each time

    pure_first, pure_second = drawn(mixed(first, first, layers, layers)), drawn(mixed(second, second, layers, layers))
    torch.testing.assert_close(drawn(mixed(first, second, layers, 0)), pure_second)
    torch.testing.assert_close(drawn(mixed(first, second, layers, layers)), pure_first)
    assert (pure_first - pure_second).abs().max() > 1e-3
    for crossover in range(1, layers):
        mix = drawn(mixed(first, second, layers, crossover))
        assert (mix - pure_first).abs().max() > 1e-4 and (mix - pure_second).abs().max() > 1e-4, crossover


def test_dcgan_players_are_all_convolutional_with_batch_norm():
    torch.manual_seed(0)
    model = ConditionalDCGAN([8, 16, 32], style_dim=8, noise_dim=4, discriminator_width=8, discriminator_layers=3, canvas_size=32)
    for player in (model.generator, model.discriminator):
        kinds = {type(m) for m in player.modules()}
        assert nn.BatchNorm2d in kinds and not any(issubclass(k, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) for k in kinds)
        assert not any(isinstance(m, nn.Linear) and m.out_features == 1 for m in player.modules())  # no fully connected output either
    assert any(isinstance(m, nn.ConvTranspose2d) for m in model.generator.modules())
    assert any(isinstance(m, nn.Conv2d) and m.stride == (2, 2) for m in model.generator.modules())

    content, condition = torch.rand(5, 1, 32, 32), torch.randn(5, 12)
    out = model.generator(content, condition)
    assert out.shape == (5, 1, 32, 32) and -1 <= out.min() and out.max() <= 1 and out.std() > 0  # tanh
    assert model.discriminator(torch.rand(5, 2, 32, 32), torch.randn(5, 8)).shape == (5,)
    model.eval()  # drawing uses the running statistics: a glyph does not depend on its batch
    with torch.no_grad():
        torch.testing.assert_close(model.generator(content[:1], condition[:1]), model.generator(content, condition)[:1])
        assert (model.generator(content[:1], condition[1:2]) - model.generator(content[:1], condition[:1])).abs().max() > 0  # the condition counts


def test_the_discriminator_needs_a_canvas_it_can_halve():
    with pytest.raises(GlyphgenError, match="must be a multiple of 16 for discriminator_layers 4"):
        get_backend("dcgan").config_class.from_dict({"canvas_size": 72, "discriminator_layers": 4})
    assert DCGANDiscriminator(2, 4, 2, 16, 3)(torch.rand(1, 2, 16, 16), torch.rand(1, 3)).shape == (1,)
    assert DCGANGenerator([4, 8], 3)(torch.rand(2, 1, 16, 16), torch.rand(2, 3)).shape == (2, 1, 16, 16)
