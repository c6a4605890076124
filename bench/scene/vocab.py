"""The ten visual dimensions of paper B's structured context and their closed vocabularies.

Paper B (Appendix C.1.1) describes an image's state along ten dimensions with open example values;
editbench closes each to 4-8 values a renderer can draw and a judge can check exactly, and maps
paper B's own tokens and common synonyms onto them (:data:`ALIASES`, :func:`canonical_value`).
"""

from __future__ import annotations

from typing import Any

#: The ten dimensions, in paper B's order (C.1.1, 1-10).
DIMENSIONS: tuple[str, ...] = (
    "location_setting",
    "architecture_style",
    "time_period",
    "time_of_day",
    "season",
    "weather",
    "mood_lighting",
    "color_grading",
    "artistic_medium",
    "atmospheric_effects",
)

#: The closed vocabulary of each dimension. Values are short forms of paper B's examples (C.1.1);
#: the first value of each tuple is the plain default (a clear summer noon photo of a modern city).
VOCAB: dict[str, tuple[str, ...]] = {
    "location_setting": ("city", "suburb", "village", "beach", "desert", "mountains", "forest"),
    "architecture_style": (
        "modern_glass",
        "classical_greek",
        "victorian_gothic",
        "art_deco",
        "brutalist",
        "traditional_asian",
        "middle_eastern",
    ),
    "time_period": ("contemporary", "ancient", "medieval", "victorian", "mid_century", "futuristic"),
    "time_of_day": ("noon", "dawn", "morning", "golden_hour", "dusk", "night"),
    "season": ("summer", "spring", "autumn", "winter"),
    "weather": ("clear", "cloudy", "rainy", "snowy", "foggy", "stormy"),
    "mood_lighting": (
        "neutral",
        "warm_cozy",
        "cool_calm",
        "dramatic",
        "mysterious",
        "ethereal",
        "melancholic",
    ),
    "color_grading": (
        "natural",
        "warm_cinematic",
        "cool_blue",
        "sepia",
        "black_white",
        "teal_orange",
        "vibrant",
        "pastel",
    ),
    "artistic_medium": ("photo", "pencil_sketch", "oil_paint", "watercolor", "pixel_art", "comic"),
    "atmospheric_effects": ("none", "fog", "haze", "snow", "rain", "embers", "light_rays"),
}

#: The default value of each dimension (the first of its vocabulary).
DEFAULTS: dict[str, str] = {dim: values[0] for dim, values in VOCAB.items()}

#: The key each dimension has in ``Sample.context`` (DESIGN.md names two of them shorter).
CONTEXT_KEYS: dict[str, str] = {
    dim: {"location_setting": "location", "architecture_style": "architecture"}.get(dim, dim)
    for dim in DIMENSIONS
}

