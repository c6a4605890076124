"""The engine every VLM judge shares: options, backend, one batched round trip, repair, statuses.

A judge family says *what* to ask (:meth:`VLMJudge.prepare`: one or more :class:`Ask` per item,
each a rubric rendered for the item) and *how to score one draw* (:meth:`VLMJudge.score_draw`);
this module does the rest, the same way for all of them:

1. every ask of every item, ``samples`` times (``n_index`` 0..n-1), goes to the backend's
   ``chat_many`` in one batch — the backend owns concurrency and rate limits;
2. each ``ok`` reply is parsed by its rubric; a reply that cannot be parsed gets **one** repair
   request (the original messages, the bad reply, the parse error and "reply with valid JSON
   only"), sent as a second batch;
3. an item's judgement is ``ok`` only if every draw of every ask was read. Otherwise its status
   is the worst failure (``error`` > ``refused`` > ``unscored``), its scores are empty — never
   zeros — and every raw reply, repairs included, is referenced in ``raw``;
4. scores are the mean over draws; per-draw scores go to ``draws`` and their spread to the
   rationale; with ``expected=true`` each criterion's value is the expectation over the score
   token's distribution (:mod:`judges.vlm.expected`), with a note wherever that was impossible.

Options (the same keys on the command line, in YAML and in Python): ``backend`` (``openai``,
``scripted`` or any registered backend; in Python also a backend object), ``model``,
``base_url``, ``api_key_env``, ``concurrency``, ``max_tokens``, ``temperature``, ``top_p``,
``samples``, ``expected``, ``cache`` (default true: the shared reply cache), ``variant``,
``script`` (replies for ``backend=scripted``: a list, or a file with one reply a line),
``prompts`` (a folder whose files override the built-in templates by name), ``backend_options``
(a mapping passed on to the backend: ``revision``, ``extra_body``, a local model's ``device`` and
``dtype``; what of it changes replies is in the backend's spec), and transport knobs
``max_retries``, ``timeout``, ``backoff_base``, ``batch_size``. Identity: ``config()`` holds what
changes replies; ``identity_extra()`` adds every template's SHA-256 and the backend's spec (kind,
model, endpoint host); transport knobs, the key's variable, the cache switch and the raw sink are
not part of it.
"""

from __future__ import annotations

import difflib
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.backends.base import ChatMessage, ChatRequest, ChatResponse, TextPart, json_schema_format, raw_hash
from bench.errors import RegistryError, UsageError
from bench.model import Judgement, ScoreSpec
from bench.protocols import Component, JudgeInfo, JudgeItem

from .draws import (
    Ask,
    Draw,
    DrawScores,
    Outcome,
    load_script,
    mean,
    numeric_specs,
    rationale_of,
    telemetry_of,
)
from .expected import TOP_LOGPROBS, expected_value, value_spans
from .rubric import CriterionDef, ParsedReply, ParseError, Rubric

__all__ = ["COMMON_OPTIONS", "Ask", "Draw", "DrawScores", "VLMJudge", "mean", "numeric_specs"]

log = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).parent / "prompts"
REPAIR_TEMPLATE = "repair.j2"
_BUILTIN_BACKENDS = {
    "openai": "bench.backends.openai_backend:OpenAIBackend",
    "scripted": "bench.backends.scripted:ScriptedBackend",
    "transformers": "bench.backends.transformers_backend:TransformersBackend",
}
_SEVERITY = {"error": 3, "refused": 2, "unscored": 1, "ok": 0}

# Every option a VLM judge takes, with its default. ``None`` means "the variant's default".
COMMON_OPTIONS: dict[str, Any] = {
    "backend": "openai",
    "model": None,
    "base_url": None,
    "api_key_env": "OPENAI_API_KEY",
    "concurrency": 32,
    "max_tokens": None,
    "temperature": None,
    "top_p": None,
    "samples": 1,
    "expected": False,
    "cache": True,
    "variant": None,
    "script": None,
    "prompts": None,
    "max_retries": 5,
    "timeout": 120.0,
    "backoff_base": 0.5,
    "batch_size": 64,
    "raw_sink": None,
    "backend_options": None,
}
# What changes a reply, hence the judge's id (the backend's spec and the templates come on top).
IDENTITY_OPTIONS = ("variant", "model", "max_tokens", "temperature", "top_p", "samples", "expected")


