"""What both agents share: options, per-sample budgets, the ask-parse-retry loop, regions, drops.

The contract every stage follows (issue 5, "budgets and failures"):

- Every model reply is charged to the sample's budget (``ctx.budget``: tool calls, tokens,
  seconds) whether it came from the cache or not, so a run from a warm cache fails exactly where
  a cold one does. Going over a limit ends the sample as ``failed`` with the limit in the error,
  the plan so far kept.
- A reply that is not usable (not JSON, or JSON that is not a valid plan / choice) gets **one**
  retry: the same messages, the bad reply, and a repair request naming the problem. A second
  unusable reply fails the sample (``failed``) with both raw replies kept in ``Plan.raw``; where a
  stage says so (the orchestrator), it drops only that subtask instead, with the reason.
- A refusal (``status="refused"``) ends the sample as ``refused``; a transport error (after the
  backend's own retries) as ``failed``. Nothing is skipped without a recorded reason.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PIL import Image

from bench.backends.base import ChatResponse
from bench.context import EditContext
from bench.errors import UsageError
from bench.ids import derive_seed
from bench.model import Plan, Region, Telemetry, Trajectory
from bench.regions import NAMED_REGIONS

from .backends import TRANSPORT_OPTIONS, Answerer, Call, Sampling, build_answerer
from .templates import PromptTemplate, load_prompt

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Options every agent takes, with defaults (see the agents' docstrings for the table).
COMMON_OPTIONS: dict[str, Any] = {
    "backend": "rules",
    "model": None,
    "base_url": None,
    "api_key_env": "OPENAI_API_KEY",
    "script": None,
    "backend_options": None,
    "cache": True,
    "concurrency": 16,
    "timeout": 300.0,
    "max_retries": 5,
    "max_tokens": 2048,
    "temperature": 0.0,
    "top_p": None,
    "prompts": None,
    "max_tool_calls": 16,
    "max_model_tokens": None,
    "max_seconds": None,
}
RAW_SEPARATOR = "\n\n----- retry -----\n\n"
#: What a parser raises for a reply of the wrong shape (a number where an object was asked...).
_UNUSABLE = (ValueError, TypeError, KeyError)
DROPPED_PREFIX = "dropped: "


class StageFailed(Exception):
    """A stage could not produce a usable answer: the sample ends with ``status`` and ``raw`` kept."""

    def __init__(self, status: str, message: str, raw: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.raw = raw


@dataclass(frozen=True)
class Unusable:
    """A reply that stayed unusable after its retry, for stages that handle it per item."""

    error: str
    raw: str


@dataclass
class Meter:
    """Model usage of one sample (tool steps add their own telemetry in ``ctx.trajectory``)."""

    requests: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    dollars: float = 0.0
    seconds: float = 0.0

    def add(self, r: ChatResponse) -> None:
        self.requests += 1
        self.cached += int(bool(r.cached))
        self.tokens_in += r.usage.tokens_in
        self.tokens_out += r.usage.tokens_out
        self.dollars += float(r.dollars or 0.0)
        self.seconds += float(r.seconds or 0.0)

    def telemetry(self) -> Telemetry:
        return Telemetry(requests=self.requests, cached_requests=self.cached, tokens_in=self.tokens_in,
                         tokens_out=self.tokens_out, dollars=self.dollars)


class AgentBase:
    """Option handling, identity and the per-sample session shared by both agents."""

    name = ""
    version = "1"
    #: The prompt templates an agent uses (file stems under ``prompts/``).
    TEMPLATES: tuple[str, ...] = ()

    def _init_common(self, opts: Mapping[str, Any]) -> None:
        for key, default in COMMON_OPTIONS.items():
            setattr(self, key, opts.get(key, default))
        self.max_tokens = int(self.max_tokens)
        self.temperature = float(self.temperature)
        self.top_p = None if self.top_p is None else float(self.top_p)
        for key in ("max_tool_calls", "max_model_tokens"):
            value = getattr(self, key)
            if value is not None and int(value) < 1:
                raise ValueError(f"{key} must be >= 1 (or null for no limit), got {value}")
            setattr(self, key, None if value is None else int(value))
        if self.max_seconds is not None and float(self.max_seconds) <= 0:
            raise ValueError(f"max_seconds must be > 0 (or null), got {self.max_seconds}")
        self.max_seconds = None if self.max_seconds is None else float(self.max_seconds)
        self._templates: dict[str, PromptTemplate] = {n: load_prompt(n, self.prompts) for n in self.TEMPLATES}
        self._repair = load_prompt("repair", self.prompts)
        self._answerer: Answerer = build_answerer(
            self.name, self.backend, model=self.model, base_url=self.base_url, api_key_env=self.api_key_env,
            script=self.script, backend_options=self.backend_options, cache=self.cache,
            concurrency=int(self.concurrency), timeout=float(self.timeout), max_retries=int(self.max_retries))

    # -- identity ----------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Everything that changes results; transport knobs and the key's variable are left out, and
        what is identified by content instead (the script, the prompt folder) too."""
        out = {k: getattr(self, k) for k in self._option_names() if k not in TRANSPORT_OPTIONS}
        out.pop("script", None)  # in the backend's spec, as a hash
        out.pop("prompts", None)  # the templates' hashes are in identity_extra, wherever the folder lies
        if not isinstance(self.backend, str):
            out["backend"] = self._answerer.spec().get("kind", type(self.backend).__name__)
        return out

    def identity_extra(self) -> dict[str, Any]:
        return {"templates": {n: t.sha256 for n, t in sorted(self._templates.items())},
                "repair": self._repair.sha256, "backend": self._answerer.spec()}

    def _option_names(self) -> list[str]:
        return list(COMMON_OPTIONS)

    def models(self) -> tuple[str, ...]:
        spec = self._answerer.spec()
        return (str(spec.get("model") or spec.get("kind")),)

    # -- per sample --------------------------------------------------------------------------------
    def session(self, ctx: EditContext) -> Session:
        """Tighten ``ctx.budget`` to this agent's limits and start a sample's session."""
        b = ctx.budget
        if self.max_tool_calls is not None:
            b.max_tool_calls = self.max_tool_calls if b.max_tool_calls is None else min(b.max_tool_calls,
                                                                                       self.max_tool_calls)
        if self.max_model_tokens is not None:
            b.max_tokens = self.max_model_tokens if b.max_tokens is None else min(b.max_tokens, self.max_model_tokens)
        if self.max_seconds is not None:
            b.max_seconds = self.max_seconds if b.max_seconds is None else min(b.max_seconds, self.max_seconds)
        seed = None if self.temperature == 0.0 else derive_seed(ctx.seed, self.name, "sampling") % (2**31)
        sampling = Sampling(max_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p, seed=seed)
        return Session(ctx=ctx, answerer=self._answerer, sampling=sampling, templates=self._templates,
                       repair=self._repair)

    def finish(self, s: Session, final: Image.Image | None, plan: Plan, *, status: str = "ok",
               error: str | None = None) -> Trajectory:
        """The trajectory: the final image only when ``ok``; model usage added to the steps' telemetry."""
        return s.ctx.trajectory(final if status == "ok" else None, plan=plan, status=status, error=error,
                                telemetry=s.meter.telemetry())


