"""The ``ads-abstract`` suite: rendered flat-design adverts with abstract goals (paper A).

Paper A's requests are abstract ("make this advertisement more eco-friendly", "target business
travellers"): there is no single right edit, but there are requirements every acceptable result
meets. Each sample here is a 512 x 512 advert drawn by code (a product, a headline, a price tag, a
brand logo, a background and a few decorations), a goal from one of 14 families in a user's words,
and a checklist of 3-6 criteria (``goal``, ``preserve``, ``quality``) whose machine-readable
checks let a weight-free judge decide what can be measured and say "undecidable" for the rest.

Determinism: sample ``i`` is drawn from ``random.Random(derive_seed(seed, "ads-abstract", id))``
(Python's Mersenne Twister, fixed across platforms), the goal family rotates through a seeded
order of all families (so any 14 consecutive samples cover all 14), and the renderer uses Pillow
shapes and Pillow's built-in font only. Two builds with one seed give byte-identical images, and
``size=12`` gives exactly the first 12 samples of ``size=40``.

Sample fields
-------------
- ``id``: ``ads-0001``, ``ads-0002``... ; ``image``: ``images/<id>.png`` (512 x 512 RGB).
- ``goal``: the family's phrasing, sometimes followed by what to keep ("Keep the price as it is.").
- ``checklist``: ids ``c1``.. in order: goal criteria, then preserve, then at most one quality.
  Weights: goal and preserve 1.0, quality 0.5.
- ``context``: ``product``, ``product_color``, ``brand``, ``headline``, ``price``, ``palette``,
  ``background``, ``layout``, ``decorations``, ``theme`` (of the source: ``everyday``) and paper B
  keys that apply: ``color_grading``, ``mood_lighting``, ``artistic_medium``.
- ``preserve``: elements to keep, from ``product``, ``logo``, ``price``, ``headline``.
- ``tags``: ``complexity`` (``simple`` | ``regular`` | ``complex``: 1, 2 or 3 goal criteria, i.e.
  required changes), ``theme`` (the goal family, e.g. ``eco-friendly``), ``source``
  (``generated``), ``layout`` and ``product`` (for breakdowns by key).
- ``description``: the source advert in words.

``truth`` (for judges; systems never see it)
--------------------------------------------
- ``family``: the goal family; ``target``: the state the goal asks for in paper B's keys where they
  apply (``color_grading``, ``season``, ``time_of_day``...) plus ``theme``.
- ``layout``: relative boxes ``[x0, y0, x1, y1]`` (0..1, origin top-left, x0 < x1, y0 < y1) of
  ``product`` (its flat shadow included), ``headline``, ``subline``, ``price`` (the tag shape),
  ``logo`` (mark and brand name); ``decorations``: a list of boxes, possibly empty; ``panel``: the
  solid colour area the texts sit on (layouts ``split`` and ``bottom-band``), else ``null``. The
  five element boxes never overlap each other.
- ``text``: the strings drawn: ``headline``, ``subline``, ``price``, ``brand``.
- ``spec``: every choice the renderer took (``render(AdSpec.from_json(spec))`` gives the source again).
- ``checks``: one entry per criterion id, see below.

truth.checks schema
-------------------
``checks[criterion_id]`` is a JSON object whose ``measure`` is ``null`` or the name of a function
of :mod:`judges.measures`. Every check has exactly one of these four forms::

    {"measure": null, "why": "<why nothing weight-free can decide it>"}
        The judge must answer "undecidable" for this criterion (never guess).

    {"measure": M, "region": REGION, "direction": "increase" | "decrease",
     "min_change": <float> | "min_change_ratio": <float>, ["target_hue": <degrees>]}
        Change test, M a single-image measure (brightness, contrast, saturation, warmth,
        hue_distance, white_coverage, edge_density, colorfulness). Compute ``a = M(source, mask)``
        and ``b = M(result, mask)`` with REGION's mask (``hue_distance`` also takes
        ``target_hue_degrees=target_hue``); ``delta = b - a``, negated for "decrease". The change
        that clearly counts as done is ``need = min_change`` (in M's own units) or, when the check
        gives ``min_change_ratio`` instead, ``need = min_change_ratio * |a|`` (used for clutter:
        edge density and contrast of the backdrop, whose scale depends on how busy the source is).
        Suggested verdicts: pass when ``delta >= need``, partial when ``delta >= need / 2``, fail
        otherwise; undecidable when ``a`` or ``b`` is NaN (e.g. a region with no colour).

    {"measure": "structure_kept", "region": REGION, "at_least": <float>}
        Preservation test: the element in REGION keeps its structure when the luma SSIM between
        source and result, averaged over REGION, is ``>= at_least`` (0.8: a global +-40 %
        brightness change keeps ~0.83 or more; erasing or moving the element drops it to ~0.4-0.65).
        Mind the call: ``structure_kept(source, result, mask)`` averages over ``1 - mask`` (its
        mask marks what was allowed to change), so pass ``1 - region_mask(REGION)``.

    {"measure": "text_likelihood", "region": REGION, "at_least_ratio": <float>}
        Text-kept test: ``text_likelihood(result, mask) >= at_least_ratio *
        text_likelihood(source, mask)`` over REGION: the text still reads as text where it was.

REGION (relative to the image, so it applies to a resized result too) is one of:

- ``"full"``: the whole image;
- ``{"box": [x0, y0, x1, y1], "name": "<element>"}``: one element's box (``name`` is a label);
- ``{"outside": [[x0, y0, x1, y1], ...], "name": "background" | "backdrop"}``: everything outside
  the listed boxes. ``background`` lists the five element boxes, so it holds the background, the
  decorations and any colour panel (palette goals); ``backdrop`` also lists the panel, so it holds
  only what a "plain background" goal asks to calm (clutter goals).

``{"box": b}`` is exactly ``bench.model.Region(kind="box", box=b)`` and rasterises the way
:func:`bench.regions.region_mask` does; ``{"outside": boxes}`` is 1 minus the union of those
masks. :func:`region_mask` here turns any REGION into a mask.

The thresholds were set against :mod:`judges.measures` on this suite's renders: each goal check
passes when the matching classical tool is applied to its region, a no-op edit fails every change
test and passes every preservation test, and re-rendering the advert without its decorations
passes the clutter tests (see ``tests/test_suite_ads.py``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import SuiteError
from bench.ids import derive_seed, image_id
from bench.images import atomic_write, encode_png
from bench.model import Criterion, ImageRef, Sample, Suite
from suites.builtin._ads_goals import (
    FAMILIES,
    FAMILY_NAMES,
    PRESERVE_TEXTS,
    QUALITY_TEXTS,
    QUALITY_WHY,
    Family,
    preserve_check,
)
from suites.builtin._ads_paint import PRODUCTS, distance, luma
from suites.builtin._ads_render import AdSpec, Rendered, render
from suites.builtin._ads_style import (
    BACKGROUNDS,
    BRANDS,
    DECORATIONS,
    HEADLINES,
    LAYOUTS,
    LOGO_MARKS,
    PALETTE_GRADING,
    PALETTES,
    PRICE_RANGES,
    PRICE_STYLES,
    PRODUCT_COLORS,
    SUBLINES,
)
from suites.folder import write_suite_files
from suites.materialize import materialize

log = logging.getLogger(__name__)

__all__ = [
    "SUITE_NAME",
    "SUITE_VERSION",
    "FAMILY_NAMES",
    "AdDraft",
    "AdSpec",
    "build_ads_abstract",
    "generate_ads",
    "make_ad",
    "region_mask",
    "render",
]

SUITE_NAME = "ads-abstract"
SUITE_VERSION = "1"
DESCRIPTION = (
    "Flat-design adverts rendered by code (product, headline, price, logo, background, "
    "decorations) with abstract goals in a user's words from 14 families (eco-friendly, business "
    "travel, premium, winter festive, summer sale...) and 3-6 criterion checklists (paper A)."
)
COMPLEXITIES: tuple[str, ...] = ("simple", "regular", "complex")
ELEMENTS: tuple[str, ...] = ("product", "headline", "subline", "price", "logo")


@dataclass(frozen=True)
class AdDraft:
    """One sample before its image is written: the render spec and every field of the sample."""

    id: str
    spec: AdSpec
    goal: str
    checklist: tuple[Criterion, ...]
    context: dict[str, str]
    preserve: tuple[str, ...]
    tags: dict[str, str]
    description: str
    truth: dict[str, Any]
    rendered: Rendered = dataclasses.field(compare=False, repr=False)

    def sample(self, image: ImageRef) -> Sample:
        return Sample(
            id=self.id,
            image=image,
            goal=self.goal,
            checklist=self.checklist,
            context=self.context,
            preserve=self.preserve,
            tags=self.tags,
            description=self.description,
            truth=self.truth,
        )


# ------------------------------------------------------------------------------------- choices


def family_order(seed: int) -> list[Family]:
    """The seeded order the goal families rotate through."""
    order = list(FAMILIES)
    random.Random(derive_seed(seed, SUITE_NAME, "families")).shuffle(order)
    return order


def product_for(index: int, seed: int) -> str:
    """Products rotate too (a seeded order, shifted by one each round), so every product appears
    and pairs with a different goal family each round."""
    order = sorted(PRODUCTS)
    random.Random(derive_seed(seed, SUITE_NAME, "products")).shuffle(order)
    return order[(index + index // len(order)) % len(order)]


def _price(rng: random.Random, product: str) -> str:
    """A price the product could carry. Dollars only: Pillow's built-in font has no euro or pound glyph."""
    lo, hi = PRICE_RANGES[product]
    if product == "car":
        return f"${rng.randint(lo, hi)}/mo"
    if product == "coffee":
        return f"${rng.randint(lo, hi)}.{rng.choice(('50', '90', '00'))}"
    value = rng.randint(lo, hi)
    return f"${value - 1}.99" if rng.random() < 0.35 else f"${value}"


