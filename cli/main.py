"""``glyphgen``: thin click commands over the library.

Each command parses its options, calls one library function and prints. A
:class:`~glyphgen.errors.GlyphgenError` becomes one line on stderr and its exit
code (2 for bad input); any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from glyphgen import DEFAULT_BACKEND, __version__
from glyphgen.canvas import CORPUS_RENDER_SIZE
from glyphgen.charset import CHARSETS
from glyphgen.errors import GlyphgenError


class _Commands(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GlyphgenError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)
        except click.UsageError as error:  # a bad option value: the same one line as any bad input, not click's usage block
            where = error.ctx.command_path if error.ctx else "glyphgen"
            click.echo(f"error: {error.format_message().rstrip('.')}; see `{where} --help`.", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glyphgen")
def main() -> None:
    """Turn about 30 hand-drawn characters into a complete, installable font."""
    from glyphgen.outputs import exit_cleanly_on_sigterm

    exit_cleanly_on_sigterm()


def _parse_settings(pairs: tuple[str, ...]) -> dict[str, object]:
    settings: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise GlyphgenError(f"--set {pair!r}: write it as KEY=VALUE, e.g. --set k=3.")
        settings[key.strip()] = _parse_value(value.strip())
    return settings


def _parse_value(text: str) -> object:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


# glyphgen.metrics.METRICS, spelled here so `--help` does not import numpy and skimage (a test checks they agree).
METRIC_CHOICES = ("l1", "ssim", "iou", "content", "pen", "bpp")
# numpy and torch take seeds below 2**32; a larger one would overflow deep inside a backend.
SEED = click.IntRange(0, 2**32 - 1)

GPU_CONFIG = "gpu"  # --config gpu: each backend's own GPU-sized settings, from the registry


def _config_table(backend: str, config_file: Path | str | None, tables_only: bool = False) -> dict[str, object]:
    """A backend's settings from ``--config``: the built-in ``gpu`` preset, or a TOML file."""
    from glyphgen.backends import get_backend
    from glyphgen.settings import read_settings_file

    if config_file is None:
        return {}
    if str(config_file) == GPU_CONFIG and not Path(config_file).exists():
        return dict(get_backend(backend).gpu_settings)
    return read_settings_file(Path(config_file), backend, tables_only=tables_only)


def backend_settings(backend: str, config_file: Path | str | None, pairs: tuple[str, ...], device: str | None) -> dict[str, object]:
    """A backend's settings: ``--config``, then ``--set KEY=VALUE``, then ``--device``."""
    settings = _config_table(backend, config_file)
    settings.update(_parse_settings(pairs))
    if device is not None:
        from glyphgen.training import resolve_device

        resolve_device(device)  # an unusable device fails here, before any work
        settings["device"] = device
    return settings


