"""Paper B's action libraries (Appendix C.2) as data, and the reading of a planner's actions.

Action ids are paper B's (Section 2, L24): ``location_setting``, ``architecture_style``,
``time_period``, ``time_of_day``, ``season``, ``weather``, ``mood_lighting``, ``color_grading``,
``artistic_medium``, ``atmospheric_effects`` — the names :data:`bench.model.DIMENSION_ACTIONS` and
the classical tools use. The published code's ids ``time_period_era``, ``season_cycle`` and
``weather_conditions`` (READING.md §6.4; also C.2.1's headings and B's own examples) are accepted
as aliases and read as the canonical id.

Parameters are C.2's: every atomic action has ``source_<x>`` and ``target_<x>`` plus two or three
specific ones and ``description``. Where the published code names a parameter differently
(``target_palette`` for colour grading, ``weather_type``, ``effect_type``), that name is accepted
for the target too. A planner may add parameters the library does not list (C.2 and the code
disagree on most of them): they are kept, never an error. What *is* an error, and makes a plan
invalid: an unknown action, a missing required parameter (an atomic action's target, a constraint
action's defining list or value), a parameter of the wrong JSON type.

Library sizes: ``10`` (C.2.1: the ten atomic actions), ``20`` (C.2.2: plus ten compositional and
constraint actions). Paper B's 30-action library is never given in the paper (READING.md §6.4
lists the code's, whose parameters are free strings): it is not offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The code's alternative ids (READING.md §6.4) -> paper B's ids.
ACTION_ALIASES: dict[str, str] = {
    "time_period_era": "time_period",
    "season_cycle": "season",
    "weather_conditions": "weather",
}


@dataclass(frozen=True)
class Param:
    """One parameter of an action: its JSON type, allowed values (when C.2 lists them), whether required."""

    name: str
    type: str = "string"  # string | boolean | array | number
    enum: tuple[str, ...] = ()
    required: bool = False
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.type == "array":
            out["items"] = {"type": "string"}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.doc:
            out["description"] = self.doc
        return out


@dataclass(frozen=True)
class ActionDef:
    """One action of the library. ``dimension`` is the context key an atomic action changes."""

    id: str
    title: str
    description: str
    params: tuple[Param, ...]
    dimension: str | None = None
    example: str = ""
    param_aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def atomic(self) -> bool:
        return self.dimension is not None

    @property
    def target_param(self) -> str | None:
        return next((p.name for p in self.params if p.name.startswith("target_")), None) if self.atomic else None

    @property
    def source_param(self) -> str | None:
        return next((p.name for p in self.params if p.name.startswith("source_")), None) if self.atomic else None

    def catalog_entry(self) -> dict[str, Any]:
        """The action as a planner sees it: id, description, parameter schema."""
        return {
            "id": self.id,
            "description": self.description,
            "parameters": {p.name: p.schema() for p in self.params},
            "required": [p.name for p in self.params if p.required],
            **({"example": self.example} if self.example else {}),
        }


def _desc() -> Param:
    return Param("description", doc="natural-language explanation of the step")


def _atomic(aid: str, title: str, dim: str, x: str, what: str, extra: tuple[Param, ...],
            aliases: Mapping[str, str] | None = None) -> ActionDef:
    return ActionDef(
        aid, title, what,
        (Param(f"source_{x}", doc=f"current {dim.replace('_', ' ')}"),
         Param(f"target_{x}", required=True, doc=f"desired {dim.replace('_', ' ')}"),
         *extra, _desc()),
        dimension=dim, param_aliases=dict(aliases or {}),
    )


#: C.2.1: the ten atomic actions, one per dimension of the structured context.
ATOMIC: tuple[ActionDef, ...] = (
    _atomic("location_setting", "Location Setting", "location", "location",
            "Changes the physical environment type (e.g. urban city to tropical beach).",
            (Param("replace_mode", enum=("partial", "complete"), doc="partial (blend) or complete (full replacement)"),
             Param("preserve_foreground", "boolean", doc="keep the main subjects unchanged"))),
    _atomic("architecture_style", "Architecture Style", "architecture", "style",
            "Modifies the architectural style of buildings (e.g. modern to Victorian).",
            (Param("detail_level", enum=("subtle", "moderate", "extensive")),
             Param("preserve_layout", "boolean", doc="keep the spatial structure"))),
    _atomic("time_period", "Time Period Era", "time_period", "era",
            "Updates props and technology to a historical or future period (e.g. 2000s to 1800s).",
            (Param("technology_update", "boolean", doc="change technology and vehicles"),
             Param("clothing_update", "boolean", doc="update the characters' clothing"))),
    _atomic("time_of_day", "Time of Day", "time_of_day", "time",
            "Adjusts natural lighting from the sun or moon position (e.g. midday to sunset).",
            (Param("sky_color", doc="target sky colour palette"), Param("shadow_direction", doc="shadow angle adjustment"))),
    _atomic("season", "Season Cycle", "season", "season",
            "Changes vegetation and seasonal markers (e.g. summer to autumn).",
            (Param("vegetation_change", enum=("foliage_color", "density", "type")),
             Param("temperature_effects", enum=("snow", "heat_haze", "none")))),
    _atomic("weather", "Weather Conditions", "weather", "weather",
            "Modifies the atmospheric weather state (e.g. clear to rainy).",
            (Param("intensity", enum=("light", "moderate", "heavy")),
             Param("visibility_change", "boolean", doc="affect scene visibility")),
            {"weather_type": "target_weather"}),
    _atomic("mood_lighting", "Mood Lighting", "mood_lighting", "mood",
            "Alters the emotional ambiance through lighting (e.g. neutral to dramatic).",
            (Param("contrast_adjustment", enum=("increase", "decrease", "none")),
             Param("shadow_depth", doc="darkness of shadows"))),
    _atomic("color_grading", "Color Grading", "color_grading", "grading",
            "Applies colour correction and palette shifts (e.g. natural to warm cinematic).",
            (Param("saturation_change", doc="adjustment to colour intensity"),
             Param("temperature_shift", enum=("warmer", "cooler", "neutral"))),
            {"target_palette": "target_grading", "source_palette": "source_grading"}),
    _atomic("artistic_medium", "Artistic Medium", "artistic_medium", "medium",
            "Transforms the rendering style (e.g. photorealistic to oil painting).",
            (Param("detail_preservation", "boolean", doc="keep fine details"),
             Param("texture_intensity", doc="strength of the artistic texture"))),
    _atomic("atmospheric_effects", "Atmospheric Effects", "atmospheric_effects", "effects",
            "Adds environmental effects (e.g. fog, dust, haze).",
            (Param("density", enum=("sparse", "moderate", "dense")),
             Param("distribution", enum=("uniform", "localized", "gradient"))),
            {"effect_type": "target_effects", "source_effect": "source_effects"}),
)

#: C.2.2: the ten compositional and constraint actions of the 20-action library.
CONSTRAINT: tuple[ActionDef, ...] = (
    ActionDef("preserve_attribute", "Preserve Attribute",
              "Explicitly preserves specific visual attributes while other transformations occur.",
              (Param("attributes_to_preserve", "array", required=True, doc="dimension names, e.g. [time_of_day]"),
               Param("preservation_strength", enum=("strict", "moderate", "soft")), _desc()),
              example="Transform to Victorian architecture while preserving the sunset lighting"),
    ActionDef("exclude_region", "Exclude Region", "Masks specific spatial regions from transformation.",
              (Param("region_type", required=True,
                     enum=("foreground", "background", "top_half", "bottom_half", "center", "edges")),
               Param("exclusion_strength", enum=("complete", "partial")), _desc()),
              example="Change background to cyberpunk city but exclude foreground characters"),
    ActionDef("conditional_transform", "Conditional Transform", "Applies a transformation only if a condition is met.",
              (Param("condition_type", required=True,
                     enum=("if_attribute_equals", "if_region_contains", "if_lighting_level")),
               Param("condition_value", required=True), Param("then_action", required=True), _desc()),
              example="If current time is daytime, then add sunset; otherwise keep night lighting"),
    ActionDef("preserve_object_category", "Preserve Object Category",
              "Preserves all objects of a specific semantic category.",
              (Param("object_categories", "array", required=True, doc="e.g. [person, vehicle, animal]"),
               Param("preservation_mode", enum=("identity", "style_only")), _desc()),
              example="Transform entire scene to oil painting style but keep people photorealistic"),
    ActionDef("spatial_constraint", "Spatial Constraint", "Applies a transformation with spatial constraints.",
              (Param("constraint_type", required=True, enum=("top_to_bottom_gradient", "center_outward", "left_to_right")),
               Param("affected_attribute", required=True, doc="which dimension to transform"),
               Param("gradient_sharpness", enum=("smooth", "moderate", "sharp")), _desc()),
              example="Apply sunset lighting with gradient from top (bright) to bottom (darker)"),
    ActionDef("sequence_transform", "Sequence Transform", "Specifies an explicit ordering of sub-transformations.",
              (Param("sub_actions", "array", required=True, doc="ordered actions"),
               Param("timing", enum=("simultaneous", "sequential")), _desc()),
              example="First change to autumn, then add rain, then shift to dramatic mood"),
    ActionDef("parallel_transform", "Parallel Transform", "Applies multiple transformations simultaneously.",
              (Param("parallel_actions", "array", required=True),
               Param("blending_mode", enum=("additive", "average", "weighted")), _desc()),
              example="Simultaneously change to sunset, add fog, and shift to warm color grading"),
    ActionDef("graduated_effect", "Graduated Effect", "Applies an effect with gradual intensity variation.",
              (Param("base_action", required=True, doc="the action to apply with graduation"),
               Param("gradient_direction", doc="top_to_bottom, center_outward, ..."),
               Param("intensity_curve", enum=("linear", "exponential", "sigmoid")), _desc()),
              example="Add fog with graduated intensity from dense at bottom to clear at top"),
    ActionDef("layered_transformation", "Layered Transformation", "Applies transformations in layers with blending.",
              (Param("layers", "array", required=True, doc="(action, opacity) pairs"),
               Param("blend_mode", enum=("normal", "multiply", "screen", "overlay")), _desc()),
              example="Layer Victorian architecture (70% opacity) over modern city, then add sunset"),
    ActionDef("selective_blend", "Selective Blend", "Blends transformation results by semantic or spatial criteria.",
              (Param("blend_criterion", required=True, enum=("by_semantic_region", "by_depth", "by_lighting_level")),
               Param("source_transform"), Param("target_transform"), Param("blend_ratio"), _desc()),
              example="Blend cyberpunk architecture with Victorian based on depth"),
)

LIBRARIES: dict[int, tuple[ActionDef, ...]] = {10: ATOMIC, 20: ATOMIC + CONSTRAINT}
ACTIONS: dict[str, ActionDef] = {a.id: a for a in ATOMIC + CONSTRAINT}
#: The atomic action of each context dimension.
ACTION_OF_DIMENSION: dict[str, str] = {a.dimension: a.id for a in ATOMIC if a.dimension}

#: Paper B's example values per dimension (C.1.1), shown to context extractors and planners.
EXAMPLE_VALUES: dict[str, tuple[str, ...]] = {
    "location": ("urban_city", "suburban_neighborhood", "rural_village", "industrial_zone", "beach_coast",
                 "tropical_island", "forest_temperate", "desert_sand", "mountain_rocky", "cave_underground",
                 "space_station", "fantasy_castle", "medieval_town", "cyberpunk_city", "bedroom_interior",
                 "office_modern"),
    "architecture": ("modern_minimalist", "classical_greek", "victorian_gothic", "art_deco", "brutalist_concrete",
                     "traditional_asian", "middle_eastern", "industrial_warehouse", "futuristic_sci_fi",
                     "cyberpunk_neon", "medieval_castle", "baroque_ornate"),
    "time_period": ("prehistoric", "ancient_classical", "medieval_dark_ages", "renaissance", "victorian_1800s",
                    "early_1900s", "mid_century_1950s", "modern_2000s", "near_future_2050s", "far_future_2200s"),
    "time_of_day": ("dawn_first_light", "morning_golden", "midday_overhead", "afternoon_warm", "sunset_golden",
                    "dusk_twilight", "night_moonlit", "night_starlit", "overcast_diffuse"),
    "season": ("spring_blooming", "summer_lush", "autumn_falling", "winter_snow", "dry_season", "wet_season",
               "eternal_spring"),
    "weather": ("clear_sky", "partly_cloudy", "overcast_gray", "light_rain", "heavy_rain", "thunderstorm",
                "light_snow", "blizzard", "fog_heavy", "mist_light", "dust_storm", "hazy"),
    "mood_lighting": ("neutral_balanced", "warm_cozy", "cool_calm", "dramatic_contrast", "mysterious_dark",
                      "ethereal_soft", "tense_harsh", "romantic_soft", "energetic_bright", "melancholic_muted",
                      "ominous_dark", "serene_peaceful"),
    "color_grading": ("natural_balanced", "warm_cinematic", "cool_blue", "sepia_vintage", "black_white",
                      "high_contrast", "low_saturation", "vibrant_saturated", "teal_orange", "purple_magenta",
                      "desaturated_muted", "neon_bright", "pastel_soft"),
    "artistic_medium": ("photorealistic", "oil_painting", "watercolor", "pencil_sketch", "digital_art", "anime_style",
                        "pixel_art", "impressionist", "abstract", "low_poly_3d", "clay_animation",
                        "charcoal_drawing", "comic_book"),
    "atmospheric_effects": ("none_clear", "fog_dense", "mist_light", "haze_atmospheric", "dust_particles",
                            "smoke_wisps", "rain_drops", "snow_falling", "embers_floating", "sparkles_magical",
                            "lens_flare", "light_rays"),
}


def library(size: int) -> tuple[ActionDef, ...]:
    """The 10- or 20-action library; ``ValueError`` for any other size."""
    if size not in LIBRARIES:
        raise ValueError(f"library must be 10 or 20 (paper B's 30-action library is not specified), not {size!r}")
    return LIBRARIES[size]


def canonical_action(name: Any) -> str:
    """Paper B's id for an action name in any accepted spelling (aliases, case, spaces, hyphens)."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    return ACTION_ALIASES.get(key, key)


