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
    return Trainer(model, torch.optim.AdamW(model.parameters(), lr=0.05), device=torch.device("cpu"), seed=3, config={"task": "regression"}, checkpoint_dir=tmp_path, **kwargs)


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
