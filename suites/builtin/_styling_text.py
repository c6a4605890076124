"""Words for the styling suites: how a user asks for each change, and what each criterion says.

Everything here is keyed by the scene dimensions of :mod:`bench.scene` (paper B's action names,
``time_of_day``, ``architecture_style``...) and their closed vocabularies; the generator in
:mod:`suites.builtin.styling` turns them into ``Sample.context`` keys. A test checks that every
dimension and value of :data:`bench.scene.VOCAB` has its phrasings, so a vocabulary change cannot
leave a value unspeakable.

Where two dimensions can produce similar pixels (weather ``foggy`` and the atmospheric ``fog``
overlay; weather ``snowy`` and falling ``snow``; weather ``rainy`` and falling ``rain``), the
phrasings lean on the word the dimension owns ("weather", "a ... day" against "in the air",
"effect"), so that a careful planner can tell which one is meant. The exact ``attributes`` judge
still scores only the dimension the sample names; this ambiguity is documented in
:mod:`suites.builtin.styling`.
"""

from __future__ import annotations

#: Imperative clauses, lower-case and without a full stop, per dimension and value.
CHANGE_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "location_setting": {
        "city": ("move the scene to a big city", "set it in a city", "make it a busy city street"),
        "suburb": ("move it to a quiet suburb", "set the scene in the suburbs", "make it a suburban street"),
        "village": ("turn it into a village", "set it in a small country village", "make it a rural village"),
        "beach": ("move it to the beach", "set the scene on a sunny coast", "put it by the seaside"),
        "desert": ("move it to the desert", "set the scene in a sandy desert", "make it a desert town"),
        "mountains": ("move it to the mountains", "set the scene among rocky mountains", "put it in a mountain valley"),
        "forest": ("move it into a forest", "set the scene in the woods", "surround it with forest"),
    },
    "architecture_style": {
        "modern_glass": ("make the buildings modern glass towers", "give the buildings a glass-and-steel look",
                         "modernise the architecture"),
        "classical_greek": ("make the buildings classical Greek", "give the buildings columns like a Greek temple",
                            "switch the architecture to classical Greek"),
        "victorian_gothic": ("make the buildings Victorian Gothic", "give the buildings a Gothic look with spires",
                             "change the architecture to Victorian Gothic"),
        "art_deco": ("make the buildings Art Deco", "give the architecture an Art Deco style",
                     "restyle the buildings in Art Deco"),
        "brutalist": ("make the buildings brutalist concrete blocks", "change the architecture to brutalism",
                      "give the buildings a raw-concrete brutalist look"),
        "traditional_asian": ("make the buildings traditional Asian, like pagodas",
                              "change the architecture to a traditional East Asian style",
                              "give the buildings curved pagoda roofs"),
        "middle_eastern": ("make the buildings Middle Eastern with domes and arches",
                           "change the architecture to a Middle Eastern style", "give the buildings domes and arches"),
    },
    "time_period": {
        "contemporary": ("bring it to the present day", "make it look contemporary", "update the era to today"),
        "ancient": ("send it back to antiquity", "make it look ancient", "set it in ancient times"),
        "medieval": ("make it medieval", "send it back to the Middle Ages", "set it in medieval times"),
        "victorian": ("set it in the Victorian era", "make it look like the 1800s", "give it a Victorian-era setting"),
        "mid_century": ("set it in the 1950s", "give it a mid-century feel", "make it look like the fifties"),
        "futuristic": ("make it futuristic", "set it in the far future", "give it a sci-fi future look"),
    },
    "time_of_day": {
        "noon": ("make it midday", "show it at noon", "change the time to the middle of the day"),
        "dawn": ("make it dawn", "show it at sunrise", "change the time to first light"),
        "morning": ("make it morning", "show it in the morning light", "change the time to early morning"),
        "golden_hour": ("make it sunset", "give it golden-hour light", "show it at sunset"),
        "dusk": ("make it dusk", "show it at twilight", "change the time to dusk"),
        "night": ("make it night", "show it at night", "turn it into a night scene"),
    },
    "season": {
        "summer": ("make it summer", "turn it into a summer scene", "give it lush summer greenery"),
        "spring": ("make it spring", "turn it into a spring scene with blossoms", "make the trees bloom for spring"),
        "autumn": ("make it autumn", "turn it into fall with orange leaves", "give it autumn foliage"),
        "winter": ("make it winter", "turn it into a winter scene", "make the season winter"),
    },
    "weather": {
        "clear": ("make the weather clear", "give it a clear sky", "clear up the weather"),
        "cloudy": ("make the weather cloudy", "give it an overcast sky", "make it a cloudy day"),
        "rainy": ("make it a rainy day", "make the weather rainy", "change the weather to rain"),
        "snowy": ("make it a snowy day", "make the weather snowy", "change the weather to snowfall"),
        "foggy": ("make it a foggy day", "make the weather foggy", "change the weather to fog"),
        "stormy": ("make it stormy", "add a thunderstorm", "turn the weather stormy"),
    },
    "mood_lighting": {
        "neutral": ("make the lighting neutral", "take the mood out of the lighting", "give it plain, neutral lighting"),
        "warm_cozy": ("give it a warm, cosy mood", "make the lighting feel cosy", "make the mood warm and inviting"),
        "cool_calm": ("give it a cool, calm mood", "make the lighting calm and cool", "make it feel serene"),
        "dramatic": ("make the lighting dramatic", "give it a dramatic, high-contrast mood", "add dramatic lighting"),
        "mysterious": ("make it feel mysterious", "give it a dark, mysterious mood", "make the lighting ominous"),
        "ethereal": ("make it feel ethereal and dreamy", "give it soft, ethereal light", "make the mood dreamy"),
        "melancholic": ("make it feel melancholic", "give it a gloomy, melancholic mood", "make the mood sad and muted"),
    },
    "color_grading": {
        "natural": ("make the colours natural", "remove the colour grading", "go back to natural colours"),
        "warm_cinematic": ("give it a warm cinematic grade", "warm up the colours", "apply a warm film look"),
        "cool_blue": ("give it a cool blue grade", "cool the colours down", "add a blue colour tint"),
        "sepia": ("make it sepia", "give it a sepia, vintage tone", "apply a sepia filter"),
        "black_white": ("make it black and white", "turn it monochrome", "convert it to black and white"),
        "teal_orange": ("give it a teal-and-orange grade", "apply a teal and orange film look", "grade it teal and orange"),
        "vibrant": ("make the colours vibrant", "boost the colours", "make it more colourful and saturated"),
        "pastel": ("give it soft pastel colours", "make the palette pastel", "wash the colours out to pastels"),
    },
    "artistic_medium": {
        "photo": ("make it look like a photograph", "make it photorealistic", "turn it back into a photo"),
        "pencil_sketch": ("turn it into a pencil sketch", "make it look hand-drawn in pencil", "render it as a pencil drawing"),
        "oil_paint": ("make it an oil painting", "turn it into an oil painting", "paint it in oils"),
        "watercolor": ("make it a watercolour", "turn it into a watercolour painting", "paint it in watercolours"),
        "pixel_art": ("make it pixel art", "turn it into retro pixel art", "render it like an old video game"),
        "comic": ("make it look like a comic book", "turn it into a comic-book panel", "give it a cartoon comic style"),
    },
    "atmospheric_effects": {
        "none": ("remove the atmospheric effects", "clear the air of any particles or haze",
                 "take the atmospheric effect out"),
        "fog": ("add a dense fog effect", "add drifting fog in the air", "fill the air with thick fog"),
        "haze": ("add a light haze", "make the air hazy", "add a soft atmospheric haze"),
        "snow": ("add falling snowflakes in the air", "add a falling-snow effect", "add snowflakes drifting down"),
        "rain": ("add falling raindrops", "add rain streaks in the air", "add a falling-rain effect"),
        "embers": ("add floating embers", "add glowing embers in the air", "add drifting sparks"),
        "light_rays": ("add rays of light", "add god rays streaming through", "add beams of light in the air"),
    },
}

