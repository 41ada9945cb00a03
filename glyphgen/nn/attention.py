"""Cross-attention from a target glyph to a set of reference glyphs."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class SetCrossAttention(nn.Module):
    """Each position of a target feature map gathers style from a set of sample feature maps.

    Queries come from the target's content features, keys from the content
    features of the sample characters, values from their style features: where
    the target's structure resembles a part of some sample (the stem of ``n`` and
    of ``h``), the sample's rendering of that part is copied over. This is the
    local-style idea of LF-Font, MX-Font and FsFont, written as one attention layer.

    Shapes: ``query (B, C, H, W)``; ``keys`` and ``values`` ``(B, K, C, H, W)``;
    ``mask (B, K)``, True for a real sample (sets are padded to one size).
    """

    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Conv2d(channels, channels, 1)
        self.to_k = nn.Conv2d(channels, channels, 1)
        self.to_v = nn.Conv2d(channels, channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)  # the layer starts as a no-op on the residual path
        nn.init.zeros_(self.out.bias)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, c, h, w = query.shape
        k = keys.shape[1]
        heads, d = self.heads, c // self.heads
        q = self.to_q(query).reshape(b, heads, d, h * w).transpose(2, 3)  # (B, heads, HW, d)
        key = self.to_k(keys.flatten(0, 1)).reshape(b, k, heads, d, -1).permute(0, 2, 1, 4, 3).reshape(b, heads, -1, d)
        value = self.to_v(values.flatten(0, 1)).reshape(b, k, heads, d, -1).permute(0, 2, 1, 4, 3).reshape(b, heads, -1, d)
        attn_mask = None
        if mask is not None:  # every position of a padded sample is hidden
            positions = keys.shape[-1] * keys.shape[-2]
            attn_mask = mask[:, None, None, :].repeat_interleave(positions, dim=-1)
        out = F.scaled_dot_product_attention(q, key, value, attn_mask=attn_mask)
        return self.out(out.transpose(2, 3).reshape(b, c, h, w))