class VLMJudge(Component):
    """Base class of the rubric judges. Subclasses set ``name``, ``VARIANTS`` and ``TEMPLATES``
    and implement :meth:`prepare`, :meth:`score_draw` and :meth:`score_specs`."""

    name = ""
    version = "1"
    scope = "sample"
    # variant -> defaults of model / temperature / top_p / max_tokens; the first is the default.
    VARIANTS: dict[str, dict[str, Any]] = {"default": {}}
    # variant -> {ask key: template file name}
    TEMPLATES: dict[str, dict[str, str]] = {}
    GENERIC_DEFAULTS: dict[str, Any] = {
        "model": "gpt-4o-2024-08-06",
        "temperature": 0.0,
        "top_p": None,
        "max_tokens": 1024,
    }
    EXTRA_OPTIONS: tuple[str, ...] = ()  # a subclass's own options, for config()

    def __init__(self, **options: Any) -> None:
        unknown = [k for k in options if k not in COMMON_OPTIONS]
        if unknown:
            known = sorted([*COMMON_OPTIONS, *self.EXTRA_OPTIONS])
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(
                f"judge {self.name!r} has no option {unknown[0]!r}{hint} Options: {', '.join(known)}."
            )
        opts = {**COMMON_OPTIONS, **options}
        variant = opts["variant"] or next(iter(self.VARIANTS))
        if variant not in self.VARIANTS:
            raise UsageError(
                f"judge {self.name!r}: variant must be one of {', '.join(self.VARIANTS)}, not {variant!r}"
            )
        self.variant = variant
        defaults = {**self.GENERIC_DEFAULTS, **self.VARIANTS[variant]}
        for k in ("model", "temperature", "top_p", "max_tokens"):
            if opts[k] is None:
                opts[k] = defaults.get(k)
        self.model: str = str(opts["model"])
        self.temperature = float(opts["temperature"])
        self.top_p = None if opts["top_p"] is None else float(opts["top_p"])
        self.max_tokens = None if opts["max_tokens"] is None else int(opts["max_tokens"])
        self.samples = int(opts["samples"])
        if self.samples < 1:
            raise UsageError(f"judge {self.name!r}: samples must be >= 1, not {self.samples}")
        if self.samples > 1 and self.temperature == 0.0:
            log.warning(
                "%s: samples=%d at temperature 0 draws near-identical replies", self.name, self.samples
            )
        self.expected = bool(opts["expected"])
        self.cache = bool(opts["cache"])
        self.base_url = opts["base_url"]
        self.api_key_env = str(opts["api_key_env"])
        self.concurrency = int(opts["concurrency"])
        self.max_retries = int(opts["max_retries"])
        self.timeout = float(opts["timeout"])
        self.backoff_base = float(opts["backoff_base"])
        self.batch_size = int(opts["batch_size"])
        self.script = opts["script"]
        self.prompts = opts["prompts"]
        self.raw_sink: Callable[[str], str] | None = opts["raw_sink"]
        self.backend = opts["backend"]
        self.backend_options = dict(opts["backend_options"] or {})
        self._rubrics = {key: self._load(fname) for key, fname in self.TEMPLATES[variant].items()}
        self._repair = self._load(REPAIR_TEMPLATE)
        self._inner = self._build_backend()
        self._backend_spec: dict[str, Any] = dict(self._inner.spec())
        self._wrapped: Any = None
        self._lock = threading.Lock()

    # --- identity -------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        kind = self.backend if isinstance(self.backend, str) else self._backend_spec.get("kind", "custom")
        out = {k: getattr(self, k) for k in IDENTITY_OPTIONS}
        out["backend"] = kind
        out.update({k: getattr(self, k) for k in self.EXTRA_OPTIONS})
        return out

    def identity_extra(self) -> dict[str, Any]:
        return {
            "templates": {key: r.sha256 for key, r in sorted(self._rubrics.items())},
            "repair": self._repair.sha256,
            "backend": self._backend_spec,
        }

    def info(self) -> JudgeInfo:
        return JudgeInfo(
            description=(type(self).__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            kind="vlm",
            models=(self.model,),
        )

    def rubric(self, key: str = "main") -> Rubric:
        return self._rubrics[key]

    def set_raw_sink(self, sink: Callable[[str], str] | None) -> None:
        """Where raw replies go (``RunStore.put_raw``); ``JudgeItem.put_raw`` wins when set."""
        self.raw_sink = sink

    # --- building -------------------------------------------------------------------------------

    def _load(self, fname: str) -> Rubric:
        if self.prompts:
            override = Path(str(self.prompts)).expanduser() / fname
            if override.exists():
                return Rubric.load(override)
        return Rubric.load(PROMPTS_DIR / fname)

    def _build_backend(self) -> Any:
        if not isinstance(self.backend, str):
            if not hasattr(self.backend, "chat_many") or not hasattr(self.backend, "spec"):
                raise UsageError(f"judge {self.name!r}: backend must be a name or a Backend object")
            return self.backend
        import inspect

        from bench import registry

        try:
            factory = registry.get("backends", self.backend)
        except RegistryError:
            if self.backend not in _BUILTIN_BACKENDS:
                raise
            factory = registry._resolve_target(_BUILTIN_BACKENDS[self.backend])
        kwargs: dict[str, Any] = {
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "concurrency": self.concurrency,
            "max_retries": self.max_retries,
            "timeout": self.timeout,
            "backoff_base": self.backoff_base,
        }
        if self.backend == "scripted":
            if self.script is None:
                raise UsageError(
                    f"judge {self.name!r}: backend=scripted needs script=[reply, ...] or script=PATH"
                )
            kwargs["script"] = load_script(self.script)
        params = inspect.signature(factory).parameters
        kwargs = {k: v for k, v in kwargs.items() if k in params and v is not None}
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        for k, v in self.backend_options.items():
            if k not in params and not takes_any:
                accepted = ", ".join(p for p in params if p != "self")
                raise UsageError(
                    f"judge {self.name!r}: backend {self.backend!r} has no option {k!r} ({accepted})"
                )
            kwargs[k] = v
        try:
            return factory(**kwargs)
        except (TypeError, ValueError) as err:
            raise UsageError(f"judge {self.name!r}: cannot build backend {self.backend!r}: {err}") from err

    def _backend(self) -> Any:
        """The backend requests go through: behind the shared reply cache unless ``cache=false``."""
        with self._lock:
            if self._wrapped is None:
                if self.cache:
                    from bench.cache import CachedBackend, ReplyCache

                    self._wrapped = CachedBackend(self._inner, ReplyCache())
                else:
                    self._wrapped = self._inner
            return self._wrapped

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (process pools, Ray): the lock and the cache wrapper are rebuilt on arrival."""
        state = self.__dict__.copy()
        state.pop("_lock", None)
        state["_wrapped"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    # --- what subclasses provide ----------------------------------------------------------------

    def prepare(self, item: JudgeItem) -> list[Ask] | DrawScores:
        """The asks for one item, or (no request needed) the scores/na to record as they are."""
        raise NotImplementedError

    def score_draw(self, item: JudgeItem, draws: dict[str, Draw]) -> DrawScores:
        """Scores from one draw of every ask (``draws[ask.key]``)."""
        raise NotImplementedError

    def score_specs(self) -> list[ScoreSpec]:
        raise NotImplementedError

    def verdicts(self, item: JudgeItem, per_draw: list[dict[str, Draw]]) -> dict[str, str]:
        return {}

    def finalize(self, item: JudgeItem, judgement: Judgement) -> Judgement:
        return judgement

    def ask(
        self,
        rubric: str,
        context: Mapping[str, Any],
        images: Mapping[str, Any],
        criteria: Sequence[CriterionDef] | None = None,
        *,
        key: str | None = None,
    ) -> Ask:
        """Render template ``rubric`` for one item; ``key`` names the ask (default: the rubric's key)."""
        r = self._rubrics[rubric]
        return Ask(key or rubric, r, r.render(context, images, criteria))

    # --- the round trip ---------------------------------------------------------------------------

    def request(self, ask: Ask, draw: int) -> ChatRequest:
        return ChatRequest(
            messages=ask.prompt.messages,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            response_format=json_schema_format(ask.prompt.schema, ask.prompt.schema_name),
            logprobs=self.expected,
            top_logprobs=TOP_LOGPROBS if self.expected else 0,
            n_index=draw,
        )

    def repair_request(self, req: ChatRequest, reply: ChatResponse, err: Exception) -> ChatRequest:
        rendered = self._repair.render({"error": str(err), "reply": reply.text}, {}, ())
        user = rendered.messages[-1]
        said = ChatMessage("assistant", (TextPart(reply.text if reply.text.strip() else "(empty reply)"),))
        return replace(req, messages=(*req.messages, said, user))

    def judge(self, items: list[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order; failures are statuses, never zeros."""
        prepared: list[list[Ask] | DrawScores | Judgement] = []
        for it in items:
            try:
                prepared.append(self.prepare(it))
            except Exception as err:  # a bad item (or template) fails that item, not the batch
                log.debug("%s: cannot prepare %s", self.name, it.sample.id, exc_info=True)
                prepared.append(self._blank(it, status="error", error=f"{type(err).__name__}: {err}"))
        index: list[tuple[int, int, int]] = []
        reqs: list[ChatRequest] = []
        for i, p in enumerate(prepared):
            if isinstance(p, list):
                for a, ask in enumerate(p):
                    for d in range(self.samples):
                        index.append((i, a, d))
                        reqs.append(self.request(ask, d))
        backend = self._backend()
        outcomes: dict[tuple[int, int, int], Outcome] = {}
        repairs: list[tuple[tuple[int, int, int], ChatRequest]] = []
        for key, req, resp in zip(index, reqs, backend.chat_many(reqs) if reqs else [], strict=True):
            out = outcomes[key] = Outcome(responses=[resp])
            ask = prepared[key[0]][key[1]]  # type: ignore[index]
            if not resp.ok:
                out.status, out.error = resp.status, resp.error or resp.status
                continue
            try:
                out.draw = self._read(ask, resp)
            except ParseError as err:
                repairs.append((key, self.repair_request(req, resp, err)))
        if repairs:
            fixed = backend.chat_many([r for _, r in repairs])
            for (key, _), resp in zip(repairs, fixed, strict=True):
                out = outcomes[key]
                out.responses.append(resp)
                ask = prepared[key[0]][key[1]]  # type: ignore[index]
                if not resp.ok:
                    out.status, out.error = resp.status, f"repair request: {resp.error or resp.status}"
                    continue
                try:
                    out.draw = self._read(ask, resp)
                except ParseError as err:
                    out.status, out.error = "unscored", f"unparseable after one repair: {err}"
        results = []
        for i, (it, p) in enumerate(zip(items, prepared, strict=True)):
            if isinstance(p, Judgement):
                results.append(self.finalize(it, p))
            elif isinstance(p, DrawScores):
                results.append(self.finalize(it, self._blank(it, scores=p.scores, na=p.na, rationale=p.note)))
            else:
                per_ask = [[outcomes[(i, a, d)] for d in range(self.samples)] for a in range(len(p))]
                results.append(self.finalize(it, self._compile(it, p, per_ask)))
        return results

    def _read(self, ask: Ask, resp: ChatResponse) -> Draw:
        parsed: ParsedReply = ask.rubric.parse(resp.text, ask.prompt.criteria)
        values = dict(parsed.values)
        notes: dict[str, str] = {}
        if self.expected:
            spans = None
            if parsed.bare_json:
                try:
                    spans = value_spans(resp.text)
                except ValueError:
                    spans = None
            by_id = {c.id: c for c in ask.prompt.criteria}
            for cid, path in parsed.paths.items():
                if spans is None:
                    notes[cid] = "sampled value kept: the reply is not bare JSON"
                    continue
                e = expected_value(resp.text, resp.logprobs, path, by_id[cid], spans)
                if e.value is None:
                    notes[cid] = f"sampled value kept: {e.note}"
                else:
                    values[cid] = e.value
                    notes[cid] = e.note
        return Draw(
            values=values,
            sampled=dict(parsed.values),
            labels=parsed.labels,
            reasoning=parsed.reasoning,
            overall_reasoning=parsed.overall_reasoning,
            missing=parsed.missing,
            expected_notes=notes,
        )

    # --- compiling judgements ---------------------------------------------------------------------

    def _blank(self, item: JudgeItem, **fields: Any) -> Judgement:
        return Judgement(
            suite=item.suite,
            sample_id=item.sample.id,
            system_id=item.trajectory.system_id,
            judge_id="",
            **fields,
        )

    def _raw_ids(self, item: JudgeItem, responses: list[ChatResponse]) -> tuple[str, ...]:
        sink = getattr(item, "put_raw", None) or self.raw_sink
        ids = []
        for r in responses:
            text = r.raw if r.raw is not None else (r.text or None)
            if text is None:
                continue  # a transport failure: there is no reply to keep
            ids.append(sink(text) if sink is not None else raw_hash(text))
        return tuple(ids)

    def _compile(self, item: JudgeItem, asks: list[Ask], per_ask: list[list[Outcome]]) -> Judgement:
        responses = [r for outs in per_ask for o in outs for r in o.responses]
        ok_resps = [r for r in responses if r.ok]
        models = sorted({r.model_resolved for r in ok_resps if r.model_resolved})
        common: dict[str, Any] = {
            "raw": self._raw_ids(item, responses),
            "telemetry": telemetry_of(responses),
            "model_resolved": ", ".join(models) or None,
            "endpoint_host": next((r.endpoint_host for r in responses if r.endpoint_host), None),
        }

        def where(ask: Ask, d: int) -> str:
            parts = ([ask.key] if len(asks) > 1 else []) + ([f"draw {d}"] if self.samples > 1 else [])
            return " ".join(parts) + ": " if parts else ""

        failures = [
            (o.status, f"{where(ask, d)}{o.error}")
            for ask, outs in zip(asks, per_ask, strict=True)
            for d, o in enumerate(outs)
            if o.status != "ok"
        ]
        if failures:
            status = max((s for s, _ in failures), key=lambda s: _SEVERITY[s])
            msg = "; ".join(m for _, m in failures)
            return self._blank(
                item,
                status=status,
                error=msg[:2000],
                rationale={"failures": [m for _, m in failures]},
                **common,
            )
        per_draw = [
            {ask.key: outs[d].draw for ask, outs in zip(asks, per_ask, strict=True)}
            for d in range(self.samples)
        ]
        draw_scores = [self.score_draw(item, dd) for dd in per_draw]  # type: ignore[arg-type]
        order = [s.name for s in self.score_specs()]
        names = [n for n in order if any(n in ds.scores for ds in draw_scores)]
        names += sorted({n for ds in draw_scores for n in ds.scores} - set(names))
        scores = {n: mean([ds.scores[n] for ds in draw_scores if n in ds.scores]) for n in names}
        na: dict[str, str] = {}
        for ds in draw_scores:
            for n, why in ds.na.items():
                if n not in scores:
                    na.setdefault(n, why)
        rationale = rationale_of(self.samples, asks, per_draw, draw_scores, names)
        draws = {}
        if self.samples > 1:
            draws = {n: [ds.scores.get(n, math.nan) for ds in draw_scores] for n in names}
        j = self._blank(
            item,
            scores=scores,
            na=na,
            draws=draws,
            rationale=rationale,
            verdicts=self.verdicts(item, per_draw),
            **common,
        )  # type: ignore[arg-type]
        if len(models) > 1:
            log.warning(
                "%s: draws of %s were answered by different models: %s", self.name, item.sample.id, models
            )
        return j
