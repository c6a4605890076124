"""Regions to masks: one function turns any :class:`~bench.model.Region` into pixels.

Masks are float32 arrays in [0, 1] (1 = inside), the form every tool blends with. A phrase must
be grounded (by a planner's grounding step) before it can become a mask: asking for the mask of an
ungrounded phrase is an error, not a silent whole-image edit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from bench.errors import ToolError
from bench.model import Region

NAMED_REGIONS: tuple[str, ...] = ("foreground", "background", "top", "bottom", "left", "right", "center")


def _named(name: str, h: int, w: int) -> np.ndarray:
    ys = (np.arange(h, dtype=np.float32) + 0.5) / h
    xs = (np.arange(w, dtype=np.float32) + 0.5) / w
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    if name == "top":
        m = yy < 0.5
    elif name == "bottom":
        m = yy >= 0.5
    elif name == "left":
        m = xx < 0.5
    elif name == "right":
        m = xx >= 0.5
    elif name == "center":
        m = (np.abs(yy - 0.5) < 0.25) & (np.abs(xx - 0.5) < 0.25)
    elif name in ("foreground", "background"):
        # Without segmentation, the subject is assumed centred: an ellipse over the middle 60 %
        # wide and 70 % high, slightly below centre (where photographed subjects sit). Suites that
        # know better give boxes or masks instead.
        inside = ((xx - 0.5) / 0.3) ** 2 + ((yy - 0.55) / 0.35) ** 2 <= 1.0
        m = inside if name == "foreground" else ~inside
    else:
        raise ToolError(f"unknown named region {name!r}; known: {', '.join(NAMED_REGIONS)}", field="region")
    return m.astype(np.float32)


def region_mask(
    region: Region | None,
    size: tuple[int, int],
    load_mask: Callable[[str], Image.Image] | None = None,
) -> np.ndarray:
    """The mask of ``region`` for an image of ``size = (width, height)``.

    ``load_mask`` fetches a stored mask image by id (the image store's ``get``); masks of another
    size are resized to ``size``.
    """
    w, h = size
    region = region or Region()
    if region.kind == "full":
        mask = np.ones((h, w), np.float32)
    elif region.kind == "named":
        mask = _named(region.name or "", h, w)
    elif region.kind == "box":
        if not region.box or len(region.box) != 4:
            raise ToolError("a box region needs box=(x0, y0, x1, y1)", field="region.box")
        x0, y0, x1, y1 = (float(v) for v in region.box)
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ToolError(f"box {region.box} is not inside [0,1] with x0<x1, y0<y1", field="region.box")
        mask = np.zeros((h, w), np.float32)
        mask[int(round(y0 * h)) : max(int(round(y1 * h)), int(round(y0 * h)) + 1),
             int(round(x0 * w)) : max(int(round(x1 * w)), int(round(x0 * w)) + 1)] = 1.0
    elif region.kind == "mask":
        if load_mask is None or not region.mask:
            raise ToolError("a mask region needs a stored mask image", field="region.mask")
        im = load_mask(region.mask).convert("L")
        if im.size != (w, h):
            im = im.resize((w, h), Image.NEAREST)
        mask = np.asarray(im, dtype=np.float32) / 255.0
    elif region.kind == "phrase":
        raise ToolError(f"region phrase {region.phrase!r} was not grounded to a box or mask", field="region")
    else:
        raise ToolError(f"unknown region kind {region.kind!r}", field="region.kind")
    if region.invert:
        mask = 1.0 - mask
    if region.feather > 0:
        radius = region.feather * min(w, h)
        im = Image.fromarray(np.round(mask * 255).astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(radius))
        mask = np.asarray(im, dtype=np.float32) / 255.0
    return mask


def mask_to_image(mask: np.ndarray) -> Image.Image:
    """A mask as an RGB image (white inside), so it can live in the content-addressed store."""
    return Image.fromarray(np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8), "L").convert("RGB")