#: How each value reads inside criteria and keep phrases.
VALUE_WORDS: dict[str, dict[str, str]] = {
    "location_setting": {"city": "city", "suburb": "suburb", "village": "village", "beach": "beach",
                         "desert": "desert", "mountains": "mountain landscape", "forest": "forest"},
    "architecture_style": {"modern_glass": "modern glass", "classical_greek": "classical Greek",
                           "victorian_gothic": "Victorian Gothic", "art_deco": "Art Deco", "brutalist": "brutalist",
                           "traditional_asian": "traditional Asian", "middle_eastern": "Middle Eastern"},
    "time_period": {"contemporary": "present-day", "ancient": "ancient", "medieval": "medieval",
                    "victorian": "Victorian-era", "mid_century": "1950s", "futuristic": "futuristic"},
    "time_of_day": {"noon": "midday", "dawn": "dawn", "morning": "morning", "golden_hour": "golden hour",
                    "dusk": "dusk", "night": "night"},
    "season": {"summer": "summer", "spring": "spring", "autumn": "autumn", "winter": "winter"},
    "weather": {"clear": "clear", "cloudy": "cloudy", "rainy": "rainy", "snowy": "snowy", "foggy": "foggy",
                "stormy": "stormy"},
    "mood_lighting": {"neutral": "neutral", "warm_cozy": "warm, cosy", "cool_calm": "cool, calm",
                      "dramatic": "dramatic", "mysterious": "mysterious", "ethereal": "ethereal",
                      "melancholic": "melancholic"},
    "color_grading": {"natural": "natural", "warm_cinematic": "warm cinematic", "cool_blue": "cool blue",
                      "sepia": "sepia", "black_white": "black-and-white", "teal_orange": "teal-and-orange",
                      "vibrant": "vibrant", "pastel": "pastel"},
    "artistic_medium": {"photo": "a photograph", "pencil_sketch": "a pencil sketch", "oil_paint": "an oil painting",
                        "watercolor": "a watercolour", "pixel_art": "pixel art", "comic": "a comic book"},
    "atmospheric_effects": {"none": "no atmospheric effect", "fog": "drifting fog", "haze": "a soft haze",
                            "snow": "falling snow", "rain": "falling rain", "embers": "floating embers",
                            "light_rays": "rays of light"},
}

