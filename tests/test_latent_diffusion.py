"""Latent diffusion (``ldm``) and the diffusion transformer (``dit``): their blocks, their two stages, their guidance.

What the contract test (tests/test_backends.py) does not see: adaLN-Zero starts
every DiT block as the identity and the whole DiT at zero, patches go back where
they came from, the autoencoder learns, the build-time fit keeps the first stage
frozen while the denoiser learns, and guidance at 0 is the null-style prediction.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.nn.latent import KLAutoencoder
from glyphgen.nn.transformer import DiffusionTransformer, DiTBlock, PatchEmbed, sincos_position_embedding, unpatchify

from .conftest import HAND_SAMPLES, tiny


def test_an_adaln_zero_block_starts_as_the_identity_whatever_the_condition():
    torch.manual_seed(0)
    block = DiTBlock(width=32, heads=4, condition_dim=16)
    x = torch.randn(3, 10, 32)
    for condition in (torch.zeros(3, 16), torch.randn(3, 16), 100 * torch.randn(3, 16)):
        assert torch.equal(block(x, condition), x)
    # Its attention and MLP are not zero themselves: only the gates are.
    assert block.attention(x).abs().max() > 0 and block.mlp(x).abs().max() > 0


def test_the_whole_dit_outputs_zero_at_init_and_not_after_a_step():
    torch.manual_seed(0)
    dit = DiffusionTransformer(in_channels=4, out_channels=2, patch=2, width=32, depth=2, heads=4, condition_dim=8)
    x, condition = torch.randn(2, 4, 8, 8), torch.randn(2, 8)
    out = dit(x, condition)
    assert out.shape == (2, 2, 8, 8) and torch.equal(out, torch.zeros_like(out))
    optimizer = torch.optim.Adam(dit.parameters(), lr=1e-2)
    (dit(x, condition) - 1).pow(2).mean().backward()
    optimizer.step()
    assert dit(x, condition).abs().max() > 0  # zero at the start is not stuck at zero: the gradient reaches the last layer


def test_unpatchify_puts_each_token_back_where_patch_embed_took_it():
    grid, patch = 3, 2
    tokens = torch.arange(grid * grid, dtype=torch.float32)[None, :, None].expand(1, -1, patch * patch)
    image = unpatchify(tokens, channels=1, patch=patch)[0, 0]
    for row in range(grid):
        for col in range(grid):
            assert (image[row * patch : (row + 1) * patch, col * patch : (col + 1) * patch] == row * grid + col).all()
    # PatchEmbed's tokens run in the same order: a patch with ink only in cell (1, 2) lights token 1 * grid + 2.
    embed = PatchEmbed(1, 4, patch)
    picture = torch.zeros(1, 1, grid * patch, grid * patch)
    picture[..., 1 * patch : 2 * patch, 2 * patch : 3 * patch] = 1
    moved = (embed(picture) - embed(torch.zeros_like(picture))).abs().sum(-1)[0]
    assert moved.argmax().item() == 1 * grid + 2 and (moved > 0).sum() == 1


def test_the_position_code_is_rows_then_columns_of_sines_and_cosines():
    code = sincos_position_embedding(16, 4)
    assert code.shape == (16, 16)
    rows, cols = code[:, :8].reshape(4, 4, 8), code[:, 8:].reshape(4, 4, 8)
    assert torch.allclose(rows, rows[:, :1].expand_as(rows)) and torch.allclose(cols, cols[:1].expand_as(cols))
    assert len({tuple(r.tolist()) for r in code}) == 16  # every position its own code
    with pytest.raises(ValueError):
        sincos_position_embedding(6, 4)


def test_the_autoencoder_learns_to_reconstruct_tiny_glyphs(task):
    torch.manual_seed(0)
    glyphs = torch.from_numpy(np.stack([task.style[c] for c in HAND_SAMPLES])[:, None])
    autoencoder = KLAutoencoder([8, 16], latent_channels=2)
    optimizer = torch.optim.Adam(autoencoder.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        logits, kl = autoencoder(glyphs, torch.randn(autoencoder.latent_shape(glyphs)))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, glyphs) + 1e-4 * kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.6 * np.mean(losses[:3]), losses
    latent = autoencoder.encode(glyphs)
    assert latent.shape == (len(glyphs), 2, 16, 16) and latent.abs().max() <= 1  # bounded as the sampler's clip expects


@pytest.mark.parametrize("name", ["ldm", "dit"])
def test_the_build_time_fit_keeps_the_first_stage_frozen_while_the_denoiser_learns(name, task):
    report = tiny(name, autoencoder_steps=4, finetune_steps=4).fit(task)
    assert report.details["autoencoder"]["history"][-1].keys() >= {"reconstruction", "kl"}
    assert "denoising" in report.details["history"][-1]
    # Without a first stage, the diffusion stage leaves the autoencoder exactly as it was built.
    frozen = tiny(name, autoencoder_steps=0, finetune_steps=4)
    start = {k: v.clone() for k, v in frozen.new_network().state_dict().items()}
    frozen.fit(task)
    after = frozen.network.state_dict()
    assert all(torch.equal(start[k], after[k].cpu()) for k in start if k.startswith("autoencoder."))
    assert not all(torch.equal(start[k], after[k].cpu()) for k in start if k.startswith("denoiser."))


@pytest.mark.parametrize("name", ["ldm", "dit"])
def test_guidance_at_zero_is_the_null_style_prediction_and_at_one_the_conditional(name, task):
    backend = tiny(name)
    model = backend.new_network().eval()
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():  # away from DiT's zero start, where every prediction is zero
            parameter.add_(0.1 * torch.randn_like(parameter))
    size = backend.config.latent_size
    z_t, content = torch.randn(3, 2, size, size), torch.randn(3, 2, size, size).clamp(-1, 1)
    t, style = torch.tensor([0, 20, 49]), torch.randn(3, backend.config.style_dim)
    with torch.no_grad():
        null = model.denoise(z_t, content, t, model.denoiser.style.null.expand_as(style))
        conditional = model.denoise(z_t, content, t, style)
        assert not torch.allclose(null, conditional)
        torch.testing.assert_close(backend.prediction(model, z_t, content, t, style, 0.0), null, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(backend.prediction(model, z_t, content, t, style, 1.0), conditional, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(backend.prediction(model, z_t, content, t, style, 3.0), null + 3 * (conditional - null), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    "name, values, fragment",
    [
        ("ldm", {"autoencoder_pretrain_steps": 500, "pretrain_steps": 500}, "setting 'autoencoder_pretrain_steps' (500) must be below pretrain_steps (500)"),
        ("ldm", {"canvas_size": 36}, "setting 'canvas_size' must be a multiple of 8"),
        ("ldm", {"prediction": "score"}, "setting 'prediction' must be"),
        ("dit", {"patch": 3}, "setting 'patch' must divide the latent's side (16"),
        ("dit", {"heads": 5}, "setting 'heads' must divide width (128)"),
        ("dit", {"style_dropout": 1.0}, "setting 'style_dropout' must be a number ≥ 0 and < 1"),
    ],
)
def test_settings_that_cannot_draw_are_refused_in_one_sentence(name, values, fragment):
    from glyphgen.backends import get_backend

    with pytest.raises(GlyphgenError) as caught:
        get_backend(name).config_class.from_dict(values, source="settings")
    assert fragment in str(caught.value) and str(caught.value).endswith("."), str(caught.value)