class PlanError(ValueError):
    """A plan reply that cannot be used as it is; the message says exactly what to fix."""


@dataclass(frozen=True)
class PlannedAction:
    """One action of a plan as read and checked: reasoning first, then the action and its parameters."""

    index: int
    action: str
    parameters: dict[str, Any]
    reasoning: str
    given_id: str  # the spelling the planner used (an alias is kept here, for the record)

    @property
    def definition(self) -> ActionDef:
        return ACTIONS[self.action]

    @property
    def dimension(self) -> str | None:
        return self.definition.dimension

    @property
    def target(self) -> str | None:
        name = self.definition.target_param
        value = self.parameters.get(name) if name else None
        return str(value) if value not in (None, "") else None

    @property
    def source(self) -> str | None:
        name = self.definition.source_param
        value = self.parameters.get(name) if name else None
        return str(value) if value not in (None, "") else None


_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "array": (list, tuple),
                                             "number": (int, float)}


def read_action(raw: Any, index: int, allowed: Mapping[str, ActionDef]) -> PlannedAction:
    """One action object of a plan reply, checked against the library (:class:`PlanError` if not usable).

    Accepts ``action``, ``action_id``, ``action_type`` or ``id`` for the id and ``parameters`` or
    ``params`` for the parameters; parameter aliases of the published code become C.2's names.
    """
    where = f"actions[{index}]"
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where} must be an object with reasoning, action and parameters")
    given = next((raw[k] for k in ("action", "action_id", "action_type", "id") if raw.get(k)), None)
    if not isinstance(given, str) or not given.strip():
        raise PlanError(f"{where} has no action id")
    aid = canonical_action(given)
    if aid not in allowed:
        raise PlanError(f"{where}: unknown action {given!r}; the library has {', '.join(allowed)}")
    definition = allowed[aid]
    params = raw.get("parameters", raw.get("params", {}))
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise PlanError(f"{where}.parameters must be an object")
    clean: dict[str, Any] = {}
    for key, value in params.items():
        clean[definition.param_aliases.get(str(key), str(key))] = value
    declared = {p.name: p for p in definition.params}
    for p in declared.values():
        value = clean.get(p.name)
        if value is None or value == "":
            if p.required:
                raise PlanError(f"{where} ({aid}): missing required parameter {p.name!r}")
            continue
        if not isinstance(value, _JSON_TYPES[p.type]) or (p.type == "number" and isinstance(value, bool)):
            raise PlanError(f"{where} ({aid}): parameter {p.name!r} must be a {p.type}, got {value!r}")
        if p.type == "array" and p.required and not value:
            raise PlanError(f"{where} ({aid}): parameter {p.name!r} must not be empty")
    reasoning = raw.get("reasoning", raw.get("rationale", ""))
    if not isinstance(reasoning, str):
        reasoning = str(reasoning)
    return PlannedAction(index, aid, clean, reasoning.strip(), str(given))


