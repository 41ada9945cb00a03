"""What the autoencoder families add to the contract of tests/test_backends.py: the quantiser, VQ-VAE codes, reconstruction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from glyphgen.backends import FewShotTask, get_backend
from glyphgen.nn.quantize import VectorQuantizer, codebook_usage
from glyphgen.training import evaluation

from .conftest import HAND_SAMPLES as SAMPLES


def fitted(name: str, task: FewShotTask, steps: int):
    backend_class = get_backend(name)
    backend = backend_class(backend_class.config_class.from_dict({**backend_class.tiny_settings, "finetune_steps": steps}))
    return backend, backend.fit(task)


def pairs(task: FewShotTask) -> tuple[torch.Tensor, torch.Tensor]:
    """The content glyphs and the person's glyphs of the samples, (N, 1, S, S) each."""
    content = torch.from_numpy(np.stack([task.content[c] for c in SAMPLES])[:, None])
    return content, torch.from_numpy(np.stack([task.style[c] for c in SAMPLES])[:, None])


@pytest.fixture(scope="module")
def vqvae(task):
    return fitted("vqvae", task, 50)


# -- the vector quantiser -------------------------------------------------------------


def test_quantising_a_codebook_vector_returns_its_own_index():
    quantizer = VectorQuantizer(16, 4)
    quantizer.codebook.data.copy_(torch.randn(16, 4, generator=torch.Generator().manual_seed(0)))
    z_e = quantizer.codebook.detach().T.reshape(1, 4, 4, 4)  # each code's vector at its own position
    quantized = quantizer(z_e)
    assert quantized.codes.flatten().tolist() == list(range(16))
    torch.testing.assert_close(quantized.vectors, z_e)
    assert float(quantized.codebook_loss.detach()) == 0 and float(quantized.commitment_loss.detach()) == 0


def test_the_codebook_and_commitment_losses_are_the_papers_and_train_what_they_should():
    generator = torch.Generator().manual_seed(1)
    quantizer = VectorQuantizer(8, 3, beta=0.25)
    quantizer.codebook.data.copy_(torch.randn(8, 3, generator=generator))
    z_e = torch.randn(2, 3, 5, 5, generator=generator, requires_grad=True)
    quantized = quantizer(z_e)
    chosen = quantizer.codebook[quantized.codes].permute(0, 3, 1, 2)
    squared = (z_e - chosen).pow(2).mean()
    torch.testing.assert_close(quantized.codebook_loss, squared)  # ||sg[z_e] - e||^2
    torch.testing.assert_close(quantized.commitment_loss, 0.25 * squared)  # beta ||z_e - sg[e]||^2

    quantized.codebook_loss.backward(retain_graph=True)  # moves the codebook, not the encoder
    assert z_e.grad is None and quantizer.codebook.grad.abs().sum() > 0
    quantizer.codebook.grad = None
    quantized.commitment_loss.backward(retain_graph=True)  # moves the encoder, not the codebook
    assert quantizer.codebook.grad is None and z_e.grad.abs().sum() > 0

    z_e.grad = None
    upstream = torch.randn(z_e.shape, generator=generator)
    (quantized.vectors * upstream).sum().backward()  # straight through: the decoder's gradient lands on z_e unchanged
    torch.testing.assert_close(z_e.grad, upstream)
    torch.testing.assert_close(quantized.vectors.detach(), chosen.detach())


def test_an_ema_codebook_moves_to_the_mean_of_the_encodings_it_stands_for():
    generator = torch.Generator().manual_seed(2)
    centres = torch.tensor([[-3.0, 0.0], [3.0, 1.0]])
    points = centres.repeat_interleave(50, 0) + 0.3 * torch.randn(100, 2, generator=generator)
    z_e = points.T.reshape(1, 2, 10, 10)
    quantizer = VectorQuantizer(2, 2, ema_decay=0.8).train()
    quantizer.codebook.data.copy_(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
    for _ in range(60):
        quantized = quantizer(z_e)
    assert float(quantized.codebook_loss) == 0  # EMA, not a loss, trains the codebook
    torch.testing.assert_close(quantizer.codebook.data, torch.stack([points[:50].mean(0), points[50:].mean(0)]), atol=1e-3, rtol=0)


def test_codebook_usage_is_perplexity_and_fraction_used():
    assert codebook_usage(torch.arange(8), 8) == pytest.approx({"perplexity": 8.0, "codes_used": 1.0})
    assert codebook_usage(torch.full((10,), 3), 8) == pytest.approx({"perplexity": 1.0, "codes_used": 1 / 8})
    assert codebook_usage(torch.tensor([0, 0, 1, 1]), 16) == pytest.approx({"perplexity": 2.0, "codes_used": 2 / 16})


# -- the VQ-VAE ---------------------------------------------------------------------


def test_vqvae_codes_round_trip_through_the_decoder(vqvae, task):
    backend, _ = vqvae
    network = backend.network
    content, style = pairs(task)
    with evaluation(network), torch.no_grad():
        codes = network.tokens(style)
        decoded = torch.sigmoid(network.decode_tokens(codes, content, network.style.expand(len(style), -1)))
        again = network.tokens(decoded)
    assert (again == codes).float().mean() > 0.75  # 0.83 measured; the misses are cells on a stroke's edge


def test_vqvae_losses_fall_and_the_report_gives_codebook_usage(vqvae):
    backend, report = vqvae
    history = report.details["history"]
    for loss in ("reconstruction", "commitment"):
        assert np.mean([h[loss] for h in history[-2:]]) < 0.9 * np.mean([h[loss] for h in history[:2]]), (loss, history)
    usage, size = report.details["codebook"], backend.config.codebook_size
    assert 1 <= usage["perplexity"] <= size and 1 / size <= usage["codes_used"] <= 1
    assert "codebook perplexity" in report.summary and "of the codes used" in report.summary


def test_vqvae_bits_per_pixel_is_a_bound_that_training_lowers(vqvae, task):
    trained, _ = vqvae
    untrained, _ = fitted("vqvae", task, 0)
    content, style = (t.numpy() for t in pairs(task))
    before, after = untrained.bits_per_pixel(content, style, SAMPLES), trained.bits_per_pixel(content, style, SAMPLES)
    assert after.shape == (len(SAMPLES),) and np.isfinite(after).all()
    grid = task.canvas.size // 2 ** (len(trained.config.widths) - 1)
    prior = grid**2 * math.log2(trained.config.codebook_size) / task.canvas.size**2  # the uniform prior's bits, a floor
    assert (after > prior).all() and after.mean() < before.mean()


# -- the autoencoder -----------------------------------------------------------------


def test_the_autoencoder_reconstructs_its_training_glyphs_better_after_training(task):
    content, style = pairs(task)

    def reconstruction_error(steps: int) -> float:
        network = fitted("autoencoder", task, steps)[0].network
        with evaluation(network), torch.no_grad():
            return float(F.binary_cross_entropy_with_logits(network.decode(content, network.encode(style, content)), style))

    assert reconstruction_error(40) < 0.5 * reconstruction_error(0)


def test_the_autoencoder_has_no_likelihood(task):
    backend, _ = fitted("autoencoder", task, 1)
    content, style = (t.numpy() for t in pairs(task))
    assert backend.bits_per_pixel(content, style, SAMPLES) is None