@main.command()
@click.option("--samples", type=click.Path(path_type=Path), help="Folder of character images (uni0041.png, U+0041.png or labels.csv).")
@click.option(
    "--scan",
    "scans",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A photo or scan of a filled template sheet (repeatable, pages in any order); with --samples, the folder's images win.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder to write the TTF, OTF, WOFF2 and preview.png into.")
@click.option("--charset", default="latin-core", show_default=True, type=click.Choice(sorted(CHARSETS)), help="Characters the font covers.")
@click.option("--backend", default=DEFAULT_BACKEND, show_default=True, help="Generative backend (see `glyphgen backends`).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="Backend settings: `gpu` (each backend's larger model for a GPU), or a TOML file (keys, or a [backend] table).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a backend setting (repeatable; wins over --config); `glyphgen backends NAME` lists them.",
)
@click.option("--device", help="Where neural backends run: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps.")
@click.option(
    "--reference",
    type=click.Path(path_type=Path),
    help="Reference font for the content glyphs (default: the bundled one of the charset's script, Noto Sans for Latin).",
)
@click.option("--family", default="Glyphgen Hand", show_default=True, help="Font family name.")
@click.option("--style", default="Regular", show_default=True, help="Style name.")
@click.option("--font-version", "font_version", default="1.0", show_default=True, help="Font version, e.g. 1.0.")
@click.option("--version", "old_font_version", hidden=True, help="The old spelling of --font-version.")
@click.option("--designer", help="Designer's name (name table and copyright).")
@click.option("--license", "license_text", help="License text for the name table.")
@click.option("--license-url", help="License URL for the name table.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed: the same seed and inputs give the same font, byte for byte.")
@click.option("--force", is_flag=True, help="Overwrite fonts already in --out.")
def build(
    samples,
    scans,
    out,
    charset,
    backend,
    config_file,
    settings,
    device,
    reference,
    family,
    style,
    font_version,
    old_font_version,
    designer,
    license_text,
    license_url,
    seed,
    force,
):
    """Build a font from a folder of sample characters, or from photos of a filled template sheet (--scan)."""
    from rich.console import Console

    from glyphgen.fontbuild import FontInfo
    from glyphgen.pipeline import BuildOptions, build_font
    from glyphgen.progress import RichProgress

    if old_font_version is not None:
        click.echo("note: `build --version` is now `build --font-version` (`glyphgen --version` is glyphgen's own).", err=True)
        font_version = old_font_version
    options = BuildOptions(
        samples=samples,
        scans=tuple(scans),
        out=out,
        charset=charset,
        backend=backend,
        backend_settings=backend_settings(backend, config_file, settings, device),
        reference=reference,
        info=FontInfo(family=family, style=style, version=font_version, designer=designer, license=license_text, license_url=license_url),
        seed=seed,
        force=force,
    )
    console = Console(stderr=True)
    with RichProgress(console) as progress:
        result = build_font(options, progress)
    click.echo(result.summary(options))
    for kind, path in result.files.items():
        click.echo(f"  {kind:<8}{path}")


@main.command("samples")
@click.option("--charset", default="latin", show_default=True, type=click.Choice(sorted(CHARSETS)), help="The charset (its script) to write samples for.")
@click.option("--check", "folder", type=click.Path(path_type=Path), help="A sample folder: check its file names and what its samples show, reading no image.")
def samples_command(charset: str, folder: Path | None) -> None:
    """What to write: the recommended samples and what each shows (Hangul: its jamo and layout); --check a folder against them."""
    from glyphgen.charset import get_charset
    from glyphgen.samples import check_sample_names, sample_guide

    chosen = get_charset(charset)
    if folder is None:
        click.echo("\n".join(sample_guide(chosen)))
        click.echo(f"\nTo write them on paper: glyphgen template --charset {charset} --out sheet.pdf, then glyphgen build --scan PHOTO.")
        return
    from rich.console import Console

    from glyphgen.progress import RichProgress

    with RichProgress(Console(stderr=True)) as progress:
        files = check_sample_names(folder, chosen, progress)
    recommended = chosen.script.recommended_samples
    to_write = "".join(char for char in recommended if char in chosen and char not in files)
    click.echo(
        f"{folder}: {len(files)} samples for the {charset} charset, {len(recommended) - len(to_write)} of the {len(recommended)} recommended"
        + (f"; still to write: {to_write}" if to_write else "")
        + "."
    )


@main.command("template")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The sheet: a .pdf of every page, or .png (sheet.png, sheet-2.png, ...).")
@click.option("--charset", default="latin", show_default=True, type=click.Choice(sorted(CHARSETS)), help="Whose recommended samples the sheet holds.")
@click.option("--chars", help='The characters to write instead of the recommended samples, in box order (e.g. "ABC…xyz0123").')
@click.option("--all", "every", is_flag=True, help="Every character of the charset (as many pages as it takes).")
@click.option("--paper", default="a4", show_default=True, type=click.Choice(["a4", "letter"], case_sensitive=False), help="Paper size.")
@click.option("--force", is_flag=True, help="Overwrite a sheet already at --out.")
def template_command(out: Path, charset: str, chars: str | None, every: bool, paper: str, force: bool) -> None:
    """A template sheet to print, write on and photograph: a box per character, corner markers and a page code."""
    from glyphgen.charset import get_charset
    from glyphgen.sheet import PAPERS, sheet_chars, template_pages, writable_chars, write_template

    chosen = get_charset(charset)
    if every and chars is not None:
        raise GlyphgenError("--all and --chars: give one of them.")
    wanted = sheet_chars(chosen, writable_chars(chosen) if every else chars)
    paths = write_template(wanted, chosen.script, paper.lower(), out, force=force)
    pages = len(template_pages(wanted, paper.lower()))
    click.echo(f"{len(wanted)} characters on {pages} {PAPERS[paper.lower()].name} page{'s' if pages > 1 else ''}:")
    for path in paths:
        click.echo(f"  {path}")
    click.echo("Print it at 100% (no fit-to-page), write in the boxes, photograph or scan it, then: glyphgen build --scan PHOTO --out myfont/")


@main.command("extract")
@click.option("--scan", "scans", multiple=True, required=True, type=click.Path(path_type=Path), help="A photo or scan of a filled sheet (repeatable).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the cut-out samples (uniXXXX.png).")
@click.option("--charset", default="latin", show_default=True, type=click.Choice(sorted(CHARSETS)), help="The charset the sheet was printed for.")
@click.option("--force", is_flag=True, help="Overwrite images already in --out.")
def extract_command(scans: tuple[Path, ...], out: Path, charset: str, force: bool) -> None:
    """Cut the written boxes out of sheet photos into a sample folder, to check, redraw one, and build from."""
    from rich.console import Console

    from glyphgen.charset import get_charset
    from glyphgen.progress import RichProgress
    from glyphgen.samples import extract_boxes

    with RichProgress(Console(stderr=True)) as progress:
        paths = extract_boxes(scans, get_charset(charset), out, force, progress)
    click.echo(f"{out}: {len(paths)} samples cut out; look them over, redraw any, then: glyphgen build --samples {out} --out myfont/")


def _training_progress():
    """A bar on a terminal; in a background run's log, a plain line a minute."""
    from rich.console import Console

    from glyphgen.progress import LogProgress, RichProgress

    console = Console(stderr=True)
    return RichProgress(console) if console.is_terminal else LogProgress()


def _compare_settings(names: list[str], config_file: Path | None, pairs: tuple[str, ...], device: str | None) -> dict[str, dict[str, object]]:
    """Settings per backend: ``[name]`` tables of the TOML file, then ``--set name.key=value``."""
    from glyphgen.backends import get_backend
    from glyphgen.compare import backend_of
    from glyphgen.evaluate import REFERENCE

    per_backend: dict[str, dict[str, object]] = {name: {} for name in names}
    for name in names:
        if config_file and name != REFERENCE:
            per_backend[name].update(_config_table(backend_of(name), config_file, tables_only=True))
    for pair in pairs:
        key, sep, value = pair.partition("=")
        backend, dot, setting = key.strip().partition(".")
        if not sep or not dot or not setting:
            raise GlyphgenError(f"--set {pair!r}: write it as BACKEND.KEY=VALUE, e.g. --set fewshot.finetune_steps=20.")
        if backend not in per_backend:
            raise GlyphgenError(f"--set {pair!r}: {backend!r} is not among the compared backends ({', '.join(names)}).")
        per_backend[backend][setting] = _parse_value(value.strip())
    if device is not None:
        from glyphgen.training import resolve_device

        resolve_device(device)
        for name in names:
            if name != REFERENCE and "device" in get_backend(backend_of(name)).config_class.__dataclass_fields__:
                per_backend[name]["device"] = device
    return per_backend


@main.command("compare")
@click.option("--samples", type=click.Path(path_type=Path), help="Your sample folder: each fold of it is held out in turn and scored.")
@click.option("--truth", type=click.Path(path_type=Path), help="A font to imitate: its sample characters are the samples, the rest are scored.")
@click.option(
    "--backends",
    "backend_list",
    default="all",
    show_default=True,
    help=(
        "Comma-separated backends; all = every registered one plus the reference baseline; "
        "NAME@VARIANT runs NAME again with settings of its own (--set NAME@VARIANT.KEY=VALUE)."
    ),
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for report.html, results.json, results.csv and grid.png.")
@click.option("--folds", default=5, show_default=True, help="With --samples: how many folds to hold out in turn.")
@click.option("--sample-chars", default=None, help="With --truth: the characters rendered as samples (default: the charset's recommended samples).")
@click.option("--photo", is_flag=True, help="With --truth: degrade the rendered samples like phone photos.")
@click.option("--charset", default="latin", show_default=True, type=click.Choice(sorted(CHARSETS)), help="Characters scored with --truth.")
@click.option("--scored", type=click.IntRange(min=1), help="With --truth: score a fixed sample of this many targets (default: all, at most 300).")
@click.option(
    "--reference",
    type=click.Path(path_type=Path),
    help="Reference font for the content glyphs (default: the bundled one of the charset's script, Noto Sans for Latin).",
)
@click.option("--metric", default="iou", show_default=True, type=click.Choice(METRIC_CHOICES), help="What the table is sorted by.")
@click.option("--time-budget", type=float, help="Seconds each backend may spend fitting one case; trainable ones stop there, others fail.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Backend settings: `gpu`, or a TOML file with a [backend] table each.")
@click.option("--set", "settings", multiple=True, metavar="BACKEND.KEY=VALUE", help="One backend's setting, e.g. fewshot.finetune_steps=20 (repeatable).")
@click.option("--device", help="Where neural backends run: auto, cpu, cuda, cuda:N or mps.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="The same seed for every backend (and the folds).")
@click.option("--force", is_flag=True, help="Overwrite a report already in --out.")
def compare_command(
    samples, truth, backend_list, out, folds, sample_chars, photo, charset, scored, reference, metric, time_budget, config_file, settings, device, seed, force
):
    """Run several backends on the same glyphs and report which writes the hand best."""
    from rich.console import Console

    from glyphgen.charset import get_charset
    from glyphgen.classifier import CharReader
    from glyphgen.compare import compare, compare_samples, evaluation_canvas, resolve_backends
    from glyphgen.evaluate import truth_case, with_scratch
    from glyphgen.outputs import check_output_folder, refuse_input_as_output
    from glyphgen.progress import RichProgress
    from glyphgen.report import REPORT_FILES, write_report

    if (samples is None) == (truth is None):
        raise GlyphgenError("compare needs exactly one of --samples FOLDER (your own, held out in folds) or --truth FONT.")
    if samples is not None:
        refuse_input_as_output(Path(out), Path(samples), "--samples")
    if time_budget is not None and time_budget <= 0:
        raise GlyphgenError(f"--time-budget {time_budget:g}: give a positive number of seconds.")
    check_output_folder(Path(out), force, lambda p: p.name in REPORT_FILES)
    names = resolve_backends([n.strip() for n in backend_list.split(",") if n.strip()])
    per_backend = _compare_settings(names, config_file, settings, device)
    console = Console(stderr=True)
    with RichProgress(console) as progress:
        if samples is not None:
            options = dict(charset=charset, folds=folds, reference=reference, seed=seed, time_budget=time_budget, metric=metric)
            comparison = compare_samples(Path(samples), per_backend, **options, progress=progress)
        else:
            script = get_charset(charset).script
            reference = Path(reference) if reference else script.reference_font()
            canvas = evaluation_canvas(per_backend, script)  # the case's truth is drawn on it
            options = dict(photo=photo, sample_chars=sample_chars, charset=charset, reference=reference, seed=seed, canvas=canvas, scored=scored)
            case = with_scratch(lambda folder: truth_case(Path(truth), folder, **options))
            reader = CharReader(script=script)
            comparison = compare([case], per_backend, mode="truth", seed=seed, time_budget=time_budget, metric=metric, reader=reader, progress=progress)
    paths = write_report(comparison, Path(out), force=force)
    console = Console()
    if not console.is_terminal:  # a log or a pipe: the whole table, not one squeezed into 80 columns
        console = Console(width=160)
    console.print(_comparison_table(comparison))
    click.echo(f"report: {paths['report.html']}")


def _comparison_table(comparison):
    import math

    from rich.table import Table

    from glyphgen.metrics import METRICS
    from glyphgen.report import METRIC_NAMES as names

    ceiling = "" if math.isnan(comparison.truth_content) else f"; the classifier reads {comparison.truth_content:.3f} of the true glyphs right"
    table = Table(
        title=f"glyphgen compare ({comparison.mode}, sorted by {names[comparison.metric]})",
        caption=f"★ best; pen: stroke width over the true one's (median), best 1; own MiB: memory the backend added{ceiling}",
    )
    table.add_column("backend", no_wrap=True)
    for metric in METRICS:
        table.add_column(names[metric], justify="right")
    for column in ("fit s", "ms/glyph", "parameters", "own MiB", "device"):
        table.add_column(column, justify="right")
    best = comparison.best
    for run in comparison.ranked():
        if not run.ok:
            table.add_row(f"[red]{run.backend}[/]", f"[red]failed: {run.error}[/]", *[""] * (len(METRICS) + 4))
            continue
        means = run.mean
        cells = ["–" if math.isnan(means[m]) else f"{means[m]:.3f}" for m in METRICS]
        per_glyph = run.generate_seconds_per_glyph
        table.add_row(
            f"[bold green]{run.backend} ★[/]" if run is best else run.backend,
            *cells,
            f"{run.fit_seconds:.1f}",
            "–" if math.isnan(per_glyph) else f"{per_glyph * 1000:.1f}",
            f"{run.parameters:,}",
            "–" if math.isnan(run.own_memory_mib) else f"{run.own_memory_mib:.0f}",
            run.device,
        )
    return table


@main.command()
@click.argument("backend")
@click.option(
    "--corpus", default="datasets/cache/corpus", show_default=True, type=click.Path(path_type=Path), help="Corpus folder from `glyphgen corpus build`."
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Run folder: checkpoints/ and the trained model/.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Training settings: `gpu` (the backend's larger model), or a TOML file.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Override a setting, e.g. --set pretrain_steps=5000.")
@click.option("--device", help="auto (the default: CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps.")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --out.")
def train(backend, corpus, out, config_file, settings, device, resume):
    """Pretrain a backend on the font corpus (under torchrun for several GPUs or machines)."""
    from glyphgen.backends import get_backend

    backend_class = get_backend(backend)
    values = backend_settings(backend, config_file, settings, device)
    model = backend_class(backend_class.config_class.from_dict(values, source=f"{backend} training settings"))
    if (Path(out) / "checkpoints").is_dir() and not resume:
        raise GlyphgenError(f"--out {out}: a run is already there; pass --resume to continue it or choose another folder.")
    with _training_progress() as progress:
        folder = model.pretrain(corpus, out, resume=resume, progress=progress)
    click.echo(f"trained {backend}: {folder}")


@main.command("train-classifier")
@click.option(
    "--corpus", default="datasets/cache/corpus", show_default=True, type=click.Path(path_type=Path), help="Corpus folder from `glyphgen corpus build`."
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Run folder: checkpoints/ and the trained model/.")
@click.option("--steps", default=1500, show_default=True, help="Training steps (batches of --set batch_size glyphs, 128 unless set).")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Another training setting: canvas_size, batch_size, lr, widths (e.g. widths=16,32,64,128), seed, checkpoint_every.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --out.")
def train_classifier(corpus, out, steps, settings, device, resume):
    """Train the character classifier that `compare` uses for content accuracy, for the corpus's script.

    A Latin corpus trains the Latin classifier; a Korean one (its manifest says
    so) the Korean one, which reads a syllable's initial, medial and final jamo.
    """
    from glyphgen.classifier import ClassifierConfig, train_classifier
    from glyphgen.corpus import corpus_script

    script = corpus_script(corpus)  # one sentence for a folder without a corpus, before any work
    if (Path(out) / "checkpoints").is_dir() and not resume:
        raise GlyphgenError(f"--out {out}: a run is already there; pass --resume to continue it or choose another folder.")
    values = {  # a list setting (widths) is written with commas
        key: [_parse_value(v) for v in value.split(",")] if isinstance(value, str) and "," in value else value
        for key, value in _parse_settings(settings).items()
    }
    config = ClassifierConfig.from_dict({"steps": steps, "device": device, **values}, source="train-classifier --set")
    with _training_progress() as progress:
        folder = train_classifier(corpus, out, config, resume=resume, progress=progress)
    click.echo(f"trained the {script.name} classifier: {folder}")


@main.command("backends")
@click.argument("name", required=False)
@click.option("--names", "names_only", is_flag=True, help="Only the names, one a line (for scripts such as `make weights`).")
@click.option("--pretrainable", is_flag=True, help="Only the backends `glyphgen train` pretrains on the corpus.")
@click.option("--script", "script_name", help="Only the backends made for this script's corpus (with --pretrainable: the ones `make weights` trains for it).")
@click.option("--markdown", is_flag=True, help="The table the README shows.")
def list_backends(name: str | None, names_only: bool, pretrainable: bool, script_name: str | None, markdown: bool) -> None:
    """List the registered generative backends, or one backend's settings (glyphgen backends NAME)."""
    from glyphgen.backends import available_backends, get_backend, pretrains, starts_from_shipped_weights

    if name is not None:
        _describe_settings(get_backend(name))
        return
    if script_name is not None:
        from glyphgen.scripts import get_script

        get_script(script_name)  # an unknown script is one sentence
    chosen = {
        name: cls
        for name, cls in available_backends().items()
        if (not pretrainable or pretrains(cls)) and (script_name is None or script_name in cls.corpus_scripts)
    }
    if names_only:
        click.echo("\n".join(chosen))
        return
    if markdown:
        click.echo("| backend | family | parameters | shipped weights | what it is |\n|---|---|---:|---|---|")
    family_width = max((len(cls.family) for cls in chosen.values()), default=0)
    for name, cls in chosen.items():
        count = cls().parameter_count()
        weights = _weights_note(cls, starts_from_shipped_weights(cls), markdown)
        default = " (default)" if name == DEFAULT_BACKEND else ""
        if markdown:
            summary = (sys.modules[cls.__module__].__doc__ or cls.__doc__ or "").strip().splitlines()[0]
            click.echo(f"| `{name}`{default} | {cls.family} | {count:,} | {weights} | {summary} |")
        else:
            click.echo(f"{name:<12} {cls.family:<{family_width}} {count:>12,} parameters   {weights}{default}")


def _weights_note(cls, by_default: bool, short: bool) -> str:
    """Whether the package ships weights for a backend, and whether a build starts from them unasked."""
    if by_default:
        return "yes, used by default" if short else "starts from shipped weights"
    if cls.ships_weights:
        return "yes, with `--set weights=bundled`" if short else "shipped weights, used with --set weights=bundled"
    return "no" if short else "no shipped weights"


def _describe_settings(cls) -> None:
    """A backend's settings and defaults, those that shape its weights apart (they come from the weights)."""
    import dataclasses

    from glyphgen.backends.learned import LearnedBackend

    defaults = cls.config_class()
    architecture = set(cls.architecture_settings()) if issubclass(cls, LearnedBackend) else set()
    groups = [("architecture (taken from the weights a model starts from)", True), ("settings", False)] if architecture else [("settings", False)]
    for title, shapes in groups:
        click.echo(f"{cls.name} {title}:")
        for field in dataclasses.fields(defaults):
            if (field.name in architecture) == shapes:
                click.echo(f"  {field.name} = {getattr(defaults, field.name)!r}")
    if cls.gpu_settings:
        click.echo("--config gpu sets: " + ", ".join(f"{k}={v!r}" for k, v in cls.gpu_settings.items()))


@main.group()
def corpus() -> None:
    """Build the pretraining corpus of free fonts (held-out families excluded)."""


def _default_heldout() -> Path | None:
    from glyphgen.resources import data_dir

    candidate = data_dir("datasets").parent.parent / "shared" / "heldout-fonts.txt"
    return candidate if candidate.exists() else None


@corpus.command("build")
@click.option("--out", default="datasets/cache/corpus", show_default=True, type=click.Path(path_type=Path), help="Corpus folder (a cache: git-ignored).")
@click.option("--heldout", type=click.Path(path_type=Path), help="List of held-out families to exclude (default: ../shared/heldout-fonts.txt).")
@click.option("--limit", type=int, help="At most this many families (handwriting first).")
@click.option("--debian/--no-debian", default=True, show_default=True, help="Also take Debian fonts-* packages (needs apt-get).")
@click.option("--jobs", default=4, show_default=True, help="Parallel downloads.")
@click.option("--canvas-size", default=CORPUS_RENDER_SIZE, show_default=True, help="Canvas of the rendered glyph cache.")
@click.option("--script", "script_name", default="latin", show_default=True, help="Writing system of the corpus (latin, korean): fonts, coverage, charset.")
@click.option(
    "--same-design-iou",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    help="Refuse a font whose required glyphs overlap an admitted font's this much, scaled alike (default: the script's; 0.83 for Korean); 1: identical only.",
)
def corpus_build(out, heldout, limit, debian, jobs, canvas_size, script_name, same_design_iou):
    """Download, verify, record and render the corpus (needs npm)."""
    from rich.console import Console

    from glyphgen.corpus_recipe import build_corpus
    from glyphgen.progress import RichProgress
    from glyphgen.scripts import get_script

    script = get_script(script_name)

    heldout = heldout or _default_heldout()
    if heldout is None:
        raise GlyphgenError("--heldout: no held-out font list found beside the checkout; name it with --heldout FILE.")
    with RichProgress(Console(stderr=True)) as progress:
        options = dict(limit=limit, debian=debian, jobs=jobs, canvas_size=canvas_size, script=script, same_design_iou=same_design_iou)
        fonts = build_corpus(out, heldout, **options, progress=progress)
    validation = sum(f.split == "validation" for f in fonts)
    click.echo(f"{len(fonts)} {script.name} fonts ({len(fonts) - validation} train, {validation} validation) in {out}; manifest.json lists what was skipped.")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; anything but this computer's own shares the page on your network.")
@click.option("--port", default=8642, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on (0: any free one).")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
@click.option(
    "--keep-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="How long samples and fonts are kept after their last use.",
)
def serve_command(host: str, port: int, no_browser: bool, keep_hours: float) -> None:
    """A page in your browser to give samples (files, a sheet photo, or drawn), build, type with the font and download it."""
    from glyphgen.serve import serve

    serve(host, port, open_browser=not no_browser, keep_hours=keep_hours, say=lambda line: click.echo(line, err=line.startswith("warning")))


if __name__ == "__main__":
    main()
