"""Prompt templates as versioned files: ``baselines/agents/prompts/<name>.j2``.

A template file is YAML front matter between ``---`` lines (``name``, ``version``, ``description``,
``system``: the system message), then the Jinja2 template of the user message. ``[[image:NAME]]``
markers place the images the agent supplies under that name. The file's SHA-256 (front matter
included) is part of the agent's id: a changed word of a prompt is a new system, and old runs stay
attributable to the prompt that made them. ``prompts=DIR`` on an agent overrides built-in files by
name, for prompt experiments without editing the package.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from bench.backends.base import ChatMessage, ImagePart, TextPart
from bench.errors import UsageError

PROMPTS_DIR = Path(__file__).parent / "prompts"
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)
IMAGE_MARKER = re.compile(r"\[\[image:([A-Za-z0-9_]+)\]\]")


@dataclass(frozen=True)
class PromptTemplate:
    """One prompt file, parsed. :meth:`render` turns variables and images into chat messages."""

    name: str
    version: str
    description: str
    system: str
    body: str
    sha256: str
    path: str

    @classmethod
    def load(cls, path: str | Path) -> PromptTemplate:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"cannot read prompt template: {err}", file=str(p)) from err
        m = _FRONT.match(text)
        if not m:
            raise UsageError("a prompt template starts with YAML front matter between '---' lines", file=str(p))
        try:
            front = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as err:
            raise UsageError(f"bad front matter: {err}", file=str(p)) from err
        for key in ("name", "version"):
            if key not in front:
                raise UsageError(f"front matter lacks {key!r}", file=str(p))
        return cls(
            name=str(front["name"]), version=str(front["version"]), description=str(front.get("description", "")),
            system=str(front.get("system", "")).strip(), body=text[m.end():],
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), path=str(p),
        )

    def render(self, variables: Mapping[str, Any], images: Mapping[str, Image.Image] | None = None
               ) -> tuple[ChatMessage, ...]:
        """System and user messages; every ``[[image:NAME]]`` must have an image, and vice versa."""
        import jinja2

        env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                 keep_trailing_newline=False, autoescape=False)
        try:
            system = env.from_string(self.system).render(**variables).strip() if self.system else ""
            body = env.from_string(self.body).render(**variables).strip()
        except jinja2.TemplateError as err:
            raise UsageError(f"prompt {self.name!r} does not render: {err}", file=self.path) from err
        images = dict(images or {})
        parts: list[TextPart | ImagePart] = []
        pos = 0
        used: set[str] = set()
        for m in IMAGE_MARKER.finditer(body):
            text = body[pos:m.start()]
            if text.strip():
                parts.append(TextPart(text.strip("\n")))
            key = m.group(1)
            if key not in images:
                raise UsageError(f"prompt {self.name!r} places image {key!r}, which the agent did not supply",
                                 file=self.path)
            parts.append(ImagePart.from_pil(images[key]))
            used.add(key)
            pos = m.end()
        tail = body[pos:]
        if tail.strip():
            parts.append(TextPart(tail.strip("\n")))
        missing = set(images) - used
        if missing:
            raise UsageError(f"prompt {self.name!r} has no [[image:...]] marker for {sorted(missing)}", file=self.path)
        messages = [ChatMessage.system(system)] if system else []
        messages.append(ChatMessage("user", tuple(parts)))
        return tuple(messages)


def load_prompt(name: str, override_dir: str | None = None) -> PromptTemplate:
    """The template ``<name>.j2``: from ``override_dir`` when it has one, else the built-in file."""
    fname = f"{name}.j2"
    if override_dir:
        candidate = Path(override_dir).expanduser() / fname
        if candidate.exists():
            return PromptTemplate.load(candidate)
    path = PROMPTS_DIR / fname
    if not path.exists():
        raise UsageError(f"no prompt template {fname!r} in {PROMPTS_DIR}")
    return PromptTemplate.load(path)