@dataclass
class Session:
    """One sample's conversation with the model: budget charging, retries, raw replies."""

    ctx: EditContext
    answerer: Answerer
    sampling: Sampling
    templates: Mapping[str, PromptTemplate]
    repair: PromptTemplate
    meter: Meter = field(default_factory=Meter)
    #: stage -> the raw reply of each call, in order (a retried call: both replies, separated).
    raws: dict[str, list[str]] = field(default_factory=dict)

    def raw(self, stage: str, index: int = 0) -> str | None:
        got = self.raws.get(stage, [])
        return got[index] if index < len(got) else None

    def call(self, stage: str, variables: Mapping[str, Any], images: Mapping[str, Image.Image],
             schema: Mapping[str, Any], inputs: Mapping[str, Any]) -> Call:
        return Call(stage, self.templates[stage].render(variables, images), schema, inputs)

    def _send(self, calls: Sequence[Call]) -> list[ChatResponse]:
        responses = self.answerer.answer(calls, self.sampling)
        if len(responses) != len(calls):
            raise StageFailed("failed", f"backend returned {len(responses)} replies for {len(calls)} requests")
        for r in responses:
            self.meter.add(r)
        for r, c in zip(responses, calls, strict=True):
            if r.status == "refused":
                raise StageFailed("refused", f"{c.stage}: the model refused: {r.error}", raw=r.text or None)
            if r.status != "ok":
                raise StageFailed("failed", f"{c.stage}: backend error: {r.error}")
        # Charged after the refusal/error checks so those keep their own status; any reply counts.
        self.ctx.budget.charge(tokens=sum(r.usage.tokens_in + r.usage.tokens_out for r in responses))
        return responses

    def ask(self, calls: Sequence[Call], parse: Callable[[Any, Call], T], *, per_item: bool = False
            ) -> list[T | Unusable]:
        """Send ``calls``, parse each reply; retry unusable ones once with a repair request.

        ``parse(json_value, call)`` raises ``ValueError`` (or ``TypeError``/``KeyError``, for replies
        of the wrong shape) for a reply that cannot be used. After
        the retry, an unusable reply raises :class:`StageFailed` (``per_item=False``) or comes back
        as :class:`Unusable` (``per_item=True``).
        """
        self.ctx.budget.charge()  # the time limit is checked before any request
        responses = self._send(calls)
        out: list[Any] = [None] * len(calls)
        raws = [r.text for r in responses]
        retry: list[tuple[int, Call, str]] = []
        for i, (r, c) in enumerate(zip(responses, calls, strict=True)):
            try:
                out[i] = parse(r.json(), c)
            except _UNUSABLE as err:
                log.info("%s: unusable reply (%s); one retry", c.stage, err)
                retry.append((i, c.with_repair(r.text, self.repair.render({"error": str(err)})[-1]), r.text))
        if retry:
            again = self._send([c for _, c, _ in retry])
            for (i, c, first), r in zip(retry, again, strict=True):
                raws[i] = raw = first + RAW_SEPARATOR + r.text
                try:
                    out[i] = parse(r.json(), c)
                except _UNUSABLE as err:
                    if not per_item:
                        self._keep_raws(calls, raws)
                        raise StageFailed("failed", f"{c.stage}: reply unusable after one retry: {err}", raw=raw) from None
                    out[i] = Unusable(str(err), raw)
        self._keep_raws(calls, raws)
        return out

    def _keep_raws(self, calls: Sequence[Call], raws: Sequence[str]) -> None:
        for c, raw in zip(calls, raws, strict=True):
            self.raws.setdefault(c.stage, []).append(raw)


