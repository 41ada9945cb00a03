"""The contract every registered backend keeps: a new backend is tested the moment it registers.

Each backend runs with its own ``tiny_settings`` (seconds on 2 CPU cores): fit on
a few samples -> generate glyphs of the right shape and range -> save -> load ->
the very same glyphs. A learned backend's loss falls, it pretrains on a corpus
and resumes, and its GPU settings are valid. What the registry feeds (the CLI,
``make weights``, ``--config gpu``, the README table) is checked against it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from glyphgen.backends import available_backends, get_backend, pretrains
from glyphgen.backends.learned import LearnedBackend
from glyphgen.cli.main import main

from .conftest import HAND_CHARS as CHARS
from .conftest import HAND_SAMPLES as SAMPLES
from .conftest import tiny

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = sorted(available_backends())
LEARNED = [name for name in BACKENDS if issubclass(get_backend(name), LearnedBackend)]


def test_the_registry_holds_every_family_so_far():
    assert {"fewshot", "retrieval", "cgan", "pix2pix", "cyclegan", "vae", "ddpm"} <= set(BACKENDS)
    assert {"dcgan", "wgan-gp", "lsgan", "stylegan", "ldm", "dit", "fontdiffuser"} <= set(BACKENDS)


@pytest.mark.parametrize("name", BACKENDS)
def test_fit_generate_save_load_gives_the_same_glyphs(name, task, tmp_path):
    backend = tiny(name)
    assert backend.config.canvas_size == task.canvas.size, f"{name}'s tiny_settings must draw on the test's 32 px canvas"
    report = backend.fit(task)
    assert report.seconds >= 0 and report.summary
    targets = [c for c in CHARS if c not in SAMPLES]
    content = np.stack([task.content[c] for c in targets])[:, None]
    before = backend.generate(content, targets)
    assert before.shape == (len(targets), 1, 32, 32) and before.dtype == np.float32
    assert np.isfinite(before).all() and 0.0 <= before.min() and before.max() <= 1.0
    backend.save(tmp_path / name)
    after = type(backend).load(tmp_path / name).generate(content, targets)
    np.testing.assert_allclose(before, after, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in BACKENDS if get_backend(n).learning_signal])
def test_each_learned_backend_learns_its_samples(name, task):
    steps = max(60, tiny(name).config.finetune_steps)
    report = tiny(name, finetune_steps=steps).fit(task)
    history, key = report.details["history"], get_backend(name).learning_signal
    early, late = np.mean([h[key] for h in history[:2]]), np.mean([h[key] for h in history[-2:]])
    assert late < 0.9 * early, (name, history)
    if "discriminator" in history[0]:  # a GAN: both players' losses move
        assert len({round(h["discriminator"], 4) for h in history}) > 1 and len({round(h["adversarial"], 4) for h in history}) > 1


@pytest.mark.parametrize("name", LEARNED)
def test_pretraining_on_the_corpus_resumes_and_seeds_the_build_time_fit(name, task, tiny_corpus, tmp_path):
    backend_class = get_backend(name)
    config = tmp_path / "tiny.toml"
    small = {k: v for k, v in backend_class.tiny_settings.items() if k not in ("weights", "device", "finetune_steps", "finetune_lr")}
    lines = [f"{k} = {json.dumps(v)}" for k, v in small.items()]
    lines += ["checkpoint_every = 2", *(["pretrain_batch_size = 4"] if "pretrain_batch_size" in backend_class.config_class.__dataclass_fields__ else [])]
    config.write_text(f"[{name}]\n" + "\n".join(lines) + "\n")
    run = ["train", name, "--corpus", str(tiny_corpus), "--out", str(tmp_path / "run"), "--config", str(config), "--device", "cpu"]
    first = CliRunner().invoke(main, [*run, "--set", "pretrain_steps=4"])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, [*run, "--set", "pretrain_steps=4"])
    assert again.exit_code == 2 and "--resume" in again.stderr
    resumed = CliRunner().invoke(main, [*run, "--resume", "--set", "pretrain_steps=6"])
    assert resumed.exit_code == 0, resumed.output
    state = json.loads((tmp_path / "run" / "checkpoints" / "step-0000006" / "state.json").read_text())
    assert state["step"] == 6
    saved = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert saved["network"]["widths"] == small["widths"]

    # A build-time fit starts from the pretrained model, whose architecture wins over the settings.
    backend = tiny(name, finetune_steps=3, widths=[4, 8], weights=str(tmp_path / "run" / "model"))
    report = backend.fit(task)
    assert "from the weights in" in report.summary and backend.config.widths == small["widths"]
    assert backend.weights_info["steps"] == "6"
    drawn = backend.generate(np.stack([task.content[c] for c in "dpq"])[:, None], "dpq")
    assert drawn.shape == (3, 1, 32, 32) and np.isfinite(drawn).all()
    backend.save(tmp_path / "fitted")
    again = type(backend).load(tmp_path / "fitted").generate(np.stack([task.content[c] for c in "dpq"])[:, None], "dpq")
    np.testing.assert_allclose(again, drawn, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in LEARNED if get_backend(n).ships_weights])
def test_the_shipped_weights_load_into_their_own_architecture(name):
    from glyphgen.resources import bundled_weights

    network = tiny(name).network_from(bundled_weights(name))  # the tiny settings' widths give way to the weights'
    saved = json.loads((bundled_weights(name) / "config.json").read_text())["network"]
    assert {key: network.architecture[key] for key in saved} == saved  # arguments added since keep their defaults


@pytest.mark.parametrize("name", BACKENDS)
def test_the_gpu_settings_are_valid_and_larger(name):
    backend_class = get_backend(name)
    config = backend_class.config_class.from_dict(backend_class.gpu_settings)
    if issubclass(backend_class, LearnedBackend):
        tiny_config = backend_class.config_class.from_dict(backend_class.tiny_settings)
        assert backend_class(config).parameter_count() > backend_class(tiny_config).parameter_count()


def test_config_gpu_names_the_registry_settings(tmp_path):
    from glyphgen.cli.main import backend_settings

    assert backend_settings("pix2pix", "gpu", (), None)["widths"] == get_backend("pix2pix").gpu_settings["widths"]
    assert backend_settings("pix2pix", "gpu", ("finetune_steps=7",), None)["finetune_steps"] == 7


def test_renamed_settings_say_their_new_name(task):
    from glyphgen.errors import GlyphgenError

    with pytest.raises(GlyphgenError, match="now called finetune_steps"):
        get_backend("pix2pix").config_class.from_dict({"steps": 3})


def test_the_readme_table_is_the_registry():
    result = CliRunner().invoke(main, ["backends", "--markdown"])
    assert result.exit_code == 0, result.output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- backends -->\n(.*?)<!-- /backends -->", readme, re.S)
    assert table, "README.md lacks the <!-- backends --> table"
    assert table.group(1).strip() == result.output.strip(), "run `glyphgen backends --markdown` and paste it into README.md"


def test_make_weights_trains_what_the_registry_says():
    result = CliRunner().invoke(main, ["backends", "--names", "--pretrainable"])
    assert set(result.output.split()) == {n for n in BACKENDS if pretrains(get_backend(n))} >= set(LEARNED)
    makefile = (ROOT / "Makefile").read_text()
    assert "backends --names --pretrainable" in makefile
    assert not [name for name in BACKENDS if re.search(rf"\b{name}\b", makefile)], "the Makefile names no backend: the registry does"


def test_a_staged_family_pretrains_stage_by_stage_with_the_first_frozen(tiny_corpus, tmp_path):
    """A family may pretrain in stages (VQ-VAE then its prior, an autoencoder then latent diffusion)."""
    import torch
    from safetensors.torch import load_file
    from torch import nn
    from torch.nn import functional as F

    from glyphgen.nn import UNet
    from glyphgen.nn.configured import ConfiguredModule
    from glyphgen.training import Stage

    class AutoencoderThenRefiner(ConfiguredModule):
        def __init__(self, widths=(8, 16)):
            super().__init__()
            self.autoencoder = UNet(1, 1, widths)
            self.refiner = nn.Conv2d(1, 1, 3, padding=1)

    class Staged(LearnedBackend):  # not registered: a family written for this test
        name, family, network_class = "staged", "test", AutoencoderThenRefiner

        def fit_samples(self, network, task, chars, progress):
            return "nothing to fit", {}

        def drawer(self, network, generator):
            return lambda content, chars: torch.sigmoid(network.refiner(network.autoencoder(content)))

        def optimizers(self, network, lr):
            return {"autoencoder": torch.optim.Adam(network.autoencoder.parameters(), lr), "refiner": torch.optim.Adam(network.refiner.parameters(), lr)}

        def corpus_step(self, corpus, content, trainer, progress):
            present = np.argwhere(corpus.present)

            def glyphs(rng):
                font, char = present[rng.integers(0, len(present), 4)].T
                return content[char], torch.from_numpy(corpus.glyphs[font, char][:, None].astype(np.float32) / 255)

            def autoencode(model, rng):
                _, style = glyphs(rng)
                return {"autoencoder": F.l1_loss(torch.sigmoid(model.autoencoder(style)), style)}

            def refine(model, rng):
                content, style = glyphs(rng)
                return {"refiner": F.l1_loss(torch.sigmoid(model.refiner(model.autoencoder(content))), style)}

            return [Stage("autoencoder", 4, autoencode), Stage("refiner", 4, refine, trains=(trainer.model.refiner,), optimizer="refiner")]

    backend = Staged(Staged.config_class.from_dict({**LearnedBackend.tiny_settings, "checkpoint_every": 2}))
    backend.pretrain(tiny_corpus, tmp_path / "run")
    checkpoints = tmp_path / "run" / "checkpoints"
    six, eight = (load_file(checkpoints / f"step-000000{n}" / "model.safetensors") for n in (6, 8))
    assert all(torch.equal(six[k], eight[k]) for k in six if k.startswith("autoencoder."))  # frozen in stage two
    assert not all(torch.equal(six[k], eight[k]) for k in six if k.startswith("refiner."))
    assert json.loads((checkpoints / "step-0000008" / "state.json").read_text())["history"][-1].keys() >= {"refiner"}
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
