"""Korean samples: Hangul file names (composed, decomposed, lone jamo), jamo coverage notes, the `samples` guide and the demo set."""

from __future__ import annotations

import unicodedata

import pytest
from click.testing import CliRunner

from glyphgen import hangul
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.progress import Progress
from glyphgen.resources import demo_samples
from glyphgen.samples import char_from_label, check_coverage, find_sample_files, load_samples, unseen_parts
from glyphgen.scripts import KOREAN

KOREAN_CHARSET = get_charset("korean")
DEMO = demo_samples("korean")


class Notes(Progress):
    """A progress that keeps the notes said to the user."""

    def __init__(self):
        self.lines: list[str] = []

    def note(self, message: str) -> None:
        self.lines.append(message)


def touch(folder, *names):
    for name in names:
        (folder / name).write_bytes(b"")  # finding files reads no image


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# -- file names --------------------------------------------------------------


def test_decomposed_file_names_read_as_their_syllables(tmp_path):
    assert len(nfd("가")) == 2 and len(nfd("넓")) == 3  # what macOS and archives store
    touch(tmp_path, nfd("가") + ".png", nfd("넓") + ".jpg", "넋.png", "7.png")
    files = find_sample_files(tmp_path, KOREAN_CHARSET)
    assert {char: path.name for char, path in files.items()} == {"7": "7.png", "가": nfd("가") + ".png", "넋": "넋.png", "넓": nfd("넓") + ".jpg"}


def test_a_composed_and_a_decomposed_name_of_one_syllable_are_two_images(tmp_path):
    touch(tmp_path, "가.png", nfd("가") + ".jpg")
    with pytest.raises(GlyphgenError, match="a second image for U\\+AC00 '가'"):
        find_sample_files(tmp_path, KOREAN_CHARSET)


def test_decomposed_latin_names_and_labels_read_as_their_letter(tmp_path):
    assert char_from_label(nfd("é")) == "é"
    latin1 = get_charset("latin-1")
    touch(tmp_path, nfd("é") + ".png")  # a cased letter, decomposed, is as ambiguous as composed
    with pytest.raises(GlyphgenError, match=nfd("é") + ".png: a file named by a cased letter is ambiguous.*call it uni00E9.png"):
        find_sample_files(tmp_path, latin1)
    (tmp_path / "labels.csv").write_text(f"file,char\n{nfd('é')}.png,{nfd('é')}\n")
    assert list(find_sample_files(tmp_path, latin1)) == ["é"]


def test_a_labels_row_finds_its_file_stored_decomposed(tmp_path):
    touch(tmp_path, nfd("scan-가") + ".png")
    (tmp_path / "labels.csv").write_text("file,char\nscan-가.png,가\n", encoding="utf-8")
    assert {char: path.name for char, path in find_sample_files(tmp_path, KOREAN_CHARSET).items()} == {"가": nfd("scan-가") + ".png"}


@pytest.mark.parametrize(
    "name, shown",
    [
        ("ㄱ.png", "ㄱ is a single jamo"),  # compatibility jamo, as a keyboard types it alone
        ("\u1100.png", "U+1100 (the jamo ㄱ) is a single jamo"),  # conjoining jamo, as NFD leaves it
        ("\u11a8.png", "U+11A8 (the jamo ㄱ) is a single jamo"),  # a final
        ("ㅘ.png", "ㅘ is a single jamo"),
    ],
)
def test_a_lone_jamo_name_gets_one_sentence_naming_the_file(tmp_path, name, shown):
    touch(tmp_path, name)
    with pytest.raises(GlyphgenError) as error:
        find_sample_files(tmp_path, KOREAN_CHARSET)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / name}: {shown}, not a syllable; write a whole syllable such as "), message
    assert message.endswith(".png).") and "\n" not in message


