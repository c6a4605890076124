"""Identities from content: images, component specs and seeds.

Ids are how editbench knows two things are the same across machines, runs and resumes: an image
is its pixels, a component is its name, arguments and version, a task's randomness is derived from
what the task is, never from when it ran. ``ID_SCHEME`` versions the scheme itself; bump it when a
rule below changes and stored ids become incomparable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from PIL import Image

from bench.jsonio import canonical_json

ID_SCHEME = 1

# Argument names that change how a component talks to the world, not what it computes. They are
# left out of identities so that retrying harder or running wider never invalidates a result.
TRANSPORT_KEYS = frozenset(
    {
        "retries",
        "max_retries",
        "concurrency",
        "timeout",
        "request_timeout",
        "workers",
        "batch_size",
        "api_key",
        "api_key_env",
        "progress",
        "log_level",
        "cache_dir",
        "device",
        "backoff_base",
        "backoff_max",
        "max_retry_after",
        "prices",
    }
)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_id(image: Image.Image) -> str:
    """SHA-256 of ``RGB8|w|h|`` and the raw RGB bytes: an id of pixels, not of an encoding."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    w, h = image.size
    header = b"RGB8|%d|%d|" % (w, h)
    return sha256_hex(header + image.tobytes())


def content_hash(obj: Any, length: int = 64) -> str:
    """Hash of the canonical JSON of ``obj`` (truncated to ``length`` hex digits)."""
    return sha256_hex(canonical_json(obj).encode("ascii"))[:length]


def identity_args(args: Mapping[str, Any], extra_transport: Iterable[str] = ()) -> dict[str, Any]:
    """The arguments that define what a component computes: transport settings and secrets removed."""
    drop = TRANSPORT_KEYS | set(extra_transport)
    return {k: v for k, v in args.items() if k not in drop}


def component_id(name: str, args: Mapping[str, Any], version: str | int, *, extra: Mapping[str, Any] | None = None) -> str:
    """``name.<12 hex>``: the name for people, the hash for everything that affects the output.

    ``extra`` carries identity parts a component adds itself (a judge's prompt-template hash, a
    backend's kind and endpoint host, a local file's content hash).
    """
    payload = {
        "scheme": ID_SCHEME,
        "name": name,
        "version": str(version),
        "args": identity_args(args),
        "extra": dict(extra or {}),
    }
    return f"{name}.{content_hash(payload, 12)}"


def derive_seed(run_seed: int, *parts: str) -> int:
    """A 63-bit seed from the run seed and what the task is (suite, sample id, component id)."""
    digest = hashlib.sha256(canonical_json([ID_SCHEME, int(run_seed), *[str(p) for p in parts]]).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def file_content_hash(path: str) -> str:
    """Content hash of a local file or folder (sorted relative paths + bytes), for specs that name paths."""
    import os

    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in sorted(files):
                full = os.path.join(root, f)
                h.update(os.path.relpath(full, path).replace(os.sep, "/").encode())
                with open(full, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
    else:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
