"""Neural building blocks shared by the learned backends.

No backend defines its own convolution stacks: the pieces here (normalised
residual blocks, style modulation, glyph encoders, cross-attention over sample
sets, a U-Net and a PatchGAN discriminator) are the vocabulary every network in
``glyphgen.backends`` is written in.
"""

from .attention import SetCrossAttention
from .blocks import AdaIN, ConvBlock, Downsample, ResBlock, StyleResBlock, Upsample
from .encoders import GlyphEncoder, GuidedStyle, PairStyleEncoder, SetStyleEncoder
from .latent import KLAutoencoder
from .patchgan import PatchGAN
from .transformer import DiffusionTransformer, DiTBlock
from .unet import ConditionalUNet, UNet

__all__ = [
    "AdaIN",
    "ConditionalUNet",
    "ConvBlock",
    "DiTBlock",
    "DiffusionTransformer",
    "Downsample",
    "GlyphEncoder",
    "GuidedStyle",
    "KLAutoencoder",
    "PairStyleEncoder",
    "SetStyleEncoder",
    "PatchGAN",
    "ResBlock",
    "SetCrossAttention",
    "StyleResBlock",
    "UNet",
    "Upsample",
]
