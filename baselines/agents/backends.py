"""The agents' model access: build a backend from options, and answer stage calls with it.

Every model question an agent asks is a :class:`Call`: a stage name (``checklist``, ``planner``,
``orchestrator``, ``context``, ``styling_plan``, ``instruction``), the rendered chat messages, the
JSON schema of the reply, and the structured inputs the messages were rendered from. An
:class:`Answerer` turns calls into :class:`~bench.backends.base.ChatResponse` objects, in order:

- :class:`ChatAnswerer` sends the messages to a chat backend (``openai``, ``transformers``,
  ``scripted`` or any backend registered under ``editbench.backends``), behind the shared reply
  cache unless ``cache=false``; the reply format is the schema (``json_schema``, not strict, since
  tool parameters are free-form objects). The backend owns concurrency and retries.
- :class:`RulesBackend` answers from the structured inputs with the deterministic rules of
  :mod:`baselines.agents.rules` (no model, no network), as JSON text, so the agents' parsing,
  validation, refinement and execution run exactly as with a model. It is the offline default.

Options (the agents' own, same keys on the command line, in YAML and in Python): ``backend``
(``rules`` | ``openai`` | ``transformers`` | ``scripted`` | a registered name; in Python also a
backend object), ``model``, ``base_url``, ``api_key_env``, ``script`` (replies for ``scripted``: a
list, or a file with one reply a line / a ``.jsonl`` file), ``backend_options`` (passed on to the
backend: a local model's ``device``, ``dtype``, ``max_new_tokens``; vLLM's ``extra_body``...),
``cache``, and the transport knobs ``concurrency``, ``timeout``, ``max_retries``.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench.backends.base import ChatMessage, ChatRequest, ChatResponse, Usage, json_schema_format, raw_hash
from bench.errors import RegistryError, UsageError

log = logging.getLogger(__name__)

#: Model used when none is named: both papers' planners are Qwen3-VL-8B-Instruct (A: planner;
#: B: teacher, context extractor and reward model).
DEFAULT_MODEL = "Qwen/Qwen3-VL-8B-Instruct"
BUILTIN_BACKENDS: dict[str, str] = {
    "openai": "bench.backends.openai_backend:OpenAIBackend",
    "scripted": "bench.backends.scripted:ScriptedBackend",
    "transformers": "bench.backends.transformers_backend:TransformersBackend",
}
#: Options that only change how requests travel (never part of an agent's id).
TRANSPORT_OPTIONS: tuple[str, ...] = ("api_key_env", "concurrency", "timeout", "max_retries", "cache")


@dataclass(frozen=True)
class Call:
    """One question to a model: what to send, the reply's schema, and what it was rendered from."""

    stage: str
    messages: tuple[ChatMessage, ...]
    schema: Mapping[str, Any]
    inputs: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def with_repair(self, bad_reply: str, repair: ChatMessage) -> Call:
        """The same call followed by the bad reply and a repair request (the one retry)."""
        return Call(self.stage, (*self.messages, ChatMessage("assistant", (bad_reply or "(empty reply)",)), repair),
                    self.schema, self.inputs)


@dataclass(frozen=True)
class Sampling:
    """Decoding settings every request of an agent carries (they change replies: part of its id)."""

    max_tokens: int = 2048
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = None


class Answerer(Protocol):
    """Answers calls in order; failures come back as responses (``error`` / ``refused``), never raise."""

    def spec(self) -> dict[str, Any]: ...

    def answer(self, calls: Sequence[Call], sampling: Sampling) -> list[ChatResponse]: ...