def read_actions(reply: Any, allowed: Mapping[str, ActionDef], min_actions: int, max_actions: int
                 ) -> tuple[str, list[PlannedAction]]:
    """A whole plan reply -> (plan-level reasoning, checked actions). :class:`PlanError` if unusable.

    The reply is ``{"reasoning": ..., "actions": [...]}`` (a bare list of actions is accepted too).
    Too few or too many actions is an error the planner is told about, not something trimmed.
    """
    if isinstance(reply, list):
        reply = {"actions": reply}
    if not isinstance(reply, Mapping):
        raise PlanError("the reply must be a JSON object with 'reasoning' and 'actions'")
    actions = reply.get("actions", reply.get("plan", reply.get("steps")))
    if not isinstance(actions, list):
        raise PlanError("the reply has no 'actions' list")
    if not min_actions <= len(actions) <= max_actions:
        raise PlanError(f"the plan has {len(actions)} actions; it must have {min_actions} to {max_actions}")
    read = [read_action(a, i, allowed) for i, a in enumerate(actions)]
    reasoning = reply.get("reasoning", "")
    return (reasoning if isinstance(reasoning, str) else str(reasoning)).strip(), read


def plan_schema(allowed: Mapping[str, ActionDef], max_actions: int) -> dict[str, Any]:
    """The JSON schema asked of the planner: plan reasoning, then actions with reasoning first."""
    return {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "actions": {
                "type": "array",
                "maxItems": max_actions,
                "items": {
                    "type": "object",
                    "properties": {
                        "reasoning": {"type": "string"},
                        "action": {"type": "string", "enum": list(allowed)},
                        "parameters": {"type": "object"},
                    },
                    "required": ["reasoning", "action", "parameters"],
                },
            },
        },
        "required": ["reasoning", "actions"],
    }


def serialise(action: PlannedAction) -> str:
    """Paper B's serialisation (E.5.3): ``[ACTION_TYPE] param1=value1, param2=value2``."""
    params = ", ".join(f"{k}={v}" for k, v in action.parameters.items() if k != "description")
    return f"[{action.action}] {params}".rstrip()
