"""The goal lexicon shared by ``edit-only`` and ``rule-pipeline``: phrases → (action, params, aspect).

It is data, written by hand from what the words mean (paper B's ten dimensions, Appendix C.1/C.2,
and paper A's abstract advert goals), never fitted to any suite's ground truth:

- :data:`DIMENSION_LEXICON`: for each of the ten context dimensions (keys of
  :data:`bench.model.CONTEXT_DIMENSIONS`), each value of the scene vocabulary
  (:data:`bench.scene.spec.VOCAB`, plus a few that have no scene value) with the phrases that ask
  for it and the parameters of the classical op that approximates it — or ``None`` where no
  classical op does (a village, Moorish architecture, "photorealistic again"): the planner then
  says so instead of doing something else.
- :data:`SUPPORT`: for each (dimension, value), one companion change that keeps the image
  consistent, after paper B's "temporal consistency" criterion (C.3: "sunset implies warm
  lighting, winter implies cold tones"). The rule pipeline adds it only to reach its minimum
  number of steps.
- :data:`ADVERT_ASPECTS`: abstract advert goals (eco, premium, festive winter, ...) as 1-3 concrete
  edits each, and the dimensions each one subsumes (``covers``).

Every phrase is matched on whole words of the normalised text (:func:`normalize`); a longer phrase
wins over the shorter ones inside it ("winter wonderland" over "winter"). The matching itself
(:func:`find_matches`, :func:`split_clauses`) lives here too so both systems read goals alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.model import DIMENSION_ACTIONS

#: The order steps run in: foundation first (paper B: place, buildings and era before light and
#: season), then light, grade, medium; particles after the medium so it does not smear them;
#: advert overlays last so text and badges stay legible.
STAGES: tuple[str, ...] = (
    "background", "location", "architecture", "time_period", "season", "weather", "time_of_day",
    "mood_lighting", "color_grading", "adjust", "artistic_medium", "atmospheric_effects",
    "pattern", "badge", "text",
)

#: How a step may be confined when something must be preserved: ``tone`` steps relight or regrade
#: (shapes survive, so they run on the whole frame unless a preserved element's colours are its
#: identity), ``content`` steps paint things in (snow, rain, foliage, a backdrop, a pattern) and
#: avoid every preserved element, ``overlay`` steps place text or a badge where nothing sits.
SCOPES: tuple[str, ...] = ("tone", "content", "overlay")

#: Paper B's parameter names for each dimension action's source and target (C.2.1).
ACTION_PARAM_NAMES: dict[str, tuple[str, str]] = {
    "location_setting": ("source_location", "target_location"),
    "architecture_style": ("source_style", "target_style"),
    "time_period": ("source_era", "target_era"),
    "time_of_day": ("source_time", "target_time"),
    "season": ("source_season", "target_season"),
    "weather": ("source_weather", "target_weather"),
    "mood_lighting": ("source_mood", "target_mood"),
    "color_grading": ("source_grading", "target_grading"),
    "artistic_medium": ("source_medium", "target_medium"),
    "atmospheric_effects": ("source_effects", "target_effects"),
}

_DIM_SCOPE = {"location": "content", "season": "content", "weather": "content", "atmospheric_effects": "content"}
#: Dimensions that need a landscape: on an advert they would recolour flat graphics at random.
SCENE_ONLY: frozenset[str] = frozenset({"location", "architecture", "season", "weather"})


@dataclass(frozen=True)
class Action:
    """One tool call: the op, its params, what it changes, when it runs and how it may be confined.

    ``region="background"`` means the action is *about* the background (recolour the backdrop of an
    advert): it stays off the main subject and every element the description places, whatever the
    preserve list says. ``confined_params`` are merged in when the step is
    confined to part of the image (a location change paints a backdrop instead of tinting).
    """

    action: str
    params: Mapping[str, Any] = field(default_factory=dict)
    dimension: str | None = None
    value: str | None = None
    stage: str = "adjust"
    scope: str = "tone"
    region: str | None = None
    why: str = ""
    advert_only: bool = False
    confined_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """A group of phrases that ask for the same thing, and the actions that do it (first = primary).

    ``actions == ()`` marks a request no classical op can honour (``note`` says why).
    """

    aspect: str
    label: str
    phrases: tuple[str, ...]
    actions: tuple[Action, ...]
    dimension: str | None = None
    value: str | None = None
    covers: tuple[str, ...] = ()
    domain: str = "any"  # any | scene | advert
    note: str = ""


def _dim_action(dim: str, value: str, params: Mapping[str, Any] | None, why: str = "", **kw: Any) -> Action:
    return Action(DIMENSION_ACTIONS[dim], dict(params or {}), dimension=dim, value=value, stage=dim,
                  scope=_DIM_SCOPE.get(dim, "tone"), why=why, **kw)


# -- the ten dimensions: value -> (phrases, op params or None) -----------------------------------
# Values are the scene vocabulary's (bench.scene.spec.VOCAB) where one exists; "vintage",
# "desaturated" and "cinematic" have none and are compared with the context as plain words.
_D: dict[str, dict[str, tuple[tuple[str, ...], dict[str, Any] | None]]] = {
    "location": {
        "city": (("city", "urban", "downtown", "metropolis", "cityscape", "big city"), {"target": "city"}),
        "beach": (("beach", "seaside", "coast", "coastal", "tropical", "tropical island", "island", "by the sea",
                   "ocean", "sea"), {"target": "beach"}),
        "desert": (("desert", "dunes", "sand dunes", "sahara", "arid"), {"target": "desert"}),
        "mountains": (("mountain", "mountains", "alpine", "alps", "snowy mountains", "mountain range", "highlands"),
                      {"target": "snowy_mountains"}),
        "forest": (("forest", "woods", "woodland", "jungle", "rainforest"), {"target": "forest"}),
        "suburb": (("suburb", "suburbs", "suburban", "neighborhood", "neighbourhood"), None),
        "village": (("village", "rural", "countryside", "hamlet", "farmland"), None),
    },
    "architecture": {
        "modern_glass": (("modern glass", "glass towers", "glass and steel", "modernist", "modern architecture",
                          "futuristic architecture", "futuristic buildings", "skyscrapers"), {"style": "futuristic"}),
        "classical_greek": (("classical", "classical greek", "greek", "roman", "neoclassical", "marble",
                             "classical architecture", "greek temple"), {"style": "classical"}),
        "victorian_gothic": (("gothic", "victorian gothic", "cathedral", "victorian architecture",
                              "victorian buildings", "victorian houses", "gothic revival"), {"style": "gothic"}),
        "art_deco": (("art deco", "deco", "gatsby", "roaring twenties", "1920s"), {"style": "art_deco"}),
        "brutalist": (("brutalist", "brutalism", "concrete", "raw concrete", "soviet"), {"style": "brutalist"}),
        "traditional_asian": (("pagoda", "pagodas", "traditional asian", "asian", "japanese", "chinese"), None),
        "middle_eastern": (("middle eastern", "arabic", "arabian", "moorish", "islamic"), None),
    },
    "time_period": {
        "medieval": (("medieval", "middle ages", "knights", "dark ages"), {"era": "medieval"}),
        "victorian": (("victorian", "victorian era", "1800s", "19th century", "nineteenth century", "dickensian"),
                      {"era": "victorian"}),
        "mid_century": (("mid century", "1950s", "50s", "fifties", "mid century modern"), {"era": "mid_century"}),
        "futuristic": (("futuristic", "future", "far future", "sci fi", "science fiction", "2050s"),
                       {"era": "futuristic"}),
        "vintage": (("vintage", "retro", "old fashioned", "nostalgic", "1970s", "70s", "seventies"), {"era": "vintage"}),
        "ancient": (("ancient", "antiquity", "ancient times", "prehistoric"), None),
        "contemporary": (("contemporary", "present day", "modern day"), None),
    },
    "time_of_day": {
        "dawn": (("dawn", "sunrise", "daybreak", "first light", "break of day"), {"target": "dawn"}),
        "morning": (("morning", "morning light", "mid morning", "early morning"), {"target": "morning"}),
        "noon": (("noon", "midday", "daytime", "broad daylight", "high noon", "daylight", "middle of the day"),
                 {"target": "noon"}),
        "golden_hour": (("golden hour", "sunset", "sundown", "golden light", "magic hour", "late afternoon",
                         "golden glow"), {"target": "golden_hour"}),
        "dusk": (("dusk", "twilight", "evening", "blue hour", "nightfall", "gloaming"), {"target": "dusk"}),
        "night": (("night", "nighttime", "night time", "midnight", "moonlit", "moonlight", "starry night",
                   "after dark", "starlit"), {"target": "night"}),
    },
    "season": {
        "spring": (("spring", "springtime", "blossom", "blossoms", "blooming", "cherry blossom", "in bloom"),
                   {"target": "spring"}),
        "summer": (("summer", "summertime", "lush", "midsummer", "high summer"), {"target": "summer"}),
        "autumn": (("autumn", "fall", "autumnal", "fall foliage", "autumn leaves", "fall colors", "fall colours",
                    "harvest"), {"target": "autumn"}),
        "winter": (("winter", "wintry", "wintery", "wintertime", "snow covered", "snowy landscape", "frosty", "frost"),
                   {"target": "winter"}),
    },
    "weather": {
        "clear": (("clear sky", "clear skies", "sunny", "clear weather", "blue sky", "blue skies", "cloudless",
                   "fair weather", "clear up", "clears up", "weather clear"), {"target": "clear"}),
        "cloudy": (("cloudy", "overcast", "clouds", "grey sky", "gray sky", "grey skies", "gray skies",
                    "partly cloudy"), {"target": "cloudy"}),
        "rainy": (("rain", "rainy", "raining", "rainstorm", "downpour", "drizzle", "wet weather", "showers"),
                  {"target": "rainy"}),
        "snowy": (("snowy", "snowing", "snowstorm", "blizzard", "snowy weather"), {"target": "snowy"}),
        "foggy": (("foggy", "fog bank", "misty weather", "foggy weather"), {"target": "foggy"}),
        "stormy": (("storm", "stormy", "thunderstorm", "thunder", "lightning", "tempest"), {"target": "stormy"}),
    },
    "mood_lighting": {
        "warm_cozy": (("cozy", "cosy", "warm lighting", "warm light", "warm glow", "inviting", "homely", "warm mood",
                       "warm and cozy", "warm and cosy"), {"mood": "warm"}),
        "cool_calm": (("calm", "serene", "peaceful", "tranquil", "cool lighting", "cool light", "cool mood",
                       "relaxing", "calm and cool", "cool and calm"), {"mood": "cool"}),
        "dramatic": (("dramatic", "dramatic lighting", "intense", "epic", "cinematic lighting", "high contrast"),
                     {"mood": "dramatic"}),
        "mysterious": (("mysterious", "eerie", "ominous", "dark mood", "spooky", "creepy", "haunting", "sinister",
                        "moody"), {"mood": "moody"}),
        "ethereal": (("ethereal", "dreamy", "dreamlike", "soft light", "soft lighting", "romantic", "magical",
                      "heavenly"), {"mood": "soft"}),
        "melancholic": (("melancholic", "melancholy", "gloomy", "somber", "sombre", "sad", "sadness", "sorrow",
                         "bleak", "lonely"), {"mood": "moody"}),
        "neutral": (("neutral lighting", "balanced lighting"), None),
    },
    "color_grading": {
        "warm_cinematic": (("warm", "warmer", "warm tones", "warm colours", "warm colors", "warm grade",
                            "warm palette", "golden tones", "amber"), {"grade": "warm"}),
        "cool_blue": (("cool", "cooler", "cool tones", "cool colours", "cool colors", "blue tint", "cold tones",
                       "icy", "cold", "bluish", "cool blue"), {"grade": "cool"}),
        "sepia": (("sepia", "old photo", "old photograph", "antique photo", "brown tones", "vintage tone"),
                  {"grade": "sepia"}),
        "black_white": (("black and white", "monochrome", "grayscale", "greyscale", "b and w", "black white"),
                        {"grade": "black_and_white"}),
        "teal_orange": (("teal and orange", "teal orange", "orange and teal", "blockbuster", "hollywood"),
                        {"grade": "teal_orange"}),
        "vibrant": (("vibrant", "saturated", "vivid", "colorful", "colourful", "punchy", "bold colours",
                     "bold colors", "bright colours", "bright colors", "more colour", "more color", "boost the colours",
                     "boost the colors"),
                    {"grade": "vibrant"}),
        "pastel": (("pastel", "pastels", "soft colours", "soft colors", "pastel tones"), {"grade": "desaturated"}),
        "desaturated": (("desaturated", "muted", "washed out", "faded", "muted colours", "muted colors",
                         "low saturation", "wash out", "wash the colours out", "wash the colors out"),
                        {"grade": "desaturated"}),
        "cinematic": (("cinematic", "film look", "filmic", "movie still", "movie like"), {"grade": "cinematic"}),
        "natural": (("natural colours", "natural colors", "natural grading", "neutral colours", "neutral colors"), None),
    },
    "artistic_medium": {
        "pencil_sketch": (("pencil sketch", "sketch", "pencil drawing", "pencil", "drawing", "charcoal", "graphite",
                           "hand drawn", "line drawing"), {"medium": "pencil_sketch"}),
        "oil_paint": (("oil painting", "oil paint", "oil", "painting", "painterly", "impressionist", "impressionism",
                       "van gogh", "brush strokes", "oil on canvas", "oils", "in oils"), {"medium": "oil_paint"}),
        "watercolor": (("watercolor", "watercolour", "water color", "water colour", "watercolours", "watercolors",
                        "aquarelle"), {"medium": "watercolor"}),
        "pixel_art": (("pixel art", "pixelated", "8 bit", "16 bit", "retro game", "video game", "pixel",
                       "retro pixel art", "arcade", "arcade game", "retro arcade", "retro video game"),
                      {"medium": "pixel_art"}),
        "comic": (("comic", "comic book", "cartoon", "graphic novel", "anime", "manga", "cel shaded", "pop art"),
                  {"medium": "comic"}),
        "photo": (("photorealistic", "photo", "photograph", "realistic", "photographic"), None),
    },
    "atmospheric_effects": {
        "fog": (("fog", "mist", "misty", "low fog", "ground fog", "rolling fog"), {"effect": "fog"}),
        "haze": (("haze", "hazy", "atmospheric haze", "dust", "dusty", "smog"), {"effect": "haze"}),
        "snow": (("snow", "falling snow", "snowfall", "snowflakes", "snow falling", "snow fall", "flurries"),
                 {"effect": "snow"}),
        "rain": (("raindrops", "rain drops", "rain streaks", "falling rain"), {"effect": "rain"}),
        "embers": (("embers", "sparks", "glowing embers", "fire sparks", "ash"), {"effect": "embers"}),
        "light_rays": (("light rays", "sun rays", "god rays", "sunbeams", "sun beams", "rays of light",
                        "crepuscular rays", "volumetric light", "light shafts"), {"effect": "light_rays"}),
    },
}

_NO_OP_NOTE = "no classical operation approximates this value faithfully"


def _dimension_entries() -> tuple[Entry, ...]:
    out: list[Entry] = []
    for dim, values in _D.items():
        # A location change confined to the background paints a backdrop instead of tinting.
        confined = {"mode": "backdrop"} if dim == "location" else {}
        for value, (phrases, params) in values.items():
            label = value.replace("_", " ")
            actions = () if params is None else (
                _dim_action(dim, value, params, f"the goal asks for {label}", confined_params=confined),)
            out.append(Entry(f"{dim}:{value}", label, phrases, actions, dimension=dim, value=value,
                             domain="scene" if dim in SCENE_ONLY else "any", note="" if actions else _NO_OP_NOTE))
    # Compound phrases that name two dimensions at once.
    out.append(Entry("season:winter_wonderland", "winter wonderland", ("winter wonderland", "snowy wonderland"), (
        _dim_action("season", "winter", {"target": "winter"}, "a winter wonderland is a snowy winter landscape"),
        _dim_action("atmospheric_effects", "snow", {"effect": "snow"}, "a wonderland needs falling snow")),
        dimension="season", value="winter", domain="scene"))
    return tuple(out)


def _theme(slug: str, label: str, phrases: tuple[str, ...], *changes: tuple[str, str, dict[str, Any], str]) -> Entry:
    return Entry(f"theme:{slug}", label, phrases,
                 tuple(_dim_action(dim, value, params, why) for dim, value, params, why in changes), domain="scene")


#: Named themes (paper B's Complex goals name a theme, not its dimensions), each read as the
#: dimension changes that most define it, most essential first; written from what the words mean.
THEMES: tuple[Entry, ...] = (
    _theme("apocalyptic", "post-apocalyptic", ("post apocalyptic", "apocalyptic", "apocalypse", "world has ended",
                                               "end of the world", "wasteland"),
           ("color_grading", "desaturated", {"grade": "desaturated"}, "a wasteland is drained of colour"),
           ("atmospheric_effects", "haze", {"effect": "haze"}, "dust hangs in the air"),
           ("mood_lighting", "dramatic", {"mood": "dramatic"}, "harsh, dramatic light")),
    _theme("cyberpunk", "cyberpunk", ("cyberpunk", "neon city", "neon lit city", "blade runner"),
           ("time_period", "futuristic", {"era": "futuristic"}, "cyberpunk is a neon-lit future"),
           ("time_of_day", "night", {"target": "night"}, "it lives at night"),
           ("color_grading", "vibrant", {"grade": "vibrant"}, "saturated neon colour")),
    _theme("haunted", "haunted", ("haunted", "horror", "ghostly", "ghost story", "ghosts"),
           ("mood_lighting", "mysterious", {"mood": "moody"}, "an ominous, dark mood"),
           ("atmospheric_effects", "fog", {"effect": "fog"}, "fog hides what lurks"),
           ("time_of_day", "night", {"target": "night"}, "hauntings happen at night")),
    _theme("zen", "zen", ("zen", "meditative", "zen garden", "zen temple"),
           ("mood_lighting", "cool_calm", {"mood": "cool"}, "calm, quiet light"),
           ("color_grading", "pastel", {"grade": "desaturated"}, "soft, restrained colour")),
    _theme("lantern_festival", "lantern festival", ("lantern festival", "lanterns", "festival of lights",
                                                    "lantern"),
           ("time_of_day", "night", {"target": "night"}, "lanterns glow after dark"),
           ("mood_lighting", "warm_cozy", {"mood": "warm"}, "warm lantern light"),
           ("atmospheric_effects", "embers", {"effect": "embers"}, "glowing sparks drift up like lanterns")),
    _theme("noir", "film noir", ("film noir", "noir"),
           ("color_grading", "black_white", {"grade": "black_and_white"}, "noir is black and white"),
           ("mood_lighting", "dramatic", {"mood": "dramatic"}, "hard, contrasty light"),
           ("time_of_day", "night", {"target": "night"}, "noir streets are at night")),
    _theme("wild_west", "wild west", ("wild west", "western", "frontier town", "cowboy"),
           ("location", "desert", {"target": "desert"}, "the west is desert country"),
           ("time_of_day", "golden_hour", {"target": "golden_hour"}, "sundown over the plains"),
           ("color_grading", "sepia", {"grade": "sepia"}, "an old-photograph tone")),
    _theme("steampunk", "steampunk", ("steampunk", "steam punk"),
           ("time_period", "victorian", {"era": "victorian"}, "steampunk is Victorian at heart"),
           ("atmospheric_effects", "haze", {"effect": "haze"}, "steam and smoke in the air"),
           ("color_grading", "warm_cinematic", {"grade": "warm"}, "brass and copper warmth")),
    _theme("tropical", "tropical paradise", ("tropical paradise", "paradise", "island getaway"),
           ("location", "beach", {"target": "beach"}, "a paradise is a beach"),
           ("weather", "clear", {"target": "clear"}, "under a clear sky"),
           ("color_grading", "vibrant", {"grade": "vibrant"}, "vivid tropical colour")),
    _theme("fairy_tale", "fairy tale", ("fairy tale", "fairytale", "enchanted", "storybook", "fantasy"),
           ("mood_lighting", "ethereal", {"mood": "soft"}, "soft, magical light"),
           ("atmospheric_effects", "light_rays", {"effect": "light_rays"}, "shafts of enchanted light"),
           ("color_grading", "pastel", {"grade": "desaturated"}, "gentle storybook colour")),
    _theme("arctic", "arctic", ("arctic", "polar", "frozen", "icebound", "tundra"),
           ("season", "winter", {"target": "winter"}, "a frozen land is deep winter"),
           ("color_grading", "cool_blue", {"grade": "cool"}, "icy blue tones"),
           ("atmospheric_effects", "snow", {"effect": "snow"}, "blowing snow")),
    _theme("inferno", "inferno", ("inferno", "volcanic", "hellish", "fiery", "on fire", "wildfire"),
           ("atmospheric_effects", "embers", {"effect": "embers"}, "embers fill the air"),
           ("mood_lighting", "dramatic", {"mood": "dramatic"}, "fierce, dramatic firelight"),
           ("color_grading", "warm_cinematic", {"grade": "warm"}, "everything glows orange")),
)


# -- companions for temporal consistency (paper B C.3) -----------------------------------------
def _grade(value: str, grade: str, k: float, why: str) -> Action:
    return _dim_action("color_grading", value, {"grade": grade, "intensity": k}, why)


def _mood(value: str, mood: str, k: float, why: str) -> Action:
    return _dim_action("mood_lighting", value, {"mood": mood, "intensity": k}, why)


def _effect(value: str, k: float, why: str) -> Action:
    return _dim_action("atmospheric_effects", value, {"effect": value, "intensity": k}, why)


def _contrast(k: float, why: str) -> Action:
    return Action("brightness_contrast", {"contrast": k}, stage="adjust", why=why)


SUPPORT: dict[tuple[str, str], Action] = {
    ("time_of_day", "dawn"): _grade("warm_cinematic", "warm", 0.3, "first light is warm"),
    ("time_of_day", "morning"): _mood("ethereal", "soft", 0.4, "morning light is soft"),
    ("time_of_day", "noon"): _grade("vibrant", "vibrant", 0.3, "midday sun saturates colours"),
    ("time_of_day", "golden_hour"): _grade("warm_cinematic", "warm", 0.4, "sunset implies warm lighting (paper B, C.3)"),
    ("time_of_day", "dusk"): _grade("cool_blue", "cool", 0.3, "twilight turns the palette blue"),
    ("time_of_day", "night"): _grade("cool_blue", "cool", 0.4, "night light is cold and blue"),
    ("season", "spring"): _mood("ethereal", "soft", 0.4, "spring light is soft and fresh"),
    ("season", "summer"): _grade("vibrant", "vibrant", 0.4, "summer colours are saturated"),
    ("season", "autumn"): _grade("warm_cinematic", "warm", 0.4, "autumn reads as warm tones"),
    ("season", "winter"): _grade("cool_blue", "cool", 0.4, "winter implies cold tones (paper B, C.3)"),
    ("weather", "clear"): _grade("vibrant", "vibrant", 0.3, "clear air shows clean, saturated colour"),
    ("weather", "cloudy"): _grade("desaturated", "desaturated", 0.4, "overcast light mutes colours"),
    ("weather", "rainy"): _mood("melancholic", "moody", 0.4, "rain dulls and darkens the light"),
    ("weather", "snowy"): _effect("snow", 0.5, "snowy weather means falling snow"),
    ("weather", "foggy"): _effect("fog", 0.4, "fog thickens with distance"),
    ("weather", "stormy"): _mood("dramatic", "dramatic", 0.5, "a storm brings dramatic light"),
    ("mood_lighting", "warm_cozy"): _grade("warm_cinematic", "warm", 0.3, "a cosy mood wants warm tones"),
    ("mood_lighting", "cool_calm"): _grade("cool_blue", "cool", 0.3, "calm light reads cool"),
    ("mood_lighting", "dramatic"): _grade("cinematic", "cinematic", 0.5, "drama wants a contrasty cinematic grade"),
    ("mood_lighting", "mysterious"): _effect("haze", 0.3, "mystery hides the distance in haze"),
    ("mood_lighting", "ethereal"): _effect("light_rays", 0.4, "ethereal light streams in rays"),
    ("mood_lighting", "melancholic"): _grade("desaturated", "desaturated", 0.5, "melancholy drains colour"),
    ("color_grading", "warm_cinematic"): _mood("warm_cozy", "warm", 0.3, "warm tones want warm light"),
    ("color_grading", "cool_blue"): _mood("cool_calm", "cool", 0.3, "cool tones want cool light"),
    ("color_grading", "sepia"): _dim_action("time_period", "vintage", {"era": "vintage", "intensity": 0.4},
                                            "sepia reads as an old print: grain and fade"),
    ("color_grading", "black_white"): _contrast(0.15, "monochrome needs contrast to separate tones"),
    ("color_grading", "teal_orange"): _mood("dramatic", "dramatic", 0.3, "the blockbuster look is dramatic"),
    ("color_grading", "vibrant"): _contrast(0.1, "vivid colour pops with a little contrast"),
    ("color_grading", "pastel"): Action("brightness_contrast", {"brightness": 0.15}, stage="adjust",
                                        why="pastels are light as well as soft"),
    ("color_grading", "desaturated"): _mood("ethereal", "soft", 0.3, "muted colour suits soft light"),
    ("color_grading", "cinematic"): _mood("dramatic", "dramatic", 0.3, "a film look wants shaped light"),
    ("artistic_medium", "pencil_sketch"): _contrast(0.15, "graphite reads best with crisp contrast"),
    ("artistic_medium", "oil_paint"): _grade("warm_cinematic", "warm", 0.3, "oil paintings carry warm varnish tones"),
    ("artistic_medium", "watercolor"): _mood("ethereal", "soft", 0.4, "watercolour is light and airy"),
    ("artistic_medium", "pixel_art"): _grade("vibrant", "vibrant", 0.4, "pixel art uses a bright limited palette"),
    ("artistic_medium", "comic"): _grade("vibrant", "vibrant", 0.5, "comics use bold flat colour"),
    ("atmospheric_effects", "fog"): _mood("ethereal", "soft", 0.4, "fog diffuses the light"),
    ("atmospheric_effects", "haze"): _grade("warm_cinematic", "warm", 0.3, "haze scatters warm light"),
    ("atmospheric_effects", "snow"): _grade("cool_blue", "cool", 0.4, "falling snow implies cold tones"),
    ("atmospheric_effects", "rain"): _mood("melancholic", "moody", 0.4, "rain dulls the light"),
    ("atmospheric_effects", "embers"): _mood("dramatic", "dramatic", 0.4, "embers mean firelight and drama"),
    ("atmospheric_effects", "light_rays"): _mood("warm_cozy", "warm", 0.4, "rays of sun carry warm light"),
    ("location", "desert"): _grade("warm_cinematic", "warm", 0.4, "desert light is hot and warm"),
    ("location", "beach"): _grade("vibrant", "vibrant", 0.4, "beaches are bright and saturated"),
    ("location", "mountains"): _grade("cool_blue", "cool", 0.3, "mountain air is cold and clear"),
    ("location", "city"): _grade("cinematic", "cinematic", 0.4, "a city reads as a contrasty film still"),
    ("location", "forest"): _mood("ethereal", "soft", 0.3, "forest light is soft and filtered"),
    ("architecture", "victorian_gothic"): _mood("dramatic", "dramatic", 0.4, "gothic stone wants dramatic light"),
    ("architecture", "classical_greek"): _mood("warm_cozy", "warm", 0.3, "marble glows in warm light"),
    ("architecture", "art_deco"): _grade("warm_cinematic", "warm", 0.3, "art deco's gold wants warm tones"),
    ("architecture", "brutalist"): _grade("desaturated", "desaturated", 0.4, "raw concrete is grey and muted"),
    ("architecture", "modern_glass"): _grade("cool_blue", "cool", 0.3, "glass and steel read cool"),
    ("time_period", "medieval"): _effect("haze", 0.3, "smoke and haze of a pre-industrial town"),
    ("time_period", "victorian"): _effect("fog", 0.3, "Victorian streets sit in coal fog"),
    ("time_period", "mid_century"): _grade("vibrant", "vibrant", 0.3, "mid-century film stock is saturated"),
    ("time_period", "futuristic"): _mood("cool_calm", "cool", 0.4, "the future is lit cool"),
    ("time_period", "vintage"): _grade("sepia", "sepia", 0.3, "old prints drift toward sepia"),
}


# -- abstract advert goals (paper A) ---------------------------------------------------------
def _recolor(color: str, strength: float, why: str) -> Action:
    return Action("recolor_region", {"mode": "target", "color": color, "strength": strength, "preserve_luminance": True},
                  stage="color_grading", region="background", why=why)


def _bg(action: str, params: dict[str, Any], why: str, stage: str = "adjust") -> Action:
    return Action(action, params, stage=stage, region="background", why=why)


def _badge(text: str, color: str, why: str, shape: str = "circle", text_color: str = "#FFFFFF") -> Action:
    return Action("add_badge", {"text": text, "shape": shape, "color": color, "text_color": text_color, "size": 0.2},
                  stage="badge", scope="overlay", why=why, advert_only=True)


def _text(text: str, color: str, background: str, why: str) -> Action:
    return Action("add_text", {"text": text, "color": color, "background": background, "background_opacity": 0.85,
                               "size": 0.055, "max_width": 0.42},
                  stage="text", scope="overlay", why=why, advert_only=True)


def _border(color: str, width: float, why: str) -> Action:
    return Action("add_pattern_or_border", {"pattern": "border", "color": color, "width": width, "opacity": 0.95},
                  stage="pattern", scope="overlay", why=why)


def _pattern(pattern: str, color: str, opacity: float, scale: float, why: str, angle: float = 45.0) -> Action:
    return Action("add_pattern_or_border", {"pattern": pattern, "color": color, "opacity": opacity, "scale": scale,
                                            "angle": angle}, stage="pattern", scope="content", region="background",
                  why=why)


_TONE_DIMS = ("color_grading", "mood_lighting")

ADVERT_ASPECTS: tuple[Entry, ...] = (
    Entry("advert:eco", "eco-friendly", (
        "eco", "eco friendly", "greener", "green", "sustainable", "sustainability", "environmentally",
        "environmentally conscious", "planet", "planet friendly", "natural", "organic", "recycled", "earth friendly",
        "environment"), (
        _recolor("#4E8F3A", 0.85, "eco reads as natural leaf greens"),
        _bg("saturation", {"factor": 0.8}, "a natural look is softer and less glossy"),
        _badge("ECO", "#2E7D32", "a visible sustainability cue")),
        covers=_TONE_DIMS, domain="advert"),
    Entry("advert:business", "business travel", (
        "business", "business travellers", "business travelers", "corporate", "corporate travellers",
        "professional", "professionals", "travel for work", "executive", "executives", "frequent flyers",
        "business flyers", "airport"), (
        _recolor("#2C4A6E", 0.85, "a sober corporate navy and slate palette"),
        _bg("saturation", {"factor": 0.7}, "calmer, less playful colour"),
        _text("Built for business travel", "#FFFFFF", "#1F3350", "state the benefit to business travellers")),
        covers=_TONE_DIMS, domain="advert"),
    Entry("advert:premium", "premium", (
        "premium", "luxury", "luxurious", "high end", "upmarket", "upscale", "exclusive", "elegant", "sophisticated",
        "prestige", "classy", "lavish"), (
        _bg("brightness_contrast", {"brightness": -0.45, "contrast": 0.1}, "a darker, richer backdrop reads luxurious"),
        _bg("saturation", {"factor": 0.65}, "a restrained palette"),
        _border("#C9A54B", 0.02, "a thin gold frame as a metallic accent")),
        covers=_TONE_DIMS, domain="advert"),
    Entry("advert:festive", "festive winter", (
        "festive", "holiday", "holidays", "holiday season", "christmas", "xmas", "winter holiday", "yuletide",
        "snowy winter holiday"), (
        Action("atmospheric_effects", {"effect": "snow", "intensity": 0.6}, dimension="atmospheric_effects",
               value="snow", stage="atmospheric_effects", scope="content", region="background",
               why="falling snow is the clearest winter cue"),
        _recolor("#A3162B", 0.55, "festive deep red in the backdrop"),
        _text("HAPPY HOLIDAYS", "#FFFFFF", "#A3162B", "a seasonal message")),
        covers=("season", "weather", "atmospheric_effects") + _TONE_DIMS, domain="advert"),
    Entry("advert:summer_sale", "summer sale", (
        "summer sale", "summer", "sunny", "hot summer", "summer promotion", "sale ready", "sunshine"), (
        _bg("color_grading", {"grade": "warm", "intensity": 0.9}, "sunny, warm colours", stage="color_grading"),
        _bg("saturation", {"factor": 1.4}, "more vivid, energetic colour"),
        _badge("SALE", "#F4511E", "a prominent sale badge", shape="burst")),
        covers=("season",) + _TONE_DIMS, domain="advert"),
    Entry("advert:sale", "sale", (
        "sale", "discount", "deal", "deals", "offer", "bargain", "clearance"), (
        _badge("SALE", "#E53935", "make the offer visible", shape="burst"),),
        domain="advert"),
    Entry("advert:kids", "kid-friendly", (
        "kid", "kids", "kid friendly", "child", "children", "child friendly", "young families", "families",
        "playful", "fun", "cheerful", "for kids"), (
        _bg("color_grading", {"grade": "vibrant", "intensity": 1.0}, "bright, cheerful colour", stage="color_grading"),
        _bg("brightness_contrast", {"brightness": 0.15}, "a lighter, friendlier ad"),
        _pattern("dots", "#FFD54F", 0.6, 0.06, "playful confetti dots in the background")),
        covers=_TONE_DIMS, domain="advert"),
    Entry("advert:minimalist", "minimalist", (
        "minimalist", "minimal", "minimalism", "too busy", "busy", "calm this", "calm down", "scandinavian",
        "strip back", "stripped back", "essentials", "declutter", "simplify", "less cluttered"), (
        _bg("saturation", {"factor": 0.6}, "fewer, softer colours"),
        Action("replace_background", {"fill": "solid"}, stage="background", scope="content", region="background",
               why="a plain background in its own dominant colour removes the clutter"),
        _bg("brightness_contrast", {"contrast": -0.25}, "an even, quiet background")),
        covers=_TONE_DIMS, domain="advert"),
    Entry("advert:retro80s", "retro 80s", (
        "80s", "1980s", "eighties", "retro eighties", "synthwave", "retro 80s", "totally 80s", "vaporwave",
        "outrun"), (
        _recolor("#B0249C", 0.8, "neon magenta and purple"),
        _bg("saturation", {"factor": 1.35}, "bold, saturated colour"),
        _pattern("stripes", "#FF6EC7", 0.35, 0.06, "striped synthwave bands", angle=0.0)),
        covers=("time_period",) + _TONE_DIMS, domain="advert"),
    Entry("advert:neon_night", "neon night", (
        "neon", "neon lit", "neon signs", "late night", "glow like neon", "neon glow", "night time neon"), (
        Action("time_of_day", {"target": "night", "intensity": 0.9}, dimension="time_of_day", value="night",
               stage="time_of_day", region="background", why="a night-time backdrop"),
        Action("brightness_contrast", {"contrast": 0.35}, stage="adjust", why="bright elements pop against the dark"),
        _border("#FF2BD6", 0.015, "a neon pink glow line around the frame")),
        covers=("time_of_day",) + _TONE_DIMS, domain="advert"),
    Entry("advert:wellness", "wellness", (
        "wellness", "health", "healthy", "healthy living", "wellbeing", "well being", "fresh", "spa", "mindful",
        "health and wellness"), (
        _recolor("#79C9A9", 0.75, "fresh mint and aqua"),
        _bg("brightness_contrast", {"brightness": 0.15}, "light and airy"),
        _bg("saturation", {"factor": 0.8}, "soft rather than loud colour")),
        covers=_TONE_DIMS, domain="advert"),
    Entry("advert:halloween", "halloween", (
        "halloween", "spooky", "pumpkin", "pumpkins", "trick or treat", "haunted", "witch"), (
        _recolor("#E36A0F", 0.8, "pumpkin orange"),
        _bg("brightness_contrast", {"brightness": -0.3, "contrast": 0.1}, "darker and moodier"),
        _text("SPOOKY DEALS", "#FF8C1A", "#111111", "a spooky seasonal message")),
        covers=("season",) + _TONE_DIMS, domain="advert"),
    Entry("advert:back_to_school", "back to school", (
        "back to school", "students", "student", "school", "back to class", "september", "classroom"), (
        _pattern("stripes", "#6C8EBF", 0.55, 0.045, "ruled notebook lines in the background", angle=0.0),
        _bg("color_grading", {"grade": "vibrant", "intensity": 0.7}, "bolder, energetic colour", stage="color_grading"),
        _text("BACK TO SCHOOL", "#FFFFFF", "#2E5AAC", "a back-to-school message")),
        covers=("season",), domain="advert"),
    Entry("advert:valentines", "valentine's day", (
        "valentine", "valentines", "valentines day", "romantic", "love", "february 14th", "sweetheart"), (
        _recolor("#E2457A", 0.8, "pinks and reds"),
        _bg("color_grading", {"grade": "warm", "intensity": 0.4}, "a soft, warm mood", stage="color_grading"),
        _text("THE PERFECT GIFT", "#FFFFFF", "#C2185B", "a gifting message")),
        covers=_TONE_DIMS, domain="advert"),
    Entry("advert:black_friday", "black friday", (
        "black friday", "cyber monday", "doorbuster", "price cut", "huge discount"), (
        _bg("brightness_contrast", {"brightness": -0.75, "contrast": 0.2}, "black takes over the background"),
        Action("brightness_contrast", {"contrast": 0.3}, stage="adjust", why="bold, high contrast"),
        _badge("-50%", "#FFD600", "an unmissable discount", shape="burst", text_color="#111111")),
        covers=_TONE_DIMS, domain="advert"),
)

#: The plain dimension entries (generated from the table above, plus compound phrases).
DIMENSION_LEXICON: tuple[Entry, ...] = _dimension_entries()
#: Everything in the lexicon, advert aspects first (they are the richer reading), then themes.
ENTRIES: tuple[Entry, ...] = ADVERT_ASPECTS + THEMES + DIMENSION_LEXICON
#: What a goal is matched against, by domain: scenes never read advert aspects (a "sunny" scene is
#: clear weather, not a summer sale); adverts never read the landscape dimensions.
DOMAIN_ENTRIES: dict[str, tuple[Entry, ...]] = {
    "scene": THEMES + DIMENSION_LEXICON,
    "advert": ADVERT_ASPECTS + tuple(e for e in DIMENSION_LEXICON if e.domain != "scene"),
    "any": ENTRIES,
}

#: The neutral edit ``edit-only`` makes when no phrase matches: a light "vibrant" grade.
FALLBACK = Action("color_grading", {"grade": "vibrant", "intensity": 0.3}, stage="color_grading",
                  why="no lexicon phrase matched the goal; a light vibrant grade is the neutral fallback")
#: ``rule-pipeline``'s fallback adds a touch of contrast to it (two steps, like any plan).
FALLBACK_PLAN: tuple[Action, ...] = (FALLBACK, _contrast(0.1, "fallback: a touch of contrast after the grade"))


# -- preserve vocabulary -------------------------------------------------------------------------
#: Words in a preserve item or a "keep ..." clause that name a dimension to leave alone.
PRESERVE_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "location": ("location",), "setting": ("location",), "place": ("location",), "landscape": ("location",),
    "architecture": ("architecture",), "architectural style": ("architecture",), "building style": ("architecture",),
    "era": ("time_period",), "time period": ("time_period",), "period": ("time_period",),
    "time of day": ("time_of_day",), "lighting": ("mood_lighting",), "light": ("mood_lighting",),
    "season": ("season",), "weather": ("weather",), "mood": ("mood_lighting",), "mood lighting": ("mood_lighting",),
    "colours": ("color_grading",), "colors": ("color_grading",), "colour grading": ("color_grading",),
    "color grading": ("color_grading",), "palette": ("color_grading",), "grade": ("color_grading",),
    "tones": ("color_grading",), "medium": ("artistic_medium",), "art style": ("artistic_medium",),
    "artistic medium": ("artistic_medium",), "photographic look": ("artistic_medium",),
    "atmospheric effects": ("atmospheric_effects",), "atmosphere": ("atmospheric_effects",),
    "location setting": ("location",), "architecture style": ("architecture",),
}

#: Words that name a thing in the image to keep, and its kind. Kinds decide the region rules
#: (see :data:`IDENTITY_COLOUR_KINDS`) and where an unlocated thing is assumed to be.
PRESERVE_OBJECTS: dict[str, str] = {
    "product": "product", "products": "product", "item": "product", "subject": "subject",
    "main subject": "subject", "foreground": "subject", "person": "person", "people": "person", "figure": "person",
    "figures": "person", "character": "person", "characters": "person", "family": "person", "man": "person",
    "woman": "person", "house": "building", "houses": "building", "home": "building", "building": "building",
    "buildings": "building", "tower": "building", "church": "building", "car": "vehicle", "cars": "vehicle",
    "vehicle": "vehicle", "vehicles": "vehicle", "sky": "sky", "skies": "sky", "ground": "ground", "street": "ground",
    "road": "ground", "grass": "ground", "logo": "logo", "brand": "logo", "price": "price", "price tag": "price",
    "headline": "headline", "title": "headline", "text": "text", "copy": "text", "slogan": "text", "tagline": "text",
}
#: Kinds whose colours are part of what must be kept (an advert's product and brand mark): even
#: relighting and regrading steps stay off them. Text only has to stay legible, which a regrade
#: keeps; only steps that paint things in stay off it.
IDENTITY_COLOUR_KINDS: frozenset[str] = frozenset({"product", "logo"})
#: Where a thing of each kind is assumed to be when the description does not say (named regions).
DEFAULT_PLACE: dict[str, str] = {"product": "foreground", "subject": "foreground", "person": "foreground",
                                 "building": "foreground", "vehicle": "foreground", "sky": "top", "ground": "bottom"}


# -- matching ------------------------------------------------------------------------------------
_KEEP = r"keep|keeping|preserve|preserving|retain|retaining|maintain|maintaining|leave|leaving|dont change|" \
        r"do not change|without changing|dont touch|do not touch|protect|protecting|dont move|do not move|" \
        r"dont alter|do not alter"
_KEEP_RE = re.compile(rf"\b(?:{_KEEP})\b")
_NEGATORS = frozenset({"no", "not", "without", "remove", "removing", "less", "fewer", "reduce", "dont", "never",
                       "minus", "avoid", "lose"})


def normalize(text: str) -> str:
    """Lower-case words separated by single spaces: apostrophes dropped, ``&`` read as "and"."""
    text = text.lower().replace("’", "").replace("'", "").replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass(frozen=True)
class Clause:
    """A piece of the goal; ``keep`` clauses say what to preserve, the others what to change."""

    text: str  # normalised
    keep: bool


def split_clauses(goal: str) -> list[Clause]:
    """Split at sentence ends and "but/while", and before every "keep ..." marker.

    Commas do not end a clause, so "Keep the mug, the logo and the price" stays one keep clause.
    """
    out: list[Clause] = []
    for part in re.split(r"[.;!?\n]+|\b(?:but|while|whilst|although|yet)\b", goal.lower()):
        text = normalize(part)
        if not text:
            continue
        cuts = [m.start() for m in _KEEP_RE.finditer(text)]
        starts = [0] + cuts if not cuts or cuts[0] != 0 else cuts
        for i, start in enumerate(starts):
            piece = text[start: starts[i + 1] if i + 1 < len(starts) else len(text)].strip()
            if piece:
                out.append(Clause(piece, keep=bool(_KEEP_RE.match(piece))))
    return out


@dataclass(frozen=True)
class Match:
    """One phrase found in a clause: where (word positions), how specific (``score`` = words)."""

    entry: Entry
    phrase: str
    start: int
    end: int
    negated: bool = False

    @property
    def score(self) -> int:
        return self.end - self.start


def _phrase_index(entries: Iterable[Entry]) -> list[tuple[tuple[str, ...], int, Entry]]:
    index: list[tuple[tuple[str, ...], int, Entry]] = []
    for order, entry in enumerate(entries):
        for phrase in entry.phrases:
            index.append((tuple(normalize(phrase).split()), order, entry))
    # Longest phrases first; then lexicon order, so ties resolve the same way every time.
    index.sort(key=lambda t: (-len(t[0]), t[1]))
    return index


_INDEX_CACHE: dict[str, list[tuple[tuple[str, ...], int, Entry]]] = {}

# Weather and particles in the air look alike ("snow" is both); nearby words say which is meant.
_WEATHER_AIR = {"weather:snowy": "atmospheric_effects:snow", "weather:foggy": "atmospheric_effects:fog",
                "weather:rainy": "atmospheric_effects:rain"}
_WEATHER_WORDS = frozenset({"weather", "day", "sky", "skies"})
_AIR_WORDS = frozenset({"air", "effect", "floating", "drifting", "falling", "particles", "overlay"})


def _weather_or_air(entry: Entry, window: list[str]) -> Entry:
    """The weather reading of a particle phrase next to "weather"/"day", and the particle reading
    of a weather phrase next to "in the air"/"effect" (each only without its own owner word)."""
    words = set(window)
    by_aspect = {e.aspect: e for e in DIMENSION_LEXICON}
    if entry.aspect in _WEATHER_AIR and words & _AIR_WORDS and not words & _WEATHER_WORDS:
        return by_aspect[_WEATHER_AIR[entry.aspect]]
    back = {v: k for k, v in _WEATHER_AIR.items()}
    if entry.aspect in back and words & _WEATHER_WORDS and not words & _AIR_WORDS:
        return by_aspect[back[entry.aspect]]
    return entry


def find_matches(text: str, domain: str = "scene", *, ignore: Iterable[str] = ()) -> list[Match]:
    """Every phrase of ``DOMAIN_ENTRIES[domain]`` in ``text``, longest first, each word used once at most.

    Words in ``ignore`` (an advert's product noun: "olive oil" is not an oil painting) never match.
    A match preceded within two words by a negator ("no fog", "less saturated") is ``negated``.
    Returned in order of position.
    """
    words = normalize(text).split()
    used = [False] * len(words)
    for phrase in ignore:  # block each occurrence of the whole phrase, not its words everywhere
        tokens = normalize(phrase).split()
        for i in range(len(words) - len(tokens) + 1):
            if tokens and words[i: i + len(tokens)] == tokens:
                used[i: i + len(tokens)] = [True] * len(tokens)
    if domain not in _INDEX_CACHE:
        _INDEX_CACHE[domain] = _phrase_index(DOMAIN_ENTRIES[domain])
    index = _INDEX_CACHE[domain]
    found: list[Match] = []
    for tokens, _, entry in index:
        n = len(tokens)
        for i in range(len(words) - n + 1):
            if tuple(words[i: i + n]) == tokens and not any(used[i: i + n]):
                negated = any(w in _NEGATORS for w in words[max(0, i - 2): i])
                entry = _weather_or_air(entry, words[max(0, i - 4): i + n + 4])
                found.append(Match(entry, " ".join(tokens), i, i + n, negated))
                for j in range(i, i + n):
                    used[j] = True
    return sorted(found, key=lambda m: m.start)


def find_words(text: str, vocabulary: Mapping[str, Any]) -> list[str]:
    """The keys of ``vocabulary`` (phrases) found in ``text`` as whole words, longest first, no overlaps."""
    words = normalize(text).split()
    used = [False] * len(words)
    out: list[str] = []
    for key in sorted(vocabulary, key=lambda k: (-len(k.split()), k)):
        tokens = normalize(key).split()
        n = len(tokens)
        for i in range(len(words) - n + 1):
            if words[i: i + n] == tokens and not any(used[i: i + n]):
                out.append(key)
                for j in range(i, i + n):
                    used[j] = True
    return out


def is_advert(goal: str, context: Mapping[str, str], description: str | None) -> bool:
    """True for advertising samples: the context names advert elements, or the words say "ad"."""
    if any(k in context for k in ("product", "headline", "brand", "price", "logo")):
        return True
    words = set(normalize(f"{goal} {description or ''}").split())
    return bool(words & {"ad", "ads", "advert", "adverts", "advertisement", "poster", "promotion", "promo",
                         "campaign", "banner", "flyer", "billboard", "commercial"})


def context_value(context: Mapping[str, str], dimension: str) -> str | None:
    """The sample's current value of ``dimension`` (context keys of CONTEXT_DIMENSIONS, or scene names)."""
    alt = {"location": "location_setting", "architecture": "architecture_style"}.get(dimension)
    value = context.get(dimension) or (context.get(alt) if alt else None)
    return str(value) if value else None


def context_has(context: Mapping[str, str], dimension: str, value: str) -> bool:
    """Whether the context already says ``dimension`` is ``value`` (aliases of the scene vocabulary allowed)."""
    current = context_value(context, dimension)
    if current is None:
        return False
    norm = normalize(current).replace(" ", "_")
    if norm == value:
        return True
    from bench.scene.spec import CONTEXT_KEYS, canonical_value

    scene_dim = {v: k for k, v in CONTEXT_KEYS.items()}.get(dimension, dimension)
    try:
        return canonical_value(scene_dim, current) == value
    except ValueError:
        return False


def paper_action_params(action: Action, context: Mapping[str, str], description: str) -> dict[str, Any]:
    """Paper B's action parameters for a step (C.2): source and target values plus a description."""
    out: dict[str, Any] = {}
    names = ACTION_PARAM_NAMES.get(action.action)
    if names and action.dimension:
        out[names[0]] = context_value(context, action.dimension) or "unknown"
        out[names[1]] = action.value
    out["description"] = description
    return out


_TURN_VERBS = frozenset({"turn", "transform", "convert", "change", "make", "switch", "shift", "morph", "move", "put",
                         "set", "bring", "take"})


def source_and_target(clause: str) -> tuple[str, str]:
    """Split "turn this city into a desert" / "from summer to winter" into (source, target) text.

    The source is what stands between a verb of change and "into" (at most six words: "turn *this
    modern city* into"), or between "from" and "to"; only the rest names changes. A clause with
    neither is all target.
    """
    words = clause.split()
    if "into" in words:
        k = words.index("into")
        for j in range(k - 1, max(-1, k - 8), -1):
            if words[j] in _TURN_VERBS:
                return " ".join(words[j + 1: k]), " ".join(words[: j + 1] + words[k + 1:])
        return "", clause
    if "from" in words:
        f = words.index("from")
        if "to" in words[f + 1: f + 8]:
            t = words.index("to", f + 1)
            return " ".join(words[f + 1: t]), " ".join(words[:f] + words[t + 1:])
    return "", clause


@dataclass(frozen=True)
class GoalReading:
    """What the lexicon reads in a goal.

    ``changes``: matches in change clauses that ask for something, best first (longer phrase, then
    earlier in the goal); ``kept``: matches inside "keep ..." clauses (values to preserve);
    ``keep_texts``: the keep clauses themselves; ``ignored``: matches set aside, with the reason.
    """

    domain: str
    changes: tuple[Match, ...]
    kept: tuple[Match, ...]
    keep_texts: tuple[str, ...]
    ignored: tuple[tuple[Match, str], ...]


def read_goal(goal: str, *, advert: bool, ignore: Iterable[str] = ()) -> GoalReading:
    """Match ``goal`` against the lexicon of its domain; drop negated matches and the dimensions an
    advert aspect covers. An advert goal with no advert reading is read once more with every entry."""
    ignore = tuple(ignore)
    domains = ("advert", "any") if advert else ("scene",)
    reading = GoalReading("scene", (), (), (), ())
    for domain in domains:
        changes: list[Match] = []
        kept: list[Match] = []
        keep_texts: list[str] = []
        ignored: list[tuple[Match, str]] = []
        for clause in split_clauses(goal):
            if clause.keep:
                keep_texts.append(clause.text)
                kept.extend(find_matches(clause.text, domain, ignore=ignore))
                continue
            source, target = source_and_target(clause.text)
            for m in find_matches(source, domain, ignore=ignore):
                ignored.append((m, f"'{m.phrase}' describes what the image is now (\"{source} ...\"), not the target"))
            for m in find_matches(target, domain, ignore=ignore):
                if m.negated:
                    ignored.append((m, f"'{m.phrase}' is negated; the classical tools add effects, they cannot remove them"))
                else:
                    changes.append(m)
        covered = {d for m in changes for d in m.entry.covers}
        out: list[Match] = []
        for m in changes:
            if m.entry.dimension in covered and not m.entry.aspect.startswith("advert:"):
                ignored.append((m, f"'{m.phrase}' is part of the advert aspect that covers {m.entry.dimension}"))
            else:
                out.append(m)
        out.sort(key=lambda m: (-m.score, m.start))
        reading = GoalReading(domain, tuple(out), tuple(kept), tuple(keep_texts), tuple(ignored))
        if out:
            break
    return reading


def all_actions() -> tuple[str, ...]:
    """Every tool the lexicon can call (what the systems declare in ``info().tools``)."""
    names = {a.action for e in ENTRIES for a in e.actions} | {a.action for a in SUPPORT.values()}
    names |= {a.action for a in FALLBACK_PLAN}
    return tuple(sorted(names))


def scaled_params(action: Action, strength: float) -> dict[str, Any]:
    """``action``'s params with a dimension op's intensity set to ``strength`` x the op's default.

    Only where the lexicon leaves the intensity open; capped at the schema's maximum (1). Both
    systems use it, so at equal ``strength`` they apply a change equally hard.
    """
    from baselines.tools.ops import ALL_OPS

    params = dict(action.params)
    prop = ALL_OPS[action.action].params_schema["properties"].get("intensity")
    if action.dimension and prop is not None and "intensity" not in params:
        params["intensity"] = round(min(float(prop["maximum"]), float(prop["default"]) * strength), 4)
    return params
