"""Scene ground truth: specs of synthetic scenes, their deterministic renderer and sidecars.

Suites render styling images from a :class:`SceneSpec`; scene tools edit specs; the exact
``attributes`` judge re-renders them. See DESIGN.md, "Scene ground truth".
"""

from bench.scene.generate import random_layout, random_spec
from bench.scene.render import RENDER_VERSION, render
from bench.scene.sidecar import SIDE_CAR_SUFFIX, read_sidecar, sidecar_path, write_sidecar
from bench.scene.spec import OBJECT_KINDS, SPEC_VERSION, SceneObject, SceneSpec, diff, edit
from bench.scene.vocab import ALIASES, CONTEXT_KEYS, DEFAULTS, DIMENSIONS, VOCAB, canonical_value

__all__ = [
    "ALIASES",
    "CONTEXT_KEYS",
    "DEFAULTS",
    "DIMENSIONS",
    "OBJECT_KINDS",
    "RENDER_VERSION",
    "SIDE_CAR_SUFFIX",
    "SPEC_VERSION",
    "VOCAB",
    "SceneObject",
    "SceneSpec",
    "canonical_value",
    "diff",
    "edit",
    "random_layout",
    "random_spec",
    "read_sidecar",
    "render",
    "sidecar_path",
    "write_sidecar",
]
