"""The fontdiffuser family: a denoiser grown from the few-shot generator, trained and drawn as diffusion."""

from __future__ import annotations

import numpy as np
import torch

from glyphgen.backends.fontdiffuser import style_contrast

from .conftest import HAND_CHARS, HAND_SAMPLES, tiny

TARGETS = [c for c in HAND_CHARS if c not in HAND_SAMPLES]


def test_a_new_denoiser_starts_as_the_generator_it_grows_from(task, tmp_path):
    """Its additions start at zero: from any noise, DDIM ends on what the few-shot generator drew."""
    generator = tiny("fewshot", finetune_steps=4, keep_ink_mass=False)
    generator.fit(task)
    generator.save(tmp_path / "fewshot")
    content = np.stack([task.content[c] for c in TARGETS])[:, None]
    drawn = generator.generate(content, TARGETS)
    for seed in (0, 1):
        denoiser = tiny("fontdiffuser", translator=str(tmp_path / "fewshot"), finetune_steps=0, keep_ink_mass=False, seed=seed)
        denoiser.fit(task)
        assert denoiser.config.widths == generator.config.widths and denoiser.config.patch == generator.config.patch
        np.testing.assert_allclose(denoiser.generate(content, TARGETS), drawn, atol=1e-4)


def test_fine_tuning_teaches_the_denoiser_to_read_the_noisy_glyph(task, tmp_path):
    denoiser = tiny("fontdiffuser", finetune_steps=30)
    denoiser.fit(task)
    added = [p for name, p in denoiser.network.named_parameters() if name.startswith(("injections.", "time."))]
    assert any(p.abs().sum() > 0 for p in added)


def test_the_style_contrast_prefers_each_set_s_own_drawings(task):
    """InfoNCE is low when each set's drawn targets are its own writer's and high when they are another's."""
    backend = tiny("fontdiffuser", finetune_steps=0)
    backend.fit(task)
    model = backend.network.eval()
    content = torch.from_numpy(np.stack([task.content[c] for c in HAND_CHARS])[:, None])
    hand = torch.from_numpy(np.stack([task.style[c] for c in HAND_SAMPLES])[:, None])
    blank = torch.zeros_like(hand)
    sets = torch.stack([hand, blank])  # two "writers": the hand, and one who draws nothing
    batch = {"content": content, "target_index": torch.arange(len(HAND_SAMPLES)).repeat(2, 1), "pen": torch.full((2,), 0.06)}
    with torch.no_grad():
        references = content[: len(HAND_SAMPLES)].expand(2, -1, -1, -1, -1)
        vectors, _ = model.read_style(sets, references, torch.ones(2, len(HAND_SAMPLES), dtype=torch.bool), batch["pen"])
        own = style_contrast(model, sets, batch, vectors)
        swapped = style_contrast(model, sets.flip(0), batch, vectors)
    assert own < swapped