def _spec(rng: random.Random, family: Family, product: str) -> AdSpec:
    palette = rng.choice([p for p in PALETTES if p not in family.avoid_palettes])
    pal = PALETTES[palette]
    mains = [
        c for c, rgb in PRODUCT_COLORS.items() if distance(rgb, pal.bg) > 110 and distance(rgb, pal.bg2) > 90
    ]
    main = rng.choice(mains)
    seconds = [
        c for c, rgb in PRODUCT_COLORS.items() if c != main and distance(rgb, PRODUCT_COLORS[main]) > 100
    ]
    n_deco = rng.choice((2, 3)) if family.wants_clutter else rng.choice((0, 1, 1, 2))
    background = rng.choice(("dots", "stripes", "disc") if family.wants_clutter else BACKGROUNDS)
    return AdSpec(
        product=product,
        product_color=main,
        second_color=rng.choice(seconds),
        brand=rng.choice(BRANDS),
        logo_mark=rng.choice(LOGO_MARKS),
        headline=rng.choice(HEADLINES[product]),
        subline=rng.choice(SUBLINES),
        price=_price(rng, product),
        price_style=rng.choice(PRICE_STYLES),
        palette=palette,
        background=background,
        layout=rng.choice(LAYOUTS),
        decorations=tuple(rng.sample(DECORATIONS, n_deco)),
        seed=rng.getrandbits(31),
    )


