"""The default backend: a few-shot generator pretrained on the corpus and shipped in the package."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch.nn import functional as F

from glyphgen import bitmap
from glyphgen.backends import FewShotTask, available_backends
from glyphgen.backends.fewshot import BOOK_PEN, Episodes, FewShotBackend, FewShotConfig, episode_step, pen_width
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.nn.fewshot import FewShotGenerator, enlarged
from glyphgen.plan import plan_glyphs
from glyphgen.render import render_glyphs
from glyphgen.task import prepare_task
from glyphgen.training import Trainer

TINY = {"weights": "none", "canvas_size": 32, "widths": [8, 16, 32], "style_dim": 16, "heads": 2, "patch": 2, "coarse_steps": 0, "device": "cpu"}
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
    pens = np.array([pen_width(font / 255) for font in glyphs])
    episodes = Episodes(glyphs, np.ones(glyphs.shape[:2], dtype=bool), torch.from_numpy(content[:, None]), np.arange(4), pens)
    backend = tiny()
    network = backend.new_network()
    trainer = Trainer(network, torch.optim.AdamW(network.parameters(), lr=3e-3), device=torch.device("cpu"), seed=0, config={})
    history = trainer.run(60, episode_step(episodes, torch.device("cpu"), (3, (4, 6), 4), dice_weight=1.0), log_every=10)
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
    canvas = backend.model_canvas()
    assert canvas.size == FewShotConfig().canvas_size == 128  # the shipped weights are the default config's model
    _, task = prepare_task(demo_folder, charset, reference, canvas)
    backend.fit(task)
    targets = [c for c in plan_glyphs(charset, task.style).drawn if c not in task.style]  # the rest are composed of these
    drawn = backend.generate(np.stack([task.content[c] for c in targets])[:, None], targets)
    assert drawn.shape == (len(targets), 1, canvas.size, canvas.size)
    inked = [bitmap.ink_mask(g[0]).sum() > 10 for g in drawn]
    assert np.mean(inked) > 0.95  # letters, not blanks
    assert backend.weights_info.get("corpus_manifest_sha256")  # provenance travels with the weights


def test_glyphgen_backends_lists_fewshot_as_the_pretrained_default():
    assert "fewshot" in available_backends()
    result = CliRunner().invoke(main, ["backends"])
    line = next(line for line in result.output.splitlines() if line.startswith("fewshot"))
    assert "few-shot" in line and "starts from shipped weights" in line and line.endswith("(default)")
    assert int(line.split()[2].replace(",", "")) > 100_000


def test_pretraining_on_a_tiny_corpus_exports_a_loadable_model_and_resumes(tmp_path, tiny_corpus):
    corpus = tiny_corpus
    settings = ["--set", "pretrain_steps=4", "--set", "checkpoint_every=2", "--set", "batch_fonts=2", "--set", "samples_max=10"]
    config = tmp_path / "tiny.toml"
    config.write_text("[fewshot]\ncanvas_size = 32\nwidths = [8, 16, 32]\nstyle_dim = 16\nheads = 2\ncoarse_steps = 2\n")  # 2 steps at 16 px first
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
    assert (model.config.canvas_size, model.config.patch) == (32, 4)
    coarse = json.loads((tmp_path / "run" / "coarse" / "model" / "config.json").read_text())
    assert coarse["config"]["canvas_size"] == 16 and coarse["network"]["patch"] == 2


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--set", "nonsense=1"], ["unknown setting 'nonsense'"]),
        (["--set", "finetune_steps=many"], ["'finetune_steps' must be an integer"]),
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


def test_a_grown_generator_draws_what_the_coarse_one_drew():
    """enlarged(): the 2x finer network, fed 2x finer glyphs, starts exactly where the coarse one was."""
    torch.manual_seed(0)
    coarse = FewShotGenerator([8, 16, 32], 16, 2, patch=2)
    for parameter in coarse.parameters():
        parameter.data.normal_(0, 0.1)
    fine = enlarged(coarse, 2, pen_input=True)
    assert fine.patch == 4 and fine.architecture["pen_input"] is True
    content, samples = torch.rand(10, 1, 32, 32), torch.rand(2, 4, 1, 32, 32)
    sample_index, target_index = torch.randint(0, 10, (2, 4)), torch.randint(0, 10, (2, 3))

    def finer(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x.flatten(0, -4), scale_factor=2, mode="nearest").reshape(*x.shape[:-2], 64, 64)

    with torch.no_grad():
        expected = finer(coarse(content, samples, sample_index, target_index))
        drawn = fine(finer(content), finer(samples), sample_index, target_index, torch.full((2,), 0.05))
    torch.testing.assert_close(drawn, expected, atol=1e-4, rtol=1e-4)


def test_pretraining_grows_a_coarse_model_onto_a_finer_canvas(tmp_path, tiny_corpus):
    """A 32 px model warm-starts a 64 px run (the CPU recipe of the 128 px default)."""
    config = tmp_path / "tiny.toml"
    config.write_text("[fewshot]\nwidths = [8, 16]\nstyle_dim = 16\nheads = 2\nbatch_fonts = 2\nsamples_max = 10\npretrain_steps = 2\ncoarse_steps = 0\n")
    common = ["train", "fewshot", "--corpus", str(tiny_corpus), "--config", str(config), "--device", "cpu"]
    coarse = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "coarse"), "--set", "canvas_size=32", "--set", "patch=2", "--set", "pen_input=false"])
    assert coarse.exit_code == 0, coarse.output
    weights = ["--set", f"weights={tmp_path / 'coarse' / 'model'}", "--set", "canvas_size=64"]
    refused = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "odd"), *weights, "--set", "patch=8"])
    assert refused.exit_code == 2 and "trained on a 32 px canvas" in refused.stderr
    fine = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "fine"), *weights, "--set", "patch=4"])
    assert fine.exit_code == 0, fine.output
    model = FewShotBackend(FewShotConfig(weights=str(tmp_path / "fine" / "model"), device="cpu"))
    assert model.model_canvas().size == 64
    model.starting_network()
    assert (model.config.canvas_size, model.config.patch, model.config.pen_input) == (64, 4, True)


def test_the_model_is_told_the_samples_pen(styles):
    """pen_width measures the samples' stroke; a heavier hand measures heavier."""
    glyphs, _ = styles
    font = glyphs[0] / 255
    heavier = np.stack([bitmap.offset_stroke(bitmap.upsample(g, 4), 4) for g in font])
    heavier = np.stack([bitmap.downsample(g, 4) for g in heavier])
    assert pen_width(heavier) > 1.3 * pen_width(font) > 0
    assert pen_width(np.zeros((3, 32, 32))) == BOOK_PEN


