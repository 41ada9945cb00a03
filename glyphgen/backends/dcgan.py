"""DCGAN (Radford et al. 2016): all-convolutional, batch-normalised players conditioned on the content glyph and the writer's style.

The paper's architecture (:mod:`glyphgen.nn.dcgan`): strided convolutions in
place of pooling, transposed convolutions to go up, batch norm in both players,
ReLU and a tanh output in the generator, leaky ReLU in the discriminator, Adam
at beta1 0.5; its game is the non-saturating one (the generator maximises
log D(fake)). The generator encodes the content glyph and decodes it under the
writer's style vector (the shared set encoder over their other glyphs) and
noise; the discriminator judges a glyph beside its content glyph given the
style. Batch norm draws with the running statistics of training, so a glyph
does not depend on which others share its batch.
"""

from __future__ import annotations

from ..nn.dcgan import ConditionalDCGAN
from . import register_backend
from .adversarial import AdversarialBackend


@register_backend
class DCGANBackend(AdversarialBackend):
    name = "dcgan"
    network_class = ConditionalDCGAN
    loss_kind = "non-saturating"
