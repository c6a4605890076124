"""``render(spec) -> image``: the deterministic renderer behind the styling suites.

The pipeline, in order (each stage owns the dimensions named):
1. geometry at 2x, box-reduced to the output size: sky and sun/moon/stars (time_of_day), clouds
   (weather), the backdrop and ground (location_setting, season), shadows, then the placed
   objects far to near: buildings (architecture_style, time_period), trees (season, location),
   figures, lights and vehicles (time_period). Every surface colour is lit by the time of day and
   the weather's ambient light; light sources are recorded as emitters;
2. ground texture, then additive glows around the emitters (strong at dusk and night);
3. weather overlays (rain, snow, lightning, distance fog), then atmospheric_effects;
4. mood_lighting, then color_grading (tone curves, tints, saturation, vignette);
5. artistic_medium.

The same spec gives byte-identical pixels for a given set of numpy and Pillow wheels (see
``_canvas`` for the rules that make that hold across machines). Changing what any spec renders
to changes image ids downstream, so bump :data:`RENDER_VERSION` with any visible change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PIL import Image

from bench.scene import _effects, _medium, _tone
from bench.scene._buildings import paint_building
from bench.scene._canvas import SCALE, Canvas, scene_light
from bench.scene._props import (
    paint_figure,
    paint_light,
    paint_shadows,
    paint_tree,
    paint_vehicle,
    paint_water,
)
from bench.scene._world import paint_backdrop, paint_base, paint_clouds, paint_ground, paint_sky_bodies
from bench.scene.spec import SceneObject, SceneSpec

log = logging.getLogger(__name__)

#: Version of the renderer's output. Tools and judges that render include it in their identity.
RENDER_VERSION = 1

_PAINTERS: dict[str, Callable[[Canvas, SceneObject, int], None]] = {
    "building": paint_building,
    "tree": paint_tree,
    "figure": paint_figure,
    "light": paint_light,
    "vehicle": paint_vehicle,
    "water": paint_water,
}
_FLAT_FIRST = {"water": 0}  # flat things lie under upright things standing at the same depth


def render(spec: SceneSpec) -> Image.Image:
    """Render ``spec`` to an RGB image of ``spec.width`` x ``spec.height``.

    Deterministic: equal specs give equal bytes (``img.tobytes()``), hence equal image ids.

    >>> from bench.scene import SceneSpec, render
    >>> render(SceneSpec(width=64, height=48)).size
    (64, 48)
    """
    if not isinstance(spec, SceneSpec):
        raise TypeError(f"render: expected a SceneSpec, got {type(spec).__name__}")
    t0 = time.perf_counter()
    light = scene_light(spec.time_of_day, spec.weather)
    cv = Canvas(spec, light, Image.new("RGB", (spec.width * SCALE, spec.height * SCALE)))
    paint_base(cv)
    paint_sky_bodies(cv)
    paint_clouds(cv)
    paint_backdrop(cv)
    paint_ground(cv)
    paint_shadows(cv)
    order = sorted(
        range(len(spec.objects)),
        key=lambda i: (spec.objects[i].y, _FLAT_FIRST.get(spec.objects[i].kind, 1), i),
    )
    for i in order:
        obj = spec.objects[i]
        _PAINTERS[obj.kind](cv, obj, i)
    img = cv.img.reduce(SCALE)
    if spec.artistic_medium != "comic":  # cel shading would turn the mottling into blotches
        img = _effects.ground_texture(img, spec)
    img = structure = _effects.glows(img, cv.emitters)
    img = _effects.weather(img, spec, light)
    img = _effects.atmosphere(img, spec, light)
    img = _tone.mood(img, spec.mood_lighting)
    img = _tone.grade(img, spec.color_grading)
    img = _medium.stylise(img, spec, structure)
    log.debug("rendered %dx%d scene in %.1f ms", spec.width, spec.height, (time.perf_counter() - t0) * 1000)
    return img
