"""Scene sidecars: the spec stored beside its image, ``images/ab/<id>.scene.json``.

Suites write one for every rendered image; scene-editing tools read their input's sidecar and
write their output's; the ``attributes`` judge reads the final one and re-renders it. A missing
sidecar is ``None`` (the image is not a scene); a present but unreadable one is an error, because
silently ignoring a corrupt ground truth would score a system on nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.scene.spec import SceneSpec

SIDE_CAR_SUFFIX = ".scene.json"


def sidecar_path(image_path: str | os.PathLike[str]) -> Path:
    """The sidecar's path for an image: the image's suffix replaced by :data:`SIDE_CAR_SUFFIX`
    (``images/ab/abcd.png`` -> ``images/ab/abcd.scene.json``)."""
    path = Path(image_path)
    return path.with_name(path.stem + SIDE_CAR_SUFFIX)


def write_sidecar(image_path: str | os.PathLike[str], spec: SceneSpec) -> Path:
    """Write ``spec`` beside ``image_path`` atomically (temp file + rename) and return its path.

    The content is the spec's canonical JSON, so writing the same spec twice gives the same bytes
    (sidecars of content-addressed images may be written by several workers)."""
    target = sidecar_path(image_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(spec.to_json())
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_sidecar(image_path: str | os.PathLike[str]) -> SceneSpec | None:
    """The spec stored beside ``image_path``, or ``None`` when there is no sidecar.

    Raises ``ValueError`` naming the sidecar file when it exists but does not hold a valid spec."""
    target = sidecar_path(image_path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return SceneSpec.from_json(text)
    except ValueError as exc:
        raise ValueError(f"{target}: {exc}") from exc