def test_a_lone_jamo_sentence_suggests_a_syllable_that_shows_it(tmp_path):
    assert "such as 가 (가.png or uniAC00.png)" in hangul.lone_jamo_problem("ㄱ", KOREAN_CHARSET.chars)
    assert "such as 과" in hangul.lone_jamo_problem("ㅘ", KOREAN_CHARSET.chars)
    assert hangul.lone_jamo_problem("ㄳ", KOREAN_CHARSET.chars).endswith("넋 (넋.png or uniB10B.png)")
    assert hangul.lone_jamo_problem("가", KOREAN_CHARSET.chars) is None
    # under a Latin charset the sentence stands, without a syllable the charset lacks
    touch(tmp_path, "ㄱ.png")
    with pytest.raises(GlyphgenError, match="ㄱ.png: ㄱ is a single jamo, not a syllable; write a whole syllable.$"):
        find_sample_files(tmp_path, get_charset("latin"))


def test_a_lone_jamo_label_names_the_labels_row(tmp_path):
    touch(tmp_path, "scan.png")
    (tmp_path / "labels.csv").write_text("scan.png,ㅏ\n", encoding="utf-8")
    with pytest.raises(GlyphgenError, match="labels.csv, row 1: ㅏ is a single jamo, not a syllable"):
        find_sample_files(tmp_path, KOREAN_CHARSET)


@pytest.mark.parametrize("syllable", ["뷁", "똠"])  # modern syllables that KS X 1001 lacks
def test_a_syllable_outside_ks_x_1001_names_the_file(tmp_path, syllable):
    touch(tmp_path, f"{syllable}.png")
    with pytest.raises(GlyphgenError, match=f"{syllable}.png: U\\+{ord(syllable):04X} '{syllable}' is not in the korean charset."):
        find_sample_files(tmp_path, KOREAN_CHARSET)
    assert list(find_sample_files(tmp_path, get_charset("korean-full"))) == [syllable]


# -- the syllables -----------------------------------------------------------


def test_jamo_decomposition_round_trips_for_every_syllable():
    syllables = [chr(hangul.FIRST_SYLLABLE + i) for i in range(hangul.SYLLABLE_COUNT)]
    assert len(syllables) == 11_172
    assert all(hangul.compose(hangul.decompose(char)) == char for char in syllables)
    assert all(unicodedata.normalize("NFC", nfd(char)) == char for char in syllables)  # what file names rely on


@pytest.mark.parametrize("char, layout", [("가", "right"), ("고", "below"), ("과", "both"), ("각", "right+final"), ("곡", "below+final"), ("곽", "both+final")])
def test_layouts_of_known_syllables(char, layout):
    assert hangul.LAYOUTS[hangul.decompose(char).layout] == layout
    assert f"layout {layout}" in hangul.shape_features(char)


def test_the_recommended_syllables_show_every_part_of_ks_x_1001():
    recommended = KOREAN.recommended_samples
    syllables = [char for char in KOREAN_CHARSET.chars if hangul.is_syllable(char)]
    assert len(syllables) == 2350
    assert len(recommended) <= 30 and len(set(recommended)) == len(recommended)
    assert all(char in KOREAN_CHARSET for char in recommended)
    wanted = set().union(*map(hangul.shape_features, syllables))
    shown = set().union(*map(hangul.shape_features, recommended))
    assert wanted <= shown and len(wanted) == 62  # 19 initials, 21 medials, 16 final letters, 6 layouts
    assert hangul.missing_features(recommended, syllables) == []


# -- coverage notes ----------------------------------------------------------


def test_the_coverage_note_names_the_jamo_no_sample_shows(tmp_path):
    written = tuple(KOREAN.recommended_samples[:24])  # without 쐬 뛰 궤 의 뭐 엌
    notes = Notes()
    check_coverage(written, tmp_path, KOREAN_CHARSET, notes)
    assert notes.lines == [
        f"{tmp_path}: the 24 Korean samples never show initials ㄸ ㅆ; medials ㅚ ㅝ ㅞ ㅢ; final ㅋ, "
        "so those will follow the reference more than your hand; 쐬뛰궤의뭐엌 would show them."
    ]
    syllables = [char for char in KOREAN_CHARSET.chars if hangul.is_syllable(char)]
    assert unseen_parts(written, syllables, KOREAN.composition) == hangul.missing_features(written, syllables)


