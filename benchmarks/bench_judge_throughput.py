"""Throughput of a real VLM judge (``checklist``, backend ``openai``) against the loopback server.

The server (a child process, so it never shares the client's GIL) answers every request after a
fixed injected latency with a reply valid against the request's JSON schema, so no judgement
needs a repair and every item costs exactly one request. A judge that keeps ``concurrency``
requests in flight achieves ``concurrency / latency`` requests per second; the ratio of achieved
to that ideal measures everything the judging layer costs on top of waiting: rendering the
rubric, image ids and PNG/base64 encoding, the backend's client stack, parsing replies and
compiling judgements. Aim: >= 0.9 at concurrency 32. The run also prints two CPU costs per
request against the budget the ideal rate leaves (``1000 / ideal`` ms): the judge layer alone
(on a scripted backend) and the encoding of the two images, which dominates as images grow
(``--image-size``; images are re-encoded from pixels for every request).

Items are judged the way ``editbench run`` / ``editbench judge`` do (:func:`bench.runner.run_judges`):
batches of the judge's ``batch_size`` handed to a thread pool of ``--workers`` threads (the
runner's default is ``min(4, cpu count)``), all sharing one backend and its concurrency limit.
``--workers 1`` is a single serial ``judge()`` per batch; ``--batch-size N`` with N >= items is one
``judge()`` over everything.

In the same run it sends the very same chat requests (built by the judge's own ``prepare`` and
``request``) through a fresh :class:`~bench.backends.openai_backend.OpenAIBackend` in one
``chat_many``: the backend-only figure, so the gap between the two is the judge's own cost.

Run from the repository root::

    python -m benchmarks.bench_judge_throughput                       # 640 items, c=32, 200 ms
    python -m benchmarks.bench_judge_throughput --latency 1.0 --items 320
    python -m benchmarks.bench_judge_throughput --image-size 512 --workers 1
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from PIL import Image

from bench.backends.base import ChatMessage, ChatRequest
from bench.backends.openai_backend import OpenAIBackend
from bench.ids import image_id
from bench.model import Criterion, ImageRef, Sample, Trajectory
from bench.protocols import JudgeItem
from tests.fakes.chat_server import Call, ChatServerProcess, Reply

CRITERIA = (
    Criterion("rain", "Rain or wet surfaces are visible", "goal", 2.0),
    Criterion("dusk", "The light is that of early evening", "goal", 1.0),
    Criterion("house", "The red house keeps its shape and position", "preserve", 1.0),
    Criterion("clean", "No visible artifacts or seams", "quality", 1.0),
)


# --- the server's replies: any JSON schema filled with valid values ------------------------------


def fill_schema(schema: dict[str, Any]) -> Any:
    """A value valid against the JSON-schema subset rubrics use (objects, enums, bounded ints)."""
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type")
    if t == "object":
        return {k: fill_schema(v) for k, v in (schema.get("properties") or {}).items()}
    if t == "array":
        return []
    if t in ("integer", "number"):
        return (int(schema.get("minimum", 0)) + int(schema.get("maximum", 10))) // 2
    if t == "boolean":
        return True
    return "looks right"


def schema_reply(call: Call) -> Reply:
    """The server's handler (module level, so the server's child process can unpickle it)."""
    fmt = call.body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return Reply(json.dumps(fill_schema(fmt["json_schema"]["schema"])))
    return Reply("{}")


# --- items ----------------------------------------------------------------------------------------


def _scene(size: int, rng: np.random.Generator) -> Image.Image:
    """A smooth picture with a few flat shapes and mild noise: compresses like a rendered scene."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / max(1, size - 1)
    base = rng.uniform(40, 200, 3).astype(np.float32)
    img = base + 50 * np.stack([x, y, 1 - x], axis=-1)
    for _ in range(4):
        x0, y0 = rng.integers(0, size, 2)
        w, h = rng.integers(size // 8, size // 3, 2)
        img[y0 : y0 + h, x0 : x0 + w] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 2, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def make_items(n: int, size: int, seed: int) -> list[JudgeItem]:
    """``n`` items, each with its own source and result image and a four-criterion checklist."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        src, out = _scene(size, rng), _scene(size, rng)
        sample = Sample(
            id=f"s{seed}-{i}",
            image=ImageRef(id=image_id(src)),
            goal=f"make scene {i} look like a rainy autumn evening",
            checklist=CRITERIA,
            context={"season": "summer", "time_of_day": "noon", "weather": "clear"},
            preserve=("the red house",),
        )
        traj = Trajectory(suite="bench@1", sample_id=sample.id, system_id="sys", final=image_id(out))
        items.append(JudgeItem(suite="bench@1", sample=sample, source=src, final=out, trajectory=traj))
    return items


# --- the measurements -----------------------------------------------------------------------------


def judge_items(judge: Any, items: list[JudgeItem], batch_size: int, workers: int) -> list[Any]:
    """What the runner does: batches of ``batch_size`` over a pool of ``workers`` threads."""
    batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    if workers <= 1 or len(batches) == 1:
        return [j for b in batches for j in judge.judge(b)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [j for js in pool.map(judge.judge, batches) for j in js]


def requests_of(judge: Any, items: list[JudgeItem]) -> list[ChatRequest]:
    """The chat requests the judge sends for ``items`` (one per item: one ask, one draw)."""
    return [judge.request(ask, 0) for it in items for ask in judge.prepare(it)]


def with_stored_png(reqs: list[ChatRequest]) -> list[ChatRequest]:
    """The same requests with every image's PNG bytes already attached (encoded here, untimed),
    as a judge would send them if items carried the store's PNG files instead of pixels."""
    from dataclasses import replace

    from bench.backends.base import ImagePart

    pngs: dict[str, bytes] = {}

    def part(p: Any) -> Any:
        if not isinstance(p, ImagePart):
            return p
        if p.image_id not in pngs:
            pngs[p.image_id] = p.png_bytes()
        return ImagePart.from_png(p.image_id, pngs[p.image_id])

    return [
        replace(r, messages=tuple(ChatMessage(m.role, tuple(part(p) for p in m.content)) for m in r.messages))
        for r in reqs
    ]


def time_backend(
    srv: ChatServerProcess, reqs: list[ChatRequest], args: argparse.Namespace, what: str
) -> float:
    """Requests/s of one ``chat_many`` over ``reqs`` through a fresh, warmed-up backend."""
    backend = OpenAIBackend("bench-model", base_url=srv.url, concurrency=args.concurrency, timeout=60)
    warm = [ChatRequest((ChatMessage.user(f"warm-up {i}"),), max_tokens=4) for i in range(args.concurrency)]
    backend.chat_many(warm)
    before = srv.chat_calls()
    t0 = time.perf_counter()
    resp = backend.chat_many(reqs)
    dt = time.perf_counter() - t0
    sent = srv.chat_calls() - before
    backend.close()
    if sent != len(reqs) or not all(r.ok for r in resp):
        raise SystemExit(f"{what}: {sent} requests reached the server for {len(reqs)}")
    return sent / dt


def judge_layer_ms(args: argparse.Namespace) -> float:
    """CPU milliseconds per item of the judge alone (render, parse, compile) on a scripted backend."""
    from bench.backends.scripted import ScriptedBackend
    from judges.vlm import ChecklistJudge

    def reply(req: ChatRequest) -> str:
        return json.dumps(fill_schema((req.response_format or {})["json_schema"]["schema"]))

    judge = ChecklistJudge(backend=ScriptedBackend(reply, model="bench-model"), cache=False)
    items = make_items(args.items, args.image_size, seed=30_000)
    t0 = time.process_time()
    out = judge_items(judge, items, args.batch_size, 1)
    dt = time.process_time() - t0
    if not all(j.status == "ok" for j in out):
        raise SystemExit("scripted judge pass: not every judgement is ok")
    return dt / len(items) * 1000


def encode_ms(args: argparse.Namespace) -> float:
    """CPU milliseconds per request to turn its two images into data URLs (PNG, then base64)."""
    import base64

    from bench.backends.base import encode_png

    items = make_items(min(args.items, 64), args.image_size, seed=40_000)
    t0 = time.process_time()
    for it in items:
        for img in (it.source, it.final):
            base64.b64encode(encode_png(img))
    return (time.process_time() - t0) / len(items) * 1000


def run(args: argparse.Namespace) -> tuple[float, float]:
    """Time judge and backend passes; return the best (judge, backend) achieved/ideal ratios."""
    from judges.vlm import ChecklistJudge

    ideal = args.concurrency / args.latency
    with ChatServerProcess(latency=args.latency, handler=schema_reply) as srv:
        judge = ChecklistJudge(
            backend="openai",
            base_url=srv.url,
            model="bench-model",
            concurrency=args.concurrency,
            cache=False,
            timeout=60,
            batch_size=args.batch_size,
        )
        judge.judge(make_items(args.concurrency, args.image_size, seed=10_000))  # client, connections
        judge_rates: list[float] = []
        backend_rates: list[float] = []
        stored_rates: list[float] = []
        for rep in range(args.repeats):
            items = make_items(args.items, args.image_size, seed=rep)
            before = srv.chat_calls()
            t0 = time.perf_counter()
            out = judge_items(judge, items, args.batch_size, args.workers)
            dt = time.perf_counter() - t0
            sent = srv.chat_calls() - before
            bad = [j for j in out if j.status != "ok" or j.scores.get("pass_rate") != 1.0]
            order = [j.sample_id for j in out] == [it.sample.id for it in items]
            if bad or not order or sent != args.items:
                raise SystemExit(
                    f"judge pass {rep}: {len(bad)} bad judgements, order kept {order}, "
                    f"{sent} requests for {args.items} items"
                )
            judge_rates.append(sent / dt)

            reqs = requests_of(judge, items)
            backend_rates.append(time_backend(srv, reqs, args, f"backend pass {rep}"))
            stored_rates.append(time_backend(srv, with_stored_png(reqs), args, f"stored-png pass {rep}"))
            print(
                f"  pass {rep}: judge {args.items} items in {dt:.2f} s = {judge_rates[-1]:.1f} req/s; "
                f"backend only {backend_rates[-1]:.1f} req/s; with stored PNGs {stored_rates[-1]:.1f} req/s"
            )
        judge.close()
    best_j, best_b, best_s = max(judge_rates), max(backend_rates), max(stored_rates)
    layer, enc = judge_layer_ms(args), encode_ms(args)
    budget = 1000 / ideal
    print(
        f"checklist judge, concurrency {args.concurrency}, latency {args.latency * 1000:.0f} ms, "
        f"{args.items} items with two {args.image_size}x{args.image_size} images, "
        f"batch_size {args.batch_size}, {args.workers} worker(s):\n"
        f"  judge:        achieved {best_j:6.1f} req/s, ideal {ideal:6.1f} req/s, ratio {best_j / ideal:.3f}\n"
        f"  backend only: achieved {best_b:6.1f} req/s, ideal {ideal:6.1f} req/s, ratio {best_b / ideal:.3f}\n"
        f"  backend only, PNG bytes given (as the run store holds them): achieved {best_s:6.1f} req/s, "
        f"ratio {best_s / ideal:.3f}\n"
        f"  at the ideal rate a request may cost {budget:.2f} ms of client CPU; of that\n"
        f"    the judge layer alone (scripted backend, no HTTP, no images sent) takes {layer:.2f} ms "
        f"({layer / budget * 100:.0f}%)\n"
        f"    encoding the two images (PNG + base64) takes {enc:.2f} ms ({enc / budget * 100:.0f}%)"
    )
    return best_j / ideal, best_b / ideal


def main() -> None:
    import os

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=640)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.2, help="injected server latency, seconds")
    ap.add_argument("--image-size", type=int, default=256, help="source and result are WxW")
    ap.add_argument("--batch-size", type=int, default=64, help="items per judge() call (the judge's default)")
    ap.add_argument(
        "--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)), help="threads, as the runner"
    )
    ap.add_argument("--repeats", type=int, default=3, help="timed passes; the best is reported")
    args = ap.parse_args()
    run(args)


if __name__ == "__main__":
    main()
