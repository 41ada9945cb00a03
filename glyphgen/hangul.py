"""Hangul syllables as jamo: initial, medial and final, and the layout they make.

A precomposed syllable (U+AC00..U+D7A3) is arithmetic on three indices,
``0xAC00 + (initial * 21 + medial) * 28 + final``, with final 0 meaning none.
A jamo's shape shifts with where the syllable puts it: an initial beside a
vertical vowel (가) is tall and narrow, above a horizontal one (고) wide and
flat, and every part shrinks when a final sits under them (각, 곡). The
syllable's *layout* says which: the medial's orientation (right, below, both)
and whether a final is present -- six layouts in all.

These are the components few-shot Korean models (DM-Font, LF-Font, MX-Font)
learn styles of; glyphgen uses them to choose and check samples and to tell
its Hangul model and classifier what a syllable is made of.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIRST_SYLLABLE = 0xAC00
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"  # 19, in Unicode order, as compatibility jamo for display
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"  # 21
FINALS = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"  # 27; index 0 of a syllable's final is "none"
SYLLABLE_COUNT = len(INITIALS) * len(MEDIALS) * (len(FINALS) + 1)  # 11,172

# Where the medial sits against the initial: to its right (ㅏ), below it (ㅗ), or both (ㅘ).
ORIENTATIONS = ("right", "below", "both")
_BELOW = frozenset("ㅗㅛㅜㅠㅡ")
_BOTH = frozenset("ㅘㅙㅚㅝㅞㅟㅢ")
# A cluster final is two letters side by side: what it shows of a hand is those letters, small.
CLUSTER_FINALS = {
    "ㄳ": "ㄱㅅ", "ㄵ": "ㄴㅈ", "ㄶ": "ㄴㅎ", "ㄺ": "ㄹㄱ", "ㄻ": "ㄹㅁ", "ㄼ": "ㄹㅂ",
    "ㄽ": "ㄹㅅ", "ㄾ": "ㄹㅌ", "ㄿ": "ㄹㅍ", "ㅀ": "ㄹㅎ", "ㅄ": "ㅂㅅ",
}  # fmt: skip
# The letters a doubled initial is not made of: each of these is a shape of its own in every orientation.
BASIC_CONSONANTS = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"
LAYOUTS = tuple(f"{orientation}{'+final' if final else ''}" for final in (False, True) for orientation in ORIENTATIONS)

# Jamo blocks a syllable must never be confused with: conjoining (U+1100..11FF, what NFD
# produces) and compatibility (U+3130..318F, what a keyboard types alone).
CONJOINING_JAMO = range(0x1100, 0x1200)
COMPATIBILITY_JAMO = range(0x3130, 0x3190)


@dataclass(frozen=True)
class Jamo:
    """A syllable's parts as indices: ``final`` is 0 for none, else 1 + its place in :data:`FINALS`."""

    initial: int
    medial: int
    final: int

    @property
    def orientation(self) -> int:
        medial = MEDIALS[self.medial]
        return 2 if medial in _BOTH else 1 if medial in _BELOW else 0

    @property
    def layout(self) -> int:
        """The row of :data:`LAYOUTS`: orientation, then with or without a final."""
        return self.orientation + (len(ORIENTATIONS) if self.final else 0)

    def letters(self) -> str:
        """The jamo as compatibility letters, for people: 각 -> 'ㄱㅏㄱ'."""
        return INITIALS[self.initial] + MEDIALS[self.medial] + (FINALS[self.final - 1] if self.final else "")


def is_syllable(char: str) -> bool:
    return len(char) == 1 and 0 <= ord(char) - FIRST_SYLLABLE < SYLLABLE_COUNT


def is_jamo(char: str) -> bool:
    """A lone jamo letter (conjoining or compatibility): a part of a syllable, never one."""
    return len(char) == 1 and (ord(char) in CONJOINING_JAMO or ord(char) in COMPATIBILITY_JAMO)


