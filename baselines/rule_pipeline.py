"""``rule-pipeline``: a lexicon and hand-written rules turn a goal into an ordered multi-step plan.

The reference for every planner: no model, no randomness, every choice explained in the plan.
How a goal becomes steps:

1. **Read** the goal with :mod:`baselines.lexicon` (adverts read advert aspects such as eco or
   premium; scenes read paper B's ten dimensions). "Keep ..." clauses and ``sample.preserve`` say
   what to preserve: dimensions ("keep the lighting") and things ("keep the house").
2. **Select** one step per requested dimension (the longest phrase wins), plus each advert
   aspect's own edits. A dimension the sample must preserve is not touched (paper B's
   ``preserve_attribute``); a value ``sample.context`` says is already true is skipped. If fewer
   than ``min_steps`` remain, companions from :data:`~baselines.lexicon.SUPPORT` keep the image
   consistent (paper B C.3: "sunset implies warm lighting, winter implies cold tones").
3. **Order** foundation first (:data:`~baselines.lexicon.STAGES`): location, architecture, era,
   then season, weather, time of day, then mood and grading, then the medium, then atmospheric
   particles; advert patterns, badges and text last so they stay legible.
4. **Confine** (paper B's ``exclude_region``): preserved things are located from
   ``sample.description`` ("the price ... at the bottom right") or assumed where they usually are
   (a subject or house in the centre, the sky on top). Steps that paint things in avoid them all;
   relighting and regrading steps avoid only things whose colours are their identity (an
   advert's product and brand marks); text and badges go to a corner nothing occupies.

The plan records each step's reason, the paper-B action and its parameters, the tool call and its
region; the trajectory records every intermediate image.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from baselines import lexicon as lx
from bench.context import EditContext
from bench.errors import ToolError
from bench.model import Plan, Region, Sample, Subtask, Trajectory
from bench.protocols import Component, SystemInfo
from bench.regions import mask_to_image, region_mask

log = logging.getLogger(__name__)

Place = tuple[str, Any]  # ("named", "foreground") | ("box", (x0, y0, x1, y1))

# Grid cells of position words (relative coordinates): a thing "at the top left" has its centre in
# the top-left third or so; the cells are generous so the thing itself is inside.
_V = {"top": (0.0, 0.38), "upper": (0.0, 0.38), "middle": (0.18, 0.82), "bottom": (0.62, 1.0), "lower": (0.62, 1.0)}
_H = {"left": (0.0, 0.46), "centre": (0.22, 0.78), "right": (0.54, 1.0)}
#: Softening of every confining region's edge (relative to the short side), so a confined edit
#: fades out instead of stopping at a hard line; the kept thing sits well inside its cell.
FEATHER = 0.03
#: What a thing the sample asks to keep keeps around it (relative to the short side).
MARGIN = 0.015
# Colour distance (0-255 RGB, Euclidean) under which a pixel has "the same colour" as a background group.
_TOLERANCE = 36.0
_POSITION = re.compile(r"\b(?:at|in|on|to|along) the (?:(top|bottom|upper|lower|middle|centre|center) )?"
                       r"(left|right|centre|center|middle|top|bottom)\b")
# Overlay slots, in order of preference: (vertical, horizontal, x, y) in relative coordinates.
_SLOTS = (("top", "right", 0.77, 0.1), ("top", "left", 0.23, 0.1), ("bottom", "right", 0.77, 0.9),
          ("bottom", "left", 0.23, 0.9), ("bottom", "centre", 0.5, 0.93), ("top", "centre", 0.5, 0.07))


@dataclass(frozen=True)
class Located:
    """A thing the description places: its kind, label and coarse grid cell."""

    kind: str
    label: str
    v: str
    h: str

    @property
    def box(self) -> tuple[float, float, float, float]:
        (y0, y1), (x0, x1) = _V[self.v], _H[self.h]
        return (x0, y0, x1, y1)


def locate(description: str | None, product: str | None = None) -> list[Located]:
    """Things the description puts at a position ("the price $296 is ... at the bottom right").

    Each object word is paired with the first position phrase after it in the same sentence;
    quoted text (headlines) is ignored. Positions are coarse cells of a 3 x 3 grid.
    """
    if not description:
        return []
    vocab = dict(lx.PRESERVE_OBJECTS)
    if product:
        vocab[lx.normalize(product)] = "product"
    out: list[Located] = []
    for sentence in re.split(r"[.;](?:\s|$)", re.sub(r"'[^']*'|\"[^\"]*\"", " ", description)):
        text = lx.normalize(sentence)
        objects = sorted((m.start(), key) for key in lx.find_words(text, vocab)
                         for m in re.finditer(rf"\b{re.escape(lx.normalize(key))}\b", text))
        positions = [(m.start(), m.group(1), m.group(2)) for m in _POSITION.finditer(text)]
        for i, (start, key) in enumerate(objects):
            stop = objects[i + 1][0] if i + 1 < len(objects) else len(text)
            pos = next(((a, b) for s, a, b in positions if start < s < stop), None)
            if pos is None:
                continue
            first, second = pos
            first = "centre" if first == "center" else first
            second = "centre" if second == "center" else second
            if second in ("top", "bottom"):
                v, h = second, "centre"
            elif second == "middle":
                v, h = "middle", "centre"
            else:
                v, h = (first if first in _V else "middle"), second
            if any(o.label == key for o in out):
                continue
            out.append(Located(vocab[key], key, v, h))
    return out


@dataclass
class _Candidate:
    action: lx.Action
    match: lx.Match | None
    rank: tuple[int, int, int]
    support_for: str | None = None


class RulePipeline(Component):
    """Lexicon rules decompose the goal into 2-5 ordered classical tool calls, each with a reason
    (options: max_steps=5, min_steps=2, strength=1.0, use_context=true, regions=true, refine=true).

    Options: ``max_steps`` (5) and ``min_steps`` (2) bound the plan; ``strength`` (1.0) scales the
    ops' default intensity for every requested dimension change (capped at 1); ``use_context``
    (true) skips changes ``sample.context`` says are already true; ``regions`` (true) confines steps
    to keep preserved things untouched (false: every step edits the whole image, an ablation); ``refine`` (true)
    releases pixels of a kept thing's coarse cell that have the surrounding background's colour.
    """

    name = "rule-pipeline"
    version = "1"

    def __init__(self, max_steps: int = 5, min_steps: int = 2, strength: float = 1.0, use_context: bool = True,
                 regions: bool = True, refine: bool = True) -> None:
        if not 1 <= int(min_steps) <= int(max_steps) <= 12:
            raise ValueError(f"need 1 <= min_steps <= max_steps <= 12, got {min_steps}, {max_steps}")
        if not 0.0 <= float(strength) <= 2.0:
            raise ValueError(f"strength must lie in [0, 2], got {strength}")
        self.max_steps = int(max_steps)
        self.min_steps = int(min_steps)
        self.strength = float(strength)
        self.use_context = bool(use_context)
        self.regions = bool(regions)
        self.refine = bool(refine)

    def info(self) -> SystemInfo:
        return SystemInfo(track="rule-pipeline", description=(
            "Keyword lexicon and ordering rules; classical tools; preserve constraints as regions."),
            tools=lx.all_actions())

    # -- planning ---------------------------------------------------------------------------------
    def plan(self, sample: Sample, image: Image.Image, ctx: EditContext | None = None) -> Plan:
        """The plan for ``sample`` (``ctx`` stores region masks; without it masks are not stored)."""
        return _Planner(self, sample, image, ctx).build()

    def edit(self, sample: Sample, image: Image.Image, ctx: EditContext) -> Trajectory:
        plan = self.plan(sample, image, ctx)
        current = image
        for st in plan.subtasks:
            try:
                current, _ = ctx.apply_tool(st.tool or "", current, dict(st.params), st.region, subtask=st.id)
            except ToolError as err:
                return ctx.trajectory(None, plan=plan, status="failed", error=f"subtask {st.id} ({st.tool}): {err}")
        return ctx.trajectory(current, plan=plan)


def _soften(cell: np.ndarray) -> np.ndarray:
    """``cell`` (bool) as a float mask softened outward by ``FEATHER``: 1 inside, fading outside."""
    radius = FEATHER * min(cell.shape)
    blurred = Image.fromarray(cell.astype(np.uint8) * 255, "L").filter(ImageFilter.GaussianBlur(radius))
    return np.maximum(cell.astype(np.float32), np.asarray(blurred, dtype=np.float32) / 255.0)


class _Planner:
    """One planning pass over one sample (keeps the notes that become the plan's reasoning)."""

    def __init__(self, cfg: RulePipeline, sample: Sample, image: Image.Image, ctx: EditContext | None) -> None:
        self.cfg, self.sample, self.image, self.ctx = cfg, sample, image, ctx
        self.context = dict(sample.context)
        self.advert = lx.is_advert(sample.goal, self.context, sample.description)
        product = self.context.get("product")
        self.reading = lx.read_goal(sample.goal, advert=self.advert, ignore=(product,) if product else ())
        self.notes: list[str] = []
        self.located = locate(sample.description, product)
        self._keep_cache: dict[tuple[Any, ...], tuple[np.ndarray, bool]] = {}
        self._preserved: list[Place] = []

    # what to preserve --------------------------------------------------------------------------
    def _preserve(self) -> tuple[dict[str, str], list[tuple[str, str, Place | None]]]:
        dims: dict[str, str] = {}
        things: dict[str, tuple[str, str, Place | None]] = {}
        vocab = dict(lx.PRESERVE_OBJECTS)
        product = self.context.get("product")
        if product:
            vocab[lx.normalize(product)] = "product"
        for item in list(self.sample.preserve) + list(self.reading.keep_texts):
            for key in lx.find_words(item, lx.PRESERVE_DIMENSIONS):
                for dim in lx.PRESERVE_DIMENSIONS[key]:
                    dims.setdefault(dim, f"'{item}'")
            for key in lx.find_words(item, vocab):
                kind = vocab[key]
                if kind in things:
                    continue
                spot = next((o for o in self.located if o.kind == kind or o.label == key), None)
                if spot is not None:
                    things[kind] = (key, kind, ("box", spot.box))
                elif kind in lx.DEFAULT_PLACE:
                    things[kind] = (key, kind, ("named", lx.DEFAULT_PLACE[kind]))
                else:
                    things[kind] = (key, kind, None)
                    self.notes.append(f"cannot locate the {key} to keep (the description does not place it); "
                                      "it is protected only by steps that leave it alone")
        for m in self.reading.kept:
            if m.entry.dimension:
                dims.setdefault(m.entry.dimension, f"'{m.phrase}'")
        return dims, list(things.values())

    # which steps --------------------------------------------------------------------------------
    def _skip(self, action: lx.Action, taken: set, dims: dict[str, str]) -> str | None:
        if action.advert_only and not self.advert:
            return "advert overlay on a non-advert image"
        dim = action.dimension
        if dim is not None:
            if dim in taken:
                return f"{dim} is already changed by an earlier step"
            if dim in dims:
                return f"{dim} must be preserved ({dims[dim]}: preserve_attribute)"
            if self.cfg.use_context and action.value and lx.context_has(self.context, dim, action.value):
                return f"the context says {dim} is already {action.value}"
            return None
        key = (action.action, action.region, action.scope)
        if key in taken:
            return f"an earlier step already runs {action.action} there"
        return None

    def _take(self, action: lx.Action, taken: set) -> None:
        taken.add(action.dimension if action.dimension else (action.action, action.region, action.scope))

    def _select(self, dims: dict[str, str]) -> list[_Candidate]:
        taken: set = set()
        chosen: list[_Candidate] = []
        seen: dict[str, str] = {}
        for rank, m in enumerate(self.reading.changes):
            if m.entry.aspect in seen:
                self.notes.append(f"'{m.phrase}' asks for {m.entry.label} too, "
                                  f"already planned from '{seen[m.entry.aspect]}'")
                continue
            seen[m.entry.aspect] = m.phrase
            if not m.entry.actions:
                self.notes.append(f"'{m.phrase}' asks for {m.entry.label}: {m.entry.note}; skipped")
                continue
            for i, action in enumerate(m.entry.actions):
                why = self._skip(action, taken, dims)
                if why:
                    self.notes.append(f"skip {action.action} ({action.value or action.why}) from '{m.phrase}': {why}")
                    continue
                self._take(action, taken)
                chosen.append(_Candidate(action, m, (i, rank, 0)))
        for _, why in self.reading.ignored:
            self.notes.append(why)
        if chosen and len(chosen) < self.cfg.min_steps:
            for c in list(chosen):
                if c.action.dimension is None or len(chosen) >= self.cfg.min_steps:
                    continue
                support = lx.SUPPORT.get((c.action.dimension, c.action.value or ""))
                if support is None or self._skip(support, taken, dims):
                    continue
                self._take(support, taken)
                rank = (99, c.rank[1], len(chosen))  # after every requested step when trimming
                chosen.append(_Candidate(support, c.match, rank, support_for=c.action.value))
        return chosen

    # where -------------------------------------------------------------------------------------
    def _subject(self) -> Place:
        spot = next((o for o in self.located if o.kind in ("product", "subject")), None)
        return ("box", spot.box) if spot else ("named", "foreground")

    def _exclusions(self, action: lx.Action, things: list[tuple[str, str, Place | None]]) -> list[tuple[str, Place]]:
        """What ``action`` must stay off.

        Overlays: nothing (they go to a free corner). Content steps: every kept thing. Tone steps:
        kept things whose colours are their identity. An action *about the background* (an advert's
        palette or fill) also stays off the main subject and every element the description places.
        """
        if not self.cfg.regions or action.scope == "overlay":
            return []
        if action.scope == "content":
            kept = [(label, place) for label, _, place in things if place is not None]
        else:
            kept = [(label, place) for label, kind, place in things
                    if place is not None and kind in lx.IDENTITY_COLOUR_KINDS]
        if action.region != "background":
            return kept
        has_subject = any(kind in ("product", "subject") and place for _, kind, place in things) or \
            any(o.kind in ("product", "subject") for o in self.located)
        subject = [] if has_subject else [("the main subject", self._subject())]
        return subject + kept + [(o.label, ("box", o.box)) for o in self.located]

    def _keep_mask(self, place: Place, margin: bool = False) -> tuple[np.ndarray, bool]:
        """How much to keep each pixel for ``place`` (float, 1 = keep), and whether refining changed it.

        A thing's cell is coarse, so (with ``refine``) pixels in it that have one of the colours
        surrounding the cell are treated as background: the colours of a ring around the cell are
        grouped greedily (within ``_TOLERANCE``), groups covering at least 8 % of the ring count as
        background colours, and cell pixels close to one of them are released. The sky and the
        ground (kept as whole named halves) are never refined. A refined mask follows colour edges
        and stays hard; an unrefined cell is softened outward only (``FEATHER``), so the edit fades
        out around it and the cell itself stays fully kept. With ``margin`` (things the sample asks
        to keep), a refined mask is grown by ``MARGIN`` and softened: the thing keeps its immediate
        surroundings too (the gaps between a logo's letters, the backdrop hugging a product).
        """
        key = (place[0], tuple(place[1]) if place[0] == "box" else place[1], margin)
        if key not in self._keep_cache:
            keep, refined = self._compute_keep(place)
            if margin and refined:
                r = max(1, int(round(MARGIN * min(keep.shape))))
                yy, xx = np.mgrid[-r: r + 1, -r: r + 1]
                keep = _soften(ndimage.binary_dilation(keep > 0.5, structure=xx * xx + yy * yy <= r * r))
            self._keep_cache[key] = (keep, refined)
        return self._keep_cache[key]

    def _compute_keep(self, place: Place) -> tuple[np.ndarray, bool]:
        kind, where = place
        r = Region(kind="named", name=where) if kind == "named" else Region(kind="box", box=tuple(where))
        cell = region_mask(r, self.image.size) > 0.5
        soft = _soften(cell)
        if not self.cfg.refine or (kind == "named" and where != "foreground") or not cell.any():
            return soft, False
        margin = max(2, int(round(0.03 * min(cell.shape))))
        ring = ndimage.maximum_filter(cell, size=2 * margin + 1) & ~cell
        arr = np.asarray(self.image.convert("RGB"), dtype=np.float32)
        pixels = arr[ring]
        if len(pixels) < 16:
            return soft, False
        colours: list[np.ndarray] = []
        left = pixels
        for _ in range(6):
            if len(left) == 0:
                break
            codes = (left // 8).astype(np.int32) @ np.array([1024, 32, 1])
            vals, counts = np.unique(codes, return_counts=True)
            seed = left[codes == vals[np.argmax(counts)]].mean(axis=0)
            near = np.linalg.norm(left - seed, axis=1) < _TOLERANCE
            if near.sum() >= 0.08 * len(pixels):
                colours.append(left[near].mean(axis=0))
            left = left[~near]
        if not colours:
            return soft, False
        dist = np.min(np.stack([np.linalg.norm(arr - c, axis=2) for c in colours]), axis=0)
        keep = cell & (dist >= _TOLERANCE)
        if not (cell & ~keep).any():
            return soft, False
        return keep.astype(np.float32), True

    def _region(self, excl: list[tuple[str, Place]]) -> Region | None:
        """One region for "everything but ``excl``": a named or inverted region when that is exact,
        else a stored mask (several things, or cells refined by colour)."""
        places: list[Place] = []
        for _, place in excl:
            if place not in places:
                places.append(place)
        if not places:
            return None
        kept = [self._keep_mask(p, margin=p in self._preserved) for p in places]
        if len(places) == 1 and not kept[0][1]:
            kind, where = places[0]
            if kind == "named":
                return Region(kind="named", name="background", feather=FEATHER) if where == "foreground" else \
                    Region(kind="named", name=where, invert=True, feather=FEATHER)
            return Region(kind="box", box=tuple(where), invert=True, feather=FEATHER)
        inside = np.zeros((self.image.height, self.image.width), np.float32)
        for mask, _ in kept:
            inside = np.maximum(inside, mask)
        mask_image = mask_to_image(1.0 - inside)
        if self.ctx is None:
            from bench.ids import image_id

            return Region(kind="mask", mask=image_id(mask_image))
        return Region(kind="mask", mask=self.ctx.put(mask_image))

    def _slot(self, used: set[tuple[str, str]]) -> tuple[float, float, str]:
        busy = {(o.v, o.h) for o in self.located} | used
        for v, h, x, y in _SLOTS:
            if (v, h) not in busy:
                used.add((v, h))
                return x, y, f"{v} {h}"
        v, h, x, y = _SLOTS[0]
        return x, y, f"{v} {h} (every corner is occupied)"

    def _fill_colour(self, region: Region | None) -> str:
        """A calm fill for a minimalist background: the colour behind the placed elements (what
        their cells release as background, so text keeps its contrast), else the editable area's;
        the median, muted 35 % toward its own grey."""
        arr = np.asarray(self.image.convert("RGB"), dtype=np.float32)
        behind = np.zeros(arr.shape[:2], bool)
        for o in self.located:
            keep, _ = self._keep_mask(("box", o.box))
            behind |= (region_mask(Region(kind="box", box=o.box), self.image.size) > 0.5) & (keep < 0.5)
        if behind.sum() < 0.01 * behind.size:
            behind = region_mask(region, self.image.size, self.ctx.images.get if self.ctx else None) > 0.5
        px = arr[behind] if behind.any() else arr.reshape(-1, 3)
        med = np.median(px, axis=0)
        grey = float(med @ np.array([0.299, 0.587, 0.114], np.float32))
        rgb = np.clip(np.rint(med * 0.65 + grey * 0.35), 0, 255).astype(int)
        return "#{:02X}{:02X}{:02X}".format(*rgb)

    # the plan ----------------------------------------------------------------------------------
    def build(self) -> Plan:
        dims, things = self._preserve()
        self._preserved = [place for _, _, place in things if place is not None]
        chosen = self._select(dims)
        fallback = False
        if not chosen and not self.reading.changes:
            fallback = True
            self.notes.append("no lexicon phrase matched the goal: the neutral fallback plan (light vibrant grade, "
                              "a touch of contrast)")
            chosen = [_Candidate(a, None, (i, 0, 0)) for i, a in enumerate(lx.FALLBACK_PLAN)]
        chosen.sort(key=lambda c: c.rank)
        if len(chosen) > self.cfg.max_steps:
            for c in chosen[self.cfg.max_steps:]:
                self.notes.append(f"dropped {c.action.action} ({c.action.why}): over max_steps={self.cfg.max_steps}")
            chosen = chosen[: self.cfg.max_steps]
        chosen.sort(key=lambda c: (lx.STAGES.index(c.action.stage), c.rank))
        slots: set[tuple[str, str]] = set()
        subtasks = [self._subtask(i, c, things, slots) for i, c in enumerate(chosen)]
        if not subtasks:
            self.notes.append("no step is left to run (see the reasons above): the image is returned unchanged")
        head = f"{'advert' if self.advert else 'scene'} goal; " + (
            "matched " + ", ".join(f"'{m.phrase}' ({m.entry.label})" for m in self.reading.changes)
            if self.reading.changes else "nothing matched")
        if dims:
            head += "; preserve " + ", ".join(sorted(dims))
        if things:
            head += "; keep " + ", ".join(label for label, _, _ in things)
        return Plan(context=dict(self.context), subtasks=tuple(subtasks),
                    reasoning="; ".join([head] + self.notes) + (" (fallback)" if fallback else ""))

    def _subtask(self, i: int, c: _Candidate, things: list[tuple[str, str, Place | None]],
                 slots: set[tuple[str, str]]) -> Subtask:
        a = c.action
        params = lx.scaled_params(a, self.cfg.strength) if c.support_for is None else dict(a.params)
        excl = self._exclusions(a, things)
        region = self._region(excl)
        if region is not None:
            params.update(a.confined_params)
        reasons = [f"'{c.match.phrase}' → {a.why}" if c.match and c.support_for is None else a.why]
        if c.support_for is not None:
            reasons.append(f"companion of {c.support_for.replace('_', ' ')}, added to reach {self.cfg.min_steps} "
                           "steps (paper B: temporal consistency)")
        if a.scope == "overlay" and a.action in ("add_text", "add_badge"):
            x, y, where = self._slot(slots)
            params.update({"x": x, "y": y})
            reasons.append(f"placed at the {where}, where the description puts nothing" if self.located
                           else f"placed at the {where} (the description places nothing)")
        if a.action == "replace_background" and "color" not in params:
            params["color"] = self._fill_colour(region)
            reasons.append(f"fill {params['color']}: the median colour behind the elements, muted")
        exclude: dict[str, Any] = {}
        if region is not None:
            labels = sorted({label for label, _ in excl})
            reasons.append(f"confined to {region.describe()} to keep {', '.join(labels)} untouched")
            exclude = {"region_type": ", ".join(labels), "exclusion_strength": "complete"}
        if a.dimension:
            text = f"Set {a.dimension.replace('_', ' ')} to {(a.value or '').replace('_', ' ')}"
        else:
            text = f"{a.action.replace('_', ' ').capitalize()}: {a.why}"
        action_params = lx.paper_action_params(a, self.context, a.why)
        if exclude:
            action_params["exclude_region"] = exclude
        return Subtask(id=f"s{i + 1}", text=text, reasoning="; ".join(reasons), action=a.action,
                       action_params=action_params, tool=a.action, params=params, region=region)
