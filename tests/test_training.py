"""The shared training loop: seeding, checkpoints, resume, devices, DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from glyphgen.errors import GlyphgenError
from glyphgen.training import Trainer, latest_checkpoint, load_checkpoint, load_weights, resolve_device


def regression_step(model: nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    x = torch.from_numpy(rng.normal(size=(16, 4)).astype(np.float32))
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    return {"mse": ((model(x) - y) ** 2).mean()}


def make_trainer(tmp_path, **kwargs) -> Trainer:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    return Trainer(
        model,
        torch.optim.AdamW(model.parameters(), lr=0.05),
        device=torch.device("cpu"),
        seed=3,
        config={"task": "regression"},
        checkpoint_dir=tmp_path,
        **kwargs,
    )


def test_loss_falls_and_checkpoints_are_written(tmp_path):
    trainer = make_trainer(tmp_path, checkpoint_every=10)
    history = trainer.run(40, regression_step, log_every=10)
    assert history[-1]["mse"] < 0.5 * history[0]["mse"]
    assert latest_checkpoint(tmp_path).name == "step-0000040"
    assert {p.name for p in latest_checkpoint(tmp_path).iterdir()} == {"model.safetensors", "optimizer.safetensors", "state.json"}
    assert not list(tmp_path.glob(".*tmp"))  # nothing half-written left behind


def test_a_resumed_run_ends_exactly_where_an_uninterrupted_one_does(tmp_path):
    whole = make_trainer(tmp_path / "whole", ema_decay=0.9)
    whole.run(12, regression_step)

    first = make_trainer(tmp_path / "split", checkpoint_every=5, ema_decay=0.9)
    first.run(5, regression_step)
    second = make_trainer(tmp_path / "split", checkpoint_every=5, ema_decay=0.9)
    assert second.resume() and second.step == 5
    second.run(12, regression_step)
    for a, b in zip(whole.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(whole.final_model.state_dict().values(), second.final_model.state_dict().values()):
        assert torch.allclose(a, b)


def test_resume_refuses_a_run_with_other_settings(tmp_path):
    make_trainer(tmp_path, checkpoint_every=2).run(2, regression_step)
    other = make_trainer(tmp_path)
    other.config = {"task": "something else"}
    with pytest.raises(GlyphgenError, match="other settings"):
        other.resume()


def test_damaged_and_foreign_weights_are_one_clear_error(tmp_path):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00\x01 this is not a weights file")
    with pytest.raises(GlyphgenError, match="corrupt.safetensors: not a safetensors"):
        load_weights(nn.Linear(4, 1), corrupt)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3, 3)}, foreign)
    with pytest.raises(GlyphgenError, match="foreign.safetensors: these weights belong to another model"):
        load_weights(nn.Linear(4, 1), foreign)
    with pytest.raises(GlyphgenError, match="not a complete checkpoint"):
        load_checkpoint(tmp_path, nn.Linear(4, 1))


def test_devices():
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(GlyphgenError, match="choose one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(GlyphgenError, match="--device cuda: this machine has no CUDA GPU"):
            resolve_device("cuda")


DDP_WORKER = """
import sys, torch, numpy as np
from torch import nn
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_training import regression_step
from glyphgen.training import Trainer
torch.manual_seed(0)
model = nn.Linear(4, 1)
trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.05), device=torch.device("cpu"), seed=3,
                  config={{}}, checkpoint_dir=Path({out!r}), checkpoint_every=5)