#: Goal criteria: what the result shows once the change is made (``{v}``: :data:`VALUE_WORDS`).
GOAL_CRITERIA: dict[str, str] = {
    "location_setting": "The setting is now a {v}",
    "architecture_style": "The buildings are now {v} in style",
    "time_period": "The scene now looks {v}",
    "time_of_day": "The light is now that of {v}",
    "season": "It is now {v}",
    "weather": "The weather is now {v}",
    "mood_lighting": "The lighting now feels {v}",
    "color_grading": "The colour grading is now {v}",
    "artistic_medium": "The picture now looks like {v}",
    "atmospheric_effects": "There is {v} in the air",
}
#: Overrides of :data:`GOAL_CRITERIA` for values the template reads badly with.
GOAL_CRITERIA_SPECIAL: dict[tuple[str, str], str] = {
    ("atmospheric_effects", "none"): "The air is clear of fog, haze and particles",
    ("mood_lighting", "neutral"): "The lighting is neutral, without a mood tint",
    ("color_grading", "natural"): "The colours look natural, without a grade",
}

#: Preserve criteria for a kept dimension (``{v}``: the source's value, in words).
KEEP_CRITERIA: dict[str, str] = {
    "location_setting": "It is still set in the same {v}",
    "architecture_style": "The buildings keep their {v} architecture",
    "time_period": "It still looks {v}",
    "time_of_day": "The time of day is unchanged ({v})",
    "season": "It is still {v}",
    "weather": "The weather is still {v}",
    "mood_lighting": "The mood of the lighting is unchanged ({v})",
    "color_grading": "The colour grading stays {v}",
    "artistic_medium": "It still looks like {v}",
    "atmospheric_effects": "There is still {v} in the air",
}
KEEP_CRITERIA_SPECIAL: dict[tuple[str, str], str] = {
    ("atmospheric_effects", "none"): "No fog, haze or particles are added to the air",
}

