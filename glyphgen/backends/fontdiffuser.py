"""A style-reference diffusion model in FontDiffuser's spirit: the few-shot network denoising from noise, DDIM in a few steps.

FontDiffuser (Yang et al., AAAI 2024) draws a character in a reference style by
denoising: a content encoder feeds the reference glyph into the denoiser at
several scales, a style encoder reads the style samples and the content
features attend to them (their MCA and RSI modules), and a style-contrastive
term (SCR) asks the generated glyph to carry its writer's style and not
another's. Here the denoiser is :class:`~glyphgen.nn.style_diffusion.StyleReferenceDenoiser`:
the few-shot generator's content pyramid, sample attention and style vector,
plus an encoder of the noisy glyph and the time step. It predicts the clean
glyph (x0) as ink logits, trained by binary cross-entropy at random noise
levels of a cosine schedule, and draws with deterministic DDIM in
``sample_steps`` jumps from seeded noise.

Pretraining (``glyphgen train fontdiffuser``) starts from the shipped
``fewshot`` generator (``translator``): the denoiser's new parts start at zero,
so it begins as the generator -- a good guess of x0 from any noise level -- and
learns what diffusion adds, to commit to one drawing where a deterministic
network averages the ones it cannot tell apart (a blurred stroke, a doubled
terminal). The style-contrastive term: the generated targets of each corpus
font, read by the style encoder, must match that font's samples better than the
other fonts' of the batch (InfoNCE).

Measured (``benchmarks/compare_corpus.py``, 10 validation fonts, photographed
samples): the shipped denoiser, 1,000 CPU steps from the generator, draws with
about the writer's pen and beats the reference font's IoU (0.488 against 0.469,
on 7 of 10 fonts) but loses to the generator it grew from (0.558) and reads
worse (content accuracy 0.919 against 0.970): where the generator's uncertain
strokes are soft and whole, the denoiser commits to one drawing, and at this
little training it commits to broken ones (a dotted ``j``, a ``W`` in pieces).
At 150 steps it was still within 0.02 IoU of the generator; more training moved
it away. 5, 10 or 20 DDIM steps draw alike (IoU 0.383-0.386 on one hard font).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..diffusion import NoiseSchedule, ddim_sample
from ..errors import GlyphgenError
from ..nn.style_diffusion import StyleReferenceDenoiser
from ..settings import AT_LEAST_ONE, Limit
from ..training import StepFunction
from . import register_backend
from .fewshot import Episodes, FewShotBackend, FewShotConfig, glyph_loss
from .learned import Drawer

CONTRAST_TEMPERATURE = 0.1  # InfoNCE's: SimCLR's range, sharp enough for a handful of fonts a batch


@dataclass
class FontDiffuserConfig(FewShotConfig):
    # Where a new denoiser's few-shot part starts: "bundled" (fewshot's shipped generator),
    # "none" (random) or a model folder from `glyphgen train fewshot`. Its architecture is the denoiser's.
    translator: str = "bundled"
    time_dim: int = 64
    diffusion_steps: int = 1000
    sample_steps: int = 10  # DDIM jumps at build time
    style_contrast: float = 0.01  # weight of the style-contrastive term (FontDiffuser's SCR weight)
    finetune_steps: int = 0
    coarse_steps: int = 0  # grown from the fewshot generator, never trained on half the canvas first
    # Pretraining: smaller episodes than fewshot's (each target costs a second encoder and the
    # style-contrastive reading), at a fine-tuning learning rate: the generator is trained already.
    pretrain_steps: int = 1500
    pretrain_lr: float = 1e-4
    ema_decay: float = 0.995
    samples_max: int = 12
    targets: int = 6

    LIMITS = {"time_dim": Limit(2), "diffusion_steps": Limit(2, 100_000), "sample_steps": AT_LEAST_ONE, "style_contrast": Limit(0.0)}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        if self.time_dim % 2:
            yield f"setting 'time_dim' must be even (the time step is embedded as pairs of sines and cosines), not {self.time_dim}"


@register_backend
class FontDiffuserBackend(FewShotBackend):
    name = "fontdiffuser"
    family = "diffusion"
    corpus_scripts = ("latin",)  # not yet grown into a Hangul model (fewshot is)
    config_class = FontDiffuserConfig
    network_class = StyleReferenceDenoiser
    learning_signal = "bce"
    tiny_settings = {**FewShotBackend.tiny_settings, "translator": "none", "diffusion_steps": 20, "sample_steps": 3, "time_dim": 16}
    gpu_settings = {**FewShotBackend.gpu_settings, "translator": "none", "sample_steps": 20, "time_dim": 128}

    def schedule(self) -> NoiseSchedule:
        return NoiseSchedule.cosine(self.config.diffusion_steps)

    def translator(self) -> FewShotBackend:
        """The few-shot family reading the ``translator`` weights a new denoiser starts from."""
        return FewShotBackend(FewShotConfig(weights=self.config.translator, seed=self.config.seed))

    def new_network(self, writers: int = 1) -> StyleReferenceDenoiser:
        """A denoiser; its few-shot part from the ``translator`` generator, whose architecture and canvas it takes."""
        c = self.config
        if c.translator == "none":
            return super().new_network(writers)
        translator = self.translator()
        generator = translator.network_from(translator.weights_folder())
        for name, value in generator.architecture.items():
            setattr(c, name, value)
        c.canvas_size = translator.config.canvas_size
        torch.manual_seed(c.seed)
        network = StyleReferenceDenoiser(**generator.architecture, time_dim=c.time_dim)
        unmatched = network.load_state_dict(generator.state_dict(), strict=False)
        if unmatched.unexpected_keys or any(not key.startswith(("noisy_encoder.", "injections.", "time.")) for key in unmatched.missing_keys):
            raise GlyphgenError(f"the translator weights in {translator.weights_folder()} do not fit a denoiser; set translator to none.")
        return network

    def model_canvas(self):
        if self.config.weights == "none" and self.config.translator != "none":  # a new denoiser draws on its translator's canvas
            return self.translator().model_canvas()
        return super().model_canvas()

    def episode_step(self, episodes: Episodes, draw_args: tuple) -> StepFunction:
        """Targets diffused to random steps, their clean glyphs predicted, plus the style-contrastive term."""
        schedule, device, c = self.schedule(), self.device, self.config

        def step(model: StyleReferenceDenoiser, rng: np.random.Generator) -> dict[str, torch.Tensor]:
            batch = {k: v.to(device) for k, v in episodes.draw(rng, *draw_args).items()}
            targets = batch["targets"]
            t = torch.from_numpy(rng.integers(0, schedule.steps, targets.shape[:2])).to(device)
            noise = torch.from_numpy(rng.standard_normal(targets.shape, dtype=np.float32)).to(device)
            noisy = schedule.add_noise((targets * 2 - 1).flatten(0, 1), noise.flatten(0, 1), t.flatten()).reshape(targets.shape)
            logits, memory = model(noisy, t, batch["content"], batch["samples"], batch["sample_index"], batch["target_index"], batch["pen"])
            losses = glyph_loss(logits, targets)
            if c.style_contrast and len(targets) > 1:
                losses["style_contrast"] = c.style_contrast * style_contrast(model, torch.sigmoid(logits), batch, memory.vector)
            return losses

        return step

    def drawer(self, network: StyleReferenceDenoiser, generator: torch.Generator) -> Drawer:
        memory, schedule, steps = self.sample_memory(network), self.schedule(), self.config.sample_steps

        def draw(content: torch.Tensor, chars: Sequence[str]) -> torch.Tensor:
            features = network.encode_content(content)

            def predict_noise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                clean = torch.sigmoid(network.denoise(features, x, t, memory, per_set=len(content)).float()) * 2 - 1
                return schedule.noise_from(x, clean, t, "x0")

            x = ddim_sample(predict_noise, schedule, tuple(content.shape), steps=steps, device=content.device, generator=generator)
            return (x + 1) / 2

        return draw


def style_contrast(model: StyleReferenceDenoiser, drawn: torch.Tensor, batch: dict[str, torch.Tensor], vectors: torch.Tensor) -> torch.Tensor:
    """InfoNCE: each set's drawn targets ``(B, T, 1, S, S)``, read as a style, must be nearest their own set's
    style ``vectors (B, style_dim)`` among the batch's (FontDiffuser's style-contrastive refinement)."""
    references = batch["content"][batch["target_index"]]
    mask = torch.ones(batch["target_index"].shape, dtype=torch.bool, device=drawn.device)
    read, _ = model.read_style(drawn, references, mask, batch["pen"])
    similarity = F.normalize(read, dim=1) @ F.normalize(vectors, dim=1).T / CONTRAST_TEMPERATURE
    return F.cross_entropy(similarity, torch.arange(len(read), device=read.device))
