"""A model trained by ``baselines.training`` for one of the agent's questions, ready to be asked.

``planner-orchestrator`` can hand two of its stages to trained models (paper A): the orchestrator
(``policy=DIR``, a model trained on high-reward exploration choices, task ``orchestrate``) and
the planner (``planner=DIR``, the checklist-free planner distilled from the checklist-conditioned
one, task ``subtasks``). Both are folders written by :func:`baselines.training.pipeline.train_planner`
whose ``train.json`` names the task; this module reads one and serves it the way the
``trained-planner`` system serves its model: a LoRA adapter is merged into its base once (cached by
content), the result is run by the ``transformers`` backend, and requests go out exactly as the
training format renders them (no JSON-schema hint appended: the model was trained without one),
behind the reply cache. Loading is lazy: nothing is read into memory before the first request.

The model's identity (:meth:`TrainedModel.identity`) is its weights' and base's content hashes and
its prompt format, so retraining gives the system a new id wherever the folder lies.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from bench.errors import UsageError

log = logging.getLogger(__name__)

__all__ = ["TrainedModel", "trained_task"]


def trained_task(path: str | os.PathLike) -> str | None:
    """The task of the trained-model folder ``path`` (``plan``, ``orchestrate``, ``subtasks``), or ``None``
    when ``path`` is not one (a policy file, or a folder with ``policy.json`` and no trained weights)."""
    p = Path(path).expanduser()
    tj = p / "train.json"
    if not p.is_dir() or not tj.exists() or (p / "policy.json").exists():
        return None
    try:
        info = json.loads(tj.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or "weights" not in info or "prompt" not in info:
        return None
    return str(info.get("task") or info["prompt"].get("task") or "plan")


class TrainedModel:
    """A trained-model folder for ``task``, with an answerer that sends it the training format.

    ``UsageError`` when the folder is not a trained model or was trained for another task.
    """

    def __init__(self, path: str | os.PathLike, task: str, *, cache: bool = True, option: str = "policy") -> None:
        from baselines.training.pipeline import read_train_json
        from baselines.training.trained_planner import LazyBackend, PlainAnswerer
        from bench.ids import file_content_hash

        self.folder = Path(path).expanduser()
        got = trained_task(self.folder)
        if got is None:
            raise UsageError(f"{option}={path}: not a trained model folder (train.json with weights)", field=option)
        if got != task:
            raise UsageError(f"{option}={path}: this model was trained for task {got!r}, not {task!r}", field=option)
        self.task = task
        self.info: dict[str, Any] = read_train_json(self.folder)
        prompt = self.info["prompt"]
        self.modality: str = prompt.get("modality", "text")
        self.description: bool = bool(prompt.get("description", True))
        self.weights_hash = file_content_hash(str(self.folder / self.info["weights"]))
        self._spec = {"kind": "trained", "task": task, "weights": self.weights_hash,
                      "base": self.info["base"]["revision"], "prompt": prompt.get("version"),
                      "modality": self.modality}
        self.answerer = PlainAnswerer(LazyBackend(self.folder, self.info, {}, self._spec), self._spec, cache)

    def identity(self) -> dict[str, Any]:
        """What identifies the model's answers (content hashes and prompt format, not the folder's path)."""
        return dict(self._spec)

    @property
    def reward_judge(self) -> str | None:
        return self.info.get("reward_judge")

    def label(self) -> str:
        """A short name for ``info().models``: base, method and the weights' hash."""
        return f"{self.info['base']['model']}+{self.info['method']}:{self.weights_hash[:12]}"

    def session(self, s: Any) -> Any:
        """``s`` (an agent's per-sample :class:`~baselines.agents.common.Session`) answered by this model:
        the same budget, meter and raw replies, another answerer."""
        return dataclasses.replace(s, answerer=self.answerer)

    def image_for(self, image: Any) -> Any:
        """The image to render into the request: the given one for ``vision`` models, else ``None``."""
        return image if self.modality == "vision" else None
