"""The judge's fallback for criteria without a ``truth.checks`` hint: a small lexicon on their text.

A criterion that arrives with no hint (a suite from a folder or a JSONL file, a hand-written
checklist) is read for a few attributes a weight-free measure decides *without ground truth*,
as a change from the source. Each reading becomes a hint in the ``truth.checks`` schema, so it is
evaluated exactly like a suite's own (:mod:`judges._heuristic_checks`):

========================================  ==============================================
words (whole words, after normalising)     hint
========================================  ==============================================
warm, warmer, warmth, golden, amber        warmth increases by 0.04
cooler, cold, colder, icy, cool tones      warmth decreases by 0.04
brighter, lighter, brighten, airy          brightness increases by 0.05
darker, dark, darken, dim, night           brightness decreases by 0.05
saturated, vivid, vibrant                  saturation increases by 0.05
desaturated, muted, faded, monochrome,     saturation decreases by 0.05
black and white, grayscale
colorful                                   colourfulness increases by 8
high / higher / more contrast              contrast increases by 0.02
low / lower / less contrast                contrast decreases by 0.02
snow, snowy, frost, frosty                 white coverage increases by 0.03
fog, foggy, haze, hazy, mist, misty        haze (dark channel) increases by 0.05
sketch, pencil, line drawing, hatching     edge density increases by 0.004
a colour name + palette/tones/hues/...     hue distance to that hue decreases by 0.08
keep / preserve / unchanged / intact ...   the named element keeps its structure (SSIM
                                           over its box >= 0.8) or, for a text element,
                                           still reads as text (>= 50 % of its score)
only the X changes; everything outside     mean change outside X's box <= 0.02
the X stays (rest of, except, ...)
========================================  ==============================================

"less"/"fewer"/"reduce" right before an attribute word flips its direction ("less saturated");
a criterion naming several attributes becomes an ``all`` hint. The amounts are the ``ads-abstract``
suite's (``suites.builtin._ads_goals.MIN_CHANGE``), set against :mod:`judges.measures` on 512 px
images. Haze's is below what the classical ``atmospheric_effects`` fog and haze ops add on the
built-in suites' images (+0.06 to +0.31, a light fog at intensity 0.3 included); brightening
lifts the dark channel too (+0.16 or more for a +0.35 brightness), so a much brighter image can
pass a fog criterion: the dark-channel prior cannot tell a white veil from white light.

Where the words name an element of the sample (a key of ``truth.layout`` such as ``product``,
``logo``, ``price``; a ``context`` value such as the product's noun; the brand for the logo), the
test runs on that element's box; otherwise on the whole image. A keep-criterion with no known
element is undecidable.

A criterion asking whether an aspect "fits a <theme> look" is undecidable too: the theme's words
("cyberpunk night market") do not say what the named aspect should measure. Quoted spans are
dropped first (a headline 'Dark Roast' is content, not a description). Anything
else is undecidable with a reason, and so is any criterion with a negation outside a
keep-phrase ("not darker", "without fog"): the lexicon does not parse the scope of a negation, and
it never guesses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.model import Criterion, Sample

__all__ = ["COLOR_HUES", "LexiconReading", "read_criterion"]

#: Change amounts (measure units), as in the ``ads-abstract`` suite; haze's from the classical fog ops.
AMOUNTS: dict[str, float] = {
    "brightness": 0.05,
    "contrast": 0.02,
    "saturation": 0.05,
    "warmth": 0.04,
    "hue_distance": 0.08,
    "white_coverage": 0.03,
    "edge_density": 0.004,
    "colorfulness": 8.0,
    "haze": 0.05,
}
#: A kept element keeps at least this luma SSIM over its box (the ads suite's STRUCTURE_KEPT).
KEEP_STRUCTURE = 0.8
#: A kept text element keeps at least this fraction of its text score (the ads suite's TEXT_KEPT_RATIO).
KEEP_TEXT_RATIO = 0.5
#: "Only X changes": mean absolute change (0-1) outside X at most this.
CONFINED_AT_MOST = 0.02

#: (phrase, measure, direction). Longer phrases are matched first and consume their words.
ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("black and white", "saturation", "decrease"),
    ("line drawing", "edge_density", "increase"),
    ("line art", "edge_density", "increase"),
    ("pencil sketch", "edge_density", "increase"),
    ("washed out", "saturation", "decrease"),
    ("high contrast", "contrast", "increase"),
    ("higher contrast", "contrast", "increase"),
    ("more contrast", "contrast", "increase"),
    ("stronger contrast", "contrast", "increase"),
    ("low contrast", "contrast", "decrease"),
    ("lower contrast", "contrast", "decrease"),
    ("less contrast", "contrast", "decrease"),
    ("softer contrast", "contrast", "decrease"),
    ("cool tones", "warmth", "decrease"),
    ("cool tone", "warmth", "decrease"),
    ("cool colors", "warmth", "decrease"),
    ("cool light", "warmth", "decrease"),
    ("cool palette", "warmth", "decrease"),
    ("warm", "warmth", "increase"),
    ("warmer", "warmth", "increase"),
    ("warmth", "warmth", "increase"),
    ("golden", "warmth", "increase"),
    ("amber", "warmth", "increase"),
    ("cooler", "warmth", "decrease"),
    ("cold", "warmth", "decrease"),
    ("colder", "warmth", "decrease"),
    ("icy", "warmth", "decrease"),
    ("brighter", "brightness", "increase"),
    ("lighter", "brightness", "increase"),
    ("brighten", "brightness", "increase"),
    ("brightened", "brightness", "increase"),
    ("lighten", "brightness", "increase"),
    ("airy", "brightness", "increase"),
    ("darker", "brightness", "decrease"),
    ("dark", "brightness", "decrease"),
    ("darken", "brightness", "decrease"),
    ("darkened", "brightness", "decrease"),
    ("dim", "brightness", "decrease"),
    ("dimmer", "brightness", "decrease"),
    ("night", "brightness", "decrease"),
    ("nighttime", "brightness", "decrease"),
    ("saturated", "saturation", "increase"),
    ("vivid", "saturation", "increase"),
    ("vibrant", "saturation", "increase"),
    ("desaturated", "saturation", "decrease"),
    ("desaturate", "saturation", "decrease"),
    ("muted", "saturation", "decrease"),
    ("faded", "saturation", "decrease"),
    ("monochrome", "saturation", "decrease"),
    ("grayscale", "saturation", "decrease"),
    ("colorful", "colorfulness", "increase"),
    ("snow", "white_coverage", "increase"),
    ("snowy", "white_coverage", "increase"),
    ("snowfall", "white_coverage", "increase"),
    ("frost", "white_coverage", "increase"),
    ("frosty", "white_coverage", "increase"),
    ("fog", "haze", "increase"),
    ("foggy", "haze", "increase"),
    ("haze", "haze", "increase"),
    ("hazy", "haze", "increase"),
    ("mist", "haze", "increase"),
    ("misty", "haze", "increase"),
    ("sketch", "edge_density", "increase"),
    ("sketched", "edge_density", "increase"),
    ("pencil", "edge_density", "increase"),
    ("hatching", "edge_density", "increase"),
)

#: Hues (degrees, HSV) of colour names a palette criterion may use.
COLOR_HUES: dict[str, float] = {
    "red": 0.0,
    "reds": 0.0,
    "scarlet": 0.0,
    "crimson": 350.0,
    "pink": 335.0,
    "pinks": 335.0,
    "magenta": 300.0,
    "purple": 280.0,
    "purples": 280.0,
    "violet": 270.0,
    "lavender": 270.0,
    "blue": 220.0,
    "blues": 220.0,
    "navy": 225.0,
    "azure": 210.0,
    "cyan": 185.0,
    "teal": 175.0,
    "turquoise": 175.0,
    "aqua": 180.0,
    "mint": 150.0,
    "green": 120.0,
    "greens": 120.0,
    "lime": 90.0,
    "yellow": 55.0,
    "yellows": 55.0,
    "gold": 45.0,
    "orange": 30.0,
    "oranges": 30.0,
    "coral": 15.0,
}
#: Words that make a colour name a statement about the palette (not about one added object).
PALETTE_WORDS = frozenset(
    {
        "palette",
        "tone",
        "tones",
        "tint",
        "tinted",
        "hue",
        "hues",
        "colors",
        "color",
        "shades",
        "cast",
        "wash",
        "grade",
        "grading",
        "dominate",
        "dominates",
        "dominant",
        "scheme",
    }
)
#: Named hues further than this from their circular mean are several palettes, not one.
HUE_SPREAD = 60.0

_KEEP = re.compile(
    r"\b(keep|keeps|kept|keeping|preserve|preserved|preserves|unchanged|intact|untouched|unaltered|"
    r"remains?|stays?|retains?|still|same|as it is|as they are|as it was|not (?:changed|altered|modified|moved))\b"
)
_NEGATION = re.compile(r"\b(not|no|never|without|nor|neither|avoid|avoids|avoiding|none|nt)\b")
_FLIP = frozenset(
    {"less", "fewer", "reduce", "reduced", "reduces", "lower", "lowered", "minus", "remove", "removed"}
)
#: "Only the X changes" (a change verb with "only"), or "everything outside the X stays" (a keep
#: cue with "rest", "everything else", "outside", "except"): the edit must stay inside X.
_ONLY_CHANGE = re.compile(
    r"\bonly\b.*\b(change|changes|changed|edited|modified|altered|affected|touched)\b|"
    r"\b(change|changes|changed|edit|edits|edited)\b.*\bonly\b"
)
#: "The season fits a golden-hour winter wonderland look": an aspect judged against a named theme.
#: Which of the theme's words speak to that aspect is interpretation, so the lexicon stays out.
_FITS_THEME = re.compile(r"\bfits?\b.*\b(look|theme|style|vibe|feel|aesthetic|mood)\b")
_REST = re.compile(r"\b(rest of|everything else|outside|except|apart from|other than)\b")


@dataclass(frozen=True)
class LexiconReading:
    """What the lexicon made of a criterion: a hint in the ``truth.checks`` schema and the words it read."""

    hint: dict[str, Any]
    words: str


_QUOTED = re.compile(r"(?<![\w])'[^']*'(?![\w])|\"[^\"]*\"|\u2018[^\u2019]*\u2019|\u201c[^\u201d]*\u201d")


def unquote(text: str) -> str:
    """``text`` without quoted spans: a headline 'Dark Roast' or a label "eco" is content, not a
    description of the image (an apostrophe inside a word, as in Valentine's, is not a quote)."""
    return _QUOTED.sub(" ", text)


def normalise(text: str) -> str:
    """Lower case, American spelling of colour words, hyphens and punctuation to spaces."""
    t = text.lower().replace("n't", " nt").replace("'", " ")
    for uk, us in (("colour", "color"), ("grey", "gray"), ("greyscale", "grayscale")):
        t = t.replace(uk, us)
    t = re.sub(r"[^a-z0-9%]+", " ", t)
    return " ".join(t.split())


def _undecidable(why: str, words: str = "") -> LexiconReading:
    return LexiconReading({"measure": None, "why": why}, words)


def _elements(sample: Sample) -> dict[str, list[float]]:
    """Element name -> relative box, from ``truth.layout`` (values that are 4-number boxes)."""
    truth = sample.truth if isinstance(sample.truth, Mapping) else {}
    layout = truth.get("layout")
    out: dict[str, list[float]] = {}
    if isinstance(layout, Mapping):
        for name, box in layout.items():
            if (
                isinstance(box, (list, tuple))
                and len(box) == 4
                and all(isinstance(v, (int, float)) for v in box)
            ):
                out[str(name)] = [float(v) for v in box]
    return out


def _aliases(sample: Sample, elements: Mapping[str, Any]) -> dict[str, str]:
    """Normalised words and phrases that name each element: its key, its plural, its ``context`` value,
    and the brand for a ``logo``."""
    out: dict[str, str] = {}
    for name in elements:
        base = normalise(name)
        for alias in (base, base + "s"):
            out[alias] = name
        value = sample.context.get(name) if isinstance(sample.context, Mapping) else None
        if isinstance(value, str) and value.strip():
            out[normalise(value)] = name
    brand = sample.context.get("brand") if isinstance(sample.context, Mapping) else None
    if "logo" in elements and isinstance(brand, str) and brand.strip():
        out[normalise(brand)] = "logo"
    return out


def _named_elements(text: str, aliases: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    padded = f" {text} "
    for alias in sorted(aliases, key=len, reverse=True):
        if alias and f" {alias} " in padded:
            name = aliases[alias]
            padded = padded.replace(f" {alias} ", " # ")
            if name not in found:
                found.append(name)
    return found


def _text_elements(sample: Sample) -> set[str]:
    truth = sample.truth if isinstance(sample.truth, Mapping) else {}
    text = truth.get("text")
    return {str(k) for k in text} if isinstance(text, Mapping) else set()


def _box_region(name: str, box: list[float]) -> dict[str, Any]:
    return {"box": box, "name": name}


def _keep_hint(name: str, box: list[float], text_elements: set[str]) -> dict[str, Any]:
    region = _box_region(name, box)
    if name in text_elements:
        return {"measure": "text_likelihood", "region": region, "at_least_ratio": KEEP_TEXT_RATIO}
    return {"measure": "structure_kept", "region": region, "at_least": KEEP_STRUCTURE}


def _attributes(text: str) -> list[tuple[str, str, str]]:
    """(phrase, measure, direction) found in ``text``, longest phrases first, flips applied."""
    found: list[tuple[str, str, str]] = []
    padded = f" {text} "
    for phrase, measure, direction in sorted(ATTRIBUTES, key=lambda a: len(a[0]), reverse=True):
        pattern = re.compile(rf"(?:(\w+) )?(?:(\w+) )?\b{re.escape(phrase)}\b")
        while True:
            m = pattern.search(padded)
            if m is None:
                break
            before = {w for w in (m.group(1), m.group(2)) if w}
            flipped = bool(before & _FLIP) and phrase.split()[0] not in _FLIP
            way = direction if not flipped else ("decrease" if direction == "increase" else "increase")
            found.append((("less " if flipped else "") + phrase, measure, way))
            start = m.start() + m.group(0).index(phrase)
            padded = padded[:start] + "#" * len(phrase) + padded[start + len(phrase) :]
    return found


def _palette(text: str) -> tuple[list[str], float | None]:
    """Colour names in ``text`` and their circular mean hue when they form one palette."""
    words = text.split()
    if not PALETTE_WORDS & set(words):
        return [], None
    names = [w for w in words if w in COLOR_HUES]
    if not names:
        return [], None
    hues = [math.radians(COLOR_HUES[w]) for w in names]
    mean = math.degrees(math.atan2(sum(math.sin(h) for h in hues), sum(math.cos(h) for h in hues))) % 360.0
    for w in names:
        d = abs(COLOR_HUES[w] - mean) % 360.0
        if min(d, 360.0 - d) > HUE_SPREAD:
            return names, None
    return names, round(mean, 1)


def read_criterion(criterion: Criterion, sample: Sample) -> LexiconReading:
    """A hint for ``criterion`` read from its words, or an undecidable one saying why not."""
    text = normalise(unquote(criterion.text))
    elements = _elements(sample)
    aliases = _aliases(sample, elements)
    named = _named_elements(text, aliases)
    keep = _KEEP.search(text)

    if len(named) == 1 and (_ONLY_CHANGE.search(text) or (keep and _REST.search(text))):
        name = named[0]
        hint = {
            "measure": "change_outside",
            "region": _box_region(name, elements[name]),
            "at_most": CONFINED_AT_MOST,
        }
        return LexiconReading(hint, f"the change confined to the {name}")

    if keep or criterion.kind == "preserve":
        cue = keep.group(0) if keep else "a preserve criterion"
        if not named:
            return _undecidable(
                f"asks to keep something ('{cue}') but names no element whose region is known", cue
            )
        hints = [_keep_hint(n, elements[n], _text_elements(sample)) for n in named]
        words = f"'{cue}' + {', '.join(named)}"
        return LexiconReading(hints[0] if len(hints) == 1 else {"all": hints}, words)

    if _NEGATION.search(text):
        return _undecidable("negated wording; the lexicon does not parse the scope of a negation")
    if _FITS_THEME.search(text):
        return _undecidable(
            "asks whether an aspect fits a named theme; which of the theme's words apply is interpretation"
        )

    region: Any = "full"
    if len(named) == 1:
        region = _box_region(named[0], elements[named[0]])
    hints: list[dict[str, Any]] = []
    words: list[str] = []
    for phrase, measure, direction in _attributes(text):
        hint = {"measure": measure, "region": region, "direction": direction, "min_change": AMOUNTS[measure]}
        if hint not in hints:
            hints.append(hint)
            words.append(f"'{phrase}' -> {measure} {direction}")
    colours, hue = _palette(text)
    if colours and hue is None:
        return _undecidable(
            f"names colours far apart ({', '.join(colours)}); no single target hue decides it"
        )
    if hue is not None:
        hints.append(
            {
                "measure": "hue_distance",
                "region": region,
                "direction": "decrease",
                "min_change": AMOUNTS["hue_distance"],
                "target_hue": hue,
            }
        )
        words.append(f"palette of {', '.join(colours)} -> hue distance to {hue:g} deg decrease")
    conflicting = {(h["measure"]) for h in hints if sum(g["measure"] == h["measure"] for g in hints) > 1}
    if conflicting:
        return _undecidable(f"contradictory directions for {', '.join(sorted(conflicting))} in the wording")
    if not hints:
        return _undecidable(
            "no weight-free measure matches its words (lexicon fallback; the suite gave no hint)"
        )
    where = "" if region == "full" else f" over the {named[0]}"
    return LexiconReading(hints[0] if len(hints) == 1 else {"all": hints}, "; ".join(words) + where)
