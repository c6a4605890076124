"""A learned orchestrator from exploration records: a policy file ``planner-orchestrator`` can load.

Paper A: "the orchestrator learns from these judged outcomes, preferring the tools and regions
that produce the strongest edits". :func:`learn_policy` reads the run's exploration records on
the original image, keeps the *training* samples of a seeded, sample-disjoint split, and:

1. per family of similar subtasks (:func:`~baselines.explore.plans.family_of`), picks one
   candidate signature (tool and region): the one that was the best candidate on the most of the
   family's subtasks (``pool="vote"``, the default: paper A's supervised learning on high-reward
   choices, which for equal features predicts the most frequent best choice), or the one with the
   highest mean reward (``pool="mean"``: the best expected reward for a policy that sees only the
   text, which prefers a generalist that never fails to a specialist that sometimes does), or
   each subtask's own best candidate (``pool="subtask"``);
2. prunes subtasks no candidate improved on leaving the image as it was (no tool could execute
   them), and counts them;
3. writes one policy entry per distinct subtask text (the pooled choice, with that subtask's own
   parameters) in the format of :mod:`baselines.agents.policy`: ``nearest-neighbour`` over
   word n-grams (default), ``linear`` (multinomial logistic regression on the same binary
   n-grams, numpy gradient descent) or ``table`` (exact text). No GPU, no embedding model.

Parameters. A policy decision carries fixed parameters, but a scene subtask's parameters depend
on its value ("winter" or "autumn"). With ``expand=True`` every value the dimension's vocabulary
has and training never asked for gets an entry too: a training text of the family with its value
words replaced (kept only when :func:`~baselines.explore.plans.scene_target` reads the new text
back as that value), marked ``"synthetic": true``. Without it, a held-out subtask asking for an
unseen value takes its nearest neighbour's value, and misses.

The folder written (``--out``) holds ``policy.json`` and ``train.json`` (run, records read, the
split and its seed, the reward judge, method and every option, pruned subtasks, per-family means,
and whether each scene tool's documented strength was recovered).
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.ids import content_hash
from bench.scene import VOCAB
from bench.store import RunStore

from .candidates import region_label
from .evaluate import primary_judges, records_by_subtask
from .plans import DIMENSION_OF, scene_target

log = logging.getLogger(__name__)

__all__ = ["KINDS", "LearnResult", "Split", "fixed_policy", "learn_policy", "random_policy", "split_samples",
           "strengths_recovered"]

KINDS = ("nearest-neighbour", "linear", "table")
POOLS = ("vote", "mean", "subtask")
FORMAT = "editbench.orchestrator-policy"


@dataclass(frozen=True)
class Split:
    """A seeded, sample-disjoint split: a sample is held out when its hash falls under ``holdout``."""

    seed: int
    holdout: float
    train: tuple[tuple[str, str], ...]
    heldout: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "holdout": self.holdout, "train": [list(k) for k in self.train],
                "heldout": [list(k) for k in self.heldout]}


def split_samples(keys: Sequence[tuple[str, str]], holdout: float = 0.3, seed: int = 0) -> Split:
    """Split (suite, sample id) keys; each key's side depends only on it and ``seed`` (stable under growth)."""
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}")
    train, held = [], []
    for k in sorted(set(keys)):
        u = int(content_hash([seed, k[0], k[1]], 12), 16) / 16 ** 12
        (held if u < holdout else train).append(k)
    return Split(seed, holdout, tuple(train), tuple(held))


@dataclass
class LearnResult:
    """The learned policy (as a dict in the policy format), where it was written, and the training record."""

    policy: dict[str, Any]
    train: dict[str, Any]
    path: Path | None = None
    families: dict[str, Any] = field(default_factory=dict)
    pruned: int = 0


def _sig(rec: Mapping[str, Any]) -> tuple[str, str]:
    return (rec["tool"], region_label(rec.get("region")))


def _norm(text: str) -> str:
    from baselines import lexicon as lx

    return lx.normalize(text)


def _subtask_best(recs: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any] | None, bool]:
    """(best record, improves on the unchanged image?)."""
    scored = [r for r in recs if r.get("reward") is not None]
    if not scored:
        return None, False
    best = max(scored, key=lambda r: r["reward"])
    identity = [r["reward"] for r in scored if r.get("output") == r.get("input")]
    improves = not identity or best["reward"] > max(identity) + 1e-9
    return best, improves


