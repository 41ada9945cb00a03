"""The shared network blocks behave as the backends rely on."""

from __future__ import annotations

import torch

from glyphgen.nn import AdaIN, PatchGAN, SetCrossAttention, UNet


def test_unet_and_patchgan_shapes():
    x = torch.rand(2, 1, 32, 32)
    assert UNet(1, 1, (8, 16, 32)).forward(x).shape == (2, 1, 32, 32)
    assert PatchGAN(2, 8)(torch.cat([x, x], dim=1)).shape == (2, 1, 4, 4)


def test_attention_ignores_padded_samples():
    torch.manual_seed(0)
    attention = SetCrossAttention(16, heads=2)
    torch.nn.init.normal_(attention.out.weight)  # a trained layer, not the no-op it starts as
    query = torch.rand(1, 16, 4, 4)
    keys, values = torch.rand(1, 3, 16, 4, 4), torch.rand(1, 3, 16, 4, 4)
    two = attention(query, keys[:, :2], values[:, :2])
    values[:, 2] *= 100  # whatever the padding holds
    padded = attention(query, keys, values, mask=torch.tensor([[True, True, False]]))
    torch.testing.assert_close(two, padded)


def test_adain_takes_scale_and_shift_from_the_style():
    adain = AdaIN(4, style_dim=3)
    x = torch.rand(2, 4, 8, 8)
    plain = adain(x, torch.zeros(2, 3))  # starts as instance norm
    torch.testing.assert_close(plain.mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5, rtol=0)
    torch.nn.init.normal_(adain.affine.weight)
    styled = adain(x, torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))
    assert not torch.allclose(styled[0].mean(dim=(1, 2)), styled[1].mean(dim=(1, 2)))
