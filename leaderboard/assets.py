"""Copying images into the site: a full-size PNG and a small JPEG thumbnail per image id.

Files are named by content id (``img/<id>.png``, ``img/<id>.thumb.jpg``), so an image shared by
several rows or runs is written once, and rebuilding a site only writes what is new. Ids come from
stored records, so they are checked to be 64 hex digits before they become file names: a damaged
or hostile record cannot write outside ``img/``. Thumbnails are made in a thread pool (Pillow
releases the GIL while decoding, resizing and encoding).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from bench.images import atomic_write, to_rgb
from leaderboard.views import ImageView

log = logging.getLogger(__name__)

THUMB_SIZE = 256
THUMB_QUALITY = 85
_ID = re.compile(r"^[0-9a-f]{64}$")


def is_image_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.match(value))


class ImageExporter:
    """Exports images found by ``locate(image_id) -> Path | None`` into ``out/img/``."""

    def __init__(
        self,
        out: Path,
        locate: Callable[[str], Path | None],
        *,
        thumb_size: int = THUMB_SIZE,
        workers: int | None = None,
    ) -> None:
        self.out = Path(out)
        self.dir = self.out / "img"
        self.locate = locate
        self.thumb_size = thumb_size
        self.workers = workers or min(8, os.cpu_count() or 1)
        self._views: dict[str, ImageView | None] = {}

    def _export_one(self, image_id: str) -> ImageView | None:
        if not is_image_id(image_id):
            log.warning("not an image id, skipped: %r", image_id[:80])
            return None
        src = self.locate(image_id)
        if src is None:
            log.warning("image %s is in no run store; shown as missing", image_id)
            return None
        full = self.dir / f"{image_id}.png"
        thumb = self.dir / f"{image_id}.thumb.jpg"
        try:
            if not full.exists():
                self.dir.mkdir(parents=True, exist_ok=True)
                tmp = full.with_name(f".tmp-{image_id}.png")
                shutil.copyfile(src, tmp)
                os.replace(tmp, full)
            with Image.open(full) as im:
                fw, fh = im.size
                if not thumb.exists():
                    small = to_rgb(im)
                    small.thumbnail((self.thumb_size, self.thumb_size), Image.LANCZOS)
                    buf = _encode_jpeg(small)
                    atomic_write(thumb, buf)
            with Image.open(thumb) as t:
                tw, th = t.size
        except OSError as err:
            log.warning("image %s could not be exported: %s", image_id, err)
            return None
        return ImageView(
            id=image_id,
            thumb=f"img/{thumb.name}",
            full=f"img/{full.name}",
            width=tw,
            height=th,
            full_width=fw,
            full_height=fh,
        )

    def export(self, image_ids: Iterable[str]) -> None:
        """Export every id not exported yet (in parallel); :meth:`view` then looks them up."""
        todo = sorted({i for i in image_ids if i and i not in self._views})
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for image_id, view in zip(todo, pool.map(self._export_one, todo), strict=True):
                self._views[image_id] = view
        log.info("exported %d images to %s", sum(v is not None for v in self._views.values()), self.dir)

    def view(self, image_id: str | None) -> ImageView | None:
        if not image_id:
            return None
        if image_id not in self._views:
            self.export([image_id])
        return self._views.get(image_id)


def _encode_jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return buf.getvalue()
