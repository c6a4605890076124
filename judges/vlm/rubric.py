"""Rubrics as data: a template file, the criteria it asks about, a schema, a parser.

A rubric file (``judges/vlm/prompts/*.j2``) is YAML front matter between ``---`` lines, then a
Jinja2 template of the user message::

    ---
    name: styling-reward
    version: "1"
    scale: [1, 5]             # default scale of numeric criteria
    layout: nested            # nested: {id: {reasoning, score}} | flat: {reasoning, id: value}
    criteria:                 # the fixed criteria (a judge may add dynamic ones, e.g. a checklist)
      - {id: goal_alignment, label: Goal Alignment, weight: 0.30, description: ...}
    system: |                 # the system message (a Jinja2 template too)
      You are ...
    ---
    The user's request: {{ goal }}
    Source image: [[image:source]]

``[[image:NAME]]`` markers place the images the judge supplies under that name. The file's
SHA-256 (front matter included, so weights and scales too) is part of the judge's id: changing a
word of a prompt changes the id, and old judgements stay attributable to the prompt that made them.

Why a custom parser rather than trusting structured outputs: servers that ignore
``response_format`` are common (older vLLM, Ollama), so :meth:`Rubric.parse` accepts the shapes
models actually produce (nested, flat, wrapped in ``scores``, numbers as strings), and reports a
criterion it cannot read as *missing with a reason* — never as 0. Only a reply with no readable
criterion at all is a :class:`ParseError`, which the judge answers with one repair request.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.backends.base import ChatMessage, ImagePart, TextPart, parse_json_reply
from bench.errors import JudgeError

IMAGE_MARKER = re.compile(r"\[\[image:([A-Za-z0-9_]+)\]\]")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)
_WRAPPERS = ("scores", "criteria", "evaluation", "ratings", "results")
_REASONING_KEYS = ("reasoning", "rationale", "explanation", "justification")


class ParseError(ValueError):
    """A reply from which no criterion could be read (not JSON, not an object, no known key)."""


@dataclass(frozen=True)
class CriterionDef:
    """One thing a rubric asks the model to rate.

    Numeric criteria have ``low``/``high`` (inclusive; integers asked, any number in range
    accepted); categorical ones have ``choices`` mapping each allowed label to its value (e.g.
    ``pass: 1.0, partial: 0.5, fail: 0.0``). ``weight`` is the criterion's share in a weighted
    aggregate; ``group`` names the aggregate it belongs to (plan-quality's action/reasoning).
    """

    id: str
    label: str = ""
    description: str = ""
    weight: float = 1.0
    group: str | None = None
    kind: str | None = None  # a checklist criterion's kind (goal | preserve | quality)
    low: float | None = None
    high: float | None = None
    choices: Mapping[str, float] | None = None
    integer: bool = True  # numeric criteria ask for integers unless the rubric says otherwise
    needs_plan: bool = False  # only asked when the system made a plan (N/A otherwise)

    @property
    def categorical(self) -> bool:
        return self.choices is not None

    def value_of(self, raw: Any) -> float | None:
        """The value of a raw JSON value for this criterion, or ``None`` if it is not one."""
        if self.choices is not None:
            if not isinstance(raw, str):
                return None
            key = raw.strip().strip('"').strip().lower()
            for label, value in self.choices.items():
                if label.lower() == key:
                    return float(value)
            return None
        if isinstance(raw, bool):
            return None
        if isinstance(raw, str):
            m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*\d+(?:\.\d+)?)?\s*", raw)
            if not m:
                return None
            raw = float(m.group(1))
        if not isinstance(raw, (int, float)) or not math.isfinite(raw):
            return None
        v = float(raw)
        if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
            return None
        return v

    def label_of(self, raw: Any) -> str | None:
        """The canonical choice label of a categorical value (``"Pass"`` -> ``"pass"``)."""
        if self.choices is None or not isinstance(raw, str):
            return None
        key = raw.strip().strip('"').strip().lower()
        return next((label for label in self.choices if label.lower() == key), None)

    def value_schema(self) -> dict[str, Any]:
        if self.choices is not None:
            return {"type": "string", "enum": list(self.choices)}
        s: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.low is not None:
            s["minimum"] = int(self.low)
        if self.high is not None:
            s["maximum"] = int(self.high)
        return s

    def describe_range(self) -> str:
        if self.choices is not None:
            return " | ".join(self.choices)
        return f"{'an integer' if self.integer else 'a number'} from {self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class RenderedPrompt:
    """A rubric rendered for one item: the messages, the criteria in play and the reply schema."""

    messages: tuple[ChatMessage, ...]
    criteria: tuple[CriterionDef, ...]
    schema: dict[str, Any]
    schema_name: str


@dataclass
class ParsedReply:
    """What one reply said: a value per readable criterion, and why any other is missing."""

    values: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    reasoning: dict[str, str] = field(default_factory=dict)
    overall_reasoning: str | None = None
    missing: dict[str, str] = field(default_factory=dict)
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)  # where each value sits in the JSON
    bare_json: bool = True  # the reply text was exactly one JSON value (needed to locate logprobs)


class Rubric:
    """A loaded rubric file. See the module docstring for the format.

    >>> r = Rubric.from_text("---\\nname: t\\nversion: '1'\\nscale: [0, 10]\\n"
    ...                      "criteria: [{id: q}]\\n---\\nRate [[image:result]] for {{ goal }}.\\n")
    >>> r.parse('{"q": {"reasoning": "fine", "score": 7}}', r.criteria).values
    {'q': 7.0}
    """

    def __init__(self, meta: dict[str, Any], body: str, source: str, path: str | None = None) -> None:
        from jinja2 import Environment, StrictUndefined

        self.meta = meta
        self.path = path
        self.name = str(meta.get("name") or (Path(path).stem if path else "rubric"))
        self.version = str(meta.get("version", "1"))
        self.layout = str(meta.get("layout", "nested"))
        if self.layout not in ("nested", "flat"):
            raise JudgeError(f"layout must be nested or flat, not {self.layout!r}", file=path, field="layout")
        self.value_key = str(meta.get("value_key", "score"))
        self._source = source
        self.sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
        scale = meta.get("scale")
        self.scale: tuple[float, float] | None = (float(scale[0]), float(scale[1])) if scale else None
        self.choices: dict[str, float] | None = (
            {str(k): float(v) for k, v in meta["choices"].items()} if meta.get("choices") else None
        )
        try:
            self.criteria = tuple(self.criterion(**c) for c in meta.get("criteria") or ())
        except TypeError as err:
            raise JudgeError(f"bad criterion in front matter: {err}", file=path, field="criteria") from err
        env = Environment(
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        env.filters["json"] = lambda v, indent=2: json.dumps(
            v, indent=indent, ensure_ascii=False, sort_keys=True, default=str
        )
        try:
            self._body = env.from_string(body)
            self._system = env.from_string(str(meta["system"])) if meta.get("system") else None
        except Exception as err:  # a template syntax error names the file
            raise JudgeError(f"bad rubric template: {err}", file=path) from err

    def __getstate__(self) -> dict[str, Any]:  # compiled templates do not pickle: keep the source
        return {"source": self._source, "path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        other = Rubric.from_text(state["source"], state["path"])
        self.__dict__.update(other.__dict__)

    # --- loading ------------------------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str, path: str | None = None) -> Rubric:
        m = _FRONT.match(text)
        if not m:
            raise JudgeError("a rubric file starts with YAML front matter between '---' lines", file=path)
        try:
            meta = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as err:
            raise JudgeError(f"bad front matter: {err}", file=path) from err
        if not isinstance(meta, dict) or "version" not in meta:
            raise JudgeError("front matter must be a mapping with a 'version'", file=path)
        return cls(meta, text[m.end() :], text, path)

    @classmethod
    def load(cls, path: str | Path) -> Rubric:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as err:
            raise JudgeError(f"cannot read rubric: {err}", file=str(p)) from err
        return cls.from_text(text, str(p))

    def criterion(
        self,
        id: str,
        *,
        label: str = "",
        description: str = "",
        weight: float = 1.0,
        group: str | None = None,
        kind: str | None = None,
        scale: Sequence[float] | None = None,
        choices: Mapping[str, float] | None = None,
        integer: bool = True,
        needs_plan: bool = False,
    ) -> CriterionDef:
        """A criterion with this rubric's default scale or choices unless it names its own."""
        if choices is None and scale is None:
            choices = self.choices
            scale = None if choices is not None else self.scale
        if choices is None and scale is None:
            raise JudgeError(f"criterion {id!r} has neither a scale nor choices", file=self.path)
        lo, hi = (float(scale[0]), float(scale[1])) if scale is not None else (None, None)
        return CriterionDef(
            id=str(id),
            label=label or str(id),
            description=description,
            weight=float(weight),
            group=group,
            kind=kind,
            low=lo,
            high=hi,
            integer=bool(integer),
            needs_plan=bool(needs_plan),
            choices={str(k): float(v) for k, v in choices.items()} if choices else None,
        )

    # --- rendering ------------------------------------------------------------------------------

    def render(
        self,
        context: Mapping[str, Any],
        images: Mapping[str, ImagePart],
        criteria: Sequence[CriterionDef] | None = None,
    ) -> RenderedPrompt:
        """Messages for one item. ``criteria`` defaults to the rubric's own; the template sees them
        as ``criteria`` (plus the rubric's ``meta``) next to ``context``."""
        crit = tuple(self.criteria if criteria is None else criteria)
        ctx = {
            **context,
            "criteria": crit,
            "meta": self.meta,
            "layout": self.layout,
            "value_key": self.value_key,
        }
        try:
            user = self._body.render(**ctx)
            system = self._system.render(**ctx) if self._system is not None else None
        except Exception as err:
            raise JudgeError(f"cannot render rubric: {type(err).__name__}: {err}", file=self.path) from err
        messages: list[ChatMessage] = []
        if system and system.strip():
            messages.append(ChatMessage("system", (TextPart(system.strip()),)))
        messages.append(ChatMessage("user", tuple(self._parts(user, images))))
        return RenderedPrompt(tuple(messages), crit, self.schema(crit), _schema_name(self.name))

    def _parts(self, text: str, images: Mapping[str, ImagePart]) -> list[TextPart | ImagePart]:
        parts: list[TextPart | ImagePart] = []
        pos = 0
        for m in IMAGE_MARKER.finditer(text):
            chunk = text[pos : m.start()]
            if chunk.strip():
                parts.append(TextPart(chunk.strip("\n")))
            name = m.group(1)
            if name not in images:
                raise JudgeError(
                    f"template places image {name!r} but the judge supplied only {sorted(images)}",
                    file=self.path,
                )
            parts.append(images[name])
            pos = m.end()
        tail = text[pos:]
        if tail.strip():
            parts.append(TextPart(tail.strip("\n")))
        return parts

    def schema(self, criteria: Sequence[CriterionDef]) -> dict[str, Any]:
        """A strict JSON schema: criterion ids as required keys, score ranges as min/max, enums."""
        reasoning = {"type": "string"}
        if self.layout == "flat":
            props: dict[str, Any] = {"reasoning": reasoning}
            props.update({c.id: c.value_schema() for c in criteria})
            return {
                "type": "object",
                "properties": props,
                "required": list(props),
                "additionalProperties": False,
            }
        props = {
            c.id: {
                "type": "object",
                "properties": {"reasoning": reasoning, self.value_key: c.value_schema()},
                "required": ["reasoning", self.value_key],
                "additionalProperties": False,
            }
            for c in criteria
        }
        return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}

    # --- parsing --------------------------------------------------------------------------------

    def parse(self, text: str, criteria: Sequence[CriterionDef]) -> ParsedReply:
        """Read a reply. Raises :class:`ParseError` when no criterion can be read at all."""
        bare = True
        try:
            data = json.loads(text)
        except ValueError:
            bare = False
            try:
                data = parse_json_reply(text)
            except ValueError:
                snippet = text.strip()[:120]
                raise ParseError(f"the reply is not JSON: {snippet!r}") from None
        if not isinstance(data, dict):
            raise ParseError(f"the reply is a JSON {type(data).__name__}, not an object")
        prefix: tuple[str, ...] = ()
        root = data
        if not any(c.id in data for c in criteria):
            for w in _WRAPPERS:
                if isinstance(data.get(w), dict) and any(c.id in data[w] for c in criteria):
                    root, prefix = data[w], (w,)
                    break
        out = ParsedReply(bare_json=bare)
        out.overall_reasoning = _reasoning_of(data)
        for c in criteria:
            if c.id not in root:
                out.missing[c.id] = "absent from the reply"
                continue
            entry = root[c.id]
            raw, path = entry, (*prefix, c.id)
            if isinstance(entry, dict):
                key = (
                    self.value_key
                    if self.value_key in entry
                    else next((k for k in ("score", "verdict", "value", "rating") if k in entry), None)
                )
                if key is None:
                    out.missing[c.id] = f"no {self.value_key!r} field"
                    continue
                raw, path = entry[key], (*prefix, c.id, key)
                why = _reasoning_of(entry)
                if why:
                    out.reasoning[c.id] = why
            value = c.value_of(raw)
            if value is None:
                out.missing[c.id] = f"unusable value {raw!r} (expected {c.describe_range()})"
                continue
            out.values[c.id] = value
            out.paths[c.id] = path
            label = c.label_of(raw)
            if label is not None:
                out.labels[c.id] = label
        if not out.values:
            raise ParseError(
                "no criterion could be read: " + "; ".join(f"{k}: {v}" for k, v in out.missing.items())
            )
        return out


def _reasoning_of(obj: Mapping[str, Any]) -> str | None:
    for k in _REASONING_KEYS:
        v = obj.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _schema_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "reply"
