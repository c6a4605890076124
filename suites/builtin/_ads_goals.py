"""Goal families of the ``ads-abstract`` suite: a user's abstract request, in several phrasings, and
the checklist criteria any acceptable edit meets (paper A: abstract goals come with no single right
edit sequence, but with concrete requirements a good plan satisfies).

Each criterion carries the machine-readable check the heuristic judge reads (the schema is in the
docstring of :mod:`suites.builtin.ads`). A check names a measure of :mod:`judges.measures` only
where that measure really decides the criterion; where it cannot ("a leaf icon is added", "the
copy mentions sustainability"), the check is ``{"measure": None, "why": ...}`` and the judge must
answer "undecidable".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The change of a measure (result minus source, in the measure's own units) that clearly counts
# as "done". Chosen against the measures on this suite's renders: a visible global edit of the
# intended kind moves the value by at least this much; re-encoding or a tiny local edit does not.
MIN_CHANGE: dict[str, float] = {
    "brightness": 0.05,
    "contrast": 0.02,
    "saturation": 0.05,
    "warmth": 0.04,
    "hue_distance": 0.08,
    "white_coverage": 0.03,
    "edge_density": 0.004,
    "colorfulness": 8.0,
}

# Clutter removal: edge density or contrast of the backdrop must fall by this fraction of the source's.
CLUTTER_RATIO = 0.4

# Fraction of the source's text score a text box must keep to count as still legible there.
TEXT_KEPT_RATIO = 0.5
# Structural similarity a preserved element's box must keep (luma SSIM, 1 = untouched). Global
# colour grading keeps it high; repainting, moving or covering the element drops it well below.
STRUCTURE_KEPT = 0.8

Check = dict[str, Any]


def direction(
    measure: str, way: str, region: str = "full", ratio: float | None = None, **extra: Any
) -> Callable[[dict], Check]:
    """A check that ``measure`` moves ``way`` (increase/decrease) in ``region``: by ``MIN_CHANGE``
    in the measure's units, or, with ``ratio``, by that fraction of the source's value (for
    clutter measures, whose scale depends on how busy the source is)."""

    def make(regions: dict) -> Check:
        amount = {"min_change": MIN_CHANGE[measure]} if ratio is None else {"min_change_ratio": ratio}
        return {"measure": measure, "region": regions[region], "direction": way, **amount, **extra}

    return make


def undecidable(why: str) -> Callable[[dict], Check]:
    def make(regions: dict) -> Check:
        return {"measure": None, "why": why}

    return make


@dataclass(frozen=True)
class CriterionTemplate:
    """A criterion's text (``str.format`` fields: noun, this, keeps, brand, headline, price) and its check."""

    text: str
    check: Callable[[dict], Check]
    # Only offered when the source has what the criterion talks about (e.g. clutter to remove).
    needs_clutter: bool = False


@dataclass(frozen=True)
class Family:
    """One abstract goal family: phrasings, a pool of goal criteria (the first is always asked),
    palettes on which the goal would already be met, and the target state in paper B's keys."""

    name: str
    phrasings: tuple[str, ...]
    goals: tuple[CriterionTemplate, ...]
    target: dict[str, str]
    avoid_palettes: tuple[str, ...] = ()
    wants_clutter: bool = False  # the source must be busy (decorations, a patterned background)


_TEXT_WHY = "whether the copy says this is a reading of words and meaning; no weight-free measure reads it"
_MOTIF_WHY = "an added motif may take any form and place; no weight-free measure recognises it"

