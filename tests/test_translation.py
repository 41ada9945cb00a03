"""What the image-to-image families (cgan, pix2pix, cyclegan, vae, ddpm) add to the contract of tests/test_backends.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from glyphgen.diffusion import NoiseSchedule, ddim_sample, ddim_timesteps, ddpm_sample, guided
from glyphgen.errors import GlyphgenError

from .conftest import tiny


def test_a_time_budget_stops_training_early(task):
    import time

    task.deadline = time.monotonic() + 0.5
    try:
        report = tiny("pix2pix", finetune_steps=100000).fit(task)
    finally:
        task.deadline = None
    assert "stopped at the time budget" in report.summary


def test_ddim_and_ddpm_sample_the_same_shape(task):
    backend = tiny("ddpm", finetune_steps=3, diffusion_steps=20)
    backend.fit(task)
    content = np.stack([task.content[c] for c in "dpq"])[:, None]
    ddim = backend.generate(content, "dpq")
    backend.config.sampler = "ddpm"
    ddpm = backend.generate(content, "dpq")
    assert ddim.shape == ddpm.shape == (3, 1, 32, 32)
    backend.config.sampler = "euler"
    with pytest.raises(GlyphgenError, match="sampler"):
        backend.generate(content, "dpq")
    with pytest.raises(GlyphgenError, match="sampler"):  # and before any training
        tiny("ddpm", sampler="euler").fit(task)


def test_characters_outside_the_script_are_an_error_not_a_collision(task):
    from glyphgen.scripts import LATIN

    backend = tiny("cgan", finetune_steps=1)
    backend.fit(task)
    assert LATIN.vocabulary.index("Aé").tolist() == [0x41, 0xE9]
    with pytest.raises(GlyphgenError, match="outside the latin character vocabulary"):
        backend.generate(np.stack([task.content["d"]])[:, None], ["가"])


# -- the noise schedule, on its own -------------------------------------------------


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_the_noise_schedule_destroys_the_signal_gradually(kind):
    schedule = getattr(NoiseSchedule, kind)(100)
    abar = schedule.alphas_cumprod
    assert schedule.steps == 100 and torch.all(abar[1:] < abar[:-1]) and 0.9 < abar[0] < 1 and abar[-1] < 0.02
    x0 = torch.ones(4000, 1)
    noisy = schedule.add_noise(x0, torch.randn(4000, 1, generator=torch.Generator().manual_seed(0)), torch.full((4000,), 49))
    assert noisy.mean().item() == pytest.approx(abar[49].sqrt().item(), abs=0.05)
    assert noisy.var().item() == pytest.approx(1 - abar[49].item(), rel=0.1)


def test_the_clean_image_is_recovered_from_its_noise():
    schedule = NoiseSchedule.cosine(50)
    x0 = torch.rand(3, 1, 8, 8) * 2 - 1
    noise = torch.randn(3, 1, 8, 8)
    t = torch.tensor([0, 20, 49])
    torch.testing.assert_close(schedule.predict_x0(schedule.add_noise(x0, noise, t), noise, t), x0, atol=1e-4, rtol=1e-4)


def test_samplers_with_a_perfect_noise_predictor_land_on_the_image():
    schedule = NoiseSchedule.linear(50)
    x0 = torch.rand(2, 1, 8, 8) * 1.6 - 0.8

    def oracle(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        abar = schedule.alphas_cumprod.float()[t].view(-1, 1, 1, 1)
        return (x - abar.sqrt() * x0) / (1 - abar).sqrt()

    generator = torch.Generator().manual_seed(0)
    for drawn in (
        ddim_sample(oracle, schedule, x0.shape, steps=5, device=torch.device("cpu"), generator=generator),
        ddpm_sample(oracle, schedule, x0.shape, device=torch.device("cpu"), generator=generator),
    ):
        torch.testing.assert_close(drawn, x0, atol=1e-3, rtol=1e-3)
    assert ddim_timesteps(50, 5) == [49, 37, 24, 12, 0] and ddim_timesteps(50, 1) == [49]


def test_pretrained_weights_are_checked(task, tmp_path, monkeypatch):
    with pytest.raises(GlyphgenError, match="no saved backend here"):
        tiny("pix2pix", weights=str(tmp_path / "nowhere")).fit(task)
    pix2pix = tiny("pix2pix", finetune_steps=1)
    pix2pix.fit(task)
    pix2pix.save(tmp_path / "pix2pix")
    with pytest.raises(GlyphgenError, match="saved by backend 'pix2pix', not 'cgan'"):
        tiny("cgan", weights=str(tmp_path / "pix2pix")).fit(task)
    monkeypatch.setattr("glyphgen.backends.learned.bundled_weights", lambda name, script="latin": tmp_path / "not-shipped")
    with pytest.raises(GlyphgenError, match="ships no pretrained weights"):
        tiny("cyclegan", weights="bundled").fit(task)


DDP_PRETRAIN = """
import os
from pathlib import Path
from glyphgen.backends import get_backend
backend_class = get_backend("pix2pix")
settings = {{"canvas_size": 32, "widths": [8, 16], "pretrain_batch_size": 4, "pretrain_steps": 4, "checkpoint_every": 2, "device": "cpu"}}
backend = backend_class(backend_class.config_class.from_dict(settings))
backend.pretrain(Path({corpus!r}), Path({out!r}))
weights = [round(float(p.double().sum()), 10) for p in backend.network.parameters()]
Path({out!r}, "rank" + os.environ["RANK"] + ".json").write_text(str(weights))
"""


def test_a_gan_pretrains_under_two_process_ddp(tiny_corpus, tmp_path, free_port):
    """Generator and discriminator both stay in step across ranks (their gradients are averaged by hand)."""
    import os
    import subprocess
    import sys

    from glyphgen.training import latest_checkpoint

    script = tmp_path / "worker.py"
    script.write_text(DDP_PRETRAIN.format(corpus=str(tiny_corpus), out=str(tmp_path / "run")))
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(free_port), str(script)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    # torchrun's own traceback ends stderr; the workers' messages (the cause) come before it
    assert result.returncode == 0, result.stderr[:4000]
    assert (tmp_path / "run" / "rank0.json").read_text() == (tmp_path / "run" / "rank1.json").read_text()
    state = json.loads((latest_checkpoint(tmp_path / "run" / "checkpoints") / "state.json").read_text())
    assert state["step"] == 4 and set(state["rng"]) == {"0", "1"}
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()


@pytest.mark.parametrize("prediction", ["eps", "x0", "v"])
def test_every_prediction_kind_gives_back_the_noise(prediction):
    schedule = NoiseSchedule.cosine(100)
    generator = torch.Generator().manual_seed(0)
    x0 = torch.rand((4, 1, 8, 8), generator=generator) * 2 - 1
    noise = torch.randn(x0.shape, generator=generator)
    t = torch.tensor([0, 10, 50, 99])
    output = schedule.target(x0, noise, t, prediction)
    assert torch.allclose(schedule.noise_from(schedule.add_noise(x0, noise, t), output, t, prediction), noise, atol=1e-4)


def test_guidance_scale_zero_is_the_unconditional_prediction_and_one_the_conditional():
    conditional, unconditional = torch.randn(3, 5), torch.randn(3, 5)
    assert torch.equal(guided(conditional, unconditional, 0.0), unconditional)
    assert torch.allclose(guided(conditional, unconditional, 1.0), conditional)


def test_ddpm_guidance_scale_zero_draws_without_the_style_and_one_with_it(task):
    backend = tiny("ddpm", finetune_steps=2)
    backend.fit(task)
    model, content = backend.network.eval(), torch.from_numpy(np.stack([task.content[c] for c in "dpq"])[:, None])
    x, t = torch.randn(content.shape, generator=torch.Generator().manual_seed(1)), torch.tensor([3, 7, 15])
    schedule, prediction = backend.schedule(), backend.config.prediction
    with torch.no_grad():
        unstyled = schedule.noise_from(x, model(x, content, t, model.style.null.expand(3, -1)), t, prediction)
        styled = schedule.noise_from(x, model(x, content, t, model.read_style(backend.samples).expand(3, -1)), t, prediction)
        backend.config.guidance_scale = 0.0
        assert torch.allclose(backend.noise_predictor(model, content)(x, t), unstyled, atol=1e-5)
        backend.config.guidance_scale = 1.0
        assert torch.allclose(backend.noise_predictor(model, content)(x, t), styled, atol=1e-5)
    assert not torch.allclose(styled, unstyled, atol=1e-4)  # the style is read, not ignored


def test_the_style_set_comes_from_the_same_writer_in_pretraining():
    from glyphgen.backends.translation import other_glyphs

    present = np.array([[True, False, True, True, False], [False, True, False, False, True]])
    picked = other_glyphs(np.random.default_rng(0), present, 2)
    assert picked.shape == (2, 2)
    assert all(present[row, column] for row in range(2) for column in picked[row])
    assert all(len(set(row)) == 2 for row in picked)