# -- regions ---------------------------------------------------------------------------------------
_BOX_KEYS = ("x0", "y0", "x1", "y1")


def parse_region(obj: Any) -> Region | None:
    """A region as a model or a policy writes it -> :class:`Region` (``None`` = the whole image).

    Accepted: ``null``, ``"full"``, a named region's name, any other string (a phrase to ground),
    or an object with ``kind`` (``full`` | ``named`` | ``box`` | ``phrase`` | ``mask``), its field
    (``name`` / ``box`` as ``[x0, y0, x1, y1]`` in 0..1 / ``phrase`` / ``mask`` id) and optional
    ``invert`` and ``feather``. A box in pixels or out of order is a ``ValueError`` (never guessed).
    """
    if obj is None:
        return None
    if isinstance(obj, str):
        text = obj.strip()
        low = text.lower()
        if low in ("", "full", "whole", "whole image", "the whole image", "entire image", "everything"):
            return None
        if low in NAMED_REGIONS:
            return Region(kind="named", name=low)
        return Region(kind="phrase", phrase=text)
    if not isinstance(obj, Mapping):
        raise ValueError(f"region must be an object or a string, not {type(obj).__name__}")
    kind = str(obj.get("kind") or ("box" if "box" in obj else "phrase" if "phrase" in obj else
                                   "named" if "name" in obj else "full")).lower()
    invert = bool(obj.get("invert", False))
    feather = float(obj.get("feather", 0.0) or 0.0)
    if not 0.0 <= feather <= 0.5:
        raise ValueError(f"region feather must lie in [0, 0.5], got {feather}")
    if kind == "full":
        return Region(invert=invert) if invert else None
    if kind == "named":
        name = str(obj.get("name", "")).lower()
        if name not in NAMED_REGIONS:
            raise ValueError(f"unknown named region {name!r}; use one of {', '.join(NAMED_REGIONS)}")
        return Region(kind="named", name=name, invert=invert, feather=feather)
    if kind == "box":
        box = obj.get("box")
        if isinstance(box, Mapping):
            box = [box.get(k) for k in _BOX_KEYS]
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise ValueError("a box region needs box = [x0, y0, x1, y1]")
        try:
            x0, y0, x1, y1 = (float(v) for v in box)
        except (TypeError, ValueError):
            raise ValueError(f"box values must be numbers, got {box!r}") from None
        if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
            raise ValueError(f"box {list(box)} must be relative (0 to 1) with x0 < x1 and y0 < y1")
        return Region(kind="box", box=(x0, y0, x1, y1), invert=invert, feather=feather)
    if kind == "phrase":
        phrase = str(obj.get("phrase", "")).strip()
        if not phrase:
            raise ValueError("a phrase region needs a phrase")
        return Region(kind="phrase", phrase=phrase, invert=invert, feather=feather)
    if kind == "mask":
        mask = str(obj.get("mask", ""))
        if not re.fullmatch(r"[0-9a-f]{64}", mask):
            raise ValueError("a mask region needs the stored mask's image id")
        return Region(kind="mask", mask=mask, invert=invert, feather=feather)
    raise ValueError(f"unknown region kind {kind!r}")