#: Keep clauses for goals (``{v}``: the source's value in words; ``{a}``: a short adjective form).
KEEP_PHRASES: dict[str, tuple[str, ...]] = {
    "location_setting": ("keep the {a} setting", "don't move it out of the {a} setting"),
    "architecture_style": ("keep the buildings as they are", "don't touch the {v} architecture",
                           "leave the buildings alone"),
    "time_period": ("keep it {v}", "don't change the era"),
    "time_of_day": ("keep the {a} light", "don't change the time of day"),
    "season": ("keep it {v}", "don't change the season"),
    "weather": ("keep the {v} weather", "don't change the weather"),
    "mood_lighting": ("keep the {v} mood", "keep the mood as it is"),
    "color_grading": ("keep the {v} colours", "keep the colours as they are"),
    "artistic_medium": ("keep it looking like {v}", "don't change the rendering style"),
    "atmospheric_effects": ("keep the {v}", "keep the effect in the air as it is"),
}
KEEP_PHRASES_SPECIAL: dict[tuple[str, str], tuple[str, ...]] = {
    ("time_of_day", "noon"): ("keep it daytime", "don't change the time of day"),
    ("time_of_day", "morning"): ("keep it daytime", "keep the morning light"),
    ("atmospheric_effects", "none"): ("don't add anything floating in the air", "keep the air clear of particles"),
    ("mood_lighting", "neutral"): ("keep the lighting neutral", "keep the mood as it is"),
}
#: The short adjective forms ``{a}`` used by :data:`KEEP_PHRASES`.
ADJECTIVES: dict[str, dict[str, str]] = {
    "location_setting": {"city": "city", "suburb": "suburban", "village": "village", "beach": "beach",
                         "desert": "desert", "mountains": "mountain", "forest": "forest"},
    "time_of_day": {"noon": "midday", "dawn": "dawn", "morning": "morning", "golden_hour": "golden-hour",
                    "dusk": "dusk", "night": "night-time"},
}

#: Quality criteria (no weight-free measure decides them; see ``QUALITY_WHY``).
QUALITY_TEXTS: tuple[str, ...] = (
    "The result looks like one coherent scene, without artefacts",
    "Light and colour are consistent across the whole picture",
    "Nothing looks pasted on or broken; the picture stays clean",
)
QUALITY_WHY = "an aesthetic judgement of the whole picture; no weight-free measure decides it"

#: Sentence frames around the joined clauses (``{c}``).
FRAMES: tuple[str, ...] = ("{C}.", "Please {c}.", "Could you {c}?", "I'd like you to {c}.", "{C}, please.")


def value_words(dim: str, value: str) -> str:
    return VALUE_WORDS[dim][value]


def goal_criterion(dim: str, value: str) -> str:
    special = GOAL_CRITERIA_SPECIAL.get((dim, value))
    return special or GOAL_CRITERIA[dim].format(v=value_words(dim, value))


def keep_criterion(dim: str, value: str) -> str:
    special = KEEP_CRITERIA_SPECIAL.get((dim, value))
    return special or KEEP_CRITERIA[dim].format(v=value_words(dim, value))


def keep_phrases(dim: str, value: str) -> tuple[str, ...]:
    special = KEEP_PHRASES_SPECIAL.get((dim, value))
    if special:
        return special
    adjective = ADJECTIVES.get(dim, {}).get(value, value_words(dim, value))
    return tuple(p.format(v=value_words(dim, value), a=adjective) for p in KEEP_PHRASES[dim])


def join_clauses(clauses: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if not clauses:
        raise ValueError("join_clauses: nothing to join")
    if len(clauses) == 1:
        return clauses[0]
    return ", ".join(clauses[:-1]) + " and " + clauses[-1]


def frame(text: str, frame_template: str) -> str:
    """Put ``text`` (lower-case clauses) into a sentence frame, capitalising where it starts."""
    return frame_template.format(c=text, C=text[:1].upper() + text[1:])