def test_few_korean_samples_are_warned_with_the_jamo_never_seen(tmp_path):
    notes = Notes()
    check_coverage(tuple("가나다라마AB"), tmp_path, KOREAN_CHARSET, notes)
    assert len(notes.lines) == 2  # few samples at all, then few of them Korean
    assert notes.lines[0].startswith(f"{tmp_path}: only 7 samples, so the font will follow the reference more than your hand")
    never = "any initial but ㄱ ㄴ ㄷ ㄹ ㅁ; any medial but ㅏ; any final; any layout but right"
    assert notes.lines[1].startswith(f"{tmp_path}: only 5 Korean samples, and they never show {never}, so those will follow the reference")
    assert notes.lines[1].endswith(f"30 are recommended, these show them: {KOREAN.recommended_samples}.")


def test_only_latin_samples_for_the_korean_charset_are_allowed_with_a_note(tmp_path):
    notes = Notes()
    check_coverage(tuple("ABDEGHMORSabdefghk"), tmp_path, KOREAN_CHARSET, notes)
    assert notes.lines == [
        f"{tmp_path}: none of the 18 samples is a Korean character, so the Korean glyphs will be drawn in the style of these "
        f"(the models read style across scripts); Korean samples show your hand far better: {KOREAN.recommended_samples}."
    ]


def test_the_recommended_set_gets_no_note(tmp_path):
    notes = Notes()
    check_coverage(tuple(KOREAN.recommended_samples), tmp_path, KOREAN_CHARSET, notes)
    check_coverage(tuple("ABDEGHMORSabdefghkmnoprsty0125"), tmp_path, get_charset("latin"), notes)  # Latin: no jamo talk
    assert notes.lines == []


# -- the samples command -----------------------------------------------------


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_samples_command_prints_the_korean_syllables_with_their_jamo_and_layouts():
    result = run("samples", "--charset", "korean")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert KOREAN.recommended_samples in lines
    row = next(line for line in lines if line.startswith("넓 "))
    assert row.split() == ["넓", "넓.png", "ㄴ", "ㅓ", "ㄼ", "right+final", "final", "ㄹ,", "final", "ㅂ"]
    assert all(any(line.startswith(char + " ") for line in lines) for char in KOREAN.recommended_samples)
    assert "Together they show 62 of the 62 parts of the charset's 2,350 Korean characters (19 initials, 21 medials, 16 finals, 6 layouts)." in lines
    assert any(line.startswith("both+final") and "왔 괜" in line and "a final consonant sits underneath" in line for line in lines)


def test_samples_command_prints_the_latin_set_and_its_shape_groups_by_default():
    result = run("samples")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "ABDEGHMORSabdefghkmnoprsty0125" in lines
    assert "A     uni0041.png  diagonal, capital" in lines and "0     0.png        digit" in lines
    assert any(line.split()[:4] == ["descender", "g", "p", "y"] for line in lines)
    assert "ㄱ" not in result.output


def test_samples_check_reads_names_only(tmp_path):
    result = run("samples", "--charset", "korean", "--check", DEMO)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{DEMO}: 30 samples for the korean charset, 30 of the 30 recommended."
    touch(tmp_path, "ㄱ.png")
    result = run("samples", "--charset", "korean", "--check", tmp_path)
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'ㄱ.png'}: ㄱ is a single jamo, not a syllable; write a whole syllable such as 가 (가.png or uniAC00.png)."
    ]


# -- the demo set ------------------------------------------------------------


def test_the_demo_set_is_the_recommended_syllables_and_places_cleanly():
    files = find_sample_files(DEMO, KOREAN_CHARSET)
    assert sorted(files) == sorted(KOREAN.recommended_samples)
    assert all(path.name == f"uni{ord(char):04X}.png" for char, path in files.items())
    notes = Notes()
    placed = load_samples(DEMO, KOREAN_CHARSET, KOREAN.reference_font(), Canvas(64), notes)
    assert notes.lines == [] and placed.off_scale == {}
    assert len(placed) == 30
