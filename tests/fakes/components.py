"""Tiny systems and judges for testing the spine without the real baselines.

They are real components (they edit pixels and score them), just trivially simple, so runner and
store tests depend only on ``bench``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance

from bench.model import Judgement, ScoreSpec
from bench.protocols import Component, SystemInfo


class BrightenSystem(Component):
    """Brightens the image by ``factor``; fails on samples whose id contains ``fail_on``."""

    name = "fake-brighten"
    version = "1"

    def __init__(self, factor: float = 1.3, fail_on: str = "", delay: float = 0.0) -> None:
        self.factor = factor
        self.fail_on = fail_on
        self.delay = delay

    def info(self) -> SystemInfo:
        return SystemInfo(track="edit-only", description="test system")

    def edit(self, sample, image, ctx):
        if self.fail_on and self.fail_on in sample.id:
            raise RuntimeError(f"scripted failure on {sample.id}")
        if sample.truth is not None or sample.reference is not None:
            raise AssertionError("a non-oracle system saw truth or reference")
        if self.delay:
            import time

            time.sleep(self.delay)
        out = ImageEnhance.Brightness(image).enhance(self.factor)
        return ctx.trajectory(out)


class MeanDiffJudge(Component):
    """Mean absolute pixel difference between result and source, 0..255 (lower = closer)."""

    name = "fake-diff"
    version = "1"
    scope = "sample"

    def __init__(self, unscored_on: str = "") -> None:
        self.unscored_on = unscored_on

    def score_specs(self):
        return [ScoreSpec("diff", 0, 255, higher_is_better=False, display="{:.2f}")]

    def judge(self, items):
        out = []
        for it in items:
            if self.unscored_on and self.unscored_on in it.sample.id:
                out.append(Judgement(suite=it.suite, sample_id=it.sample.id, system_id=it.trajectory.system_id,
                                     judge_id="", status="unscored", error="scripted unparseable reply"))
                continue
            a = np.asarray(it.source, np.float64)
            b = np.asarray(it.final.resize(it.source.size), np.float64)
            out.append(Judgement(suite=it.suite, sample_id=it.sample.id, system_id=it.trajectory.system_id,
                                 judge_id="", scores={"diff": float(np.abs(a - b).mean())}))
        return out


def make_tiny_suite(folder, n: int = 4, bad_image: bool = False) -> None:
    """Write a small valid suite folder with ``n`` generated images."""
    import json
    import os

    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    with open(os.path.join(folder, "suite.yaml"), "w") as fh:
        fh.write("name: tiny\nversion: '1'\ndescription: test suite\n")
    with open(os.path.join(folder, "samples.jsonl"), "w") as fh:
        for i in range(n):
            rng = np.random.default_rng(i)
            arr = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
            Image.fromarray(arr).save(os.path.join(folder, "images", f"s{i}.png"))
            fh.write(json.dumps({
                "id": f"s{i}", "image": f"images/s{i}.png", "goal": f"make image {i} brighter",
                "checklist": [{"id": "c1", "text": "brighter", "kind": "goal"}],
                "tags": {"complexity": "simple" if i % 2 else "regular"}, "truth": {"secret": i},
            }) + "\n")
