"""Group-disjoint, seeded splits, and the rule that an evaluated image never trains.

Paper B splits 80/10/10 "at group level" (L30, L37, L800), a group being every trajectory of one
base image; its code does not (every group holds one sample, READING §6.1). Here a split is always
by group: the groups are sorted, shuffled with a generator derived from the seed, and cut by the
fractions, so the assignment depends only on the set of groups and the seed, never on the order
records arrived in. Groups whose image belongs to an evaluated suite are removed before splitting
and counted (``excluded``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.errors import UsageError
from bench.ids import derive_seed

from .records import TrainRecord

DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.8, "val": 0.1, "test": 0.1}


@dataclass
class Splits:
    """Records per split, the groups of each split, and what was excluded."""

    parts: dict[str, list[TrainRecord]]
    groups: dict[str, list[str]]
    seed: int
    fractions: dict[str, float]
    excluded: int = 0
    excluded_groups: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> list[TrainRecord]:
        return self.parts[name]

    def to_dict(self) -> dict[str, Any]:
        """What ``train.json`` records: seed, fractions, the groups (image ids) of every split."""
        return {"seed": self.seed, "fractions": dict(self.fractions), "excluded_trajectories": self.excluded,
                "excluded_groups": sorted(self.excluded_groups),
                "sizes": {k: len(v) for k, v in self.parts.items()},
                "groups": {k: sorted(v) for k, v in self.groups.items()}}


def parse_fractions(text: str | Mapping[str, float] | Sequence[float] | None) -> dict[str, float]:
    """``"0.8,0.1,0.1"`` / ``[0.8, 0.1, 0.1]`` (train, val, test) / ``{"train": ...}`` -> a checked dict."""
    if text is None:
        return dict(DEFAULT_FRACTIONS)
    if isinstance(text, Mapping):
        out = {str(k): float(v) for k, v in text.items()}
    else:
        values = [float(x) for x in (text.split(",") if isinstance(text, str) else text)]
        names = ["train", "val", "test", "extra"][: len(values)] if len(values) <= 3 else None
        if names is None:
            raise UsageError("give two or three split fractions (train, val[, test])", field="--split")
        out = dict(zip(names, values, strict=True))
    if any(v < 0 for v in out.values()) or abs(sum(out.values()) - 1.0) > 1e-6 or "train" not in out:
        raise UsageError(f"split fractions must be >= 0, name a train split and sum to 1, got {out}", field="--split")
    return out


def split_groups(records: Sequence[TrainRecord], fractions: Mapping[str, float] | None = None, seed: int = 0,
                 exclude_images: Iterable[str] = ()) -> Splits:
    """Split ``records`` by group (source image), seeded; groups in ``exclude_images`` go nowhere.

    Splits are filled in the order of ``fractions``; each gets ``round(fraction * n_groups)`` groups
    (the last takes the remainder), so every split but the last is exact.
    """
    fr = parse_fractions(fractions) if not isinstance(fractions, dict) else parse_fractions(dict(fractions))
    banned = set(exclude_images)
    groups = sorted({r.group for r in records})
    excluded_groups = [g for g in groups if g in banned]
    groups = [g for g in groups if g not in banned]
    random.Random(derive_seed(seed, "splits")).shuffle(groups)
    names = list(fr)
    assign: dict[str, str] = {}
    start = 0
    for i, name in enumerate(names):
        end = len(groups) if i == len(names) - 1 else min(len(groups), start + round(fr[name] * len(groups)))
        for g in groups[start:end]:
            assign[g] = name
        start = end
    parts: dict[str, list[TrainRecord]] = {n: [] for n in names}
    excluded = 0
    for r in records:
        if r.group in assign:
            parts[assign[r.group]].append(r)
        else:
            excluded += 1
    by_split = {n: sorted(g for g, s in assign.items() if s == n) for n in names}
    return Splits(parts, by_split, int(seed), fr, excluded, excluded_groups)


def suite_image_ids(suites: Iterable[Any]) -> set[str]:
    """Every source image id of the given loaded suites (what must never train)."""
    return {s.image.id for suite in suites for s in suite.samples}
