"""Regions drawn on images: one transparent PNG per (region, image size) for the trajectory viewer.

Every kind of region (a named region, a box, a stored mask, inverted or feathered) becomes pixels
through the one function that tools use, :func:`bench.regions.region_mask`, so what the viewer
shows is exactly where the tool was allowed to act. The overlay dims what is outside the region
and outlines its edge; it is drawn at thumbnail size and laid over the step's input thumbnail.

Files are named by a hash of the region and the size (``img/region-<hash>.png``) and written once.
A region that is the whole image, or a phrase never grounded, has no overlay (its description
says so).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from bench.images import atomic_write
from bench.model import Region
from bench.regions import region_mask

log = logging.getLogger(__name__)

OUTSIDE_ALPHA = 0.55  # how dark what lies outside the region becomes
EDGE_RGB = (255, 196, 0)  # outline colour: amber reads on light and dark images alike


def overlay_image(
    region: Region, size: tuple[int, int], load_mask: Callable[[str], Image.Image] | None
) -> Image.Image:
    """An RGBA image of ``size``: transparent inside the region, darkened outside, edge outlined."""
    mask = region_mask(region, size, load_mask)
    inside = mask >= 0.5
    edge = inside ^ ndimage.binary_erosion(inside, iterations=max(1, round(min(size) / 120)), border_value=0)
    h, w = mask.shape
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = np.round((1.0 - mask) * OUTSIDE_ALPHA * 255).astype(np.uint8)
    rgba[edge, :3] = EDGE_RGB
    rgba[edge, 3] = 255
    return Image.fromarray(rgba, "RGBA")


class OverlayExporter:
    """Writes region overlays into ``out/img``; ``load_image(id)`` finds stored masks."""

    def __init__(self, out: Path, load_image: Callable[[str], Image.Image | None]) -> None:
        self.dir = Path(out) / "img"
        self.load_image = load_image
        self._done: dict[str, str | None] = {}

    def path(self, region: Region | None, size: tuple[int, int]) -> str | None:
        """Relative path of the overlay for ``region`` on an image of ``size``; None if not drawable."""
        if region is None or region.kind in ("full", "phrase"):
            return None
        key = hashlib.sha256(json.dumps([region.to_dict(), list(size)], sort_keys=True).encode()).hexdigest()[
            :32
        ]
        if key in self._done:
            return self._done[key]
        rel = f"img/region-{key}.png"
        target = self.dir / f"region-{key}.png"
        result: str | None = rel
        if not target.exists():
            try:
                image = overlay_image(region, size, self._load_mask)
                buf = io.BytesIO()
                image.save(buf, format="PNG", optimize=False, compress_level=6)
                self.dir.mkdir(parents=True, exist_ok=True)
                atomic_write(target, buf.getvalue())
            except Exception as err:  # a bad region must not break the site; the text still describes it
                log.warning("region %s could not be drawn: %s", region.describe(), err)
                result = None
        self._done[key] = result
        return result

    def _load_mask(self, image_id: str) -> Image.Image:
        image = self.load_image(image_id)
        if image is None:
            raise FileNotFoundError(f"mask image {image_id} is in no run store")
        return image