def explored_subtasks(run_dir: str | Path, *, judge: str | None, systems: Sequence[str], holdout: float,
                      seed: int) -> tuple[RunStore, dict[Any, list[dict[str, Any]]], Any]:
    """The run's exploration records on the original image grouped per subtask (of ``systems``
    only, when named) and their sample-disjoint split: what both the policy file and the trained
    orchestrator learn from, so the two are held out on the same samples. ``ValueError`` when the
    run has none."""
    from .plans import system_matches

    store = RunStore.open(run_dir)
    grouped = records_by_subtask(store, basis="original", judge=judge)
    if systems:
        grouped = {k: v for k, v in grouped.items() if system_matches(k[2], systems)}
    if not grouped:
        raise ValueError(f"{run_dir}: no exploration records on the original image"
                         + (f" from judge {judge!r}" if judge else "") + ": run `editbench explore` first")
    return store, grouped, split_samples([(k[0], k[1]) for k in grouped], holdout, seed)


def learn_policy(run_dir: str, out: str | Path | None = None, *, kind: str = "nearest-neighbour",
                 judge: str | None = None, holdout: float = 0.3, seed: int = 0, pool: str = "vote",
                 expand: bool = True, ngrams: Sequence[int] = (1, 2), min_similarity: float = 0.2,
                 systems: Sequence[str] = ()) -> LearnResult:
    """Learn a policy from the run's exploration records (module doc) and write it to ``out`` if given."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
    store, grouped, split = explored_subtasks(run_dir, judge=judge, systems=systems, holdout=holdout, seed=seed)
    train_keys = set(split.train)
    # one judge per subtask: the named one, else the subtask's primary judge
    per_sub: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    judges_used: Counter[str] = Counter()
    for key, recs in grouped.items():
        if (key[0], key[1]) not in train_keys:
            continue
        jid = primary_judges(recs)[0]
        per_sub[key] = [r for r in recs if r["judge_id"] == jid]
        judges_used[jid] += 1
    # 1. per family: mean reward and best-candidate votes per signature
    sums: dict[str, dict[tuple[str, str], list[float]]] = defaultdict(lambda: defaultdict(list))
    votes: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    order: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for recs in per_sub.values():
        fam = recs[0]["family"]
        for r in recs:
            sig = _sig(r)
            sums[fam][sig].append(r["reward"] if r.get("reward") is not None else 0.0)
            if sig not in order[fam]:
                order[fam].append(sig)
        best, improves = _subtask_best(recs)
        if best is not None and improves:
            votes[fam].update({_sig(r) for r in recs if r.get("reward") is not None and r["reward"] >= best["reward"] - 1e-9})
    families: dict[str, Any] = {}
    for fam, per in sums.items():
        means = {sig: sum(v) / len(v) for sig, v in per.items()}
        by_vote = max(order[fam], key=lambda s: (votes[fam][s], means[s], -order[fam].index(s)))
        by_mean = max(order[fam], key=lambda s: (means[s], votes[fam][s], -order[fam].index(s)))
        families[fam] = {"best": list(by_mean if pool == "mean" else by_vote), "by_vote": list(by_vote),
                         "by_mean": list(by_mean),
                         "means": {f"{t}@{r}": round(m, 6) for (t, r), m in means.items()},
                         "votes": {f"{t}@{r}": n for (t, r), n in votes[fam].items()},
                         "subtasks": max(len(v) for v in per.values())}
    # 2-3. decisions per training subtask, pruning what nothing could do
    chosen: dict[str, list[tuple[dict[str, Any], float, str]]] = defaultdict(list)
    texts: dict[str, str] = {}
    pruned: list[dict[str, Any]] = []
    for key, recs in sorted(per_sub.items()):
        best, improves = _subtask_best(recs)
        if best is None or not improves:
            pruned.append({"suite": key[0], "sample": key[1], "subtask": key[3], "text": recs[0]["subtask_text"],
                           "why": "no candidate could be scored" if best is None else
                           "no candidate improved on leaving the image unchanged"})
            continue
        pick: Mapping[str, Any] = best
        if pool != "subtask":
            want = tuple(families[recs[0]["family"]]["best"])
            pick = next((r for r in recs if _sig(r) == want and r.get("reward") is not None), best)
        decision = {"tool": pick["tool"], "params": pick["params"], "region": pick["region"]}
        norm = _norm(recs[0]["subtask_text"])
        texts.setdefault(norm, recs[0]["subtask_text"])
        chosen[norm].append((decision, float(pick["reward"]), recs[0]["family"]))
    entries = []
    for norm, options in chosen.items():
        counts = Counter(json.dumps(d, sort_keys=True) for d, _, _ in options)
        top = max(counts, key=lambda s: (counts[s], sum(r for d, r, _ in options if json.dumps(d, sort_keys=True) == s)))
        rewards = [r for d, r, _ in options if json.dumps(d, sort_keys=True) == top]
        entries.append({"text": texts[norm], **json.loads(top), "score": round(sum(rewards) / len(rewards), 6),
                        "count": len(options), "family": options[0][2]})
    if expand:
        entries += _expanded(entries)
    entries.sort(key=lambda e: (bool(e.get("synthetic")), _norm(e["text"])))
    reward_judge = judges_used.most_common(1)[0][0] if judges_used else judge
    meta = {"run": store.root.name, "reward_judge": reward_judge, "method": f"explore+{kind}", "pool": pool,
            "trained_subtasks": len(per_sub), "pruned": len(pruned), "entries": len(entries),
            "strengths": strengths_recovered(families)}
    policy = _policy(kind, entries, list(ngrams), min_similarity, meta)
    stored = store.samples()
    train = {
        "format": "editbench.train", "version": 1, "method": f"explore+{kind}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run": store.root.name, "run_dir": str(store.root.resolve()),
        "records_read": sum(len(v) for v in grouped.values()), "reward_judge": reward_judge,
        "reward_judges": dict(judges_used), "split": split.to_dict(),
        "training_images": sorted({stored[k].image.id for k in split.train if k in stored}),
        "options": {"kind": kind, "judge": judge, "holdout": holdout, "seed": seed, "pool": pool, "expand": expand,
                    "ngrams": list(ngrams), "min_similarity": min_similarity, "systems": list(systems)},
        "pruned": pruned, "families": families, "strengths": meta["strengths"],
    }
    result = LearnResult(policy=policy, train=train, families=families, pruned=len(pruned))
    if out is not None:
        result.path = write_policy(policy, train, out)
    return result


def _expanded(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries for vocabulary values training never asked for (module doc, "Parameters")."""
    have: dict[str, set[str]] = defaultdict(set)
    templates: dict[str, Counter[str]] = defaultdict(Counter)
    proto: dict[str, dict[str, Any]] = {}
    for e in entries:
        changes = (e.get("params") or {}).get("changes")
        if not isinstance(changes, Mapping) or len(changes) != 1:
            continue
        (key, value), = changes.items()
        words = value.replace("_", " ")
        if key not in DIMENSION_OF or words not in _norm(e["text"]):
            continue
        have[key].add(value)
        templates[key][_norm(e["text"]).replace(words, "{}", 1)] += int(e.get("count", 1))
        proto.setdefault(key, e)
    out = []
    for key, e in proto.items():
        # the family's most frequent wording, its value left open (ties: the shortest)
        template = max(templates[key], key=lambda t: (templates[key][t], -len(t)))
        for value in VOCAB[DIMENSION_OF[key]]:
            if value in have[key]:
                continue
            text = template.replace("{}", value.replace("_", " "))
            if scene_target(text) != {key: value}:
                continue
            out.append({"text": text, "tool": e["tool"], "params": {"changes": {key: value}}, "region": e["region"],
                        "family": e.get("family"), "synthetic": True})
    return out


