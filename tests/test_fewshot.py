"""The default backend: a few-shot generator pretrained on the corpus and shipped in the package."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from glyphgen import bitmap
from glyphgen.backends import FewShotTask, available_backends
from glyphgen.backends.fewshot import Episodes, FewShotBackend, FewShotConfig, episode_step
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.render import render_glyphs
from glyphgen.task import prepare_task
from glyphgen.training import Trainer

TINY = {"weights": "none", "canvas_size": 32, "widths": [8, 16, 32], "style_dim": 16, "heads": 2, "device": "cpu"}
CHARS = "HOnoaesbdpq"


def tiny(**overrides) -> FewShotBackend:
    return FewShotBackend(FewShotConfig.from_dict({**TINY, **overrides}))


@pytest.fixture(scope="module")
def styles(library, reference):
    """Three 'hands' (library fonts) and the reference, each glyph on a 32 px canvas."""
    canvas = Canvas(32)
    fonts = [render_glyphs(font, CHARS, canvas) for font in library[:3]]
    return np.round(np.stack(fonts) * 255).astype(np.uint8), render_glyphs(reference, CHARS, canvas)


def test_a_tiny_fewshot_model_learns(styles):
    glyphs, content = styles
    episodes = Episodes(glyphs, np.ones(glyphs.shape[:2], dtype=bool), torch.from_numpy(content[:, None]), np.arange(4))
    backend = tiny()
    network = backend.new_network()
    trainer = Trainer(network, torch.optim.AdamW(network.parameters(), lr=3e-3), device=torch.device("cpu"), seed=0, config={})
    history = trainer.run(60, episode_step(episodes, torch.device("cpu"), (3, (4, 6), 4)), log_every=10)
    assert history[-1]["dice"] < 0.8 * history[0]["dice"] and history[-1]["bce"] < history[0]["bce"], history


def task_from(glyphs: np.ndarray, content: np.ndarray, sample_chars: str) -> FewShotTask:
    style = {c: glyphs[CHARS.index(c)] / 255.0 for c in sample_chars}
    return FewShotTask(canvas=Canvas(32), style=style, content=dict(zip(CHARS, content)))


def test_fine_tuning_on_the_samples_runs_within_the_fit(styles):
    glyphs, content = styles
    backend = tiny(finetune_steps=3)
    report = backend.fit(task_from(glyphs[1], content, "HOnoaesb"))
    assert "fine-tuned 3 steps" in report.summary and len(report.details["history"]) >= 1


def test_the_shipped_weights_draw_a_whole_charset_offline(demo_folder, reference):
    backend = FewShotBackend()  # the bundled weights: nothing is downloaded
    assert backend.config.weights == "bundled" and FewShotBackend.ships_weights
    charset = get_charset("latin-1")
    canvas = Canvas(FewShotConfig().canvas_size)
    _, task = prepare_task(demo_folder, charset, reference, canvas)
    backend.fit(task)
    targets = [c for c in charset.inked_chars if c not in task.style]
    drawn = backend.generate(np.stack([task.content[c] for c in targets])[:, None], targets)
    assert drawn.shape == (len(targets), 1, canvas.size, canvas.size)
    inked = [bitmap.ink_mask(g[0]).sum() > 10 for g in drawn]
    assert np.mean(inked) > 0.95  # letters, not blanks
    assert backend.weights_info.get("corpus_manifest_sha256")  # provenance travels with the weights


def test_glyphgen_backends_lists_fewshot_as_the_pretrained_default():
    assert "fewshot" in available_backends()
    result = CliRunner().invoke(main, ["backends"])
    line = next(line for line in result.output.splitlines() if line.startswith("fewshot"))
    assert "few-shot" in line and "pretrained weights shipped" in line
    assert int(line.split()[2].replace(",", "")) > 100_000


def test_pretraining_on_a_tiny_corpus_exports_a_loadable_model_and_resumes(tmp_path, tiny_corpus):
    corpus = tiny_corpus
    settings = ["--set", "pretrain_steps=4", "--set", "checkpoint_every=2", "--set", "batch_fonts=2", "--set", "samples_max=10"]
    config = tmp_path / "tiny.toml"
    config.write_text("[fewshot]\ncanvas_size = 32\nwidths = [8, 16, 32]\nstyle_dim = 16\nheads = 2\n")
    run = ["train", "fewshot", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--config", str(config), "--device", "cpu"]
    first = CliRunner().invoke(main, [*run, *settings])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, [*run, *settings])
    assert again.exit_code == 2 and "--resume" in again.stderr
    resumed = CliRunner().invoke(main, [*run, "--resume", *settings[:-4], "--set", "pretrain_steps=6", *settings[2:]])
    assert resumed.exit_code == 0, resumed.output
    state = json.loads((tmp_path / "run" / "checkpoints" / "step-0000006" / "state.json").read_text())
    assert state["step"] == 6
    model = FewShotBackend(FewShotConfig(weights=str(tmp_path / "run" / "model"), device="cpu"))
    model.starting_network()
    assert model.config.widths == [8, 16, 32] and model.weights_info["steps"] == "6"


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--set", "nonsense=1"], ["unknown setting 'nonsense'"]),
        (["--set", "finetune_steps=many"], ["'finetune_steps' must be a int"]),
        (["--set", "weights=/nonexistent/weights"], ["/nonexistent/weights/config.json: no saved backend here"]),
    ],
)
def test_bad_settings_are_one_sentence(tmp_path, demo_folder, args, fragments):
    result = CliRunner().invoke(main, ["build", "--samples", str(demo_folder), "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and all(f in result.stderr for f in fragments), result.stderr


def test_bad_config_files_and_devices_are_one_sentence(tmp_path, demo_folder):
    broken = tmp_path / "broken.toml"
    broken.write_text("widths = [8, 16\n")
    out = ["--samples", str(demo_folder), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, ["build", *out, "--config", str(broken)])
    assert result.exit_code == 2 and "broken.toml: not valid TOML" in result.stderr
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[fewshot]\nlayers = 12\n")
    result = CliRunner().invoke(main, ["build", *out, "--config", str(unknown)])
    assert result.exit_code == 2 and "unknown setting 'layers'" in result.stderr
    if not torch.cuda.is_available():
        result = CliRunner().invoke(main, ["build", *out, "--device", "cuda"])
        assert result.exit_code == 2 and "--device cuda: this machine has no CUDA GPU" in result.stderr


def test_damaged_weights_are_one_sentence(tmp_path, demo_folder):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"backend": "fewshot", "config": {}, "network": {"widths": [8, 16], "style_dim": 16, "heads": 2}}))
    (folder / "model.safetensors").write_bytes(b"garbage")
    result = CliRunner().invoke(main, ["build", "--samples", str(demo_folder), "--out", str(tmp_path / "o"), "--set", f"weights={folder}"])
    assert result.exit_code == 2 and "model.safetensors: not a safetensors weights file" in result.stderr
    with pytest.raises(GlyphgenError):
        FewShotBackend(FewShotConfig(weights=str(folder))).starting_network()
    (folder / "config.json").write_text(json.dumps({"backend": "fewshot", "config": {}}))
    with pytest.raises(GlyphgenError, match="no network architecture recorded"):
        FewShotBackend(FewShotConfig(weights=str(folder))).starting_network()


def test_the_same_seed_gives_the_same_glyphs(styles):
    glyphs, content = styles
    task = task_from(glyphs[2], content, "HOnoaesb")
    stack = content[None, CHARS.index("q")][None]

    def drawn(seed: int) -> np.ndarray:
        backend = tiny(finetune_steps=2, seed=seed)
        backend.fit(task)
        return backend.generate(stack, ["q"])

    np.testing.assert_array_equal(drawn(1), drawn(1))
    assert not np.array_equal(drawn(1), drawn(2))
