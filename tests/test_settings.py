"""Settings are checked for their type and their range, and a bad one is one sentence naming the source and the setting.

What a backend ships (its defaults, ``tiny_settings``, ``gpu_settings`` and the
config saved beside its bundled weights) passes the same checks, so a new limit
cannot quietly refuse a backend's own settings.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from glyphgen.backends import available_backends, get_backend
from glyphgen.backends.ddpm import DDPMConfig
from glyphgen.backends.fewshot import FewShotConfig
from glyphgen.backends.learned import LearnedConfig
from glyphgen.backends.retrieval import RetrievalConfig
from glyphgen.backends.translation import TranslationConfig
from glyphgen.classifier import ClassifierConfig
from glyphgen.errors import GlyphgenError
from glyphgen.resources import bundled_weights
from glyphgen.settings import Limit

BACKENDS = sorted(available_backends())


def refusal(config_class, values: dict, source: str = "fewshot settings") -> str:
    with pytest.raises(GlyphgenError) as caught:
        config_class.from_dict(values, source=source)
    message = str(caught.value)
    assert message.startswith(f"{source}: ") and message.endswith(".") and ". " not in message, message  # one sentence
    return message


@pytest.mark.parametrize(
    "config_class, values, message",
    [
        (FewShotConfig, {"finetune_steps": -5}, "fewshot settings: setting 'finetune_steps' must be an integer ≥ 0, not -5."),
        (FewShotConfig, {"finetune_lr": 0}, "fewshot settings: setting 'finetune_lr' must be a number > 0, not 0."),
        (FewShotConfig, {"seed": 99999999999999999999}, "fewshot settings: setting 'seed' must be an integer from 0 to 4294967295, not 99999999999999999999."),
        (FewShotConfig, {"finetune_steps": True}, "fewshot settings: setting 'finetune_steps' must be an integer ≥ 0, not true."),
        (FewShotConfig, {"finetune_steps": "many"}, "fewshot settings: setting 'finetune_steps' must be an integer ≥ 0, not 'many'."),
        (FewShotConfig, {"finetune_steps": 2.5}, "fewshot settings: setting 'finetune_steps' must be an integer ≥ 0, not 2.5."),
        (FewShotConfig, {"pen_input": 1}, "fewshot settings: setting 'pen_input' must be true or false, not 1."),
        (FewShotConfig, {"weights": 3}, "fewshot settings: setting 'weights' must be text, not 3."),
        (FewShotConfig, {"pretrain_lr": float("inf")}, "fewshot settings: setting 'pretrain_lr' must be a number > 0, not inf."),
        (FewShotConfig, {"dice_weight": float("nan")}, "fewshot settings: setting 'dice_weight' must be a number ≥ 0, not nan."),
        (FewShotConfig, {"ema_decay": 1}, "fewshot settings: setting 'ema_decay' must be a number ≥ 0 and < 1, not 1."),
        (FewShotConfig, {"canvas_size": 4096}, "fewshot settings: setting 'canvas_size' must be an integer from 8 to 1024, not 4096."),
        (FewShotConfig, {"widths": []}, "fewshot settings: setting 'widths' must be a list of one or more integers ≥ 1, not []."),
        (FewShotConfig, {"widths": [8, 0]}, "fewshot settings: setting 'widths' must be a list of one or more integers ≥ 1, not [8, 0]."),
        (FewShotConfig, {"widths": [8, True]}, "fewshot settings: setting 'widths' must be a list of one or more integers ≥ 1, not [8, true]."),
        (FewShotConfig, {"samples_min": 12, "samples_max": 8}, "fewshot settings: setting 'samples_min' (12) must not be above samples_max (8)."),
        (DDPMConfig, {"schedule": "quadratic"}, "fewshot settings: setting 'schedule' must be cosine or linear, not 'quadratic'."),
        (DDPMConfig, {"sampler": "euler"}, "fewshot settings: setting 'sampler' must be ddim or ddpm, not 'euler'."),
        (RetrievalConfig, {"k": 0}, "fewshot settings: setting 'k' must be an integer ≥ 1, not 0."),
        (ClassifierConfig, {"lr": -0.1}, "fewshot settings: setting 'lr' must be a number > 0, not -0.1."),
    ],
)
def test_a_bad_setting_is_one_sentence_naming_the_source_and_the_setting(config_class, values, message):
    assert refusal(config_class, values) == message


def test_an_integer_too_large_for_a_float_is_refused_not_an_overflow():
    assert "setting 'finetune_lr' must be a number > 0, not 1000" in refusal(FewShotConfig, {"finetune_lr": 10**400})


@pytest.mark.parametrize(
    "config_class, values, fragment",
    [
        # Each of these draws no glyph today but fails deep inside the network, or draws nothing.
        (FewShotConfig, {"patch": 3}, "setting 'canvas_size' must be a multiple of 12 for patch 3 and 3 widths"),
        (FewShotConfig, {"canvas_size": 40, "patch": 4, "widths": [8, 16, 32]}, "setting 'canvas_size' must be a multiple of 16"),
        (FewShotConfig, {"heads": 3}, "setting 'heads' must divide the last of widths (128), not 3"),
        (TranslationConfig, {"canvas_size": 30}, "setting 'canvas_size' must be a multiple of 4 for 3 widths"),
        (DDPMConfig, {"time_dim": 7}, "setting 'time_dim' must be even"),
        (DDPMConfig, {"schedule": "linear", "diffusion_steps": 20}, "setting 'diffusion_steps' must be at least 21 for the linear schedule"),
    ],
)
def test_settings_that_do_not_go_together_are_one_sentence(config_class, values, fragment):
    assert fragment in refusal(config_class, values)


def test_combinations_the_network_can_draw_pass():
    assert FewShotConfig.from_dict({"canvas_size": 40, "patch": 4, "widths": [8, 16]}).canvas_size == 40
    assert TranslationConfig.from_dict({"canvas_size": 36}).canvas_size == 36
    assert DDPMConfig.from_dict({"schedule": "linear", "diffusion_steps": 21}).diffusion_steps == 21


def test_limits_merge_down_the_class_hierarchy():
    assert FewShotConfig.limits()["ema_decay"] == LearnedConfig.limits()["ema_decay"] == Limit(0, 1, open_high=True)
    assert "setting 'pretrain_lr' must be a number > 0" in refusal(FewShotConfig, {"pretrain_lr": 0.0})  # LearnedConfig's limit
    assert "setting 'seed'" in refusal(DDPMConfig, {"seed": -1})  # BackendConfig's, three classes up
    assert "setting 'finetune_batch_size' must be an integer ≥ 1" in refusal(DDPMConfig, {"finetune_batch_size": 0})


def test_values_are_kept_as_their_settings_hold_them():
    config = FewShotConfig.from_dict({"finetune_lr": 1, "widths": [8, 16], "canvas_size": 32, "patch": 2})
    assert config.finetune_lr == 1.0 and isinstance(config.finetune_lr, float) and config.widths == [8, 16]
    assert ClassifierConfig.from_dict({"widths": [8, 16]}).widths == (8, 16)


def test_renamed_settings_still_say_their_new_name():
    assert "it is now called finetune_batch_size" in refusal(get_backend("pix2pix").config_class, {"batch_size": 4})


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_passes_its_own_defaults_tiny_gpu_and_bundled_settings(name):
    backend_class = get_backend(name)
    config_class = backend_class.config_class
    config_class.from_dict(dataclasses.asdict(config_class()), source=f"{name} defaults")
    config_class.from_dict(backend_class.tiny_settings, source=f"{name} tiny_settings")
    config_class.from_dict(backend_class.gpu_settings, source=f"{name} gpu_settings")
    if backend_class.ships_weights:
        saved = bundled_weights(name) / "config.json"
        config_class.from_dict(json.loads(saved.read_text(encoding="utf-8"))["config"], source=str(saved))


def test_the_classifier_passes_its_own_defaults():
    ClassifierConfig.from_dict(dataclasses.asdict(ClassifierConfig()))


@pytest.mark.parametrize(
    "command, fragment",
    [
        (["build", "--set", "finetune_steps=-5"], "setting 'finetune_steps' must be an integer ≥ 0, not -5."),
        (["build", "--backend", "ddpm", "--set", "schedule=quadratic"], "setting 'schedule' must be cosine or linear, not 'quadratic'."),
        (["train", "fewshot", "--set", "pretrain_lr=0"], "setting 'pretrain_lr' must be a number > 0, not 0."),
    ],
)
def test_the_cli_refuses_a_bad_setting_in_one_line_and_writes_nothing(tmp_path, demo_folder, command, fragment):
    from click.testing import CliRunner

    from glyphgen.cli.main import main

    where = ["--samples", str(demo_folder)] if command[0] == "build" else ["--corpus", str(tmp_path / "corpus")]
    result = CliRunner().invoke(main, [*command, *where, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(fragment), result.stderr
    assert not (tmp_path / "out").exists()
