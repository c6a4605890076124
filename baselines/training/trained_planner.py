"""``trained-planner``: a planner trained by ``editbench train``, run as a system on any suite.

It is the ``styling-planner`` (paper B's four stages, any executor) whose planning stage is the
trained model, asked in exactly the format it was trained on (:func:`.records.planner_messages`,
the prompt version recorded in ``train.json``) and parsed and checked like any planner's reply.
The other stages need no model: the context is the sample's own (``context=given``: paper B's
text mode plans from the structured context; a vision model also gets the image), and the
instruction comes from the plan when the model was trained to write one
(``target=plan+instruction``), else from the template.

Weights: ``path`` is the trained planner's folder. A LoRA adapter is merged into its base once and
cached (``<cache>/trained/<hash>``, keyed by the base's and the adapter's content), then served by
the ``transformers`` backend like any local model; ``adapter=full`` folders are served directly. The
system's id covers the base's and the adapter's content hashes, so retraining gives a new system.

``info()`` declares ``trained=True`` with the reward judge (``train.json``), so the leaderboard shows
B (base), S, R, RW, SW and DPO side by side with how each was made.

Example::

    editbench run --suite styling-simple --system trained-planner:path=out/sw,executor=scene --judge attributes
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from baselines.agents.styling_planner import StylingPlanner
from bench.backends.base import ChatRequest, ChatResponse
from bench.errors import UsageError
from bench.ids import content_hash, file_content_hash
from bench.model import Sample
from bench.protocols import SystemInfo

log = logging.getLogger(__name__)
_MERGE_LOCK = threading.Lock()


def merged_model(folder: str | os.PathLike, info: dict[str, Any]) -> str:
    """A folder ``transformers`` can load for this trained planner: the full model, or base + LoRA merged
    once into ``<cache>/trained/<hash>`` (the hash of the base revision and the adapter's bytes)."""
    folder = Path(folder)
    weights = folder / info["weights"]
    if info["kind"] == "full-model":
        return str(weights)
    from bench.cache import default_cache_dir

    base = _base_path(folder, info)
    key = content_hash({"base": info["base"]["revision"], "adapter": file_content_hash(str(weights))}, 24)
    target = default_cache_dir() / "trained" / key
    with _MERGE_LOCK:
        if (target / "config.json").exists():
            return str(target)
        import transformers as tf
        from peft import PeftModel

        cls = tf.AutoModelForImageTextToText if info["base"].get("vision") else tf.AutoModelForCausalLM
        model = cls.from_pretrained(base, local_files_only=True, dtype="auto")
        model = PeftModel.from_pretrained(model, str(weights)).merge_and_unload()
        tmp = target.with_name(f".tmp-{os.getpid()}-{key}")
        model.save_pretrained(tmp)
        loader = tf.AutoProcessor if info["base"].get("vision") else tf.AutoTokenizer
        loader.from_pretrained(str(weights), local_files_only=True).save_pretrained(tmp)
        for name in ("tokenizer_config.json",):  # keep the tokenizer class the adapter folder declares
            src = weights / name
            if src.exists():
                (tmp / name).write_bytes(src.read_bytes())
        os.replace(tmp, target)
        log.info("merged %s into %s", weights, target)
        return str(target)


def _base_path(folder: Path, info: dict[str, Any]) -> str:
    base = str(info["base"]["model"])
    local = folder / base
    return str(local) if local.exists() else base


class PlainAnswerer:
    """Sends the trained planner's messages as they are (no JSON-schema hint appended: the model was
    trained without one) to a backend, behind the reply cache."""

    def __init__(self, backend: Any, spec: dict[str, Any], cache: bool = True) -> None:
        self.backend = backend
        self._spec = spec
        self.cache = cache
        self._target: Any = None

    def spec(self) -> dict[str, Any]:
        return dict(self._spec)

    def _backend(self) -> Any:
        if self._target is None:
            if self.cache:
                from bench.cache import CachedBackend, ReplyCache

                self._target = CachedBackend(self.backend, ReplyCache())
            else:
                self._target = self.backend
        return self._target

    def answer(self, calls: Sequence[Any], sampling: Any) -> list[ChatResponse]:
        reqs = [ChatRequest(messages=c.messages, max_tokens=sampling.max_tokens, temperature=sampling.temperature,
                            top_p=sampling.top_p, seed=sampling.seed) for c in calls]
        return list(self._backend().chat_many(reqs)) if reqs else []

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_target": None}


class TrainedPlanner(StylingPlanner):
    """A planner trained by ``editbench train`` (base + adapter), as a ``styling-planner`` system.

    Options: ``path`` (the trained planner's folder; required), ``executor`` [scene], ``mode``,
    ``library`` [20: the planner may write any of paper B's actions], ``min_actions`` [1],
    ``max_actions`` [8], ``max_tokens`` [512], ``temperature`` [0], ``backend_options``
    (``device``, ``dtype``, ``max_batch`` of the ``transformers`` backend), ``cache``, and the
    budgets of ``styling-planner``.
    """

    name = "trained-planner"
    version = "1"

    def __init__(self, path: str, executor: str = "scene", mode: str | None = None, library: int = 20,
                 min_actions: int = 1, max_actions: int = 8, max_tokens: int = 512, temperature: float = 0.0,
                 top_p: float | None = None, backend_options: dict | None = None, cache: bool = True,
                 max_tool_calls: int | None = 16, max_seconds: float | None = None,
                 executor_args: dict | None = None, strength: float = 1.0) -> None:
        from .pipeline import read_train_json

        folder = Path(str(path)).expanduser()
        self.train_info = read_train_json(folder)
        self.path = str(path)
        self._weights_hash = file_content_hash(str(folder / self.train_info["weights"]))
        prompt = self.train_info["prompt"]
        task = prompt.get("task", "plan")
        if task != "plan":
            raise UsageError(f"{folder} holds a trained {task!r} model, not a styling planner: use "
                             + ("planner-orchestrator:policy=PATH" if task == "orchestrate" else "planner-orchestrator:planner=PATH"),
                             field="path")
        self._modality = prompt["modality"]
        self._description = bool(prompt.get("description", True))
        self._with_instruction = prompt.get("target") == "plan+instruction"
        self._reader = prompt.get("reading")
        self._goal = bool(prompt.get("goal", True))
        spec = {"kind": "trained", "weights": self._weights_hash, "base": self.train_info["base"]["revision"],
                "prompt": prompt["version"], "modality": self._modality}
        backend = LazyBackend(folder, self.train_info, dict(backend_options or {}), spec)
        answerer = PlainAnswerer(backend, spec, cache)
        super().__init__(backend=answerer, context="given", library=library, min_actions=min_actions,
                         max_actions=max_actions, synthesis="template", executor=executor, mode=mode,
                         executor_args=executor_args, strength=strength, max_tokens=max_tokens,
                         temperature=temperature, top_p=top_p, max_tool_calls=max_tool_calls,
                         max_seconds=max_seconds, cache=cache)
        self.backend_options = dict(backend_options or {})

    def config(self) -> dict[str, Any]:
        out = super().config()
        out.update(weights=self._weights_hash, backend="trained", method=self.train_info["method"],
                   preset=self.train_info.get("preset"))
        return out

    def identity_extra(self) -> dict[str, Any]:
        extra = super().identity_extra()
        extra.pop("templates", None)  # the planning prompt is the training format, versioned in the spec
        return extra

    def info(self) -> SystemInfo:
        base = super().info()
        t = self.train_info
        return SystemInfo(track=base.track, trained=True, reward_judge=t.get("reward_judge"),
                          description=f"Paper B planner trained by {t['method'].upper()} (preset {t.get('preset')}) "
                                      f"from {t['base']['model']} ({t['kind']}); {base.description}",
                          models=(f"{t['base']['model']}+{t['method']}:{self._weights_hash[:12]}",),
                          tools=base.tools)

    # -- the planning stage, in the training format --------------------------------------------------
    def _planned(self, s: Any, sample: Sample, image: Image.Image, state: dict[str, Any]) -> Any:
        from baselines.agents.backends import Call
        from baselines.agents.library import plan_schema

        from .records import PlannerInput, planner_messages

        context = {k: v for k, v in sample.context.items() if v}
        context.update({k: v for k, v in state["context"].items() if k != "scene_description"})
        reading = None
        if self._reader:
            from .testbed import READER, goal_reading

            if self._reader != READER:
                raise UsageError(f"trained-planner: unknown goal reader {self._reader!r} in train.json")
            reading = goal_reading(sample)
        inp = PlannerInput(goal=sample.goal if self._goal else "", preserve=tuple(sample.preserve),
                           context={k: v for k, v in context.items() if v and v != "unknown"},
                           description=sample.description if self._description else None, reading=reading)
        msgs = planner_messages(inp, modality=self._modality, description=self._description,
                                image=image if self._modality == "vision" else None)
        call = Call("styling_plan", msgs, plan_schema(self._library, self.max_actions), {"sample": sample})
        reasoning, actions, instruction = s.ask([call], self._parse_with_instruction)[0]
        state["raw"] = s.raw("styling_plan")
        s.plan_instruction = instruction  # read by _instruction (one session per sample)
        if reasoning:
            state["reasoning"].insert(0, reasoning)
        return actions

    def _parse_with_instruction(self, value: Any, call: Any) -> tuple[str, list[Any], str | None]:
        reasoning, actions = self._parse_plan(value, call)
        text = value.get("instruction") if isinstance(value, dict) else None
        keep = self._with_instruction and isinstance(text, str) and bool(text.strip())
        return reasoning, actions, text.strip() if keep else None

    def _instruction(self, s: Any, sample: Sample, context: dict[str, str], actions: list[Any]) -> str:
        text = getattr(s, "plan_instruction", None)
        return text if text else super()._instruction(s, sample, context, actions)


class LazyBackend:
    """The ``transformers`` backend on the merged model folder, built on first use (merging may take a
    while). Its spec names the weights by content, so the reply cache never mixes two trained models."""

    name = "transformers"
    version = "1"

    def __init__(self, folder: Path, info: dict[str, Any], options: dict[str, Any], spec: dict[str, Any]) -> None:
        self.folder, self.info, self.options, self._spec = folder, info, options, spec
        self._backend: Any = None
        self._lock = threading.Lock()

    def spec(self) -> dict[str, Any]:
        return dict(self._spec)

    def _get(self) -> Any:
        with self._lock:
            if self._backend is None:
                from bench.backends.transformers_backend import TransformersBackend

                model = merged_model(self.folder, self.info)
                try:
                    self._backend = TransformersBackend(model, **self.options)
                except TypeError as err:
                    raise UsageError(f"trained-planner: bad backend_options: {err}", field="backend_options") from err
            return self._backend

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        return self._get().chat_many(requests)

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder, "info": self.info, "options": self.options, "_spec": self._spec,
                "_backend": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