def _policy(kind: str, entries: list[dict[str, Any]], ngrams: list[int], min_similarity: float,
            meta: dict[str, Any]) -> dict[str, Any]:
    from baselines.agents.policy import table_key

    base: dict[str, Any] = {"format": FORMAT, "version": 1, "kind": kind,
                            "features": {"fields": ["text"], "ngrams": ngrams, "min_similarity": min_similarity},
                            "default": None, "meta": meta}
    if kind == "nearest-neighbour":
        return {**base, "entries": entries}
    if kind == "table":
        seen: dict[str, dict[str, Any]] = {}
        for e in entries:
            seen.setdefault(table_key(e["text"]), {"key": table_key(e["text"]), **e})
        return {**base, "entries": list(seen.values())}
    return {**base, **_linear(entries, ngrams)}


def _linear(entries: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    """Multinomial logistic regression from binary n-grams of the texts to decisions."""
    import numpy as np

    from baselines.agents.policy import ngrams

    if not entries:
        raise ValueError("no training entry: nothing to learn a linear policy from")
    keys = [json.dumps({k: e[k] for k in ("tool", "params", "region")}, sort_keys=True) for e in entries]
    classes = sorted(set(keys))
    feats = [ngrams(e["text"], None, ("text",), sizes) for e in entries]
    vocab = sorted(set().union(*feats))
    col = {v: j for j, v in enumerate(vocab)}
    x = np.zeros((len(entries), len(vocab)))
    for i, f in enumerate(feats):
        x[i, [col[v] for v in f]] = 1.0
    y = np.array([classes.index(k) for k in keys])
    w, b = _softmax_regression(x, y, len(classes))
    return {"classes": [json.loads(c) for c in classes], "vocabulary": vocab,
            "weights": [[round(float(v), 6) for v in row] for row in w], "bias": [round(float(v), 6) for v in b]}


def _softmax_regression(x: Any, y: Any, k: int, *, l2: float = 1e-3, steps: int = 500, lr: float = 1.0
                        ) -> tuple[Any, Any]:
    """Multinomial logistic regression by full-batch gradient descent (deterministic, numpy only).

    ``x``: (n, d) binary features, ``y``: (n,) class indices in ``range(k)``. Returns ``(weights
    (k, d), bias (k,))``. Small L2 keeps the weights finite on separable data (one text per row).
    """
    import numpy as np

    n, d = x.shape
    w, b = np.zeros((k, d)), np.zeros(k)
    onehot = np.eye(k)[y]
    for _ in range(steps):
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        w -= lr * (g.T @ x + l2 * w)
        b -= lr * g.sum(axis=0)
    return w, b


def write_policy(policy: Mapping[str, Any], train: Mapping[str, Any], out: str | Path) -> Path:
    """Write ``policy.json`` and ``train.json`` into the folder ``out`` (or ``out.json`` and ``out.train.json``)."""
    from baselines.agents.policy import Policy

    p = Path(out)
    path = Policy(dict(policy), where=str(p)).save(p)  # validates the format on the way
    train_path = path.with_name("train.json") if path.name == "policy.json" else path.with_suffix(".train.json")
    train_path.write_text(json.dumps(dict(train), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def strengths_recovered(families: Mapping[str, Any]) -> dict[str, Any]:
    """For each one-dimension scene family: the learned best (tool, region) against :data:`STRENGTHS`."""
    from baselines.tools.scene_variants import STRENGTHS

    out: dict[str, Any] = {}
    for fam, info in sorted(families.items()):
        if not fam.startswith("scene:") or "+" in fam:
            continue
        key = fam.split(":", 1)[1]
        dim = DIMENSION_OF.get(key)
        if dim is None or dim not in STRENGTHS:
            continue
        documented = sorted(list(s) for s in STRENGTHS[dim])
        out[key] = {"learned": list(info["best"]), "documented": documented,
                    "recovered": list(info["best"]) in documented}
    return out


def fixed_policy(policy: Mapping[str, Any], tool: str, region: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The same entries with one tool (and region) for every subtask: a no-learning baseline."""
    region = dict(region or {"kind": "full"})
    return _remap(policy, lambda i, d: {**d, "tool": tool, "region": region}, f"fixed:{tool}@{region_label(region)}")


def random_policy(policy: Mapping[str, Any], signatures: Sequence[tuple[str, Mapping[str, Any]]], seed: int = 0
                  ) -> dict[str, Any]:
    """The same entries with a (tool, region) drawn uniformly per entry: the chance baseline."""
    rng = random.Random(seed)
    picks: dict[int, tuple[str, Mapping[str, Any]]] = {}

    def pick(i: int, d: dict[str, Any]) -> dict[str, Any]:
        if i not in picks:
            picks[i] = rng.choice(list(signatures))
        t, r = picks[i]
        return {**d, "tool": t, "region": dict(r)}

    return _remap(policy, pick, f"random:{seed}")


def _remap(policy: Mapping[str, Any], fn: Any, label: str) -> dict[str, Any]:
    data = json.loads(json.dumps(dict(policy)))
    if data["kind"] == "linear":
        data["classes"] = [fn(i, c) for i, c in enumerate(data["classes"])]
    else:
        data["entries"] = [fn(i, e) for i, e in enumerate(data["entries"])]
    data["meta"] = {**(data.get("meta") or {}), "baseline": label, "reward_judge": None}
    return data


def policy_accuracy(policy: Mapping[str, Any], store: RunStore, keys: Sequence[tuple[str, str]],
                    judge: str | None = None) -> dict[str, Any]:
    """How often the policy's decision for a subtask of the samples ``keys`` is an exhaustive best
    there (from exploration records; subtasks whose decision was not explored are counted apart)."""
    from baselines.agents.policy import Policy

    pol = Policy.from_dict(policy)
    want = set(keys)
    right = n = unexplored = undecided = 0
    for key, recs in records_by_subtask(store, basis="original", judge=judge).items():
        if (key[0], key[1]) not in want:
            continue
        jid = primary_judges(recs)[0]
        recs = [r for r in recs if r["judge_id"] == jid]
        scored = [r for r in recs if r.get("reward") is not None]
        if not scored:
            continue
        best = max(r["reward"] for r in scored)
        dec = pol.decide(recs[0]["subtask_text"])
        if dec is None:
            undecided += 1
            continue
        match = [r for r in recs if r["tool"] == dec.tool and r["params"] == dec.params
                 and region_label(r["region"]) == region_label(dec.region)]
        if not match:
            unexplored += 1
            continue
        n += 1
        right += int(match[0].get("reward") is not None and match[0]["reward"] >= best - 1e-9)
    return {"subtasks": n, "accuracy": right / n if n else math.nan, "undecided": undecided,
            "unexplored": unexplored}