def region_to_json(region: Region | None) -> dict[str, Any]:
    """The inverse of :func:`parse_region` (what policies store)."""
    if region is None:
        return {"kind": "full"}
    out = {k: v for k, v in region.to_dict().items() if v not in (None, False, 0.0) or k == "kind"}
    if "box" in out:
        out["box"] = list(out["box"])
    return out


_WORD_PLACES: dict[str, str] = {"sky": "top", "ground": "bottom", "floor": "bottom", "backdrop": "background",
                                "upper": "top", "lower": "bottom", "middle": "center", "centre": "center"}


def ground_words(phrase: str) -> Region | None:
    """The weight-free grounding: a named region the phrase names, or where its kind of thing usually
    is (:data:`baselines.lexicon.DEFAULT_PLACE`). ``ValueError`` when the words say nothing usable."""
    from baselines import lexicon as lx

    words = lx.normalize(phrase).split()
    if not words or set(words) & {"whole", "entire", "everything", "overall", "global"}:
        return None
    invert = bool(set(words) & {"except", "excluding", "around", "outside", "but", "avoiding", "not"})
    for w in words:
        name = w if w in NAMED_REGIONS else _WORD_PLACES.get(w)
        if name:
            return Region(kind="named", name=name, invert=invert)
    for key in lx.find_words(phrase, lx.PRESERVE_OBJECTS):
        place = lx.DEFAULT_PLACE.get(lx.PRESERVE_OBJECTS[key])
        if place:
            return Region(kind="named", name=place, invert=invert)
    raise ValueError(f"cannot ground {phrase!r}: no named region or known kind of object in it")


def ground(region: Region, image: Image.Image, *, method: str, backend: Any, ctx: EditContext) -> Region | None:
    """A phrase region grounded into a box, mask or named region (other regions pass through).

    ``method="words"`` uses :func:`ground_words` only. Any other method goes to
    ``baselines.grounding.ground(phrase, image, method=..., backend=...)`` (imported lazily; a VLM
    box, an open-vocabulary detector...) and falls back to the words when that module is absent.
    ``invert`` and ``feather`` of the phrase region carry over. ``ValueError`` when it cannot.
    """
    if region.kind != "phrase":
        return region
    phrase = region.phrase or ""
    found: Region | None
    if method == "words":
        found = ground_words(phrase)
    else:
        try:
            from baselines import grounding as grounding_mod  # written beside these agents; optional
        except ImportError:
            log.info("baselines.grounding is not available: grounding %r by its words", phrase)
            found = ground_words(phrase)
        else:
            kwargs: dict[str, Any] = {"backend": backend}
            if method != "auto":
                kwargs["method"] = method
            import inspect

            sig = inspect.signature(grounding_mod.ground).parameters
            for key, value in (("images", ctx.images), ("store", ctx.images)):
                if key in sig:
                    kwargs[key] = value
            kwargs = {k: v for k, v in kwargs.items() if k in sig or any(p.kind is p.VAR_KEYWORD for p in sig.values())}
            try:
                found = grounding_mod.ground(phrase, image, **kwargs)
            except Exception as err:
                raise ValueError(f"cannot ground {phrase!r}: {type(err).__name__}: {err}") from err
    if found is None:
        return Region(invert=True) if region.invert else None
    if region.invert or region.feather:
        found = found.replace(invert=found.invert != region.invert, feather=max(found.feather, region.feather))
    return found


# -- drops -------------------------------------------------------------------------------------------
def dropped_line(dropped: Sequence[Mapping[str, Any]]) -> str:
    """The machine-readable last line of ``Plan.reasoning`` listing every dropped subtask/action."""
    return DROPPED_PREFIX + json.dumps(list(dropped), sort_keys=True)


def dropped_of(plan: Plan | None) -> list[dict[str, Any]]:
    """The dropped subtasks (or actions) a plan records: ``[{"id", "text", "stage", "why"}, ...]``."""
    if plan is None or not plan.reasoning:
        return []
    for line in reversed(plan.reasoning.splitlines()):
        if line.startswith(DROPPED_PREFIX):
            return list(json.loads(line[len(DROPPED_PREFIX):]))
    return []


def check_choice(value: Any, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise UsageError(f"{what} must be one of {', '.join(map(str, allowed))}, not {value!r}")
    return str(value)