class ChatAnswerer:
    """Calls answered by a chat backend (behind the reply cache when asked)."""

    def __init__(self, backend: Any, cache: bool = True) -> None:
        self.backend = backend
        self.cache = bool(cache)
        self._wrapped: Any = None
        self._lock = threading.Lock()

    def spec(self) -> dict[str, Any]:
        return dict(self.backend.spec())

    def _target(self) -> Any:
        with self._lock:
            if self._wrapped is None:
                if self.cache:
                    from bench.cache import CachedBackend, ReplyCache

                    self._wrapped = CachedBackend(self.backend, ReplyCache())
                else:
                    self._wrapped = self.backend
            return self._wrapped

    def answer(self, calls: Sequence[Call], sampling: Sampling) -> list[ChatResponse]:
        if not calls:
            return []
        requests = [
            ChatRequest(messages=c.messages, max_tokens=sampling.max_tokens, temperature=sampling.temperature,
                        top_p=sampling.top_p, seed=sampling.seed,
                        response_format=json_schema_format(dict(c.schema), name=c.stage, strict=False))
            for c in calls
        ]
        return list(self._target().chat_many(requests))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        state["_wrapped"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


class RulesBackend:
    """The offline "backend": each stage answered by :mod:`baselines.agents.rules` from the inputs.

    Replies are JSON text with zero tokens and ``model_resolved="rules"``; a retry (the call with a
    repair turn) gets the same answer, since rules do not learn from criticism.
    """

    name = "rules"
    version = "1"

    def spec(self) -> dict[str, Any]:
        from baselines.agents import rules

        return {"kind": "rules", "version": rules.RULES_VERSION}

    def answer(self, calls: Sequence[Call], sampling: Sampling) -> list[ChatResponse]:
        from baselines.agents import rules

        out = []
        for c in calls:
            try:
                text = json.dumps(rules.reply(c.stage, c.inputs), sort_keys=False)
            except Exception as err:  # a rule that cannot answer is an error response, like a server's
                log.debug("rules backend failed on %s", c.stage, exc_info=True)
                out.append(ChatResponse.failure(f"rules backend, stage {c.stage!r}: {type(err).__name__}: {err}",
                                                endpoint_host="local", attempts=0))
                continue
            out.append(ChatResponse(text=text, model_resolved="rules", endpoint_host="local", finish_reason="stop",
                                    usage=Usage(0, 0), dollars=0.0, raw=text, raw_id=raw_hash(text),
                                    attempts=0, format_used="json_schema"))
        return out


def load_script(script: Any) -> list[str]:
    """Replies for ``backend=scripted``: a list as given (objects serialised), or a file (``.jsonl``:
    one JSON value a line; otherwise one reply a line)."""
    if isinstance(script, (list, tuple)):
        return [s if isinstance(s, str) else json.dumps(s) for s in script]
    if isinstance(script, str):
        p = Path(script).expanduser()
        if not p.exists():
            raise UsageError(f"script file {script!r} does not exist", field="script")
        lines = [ln for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if p.suffix == ".jsonl":
            return [v if isinstance(v, str) else json.dumps(v) for v in (json.loads(ln) for ln in lines)]
        return lines
    raise UsageError(f"script must be a list of replies or a file path, not {type(script).__name__}", field="script")


def build_answerer(
    owner: str,
    backend: Any = "rules",
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    script: Any = None,
    backend_options: Mapping[str, Any] | None = None,
    cache: bool = True,
    concurrency: int = 16,
    timeout: float = 300.0,
    max_retries: int = 5,
) -> Answerer:
    """The answerer for an agent's options (``owner`` names the agent in error messages).

    ``backend`` is ``rules``, a registered backend name (``openai``, ``transformers``,
    ``scripted``...), or a backend object (``chat_many`` + ``spec``). Options a backend's
    constructor does not take are dropped when they are the common ones (``base_url`` means
    nothing to a local model) and an error when they come from ``backend_options``.
    """
    if backend == "rules":
        return RulesBackend()
    if callable(getattr(backend, "answer", None)) and callable(getattr(backend, "spec", None)):
        return backend  # an Answerer already (tests, notebooks)
    if not isinstance(backend, str):
        if not hasattr(backend, "chat_many") or not hasattr(backend, "spec"):
            raise UsageError(f"{owner}: backend must be a name or a Backend object, not {type(backend).__name__}")
        return ChatAnswerer(backend, cache=cache)
    from bench import registry

    try:
        factory: Callable[..., Any] = registry.get("backends", backend)
    except RegistryError:
        if backend not in BUILTIN_BACKENDS:
            raise
        factory = registry._resolve_target(BUILTIN_BACKENDS[backend])
    kwargs: dict[str, Any] = {"model": model or DEFAULT_MODEL, "base_url": base_url, "api_key_env": api_key_env,
                              "concurrency": concurrency, "timeout": timeout, "max_retries": max_retries}
    if backend == "scripted":
        if script is None:
            raise UsageError(f"{owner}: backend=scripted needs script=[reply, ...] or script=PATH", field="script")
        kwargs["script"] = load_script(script)
    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in kwargs.items() if v is not None and (k in params or takes_any)}
    for k, v in dict(backend_options or {}).items():
        if k not in params and not takes_any:
            accepted = ", ".join(p for p in params if p != "self")
            raise UsageError(f"{owner}: backend {backend!r} has no option {k!r} ({accepted})", field="backend_options")
        kwargs[k] = v
    try:
        built = factory(**kwargs)
    except (TypeError, ValueError) as err:
        raise UsageError(f"{owner}: cannot build backend {backend!r}: {err}") from err
    return ChatAnswerer(built, cache=cache)
