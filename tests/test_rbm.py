"""The conditional RBM / DBN backend: contrastive divergence, conditioning, greedy stacking, persistence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from glyphgen.backends import FewShotTask, get_backend
from glyphgen.backends.rbm import ConditionalDBN, training_layer
from glyphgen.errors import GlyphgenError
from glyphgen.nn.energy import ConditionalRBM

from .conftest import HAND_SAMPLES as SAMPLES
from .conftest import tiny


def tiny_rbm(**overrides):
    return tiny("rbm", **overrides)


def sample_batch(task: FewShotTask, chars: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The content glyphs and the binarised samples of ``chars``, as the RBM sees them."""
    content = torch.from_numpy(np.stack([task.content[c] for c in chars])[:, None])
    glyphs = torch.from_numpy((np.stack([task.style[c] for c in chars]) > 0.5).astype(np.float32)).flatten(1)
    return content, glyphs


def reconstruction_error(network: ConditionalDBN, task: FewShotTask) -> float:
    content, glyphs = sample_batch(task, SAMPLES)
    condition = network.condition(content, torch.zeros(len(SAMPLES), dtype=torch.long))
    with torch.no_grad():
        return float(network.reconstruction_error(glyphs, [rbm.biases(condition) for rbm in network.rbms]))


def test_contrastive_divergence_writes_the_data_minus_model_statistics():
    """With a chain of no steps the model's side is the start state itself, so the update is exact to check:
    W gets <v h>_data - <v h>_model and a linear condition map (v_data - v_model) cᵀ, both as minus .grad."""
    torch.manual_seed(0)
    rbm = ConditionalRBM(6, 3, nn.Linear(2, 6, bias=False), nn.Linear(2, 3, bias=False))
    data = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=torch.float32)
    start = torch.tensor([[1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]], dtype=torch.float32)
    condition = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    rbm.contrastive_divergence(data, condition, start, steps=0)
    biases = rbm.biases(condition).detached()
    positive, negative = rbm.hidden_given(data, biases), rbm.hidden_given(start, biases)
    torch.testing.assert_close(rbm.weight.grad, -(data.T @ positive - start.T @ negative) / 2)
    torch.testing.assert_close(rbm.visible_bias.grad, -(data - start).mean(0))
    torch.testing.assert_close(rbm.to_visible.weight.grad, -((data - start).T @ condition) / 2)
    torch.testing.assert_close(rbm.to_hidden.weight.grad, -((positive - negative).T @ condition) / 2)


def test_cd_lowers_the_reconstruction_error_of_the_samples(task):
    backend = tiny_rbm(finetune_steps=60)
    before = reconstruction_error(backend.new_network(), task)
    report = backend.fit(task)
    after = reconstruction_error(backend.network, task)
    assert after < 0.5 * before, (before, after)
    assert report.details["history"][-1]["reconstruction"] < report.details["history"][0]["reconstruction"]


def test_the_conditional_biases_condition_the_samples(task):
    """Gibbs chains from the same blank start, under two content glyphs, draw each its own letter."""
    backend = tiny_rbm(widths=[64], finetune_steps=150, augment=False)
    backend.fit(task)
    network, rbm = backend.network, backend.network.rbms[0]
    content, glyphs = sample_batch(task, "HO")
    condition = network.condition(content, torch.zeros(2, dtype=torch.long))
    with torch.no_grad():
        biases = rbm.biases(condition)
        _, means = rbm.gibbs(torch.zeros_like(glyphs), biases, 20, torch.Generator().manual_seed(0))
    distance = torch.cdist(means, glyphs, p=1)  # row: drawn under H, O; column: the sample H, O
    assert distance[0, 0] < distance[0, 1] and distance[1, 1] < distance[1, 0], distance
    assert network.rbms[0].to_visible.content.weight.abs().sum() > 0  # the convolution of the content learnt something


def test_two_layers_train_greedily_and_draw_the_same_after_loading(task, tmp_path):
    backend = tiny_rbm(layers=2, widths=[32, 16], finetune_steps=20)
    initial = backend.new_network()
    bottom_at_switch: dict[str, torch.Tensor] = {}
    train_layer = backend.losses

    def losses(model, pairs, rng):  # remember the first layer as the second's turn begins
        if training_layer(2, 20, backend.trainer.step) == 1 and not bottom_at_switch:
            bottom_at_switch.update({k: v.clone() for k, v in model.rbms[0].state_dict().items()})
        return train_layer(model, pairs, rng)

    backend.losses = losses
    backend.fit(task)
    network = backend.network
    assert len(network.rbms) == 2 and network.rbms[1].weight.shape == (32, 16)
    assert all(torch.equal(v, network.rbms[0].state_dict()[k]) for k, v in bottom_at_switch.items())  # frozen while the top trains
    assert not torch.equal(initial.rbms[1].weight, network.rbms[1].weight)  # and the top did train
    content = np.stack([task.content[c] for c in "dpq"])[:, None]
    drawn = backend.generate(content, "dpq")
    assert drawn.shape == (3, 1, 32, 32) and 0 <= drawn.min() and drawn.max() <= 1
    backend.save(tmp_path / "dbn")
    np.testing.assert_allclose(type(backend).load(tmp_path / "dbn").generate(content, "dpq"), drawn, atol=1e-6)


def test_the_layers_take_turns_over_the_run():
    assert [training_layer(2, 10, step) for step in range(10)] == [0] * 5 + [1] * 5
    assert [training_layer(3, 7, step) for step in range(7)] == [0, 0, 1, 1, 2, 2, 2]


def test_persistent_cd_keeps_one_chain_per_sample_and_learns(task):
    backend = tiny_rbm(sampler="pcd", finetune_steps=60)
    before = reconstruction_error(backend.new_network(), task)
    backend.fit(task)
    assert {character for _, _, character in backend.chains} == set(task.script.vocabulary.index(list(SAMPLES)).tolist())
    assert reconstruction_error(backend.network, task) < before


def test_an_rbm_reports_no_likelihood(task):
    backend = tiny_rbm(finetune_steps=2)
    backend.fit(task)
    content = np.stack([task.content[c] for c in "dp"])[:, None]
    assert backend.bits_per_pixel(content, content, "dp") is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"layers": 3, "widths": [64, 32]}, "setting 'layers' (3) asks for more RBMs than 'widths' gives hidden sizes for (2)"),
        ({"kernel": 4}, "setting 'kernel' must be odd"),
        ({"sampler": "gibbs"}, "setting 'sampler' must be cd or pcd"),
    ],
)
def test_settings_that_cannot_build_an_rbm_say_which(settings, message):
    with pytest.raises(GlyphgenError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        get_backend("rbm").config_class.from_dict(settings)
    assert str(error.value).count(". ") == 0 and str(error.value).endswith(".")