def decompose(char: str) -> Jamo:
    if not is_syllable(char):
        raise ValueError(f"U+{ord(char):04X} is not a precomposed Hangul syllable")
    offset = ord(char) - FIRST_SYLLABLE
    finals = len(FINALS) + 1
    return Jamo(offset // (len(MEDIALS) * finals), offset // finals % len(MEDIALS), offset % finals)


def compose(jamo: Jamo) -> str:
    finals = len(FINALS) + 1
    return chr(FIRST_SYLLABLE + (jamo.initial * len(MEDIALS) + jamo.medial) * finals + jamo.final)


def shape_features(char: str) -> frozenset[str]:
    """What writing ``char`` shows of a hand: each of its jamo letters and its layout.

    A cluster final counts as its two letters (drawn small, side by side). A
    person's sample set is told which of these it lacks; the recommended
    samples show them all (and :func:`placement_features` besides).
    """
    jamo = decompose(char)
    features = {f"initial {INITIALS[jamo.initial]}", f"medial {MEDIALS[jamo.medial]}", f"layout {LAYOUTS[jamo.layout]}"}
    if jamo.final:
        final = FINALS[jamo.final - 1]
        features.update(f"final {letter}" for letter in CLUSTER_FINALS.get(final, final))
    return frozenset(features)


def placement_features(char: str) -> frozenset[str]:
    """A basic initial beside or above its vowel: ㄱ in 가 and in 고 are different shapes.

    Fourteen letters in two orientations do not fit in thirty syllables beside
    everything else, so these choose among sets that cover :func:`shape_features`.
    """
    jamo = decompose(char)
    initial = INITIALS[jamo.initial]
    if jamo.orientation == 2 or initial not in BASIC_CONSONANTS:  # in 'both' the initial is a mix of the two
        return frozenset()
    return frozenset({f"initial {initial} {ORIENTATIONS[jamo.orientation]}"})


def missing_features(chars: Iterable[str], universe: Iterable[str]) -> list[str]:
    """The shape features of ``universe``'s syllables that no syllable of ``chars`` shows, in a stable order."""
    seen = set().union(*(shape_features(c) for c in chars if is_syllable(c)))
    wanted = set().union(*(shape_features(c) for c in universe if is_syllable(c)))
    return sorted(wanted - seen, key=_feature_order)


def _feature_order(feature: str) -> tuple[int, int, str]:
    kind, letter = feature.split(" ")[:2]
    kinds = ("initial", "medial", "final", "layout")
    alphabet = {"initial": INITIALS, "medial": MEDIALS, "final": FINALS}.get(kind, "")
    return kinds.index(kind), alphabet.find(letter[0]) if alphabet else LAYOUTS.index(letter), feature


# Where a layout puts the medial and final, for people choosing what to write (keys: ORIENTATIONS).
LAYOUT_MEANINGS = {
    "right": "the vowel stands right of the initial",
    "below": "the vowel sits under the initial",
    "both": "the vowel wraps under and right of the initial",
    "+final": "a final consonant sits underneath",
}

# The modern conjoining jamo (what NFD makes of a syllable), each as the letter it is.
_CONJOINING_INITIALS = 0x1100
_CONJOINING_MEDIALS = 0x1161
_CONJOINING_FINALS = 0x11A8


def jamo_letter(char: str) -> str | None:
    """The compatibility letter a lone modern jamo is (ᄀ U+1100 -> ㄱ), itself for a compatibility letter; else None."""
    if not is_jamo(char):
        return None
    code = ord(char)
    for first, letters in ((_CONJOINING_INITIALS, INITIALS), (_CONJOINING_MEDIALS, MEDIALS), (_CONJOINING_FINALS, FINALS)):
        if 0 <= code - first < len(letters):
            return letters[code - first]
    modern = set(INITIALS + MEDIALS + FINALS)
    return char if char in modern else None  # an archaic jamo or a filler has no modern letter


def shows_letter(char: str, letter: str) -> bool:
    """Whether syllable ``char`` has ``letter`` as its initial, medial or final (a cluster final shows itself)."""
    jamo = decompose(char)
    return letter in (INITIALS[jamo.initial], MEDIALS[jamo.medial], FINALS[jamo.final - 1] if jamo.final else "")


def lone_jamo_problem(char: str, universe: Iterable[str]) -> str | None:
    """Why ``char`` cannot be a sample when it is a lone jamo (a part of a syllable), with a syllable of ``universe`` to write instead; else None."""
    if not is_jamo(char):
        return None
    letter = jamo_letter(char)
    shown = letter if letter == char else f"U+{ord(char):04X}" + (f" (the jamo {letter})" if letter else "")
    example = next((c for c in universe if is_syllable(c) and shows_letter(c, letter)), None) if letter else None
    if example is None:
        return f"{shown} is a single jamo, not a syllable; write a whole syllable"
    return f"{shown} is a single jamo, not a syllable; write a whole syllable such as {example} ({example}.png or uni{ord(example):04X}.png)"