trainer.run(10, regression_step)
Path({out!r}, f"rank{{trainer.world.rank}}.json").write_text(str([p.tolist() for p in model.parameters()]))
print("world", trainer.world.size)
"""


def test_two_process_gloo_ddp_run_completes_in_step(tmp_path, free_port):
    script = tmp_path / "worker.py"
    script.write_text(DDP_WORKER.format(tests=os.path.dirname(__file__), out=str(tmp_path)))
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(free_port), str(script)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("world 2") == 2
    # gradients were averaged: both ranks hold the same weights, and rank 0 wrote the checkpoints
    assert (tmp_path / "rank0.json").read_text() == (tmp_path / "rank1.json").read_text()
    state = json.loads((latest_checkpoint(tmp_path) / "state.json").read_text())
    assert state["step"] == 10 and set(state["rng"]) == {"0", "1"}


# -- every family's shape of training --------------------------------------------------


class TinyRBM(nn.Module):
    """A Bernoulli RBM on 8 visible units: trained by contrastive divergence, no gradient anywhere."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(8, 4))
        self.visible_bias = nn.Parameter(torch.zeros(8))
        self.hidden_bias = nn.Parameter(torch.zeros(4))

    def hidden(self, v):
        return torch.sigmoid(v @ self.weight + self.hidden_bias)

    def visible(self, h):
        return torch.sigmoid(h @ self.weight.T + self.visible_bias)


def cd1_step(model: TinyRBM, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """CD-1 on two repeated patterns: the update is the data's statistics minus the model's."""
    patterns = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]], dtype=torch.float32)
    v0 = patterns[torch.from_numpy(rng.integers(0, 2, 16))]
    with torch.no_grad():
        h0 = model.hidden(v0)
        v1 = model.visible(torch.bernoulli(h0))
        h1 = model.hidden(v1)
        model.weight += 0.5 * (v0.T @ h0 - v1.T @ h1) / len(v0)
        model.visible_bias += 0.5 * (v0 - v1).mean(0)
        model.hidden_bias += 0.5 * (h0 - h1).mean(0)
    return {"reconstruction": ((v0 - v1) ** 2).mean()}


def test_an_update_without_a_gradient_trains_and_resumes(tmp_path):
    def trainer(folder):
        torch.manual_seed(0)
        model = TinyRBM()
        return Trainer(
            model, torch.optim.SGD(model.parameters(), lr=0.0), device=torch.device("cpu"), seed=1, config={}, checkpoint_dir=folder, checkpoint_every=20
        )

    whole = trainer(tmp_path / "whole")
    history = whole.run(200, cd1_step, log_every=20)
    assert history[-1]["reconstruction"] < 0.5 * history[0]["reconstruction"], history
    trainer(tmp_path / "split").run(100, cd1_step, log_every=20)
    second = trainer(tmp_path / "split")
    assert second.resume() and second.step == 100
    second.run(200, cd1_step, log_every=20)
    for a, b in zip(whole.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)


class TinyGAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = nn.Linear(2, 2)
        self.critic = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))


def test_n_critic_steps_then_a_generator_step_with_the_gradient_penalty(tmp_path):
    """WGAN-GP's schedule: five critic updates per generator update, each optimizer stepped and resumed."""
    from glyphgen.nn.adversarial import discriminator_loss, generator_loss, gradient_penalty

    def make(folder):
        torch.manual_seed(0)
        gan = TinyGAN()
        optimizers = {
            "generator": torch.optim.Adam(gan.generator.parameters(), lr=1e-2, betas=(0.0, 0.9)),
            "critic": torch.optim.Adam(gan.critic.parameters(), lr=1e-2, betas=(0.0, 0.9)),
        }
        return Trainer(gan, optimizers, device=torch.device("cpu"), seed=2, config={}, checkpoint_dir=folder, checkpoint_every=5, grad_clip=None)

    def step_of(trainer):
        def step(gan: TinyGAN, rng: np.random.Generator) -> dict[str, torch.Tensor]:
            for _ in range(5):
                real = torch.from_numpy(rng.normal(size=(32, 2)).astype(np.float32)) * 0.1 + torch.tensor([2.0, -1.0])
                fake = gan.generator(torch.from_numpy(rng.normal(size=(32, 2)).astype(np.float32)))
                critic = discriminator_loss("wasserstein", gan.critic(real), gan.critic(fake.detach())) + 10 * gradient_penalty(gan.critic, real, fake)
                trainer.minimize(critic, "critic")
            fake = gan.generator(torch.from_numpy(rng.normal(size=(32, 2)).astype(np.float32)))
            return {"adversarial": generator_loss("wasserstein", gan.critic(fake)), "critic": critic.detach(), "mean": fake.mean(0)[0].detach()}

        return step

    whole = make(tmp_path / "whole")
    history = whole.run(150, step_of(whole), log_every=10)
    assert whole.optimizers["critic"].state_dict()["state"][0]["step"] == 5 * whole.optimizers["generator"].state_dict()["state"][0]["step"] == 750
    assert abs(history[-1]["mean"] - 2.0) < abs(history[0]["mean"] - 2.0) / 2, history  # the generator moved towards the data

    first = make(tmp_path / "split")
    first.run(10, step_of(first))
    second = make(tmp_path / "split")
    assert second.resume()
    second.run(150, step_of(second))
    for a, b in zip(whole.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)