def _where(box: Sequence[float]) -> str:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    v = "top" if cy < 0.36 else "bottom" if cy > 0.64 else "middle"
    h = "left" if cx < 0.36 else "right" if cx > 0.64 else "centre"
    return "centre" if (v, h) == ("middle", "centre") else f"{v} {h}" if v != "middle" else f"{h}"


def _describe(spec: AdSpec, layout: dict[str, Any]) -> str:
    product = PRODUCTS[spec.product]
    article = "" if product.plural else "an " if spec.product_color[0] in "aeiou" else "a "
    bg = {
        "flat": "flat",
        "gradient": "gradient",
        "diagonal": "diagonal-gradient",
        "radial": "softly glowing",
        "dots": "dotted",
        "stripes": "striped",
        "disc": "flat",
    }[spec.background]
    text = (
        f"A flat-design advert for {article}{spec.product_color} {product.noun} by {spec.brand}, on a {bg} {spec.palette} "
        f"background{' with a pale disc behind the product' if spec.background == 'disc' else ''}. "
        f"The product sits at the {_where(layout['product'])}; the headline '{spec.headline}' is at the "
        f"{_where(layout['headline'])}, above the line '{spec.subline}'; the price {spec.price} is on a "
        f"{spec.price_style} at the {_where(layout['price'])}; the {spec.brand} logo ({spec.logo_mark} mark) "
        f"is at the {_where(layout['logo'])}."
    )
    if spec.decorations:
        text += f" Decorations: {', '.join(spec.decorations)}."
    return text


