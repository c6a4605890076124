"""Images: normalisation to RGB, and the content-addressed image store.

Every image that enters editbench goes through :func:`to_rgb`, so a palette PNG, a 16-bit TIFF, a
CMYK JPEG and an EXIF-rotated phone photo all become the same kind of thing and get ids from
their pixels. The store writes each image once, atomically, under ``images/ab/<id>.png``.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from bench.errors import StoreError
from bench.ids import image_id

# Transparent pixels are composited onto white: what a viewer shows, and stable across tools.
ALPHA_BACKGROUND = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """Normalise any Pillow image to 8-bit RGB, consistently.

    Order matters: EXIF orientation first (the pixels a person sees), then 16-bit and float modes
    scaled to 8 bits by range (not clipped), then transparency composited onto white, then colour
    conversion (CMYK, palette, greyscale).
    """
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        arr8 = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, "L").convert("RGB")
    if mode == "F":
        arr = np.asarray(image, dtype=np.float64)
        top = 1.0 if arr.max(initial=0) <= 1.0 else 255.0
        arr8 = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, "L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("LA", "La", "PA"):
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "RGBa"):
        base = Image.new("RGB", image.size, ALPHA_BACKGROUND)
        base.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return base
    if mode != "RGB":
        return image.convert("RGB")
    return image.copy() if image.readonly else image


def load_image(path: str | os.PathLike) -> Image.Image:
    """Decode a file fully and normalise it. Raises ``OSError``/``ValueError`` on undecodable data."""
    with Image.open(path) as im:
        im.load()
        return to_rgb(im)


def encode_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    # compress_level 1: the id is of pixels, so a fast encoding loses nothing that matters.
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a killed process never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes 0600 files; stores and caches are shared, so use the usual umask mode.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class ImageStore:
    """Content-addressed PNG files under ``root/ab/<id>.png``; writing an image twice is harmless."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, image_id_: str) -> Path:
        return self.root / image_id_[:2] / f"{image_id_}.png"

    def put(self, image: Image.Image) -> str:
        image = to_rgb(image)
        iid = image_id(image)
        path = self.path(iid)
        if not path.exists():
            atomic_write(path, encode_png(image))
        return iid

    def has(self, image_id_: str) -> bool:
        return self.path(image_id_).exists()

    def get(self, image_id_: str) -> Image.Image:
        path = self.path(image_id_)
        if not path.exists():
            raise StoreError(f"image {image_id_} is not in the store", file=str(self.root))
        with Image.open(path) as im:
            im.load()
            return im.convert("RGB")

    def get_png(self, image_id_: str) -> bytes:
        """The stored PNG bytes (what model judges send), without decoding and re-encoding."""
        path = self.path(image_id_)
        if not path.exists():
            raise StoreError(f"image {image_id_} is not in the store", file=str(self.root))
        return path.read_bytes()

    def sidecar_path(self, image_id_: str, suffix: str) -> Path:
        return self.root / image_id_[:2] / f"{image_id_}{suffix}"

    def put_sidecar(self, image_id_: str, suffix: str, data: bytes) -> Path:
        path = self.sidecar_path(image_id_, suffix)
        if not path.exists():
            atomic_write(path, data)
        return path

    def get_sidecar(self, image_id_: str, suffix: str) -> bytes | None:
        path = self.sidecar_path(image_id_, suffix)
        return path.read_bytes() if path.exists() else None

    def copy_from(self, other: ImageStore, image_id_: str) -> None:
        """Bring one image (and its sidecars) over from another store, e.g. a suite's cache."""
        if self.has(image_id_):
            return
        src = other.path(image_id_)
        atomic_write(self.path(image_id_), src.read_bytes())
        for side in src.parent.glob(f"{image_id_}.*"):
            if side.suffix != ".png" or side.name.count(".") > 1:
                dst = self.root / image_id_[:2] / side.name
                if not dst.exists():
                    atomic_write(dst, side.read_bytes())