def test_stages_train_in_turn_with_the_earlier_one_frozen(tmp_path):
    """A first stage (an autoencoder), then a second (a head on its code) while the first stays exactly as it was."""
    from glyphgen.training import Stage

    class TwoStage(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder, self.head = nn.Linear(4, 2), nn.Linear(2, 4), nn.Linear(2, 1)

    def autoencode(model, rng):
        x = torch.from_numpy(rng.normal(size=(16, 4)).astype(np.float32))
        return {"reconstruction": ((model.decoder(model.encoder(x)) - x) ** 2).mean()}

    def regress(model, rng):
        x = torch.from_numpy(rng.normal(size=(16, 4)).astype(np.float32))
        return {"mse": ((model.head(model.encoder(x)) - x[:, :1]) ** 2).mean()}

    def make(folder):
        torch.manual_seed(0)
        model = TwoStage()
        optimizers = {"autoencoder": torch.optim.Adam([*model.encoder.parameters(), *model.decoder.parameters()], lr=0.02),
                      "head": torch.optim.Adam(model.head.parameters(), lr=0.05)}  # fmt: skip
        trainer = Trainer(model, optimizers, device=torch.device("cpu"), seed=0, config={}, checkpoint_dir=folder, checkpoint_every=10)
        stages = [Stage("autoencoder", 30, autoencode), Stage("head", 30, regress, trains=(model.head,), optimizer="head")]
        return trainer, stages

    whole, stages = make(tmp_path / "whole")
    whole.run_stages(stages[:1], log_every=10)
    encoder_after_stage_one = {k: v.clone() for k, v in whole.model.encoder.state_dict().items()}
    history = whole.run_stages(stages, log_every=10)
    for name, value in whole.model.encoder.state_dict().items():
        assert torch.equal(value, encoder_after_stage_one[name]), "the first stage changed while the second trained"
    assert "mse" in history[-1] and history[-1]["mse"] < history[3]["mse"]
    assert all(p.requires_grad for p in whole.model.parameters())  # nothing is left frozen after the run

    split, stages = make(tmp_path / "split")
    split.run_stages([stages[0], Stage("head", 10, regress, trains=(split.model.head,), optimizer="head")])  # interrupted in stage two
    resumed, stages = make(tmp_path / "split")
    assert resumed.resume() and resumed.step == 40
    resumed.run_stages(stages)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["non-saturating", "least-squares", "hinge", "wasserstein"])
def test_each_adversarial_loss_prefers_the_judge_that_tells_real_from_fake(kind):
    from glyphgen.nn.adversarial import discriminator_loss, generator_loss

    real, fake = torch.full((8, 1), 2.0), torch.full((8, 1), -2.0)  # a judge that is right
    assert discriminator_loss(kind, real, fake) < discriminator_loss(kind, fake, real)
    assert generator_loss(kind, real) < generator_loss(kind, fake)  # a generator whose glyphs pass as real does better
