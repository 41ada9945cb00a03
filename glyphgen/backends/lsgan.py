"""Least-squares GAN (Mao et al. 2017): DCGAN's conditional players scored by squared error instead of cross-entropy.

The discriminator pulls its output on real glyphs to 1 and on generated ones
to 0, the generator pulls it on its own glyphs to 1 (the paper's a=0, b=c=1
coding, which minimises a Pearson chi-squared divergence). Unlike the sigmoid
cross-entropy, the squared error keeps penalising a generated glyph the
discriminator already calls real but that lies far from the real ones, so the
generator's gradient does not vanish as the discriminator wins. Players,
style conditioning and the L1 term are DCGAN's (:mod:`glyphgen.nn.dcgan`).
"""

from __future__ import annotations

from ..nn.dcgan import ConditionalDCGAN
from . import register_backend
from .adversarial import AdversarialBackend


@register_backend
class LSGANBackend(AdversarialBackend):
    name = "lsgan"
    network_class = ConditionalDCGAN
    loss_kind = "least-squares"