def test_style_tuning_fits_an_offset_only_and_keeps_to_the_time_budget(styles):
    import time

    glyphs, content = styles
    backend = tiny(finetune_steps=3, style_steps=6, style_lr=0.1)  # fine-tuned first: a fresh network ignores its style vector
    task = task_from(glyphs[1], content, "HOnoaesb")
    report = backend.fit(task)
    assert len(report.details["style_history"]) == 6 and "style tuned 6 steps" in report.summary
    before = {k: v.clone() for k, v in backend.network.state_dict().items()}
    backend._tune_style(backend.network)
    assert float(backend.style_offset.abs().sum()) > 0
    assert all(torch.equal(before[k], v) for k, v in backend.network.state_dict().items())  # only the offset learns
    assert all(p.requires_grad for p in backend.network.parameters())
    task.deadline = time.monotonic() - 1  # the budget is already spent
    assert tiny(style_steps=6).fit(task).details["style_history"] == []


def test_build_time_training_never_writes_the_shipped_weights(styles, demo_folder, reference):
    import hashlib

    from glyphgen.resources import bundled_weights

    shipped = bundled_weights("fewshot") / "model.safetensors"
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    backend = FewShotBackend(FewShotConfig(finetune_steps=2, style_steps=2, device="cpu"))
    _, task = prepare_task(demo_folder, get_charset("latin-1"), reference, backend.model_canvas())
    report = backend.fit(task)
    assert "fine-tuned 2 steps" in report.summary and "style tuned 2 steps" in report.summary
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == digest