FAMILIES: tuple[Family, ...] = (
    Family(
        "eco-friendly",
        (
            "Make this advert more eco-friendly.",
            "Give this {noun} ad a greener, more sustainable feel.",
            "Rework this poster so it speaks to environmentally conscious shoppers.",
            "Can you make the ad feel natural and planet-friendly?",
        ),
        (
            CriterionTemplate(
                "The colour palette moves toward natural greens",
                direction("hue_distance", "decrease", "background", target_hue=120),
            ),
            CriterionTemplate(
                "A sustainability cue is added, such as a leaf, a recycling mark or an 'eco' label",
                undecidable(_MOTIF_WHY),
            ),
            CriterionTemplate(
                "The look becomes softer and more natural: less saturated, less glossy",
                direction("saturation", "decrease", "background"),
            ),
            CriterionTemplate(
                "The copy mentions sustainability (e.g. 'recycled', 'eco', 'kind to the planet')",
                undecidable(_TEXT_WHY),
            ),
        ),
        {"color_grading": "natural greens and earth tones", "theme": "eco-friendly"},
        avoid_palettes=("forest", "mint", "teal"),
    ),
    Family(
        "business-travel",
        (
            "Target business travellers with this ad.",
            "Make this advert speak to people who travel for work.",
            "Reposition this {noun} ad for corporate travellers.",
            "Adapt this poster for frequent business flyers: think airport lounges and loyalty perks.",
        ),
        (
            CriterionTemplate(
                "The palette turns sober and corporate: navy, slate or steel blue",
                direction("hue_distance", "decrease", "background", target_hue=220),
            ),
            CriterionTemplate(
                "A travel or productivity benefit is added (lounge access, wifi, loyalty points, carry-on friendly)",
                undecidable(_TEXT_WHY),
            ),
            CriterionTemplate(
                "The overall look is calmer and less playful: less saturated colours",
                direction("saturation", "decrease"),
            ),
            CriterionTemplate(
                "Playful decorations are removed or toned down",
                direction("edge_density", "decrease", "backdrop", CLUTTER_RATIO),
                needs_clutter=True,
            ),
        ),
        {"color_grading": "cool corporate blues and greys", "theme": "business travel"},
        avoid_palettes=("navy", "charcoal", "sky"),
    ),
    Family(
        "premium",
        (
            "Make it feel premium.",
            "Give this ad a luxury feel.",
            "Make this look like a high-end brand campaign.",
            "Can this {noun} advert feel more exclusive and upmarket?",
        ),
        (
            CriterionTemplate(
                "A darker, richer background gives the ad a luxurious tone",
                direction("brightness", "decrease", "background"),
            ),
            CriterionTemplate(
                "Gold or metallic accents appear",
                undecidable("small accents of any shape and place; no weight-free measure finds them"),
            ),
            CriterionTemplate(
                "The palette is restrained: fewer and less saturated colours",
                direction("saturation", "decrease"),
            ),
            CriterionTemplate(
                "Clutter is reduced: fewer decorations, more empty space",
                direction("edge_density", "decrease", "backdrop", CLUTTER_RATIO),
                needs_clutter=True,
            ),
        ),
        {"color_grading": "dark, rich and restrained", "mood_lighting": "low-key", "theme": "luxury"},
        avoid_palettes=("charcoal", "navy", "berry", "forest"),
    ),
    Family(
        "winter-festive",
        (
            "Make it festive for winter.",
            "Turn this into a holiday-season advert.",
            "Give this ad a cosy Christmas feel.",
            "Make the poster feel like a snowy winter holiday sale.",
        ),
        (
            CriterionTemplate(
                "Snow, frost or other white winter elements are added",
                direction("white_coverage", "increase"),
            ),
            CriterionTemplate(
                "Festive decorations appear (baubles, fairy lights, ribbons, pine branches)",
                undecidable(_MOTIF_WHY),
            ),
            CriterionTemplate(
                "A seasonal message is added (e.g. 'Happy Holidays', 'Winter Sale')", undecidable(_TEXT_WHY)
            ),
            CriterionTemplate(
                "The colours turn festive: deep reds, pine greens or gold",
                undecidable("several palettes qualify; no single target hue decides it"),
            ),
        ),
        {"season": "winter", "atmospheric_effects": "snow", "theme": "winter holidays"},
        avoid_palettes=("cream",),
    ),
    Family(
        "summer-sale",
        (
            "Give this ad some summer sale energy.",
            "Make it scream summer sale!",
            "Turn this into a bright, hot summer promotion.",
            "Make the poster feel sunny and sale-ready.",
        ),
        (
            CriterionTemplate(
                "The colours turn warmer and sunnier (yellow, orange, coral)", direction("warmth", "increase")
            ),
            CriterionTemplate("The ad is more vivid and saturated", direction("saturation", "increase")),
            CriterionTemplate(
                "A sale message or discount badge is prominent (e.g. 'SUMMER SALE', '-30%')",
                undecidable(_TEXT_WHY),
            ),
            CriterionTemplate("Summer cues appear (sun, palm leaves, waves, beach)", undecidable(_MOTIF_WHY)),
        ),
        {"season": "summer", "color_grading": "warm and vivid", "theme": "summer sale"},
        avoid_palettes=("mustard", "coral"),
    ),
    Family(
        "kid-friendly",
        (
            "Make this advert kid-friendly.",
            "Make it appeal to children and young families.",
            "Make the ad more playful and fun for kids.",
            "Give this {noun} ad a cheerful, child-friendly look.",
        ),
        (
            CriterionTemplate("Brighter, more cheerful colours", direction("colorfulness", "increase")),
            CriterionTemplate(
                "Playful shapes or characters are added (stars, balloons, a mascot)", undecidable(_MOTIF_WHY)
            ),
            CriterionTemplate("The ad is lighter overall", direction("brightness", "increase")),
            CriterionTemplate("The copy is friendly and simple enough for a child", undecidable(_TEXT_WHY)),
        ),
        {"color_grading": "bright primary colours", "theme": "kids"},
    ),
    Family(
        "minimalist",
        (
            "Make this advert more minimalist.",
            "Calm this poster down, it feels too busy.",
            "Give the ad a clean, minimal, Scandinavian look.",
            "Strip this {noun} ad back to the essentials.",
        ),
        (
            CriterionTemplate(
                "Decorations and clutter are removed",
                direction("edge_density", "decrease", "backdrop", CLUTTER_RATIO),
            ),
            CriterionTemplate(
                "The palette is calmer: fewer, softer colours", direction("saturation", "decrease")
            ),
            CriterionTemplate(
                "The background becomes plain and even",
                direction("contrast", "decrease", "backdrop", CLUTTER_RATIO),
            ),
            CriterionTemplate(
                "There is more empty space around the product",
                undecidable("balance of a layout; no weight-free measure judges it"),
            ),
        ),
        {"color_grading": "muted and calm", "theme": "minimalist"},
        wants_clutter=True,
    ),
    Family(
        "retro-80s",
        (
            "Make this look like an 80s advert.",
            "Give the ad a retro eighties vibe.",
            "Make it feel like a 1980s synthwave poster.",
            "Retro-fy this ad: totally 80s.",
        ),
        (
            CriterionTemplate(
                "Neon magenta and purple dominate the palette",
                direction("hue_distance", "decrease", "background", target_hue=300),
            ),
            CriterionTemplate(
                "Retro motifs appear (grid floor, striped sunset, chrome lettering)", undecidable(_MOTIF_WHY)
            ),
            CriterionTemplate("Colours are bold and saturated", direction("saturation", "increase")),
            CriterionTemplate(
                "The typography looks retro",
                undecidable("a type style is a reading of letterforms; no weight-free measure reads it"),
            ),
        ),
        {"time_period": "1980s", "color_grading": "neon magenta and cyan", "theme": "retro 80s"},
        avoid_palettes=("lavender", "berry"),
    ),
    Family(
        "night-neon",
        (
            "Give this ad a night-time neon look.",
            "Make it feel like a city street at night with neon signs.",
            "Turn this into a late-night, neon-lit promotion.",
            "Make the poster glow like neon after dark.",
        ),
        (
            CriterionTemplate(
                "The ad turns dark, like night", direction("brightness", "decrease", "background")
            ),
            CriterionTemplate(
                "Neon glows or outlines (pink, cyan, electric blue) light up the product or text",
                undecidable(
                    "glows hug shapes of any kind; no weight-free measure tells a glow from a colour"
                ),
            ),
            CriterionTemplate(
                "Contrast is high: bright elements pop against the dark", direction("contrast", "increase")
            ),
            CriterionTemplate("The copy fits a night-time theme", undecidable(_TEXT_WHY)),
        ),
        {"time_of_day": "night", "mood_lighting": "neon", "theme": "night neon"},
        avoid_palettes=("charcoal", "navy", "berry", "forest"),
    ),
    Family(
        "wellness",
        (
            "Make this advert feel more health and wellness oriented.",
            "Give the ad a fresh wellness vibe.",
            "Make it appeal to people who care about healthy living.",
            "Make this {noun} ad feel calm, clean and healthy.",
        ),
        (
            CriterionTemplate(
                "Fresh, soft tones such as mint, sage or light aqua",
                direction("hue_distance", "decrease", "background", target_hue=160),
            ),
            CriterionTemplate("The ad feels light and airy", direction("brightness", "increase")),
            CriterionTemplate(
                "Wellness cues are added (leaves, water drops, words like 'balance' or 'natural')",
                undecidable(_MOTIF_WHY),
            ),
            CriterionTemplate("Colours are soft rather than loud", direction("saturation", "decrease")),
        ),
        {"color_grading": "soft mint and aqua", "mood_lighting": "airy", "theme": "wellness"},
        avoid_palettes=("mint", "teal", "forest", "sky"),
    ),
    Family(
        "halloween",
        (
            "Make it spooky for Halloween.",
            "Turn this into a Halloween promotion.",
            "Give the ad a Halloween makeover, pumpkins and all.",
            "Make this poster fit a Halloween campaign.",
        ),
        (
            CriterionTemplate(
                "Pumpkin orange and black dominate the palette",
                direction("hue_distance", "decrease", "background", target_hue=30),
            ),
            CriterionTemplate("The ad gets darker and moodier", direction("brightness", "decrease")),
            CriterionTemplate(
                "Halloween motifs appear (pumpkins, bats, cobwebs, a full moon)", undecidable(_MOTIF_WHY)
            ),
            CriterionTemplate("A spooky seasonal message is added", undecidable(_TEXT_WHY)),
        ),
        {
            "season": "autumn",
            "mood_lighting": "spooky",
            "color_grading": "orange and black",
            "theme": "halloween",
        },
        avoid_palettes=("mustard", "coral", "peach", "cream"),
    ),
    Family(
        "back-to-school",
        (
            "Make this a back-to-school promotion.",
            "Target students heading back to class.",
            "Adapt the ad for the back-to-school season.",
            "Make this {noun} ad appeal to students and parents in September.",
        ),
        (
            CriterionTemplate(
                "School cues are added (pencils, notebooks, a ruler, a chalkboard)", undecidable(_MOTIF_WHY)
            ),
            CriterionTemplate(
                "The background gets a notebook or chalkboard look (ruled lines, grid or chalk texture)",
                direction("edge_density", "increase", "background"),
            ),
            CriterionTemplate(
                "The palette becomes bolder and more energetic", direction("colorfulness", "increase")
            ),
            CriterionTemplate("A back-to-school message appears", undecidable(_TEXT_WHY)),
        ),
        {"season": "late summer", "theme": "back to school"},
    ),
    Family(
        "valentines",
        (
            "Make it romantic for Valentine's Day.",
            "Turn this into a Valentine's Day gift ad.",
            "Give the poster a love-themed makeover for February 14th.",
            "Pitch {this} {noun} as the perfect Valentine's gift.",
        ),
        (
            CriterionTemplate(
                "Pinks and reds take over the palette",
                direction("hue_distance", "decrease", "background", target_hue=340),
            ),
            CriterionTemplate("Hearts or other romantic motifs appear", undecidable(_MOTIF_WHY)),
            CriterionTemplate("A gifting message is added (e.g. 'the perfect gift')", undecidable(_TEXT_WHY)),
            CriterionTemplate("The mood is soft and warm", direction("warmth", "increase")),
        ),
        {"color_grading": "pink and red", "mood_lighting": "soft and warm", "theme": "valentine's day"},
        avoid_palettes=("berry", "coral", "peach"),
    ),
    Family(
        "black-friday",
        (
            "Make this a Black Friday deal.",
            "Turn the ad into a bold Black Friday promotion.",
            "Give it urgent, high-contrast Black Friday energy.",
            "Make the price cut impossible to miss, Black Friday style.",
        ),
        (
            CriterionTemplate(
                "Black dominates the background", direction("brightness", "decrease", "background")
            ),
            CriterionTemplate(
                "High contrast: bold light type and accents on black", direction("contrast", "increase")
            ),
            CriterionTemplate(
                "The discount is unmissable (a big '-50%', 'DEAL', a countdown)", undecidable(_TEXT_WHY)
            ),
            CriterionTemplate("A sense of urgency ('today only', 'ends midnight')", undecidable(_TEXT_WHY)),
        ),
        {"color_grading": "black with bold accents", "theme": "black friday"},
        avoid_palettes=("charcoal", "navy"),
    ),
)

FAMILY_NAMES: tuple[str, ...] = tuple(f.name for f in FAMILIES)


# ------------------------------------------------------------------------------ preservation


def preserve_check(element: str, regions: dict) -> Check:
    """What "``element`` is kept" means in numbers: its box keeps its structure (product, logo), or
    its box still reads as text (headline, price)."""
    if element in ("headline", "price"):
        return {"measure": "text_likelihood", "region": regions[element], "at_least_ratio": TEXT_KEPT_RATIO}
    return {"measure": "structure_kept", "region": regions[element], "at_least": STRUCTURE_KEPT}


PRESERVE_TEXTS: dict[str, str] = {
    "product": "The {noun} {keeps} shape and design",
    "logo": "The {brand} logo is unchanged",
    "price": "The price ({price}) is still shown, legible, where it was",
    "headline": "The headline '{headline}' is kept and readable",
}

QUALITY_TEXTS: tuple[str, ...] = (
    "The advert still looks clean and professional, without artefacts",
    "The result reads as one coherent design, not pasted-on pieces",
    "All text stays readable against its background",
)
QUALITY_WHY = "an aesthetic judgement of the whole design; no weight-free measure decides it"