def _regions(layout: dict[str, Any]) -> dict[str, Any]:
    regions: dict[str, Any] = {"full": "full"}
    for name in ("product", "headline", "price", "logo"):
        regions[name] = {"box": list(layout[name]), "name": name}
    outside = [list(layout[name]) for name in ELEMENTS]
    regions["background"] = {"outside": outside, "name": "background"}
    panel = [list(layout["panel"])] if layout.get("panel") else []
    regions["backdrop"] = {"outside": outside + panel, "name": "backdrop"}
    return regions


def make_ad(index: int, seed: int = 0) -> AdDraft:
    """Sample ``index`` (0-based) of the suite for ``seed``: its spec, goal, checklist and truth.

    Rendering happens here (the layout boxes come from the drawing): ``draft.rendered.image`` is
    the source image, and ``render(draft.spec)`` gives the same pixels again.
    """
    sid = f"ads-{index + 1:04d}"
    order = family_order(seed)
    family = order[index % len(order)]
    rng = random.Random(derive_seed(seed, SUITE_NAME, sid))
    spec = _spec(rng, family, product_for(index, seed))
    rendered = render(spec)
    layout: dict[str, Any] = {k: list(v) for k, v in rendered.boxes.items()}
    layout["decorations"] = [list(b) for b in rendered.decorations]
    layout["panel"] = None if rendered.panel is None else list(rendered.panel)
    regions = _regions(layout)
    product = PRODUCTS[spec.product]
    noun = product.noun
    fmt = {
        "noun": noun,
        "this": "these" if product.plural else "this",
        "keeps": "keep their" if product.plural else "keeps its",
        "brand": spec.brand,
        "headline": spec.headline,
        "price": spec.price,
    }

    complexity = COMPLEXITIES[(index + index // len(order)) % len(COMPLEXITIES)]
    n_goals = COMPLEXITIES.index(complexity) + 1
    has_clutter = bool(spec.decorations) or spec.background in ("dots", "stripes")
    pool = [c for c in family.goals[1:] if has_clutter or not c.needs_clutter]
    picked = [family.goals[0]] + sorted(rng.sample(pool, n_goals - 1), key=family.goals.index)

    others = [e for e in ("logo", "price", "headline") if rng.random() < 0.45]
    preserve = tuple(["product"] + others)[: 6 - n_goals]
    with_quality = n_goals + len(preserve) < 3 or (n_goals + len(preserve) < 6 and rng.random() < 0.5)

    checklist: list[Criterion] = []
    checks: dict[str, Any] = {}

    def add(text: str, kind: str, check: dict[str, Any], weight: float = 1.0) -> None:
        cid = f"c{len(checklist) + 1}"
        checklist.append(Criterion(id=cid, text=text.format(**fmt), kind=kind, weight=weight))  # type: ignore[arg-type]
        checks[cid] = check

    for template in picked:
        add(template.text, "goal", template.check(regions))
    for element in preserve:
        add(PRESERVE_TEXTS[element], "preserve", preserve_check(element, regions))
    if with_quality:
        add(rng.choice(QUALITY_TEXTS), "quality", {"measure": None, "why": QUALITY_WHY}, weight=0.5)

    goal = rng.choice(family.phrasings).format(**fmt)
    if len(preserve) > 1 and rng.random() < 0.6:
        kept = [noun if e == "product" else e for e in preserve]
        goal += f" Keep the {', the '.join(kept[:-1])} and the {kept[-1]} as they are."
    elif rng.random() < 0.3:
        goal += f" Keep the {noun} as {'they are' if product.plural else 'it is'}."

    context = {
        "product": noun,
        "product_color": spec.product_color,
        "brand": spec.brand,
        "headline": spec.headline,
        "price": spec.price,
        "palette": spec.palette,
        "background": spec.background,
        "layout": spec.layout,
        "decorations": ", ".join(spec.decorations) or "none",
        "theme": "everyday",
        "color_grading": PALETTE_GRADING[spec.palette],
        "mood_lighting": "low-key, dark backdrop"
        if luma(PALETTES[spec.palette].bg) < 90
        else "bright, even studio light",
        "artistic_medium": "flat vector illustration",
    }
    truth = {
        "family": family.name,
        "target": dict(family.target),
        "layout": layout,
        "text": {
            "headline": spec.headline,
            "subline": spec.subline,
            "price": spec.price,
            "brand": spec.brand,
        },
        "spec": {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(spec).items()},
        "checks": checks,
    }
    tags = {
        "complexity": complexity,
        "theme": family.name,
        "source": "generated",
        "layout": spec.layout,
        "product": spec.product,
    }
    return AdDraft(
        sid, spec, goal, tuple(checklist), context, preserve, tags, _describe(spec, layout), truth, rendered
    )


# --------------------------------------------------------------------------------- the suite


def _check_options(size: Any, seed: Any) -> tuple[int, int]:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise SuiteError(f"size must be a positive integer, got {size!r}", field="size")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SuiteError(f"seed must be an integer, got {seed!r}", field="seed")
    return size, seed


def generate_ads(folder: Path, options: dict[str, Any]) -> None:
    """Write the suite (``suite.yaml``, ``samples.jsonl``, ``images/``) for ``{"size", "seed"}`` into
    ``folder``: the generator :func:`suites.materialize.materialize` runs once per option set."""
    size, seed = _check_options(options.get("size", 40), options.get("seed", 0))
    folder = Path(folder)
    samples: list[Sample] = []
    for index in range(size):
        draft = make_ad(index, seed)
        image = draft.rendered.image
        rel = f"images/{draft.id}.png"
        atomic_write(folder / rel, encode_png(image))
        samples.append(draft.sample(ImageRef(image_id(image), rel, image.width, image.height)))
    write_suite_files(
        folder, name=SUITE_NAME, version=SUITE_VERSION, samples=samples, description=DESCRIPTION
    )
    log.info("wrote %d adverts (seed %d) into %s", size, seed, folder)


def build_ads_abstract(size: int = 40, seed: int = 0, cache_dir: str | os.PathLike | None = None) -> Suite:
    """The ``ads-abstract`` suite (version "1") with ``size`` samples drawn from ``seed``.

    Generated once into the editbench cache (``cache_dir`` overrides it) and loaded from there
    afterwards. Example::

        suite = build_ads_abstract(size=12, seed=0)
        sample = suite.samples[0]           # ads-0001
        sample.goal, sample.truth["checks"]["c1"]
    """
    size, seed = _check_options(size, seed)
    return materialize(
        SUITE_NAME, SUITE_VERSION, {"size": size, "seed": seed}, generate_ads, cache_dir=cache_dir
    )


def region_mask(region: Any, width: int, height: int) -> np.ndarray:
    """The float32 ``height x width`` mask (1 = inside) of a REGION of ``truth.checks``.

    Boxes are rasterised by :func:`bench.regions.region_mask` (so ``{"box": b}`` is exactly
    ``Region(kind="box", box=b)``); ``{"outside": boxes}`` is the complement of their union; a
    string other than ``"full"`` is a named region of :data:`bench.regions.NAMED_REGIONS`.
    """
    from bench.model import Region
    from bench.regions import region_mask as core_mask

    size = (width, height)
    if region is None or region == "full":
        return core_mask(Region(), size)
    if isinstance(region, str):
        return core_mask(Region(kind="named", name=region), size)
    if isinstance(region, dict) and "box" in region:
        return core_mask(Region(kind="box", box=tuple(region["box"])), size)
    if isinstance(region, dict) and "outside" in region:
        inside = np.zeros((height, width), dtype=np.float32)
        for box in region["outside"]:
            inside = np.maximum(inside, core_mask(Region(kind="box", box=tuple(box)), size))
        return 1.0 - inside
    raise SuiteError(
        f"unknown region {region!r}: expected 'full', a named region, {{'box': ...}} or {{'outside': [...]}}",
        field="truth.checks.region",
    )