#: Other spellings accepted by :func:`canonical_value`: paper B's C.1.1 example tokens and common
#: synonyms, mapped to this vocabulary. Tokens with no faithful counterpart here are left out on
#: purpose (``cave_underground``, ``abstract``...): they must fail loudly, not land on a neighbour.
ALIASES: dict[str, dict[str, str]] = {
    "location_setting": {
        "urban_city": "city",
        "urban": "city",
        "cyberpunk_city": "city",
        "downtown": "city",
        "suburban_neighborhood": "suburb",
        "suburban": "suburb",
        "rural_village": "village",
        "medieval_town": "village",
        "rural": "village",
        "beach_coast": "beach",
        "tropical_island": "beach",
        "coast": "beach",
        "seaside": "beach",
        "desert_sand": "desert",
        "mountain_rocky": "mountains",
        "mountain": "mountains",
        "forest_temperate": "forest",
        "woods": "forest",
    },
    "architecture_style": {
        "modern_minimalist": "modern_glass",
        "modern": "modern_glass",
        "glass": "modern_glass",
        "classical": "classical_greek",
        "greek": "classical_greek",
        "gothic": "victorian_gothic",
        "victorian": "victorian_gothic",
        "brutalist_concrete": "brutalist",
        "traditional": "traditional_asian",
        "pagoda": "traditional_asian",
        "asian": "traditional_asian",
        "arabic": "middle_eastern",
        "artdeco": "art_deco",
    },
    "time_period": {
        "modern_2000s": "contemporary",
        "modern": "contemporary",
        "contemporary_2020s": "contemporary",
        "present": "contemporary",
        "ancient_classical": "ancient",
        "prehistoric": "ancient",
        "medieval_dark_ages": "medieval",
        "victorian_1800s": "victorian",
        "mid_century_1950s": "mid_century",
        "1950s": "mid_century",
        "near_future_2050s": "futuristic",
        "far_future_2200s": "futuristic",
        "future": "futuristic",
        "sci_fi": "futuristic",
    },
    "time_of_day": {
        "dawn_first_light": "dawn",
        "sunrise": "dawn",
        "morning_golden": "morning",
        "midday": "noon",
        "midday_overhead": "noon",
        "midday_harsh": "noon",
        "sunset_golden": "golden_hour",
        "sunset": "golden_hour",
        "golden": "golden_hour",
        "dusk_twilight": "dusk",
        "twilight": "dusk",
        "night_moonlit": "night",
        "night_starlit": "night",
        "evening": "dusk",
    },
    "season": {
        "spring_blooming": "spring",
        "summer_lush": "summer",
        "autumn_falling": "autumn",
        "fall": "autumn",
        "winter_snow": "winter",
    },
    "weather": {
        "clear_sky": "clear",
        "sunny": "clear",
        "partly_cloudy": "cloudy",
        "overcast_gray": "cloudy",
        "overcast": "cloudy",
        "light_rain": "rainy",
        "heavy_rain": "rainy",
        "rain": "rainy",
        "thunderstorm": "stormy",
        "storm": "stormy",
        "light_snow": "snowy",
        "blizzard": "snowy",
        "snow": "snowy",
        "fog_heavy": "foggy",
        "mist_light": "foggy",
        "fog": "foggy",
        "misty": "foggy",
    },
    "mood_lighting": {
        "neutral_balanced": "neutral",
        "neutral_documentary": "neutral",
        "warm": "warm_cozy",
        "cozy": "warm_cozy",
        "cool": "cool_calm",
        "calm": "cool_calm",
        "serene_peaceful": "cool_calm",
        "dramatic_contrast": "dramatic",
        "tense_harsh": "dramatic",
        "mysterious_dark": "mysterious",
        "ominous_dark": "mysterious",
        "ethereal_soft": "ethereal",
        "romantic_soft": "ethereal",
        "dreamy": "ethereal",
        "melancholic_muted": "melancholic",
        "gloomy": "melancholic",
    },
    "color_grading": {
        "natural_balanced": "natural",
        "natural_desaturated": "natural",
        "warm": "warm_cinematic",
        "cool": "cool_blue",
        "sepia_vintage": "sepia",
        "vintage": "sepia",
        "black_and_white": "black_white",
        "monochrome": "black_white",
        "grayscale": "black_white",
        "vibrant_saturated": "vibrant",
        "neon_bright": "vibrant",
        "saturated": "vibrant",
        "pastel_soft": "pastel",
    },
    "artistic_medium": {
        "photorealistic": "photo",
        "realistic_photograph": "photo",
        "photograph": "photo",
        "oil_painting": "oil_paint",
        "oil": "oil_paint",
        "impressionist": "oil_paint",
        "charcoal_drawing": "pencil_sketch",
        "pencil": "pencil_sketch",
        "sketch": "pencil_sketch",
        "watercolour": "watercolor",
        "pixel": "pixel_art",
        "comic_book": "comic",
        "cartoon": "comic",
    },
    "atmospheric_effects": {
        "none_clear": "none",
        "clear": "none",
        "clear_visibility": "none",
        "fog_dense": "fog",
        "mist_light": "haze",
        "mist": "haze",
        "haze_atmospheric": "haze",
        "dust_particles": "haze",
        "rain_drops": "rain",
        "snow_falling": "snow",
        "embers_floating": "embers",
        "sparks": "embers",
        "god_rays": "light_rays",
        "sun_rays": "light_rays",
    },
}


def canonical_value(dimension: str, value: str) -> str:
    """Map a free spelling of a value onto ``VOCAB[dimension]``.

    Lower-cases, turns spaces and hyphens into underscores, then accepts a vocabulary value or an
    :data:`ALIASES` entry. Raises ``ValueError`` naming the dimension and the value otherwise.

    >>> canonical_value("time_of_day", "Sunset Golden")
    'golden_hour'
    """
    check_dimension(dimension)
    norm = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if norm in VOCAB[dimension]:
        return norm
    if norm in ALIASES[dimension]:
        return ALIASES[dimension][norm]
    raise ValueError(
        f"{dimension}: {value!r} is not a known value; expected one of {', '.join(VOCAB[dimension])}"
    )


def check_dimension(dimension: str) -> None:
    """Raise ``ValueError`` unless ``dimension`` is one of the ten."""
    if dimension not in VOCAB:
        raise ValueError(f"{dimension!r} is not a scene dimension; expected one of {', '.join(DIMENSIONS)}")


def check_value(dimension: str, value: Any) -> None:
    """Raise ``ValueError`` naming the dimension and the value unless it is in the vocabulary."""
    if not isinstance(value, str) or value not in VOCAB[dimension]:
        raise ValueError(f"{dimension}: {value!r} is not one of {', '.join(VOCAB[dimension])}")
