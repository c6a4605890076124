"""Throughput of the OpenAI-compatible backend against the loopback chat server.

The server answers every request after a fixed injected latency, so a backend that keeps
``concurrency`` requests in flight at all times achieves ``concurrency / latency`` requests per
second; the ratio of achieved to that ideal measures what the client stack (event-loop thread,
semaphore, openai client, HTTP) costs. Aim: >= 0.9 at concurrency 32 and 200 ms.

The server runs in a child process by default (a real server never shares the client's GIL);
``--server thread`` runs it in this process, which also charges the server's CPU to the client.

Run from the repository root::

    python -m benchmarks.bench_backend_throughput                  # 640 requests, c=32, 200 ms
    python -m benchmarks.bench_backend_throughput --server both    # child process and in-process
    python -m benchmarks.bench_backend_throughput --image-size 512 # a PNG image in every request

It also times a second pass through a warm :class:`~bench.cache.CachedBackend` and checks
that no request reached the server.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator

from bench.backends.base import ChatMessage, ChatRequest
from bench.backends.openai_backend import OpenAIBackend
from bench.cache import CachedBackend, ReplyCache
from tests.fakes.chat_server import ChatServer, ChatServerProcess


def _requests(n: int, image_size: int, tag: str) -> list[ChatRequest]:
    from PIL import Image

    out = []
    for i in range(n):
        parts: list = [f"{tag} request {i}: describe the edit"]
        if image_size:
            parts.append(Image.new("RGB", (image_size, image_size), (i % 256, (i * 7) % 256, 99)))
        out.append(ChatRequest((ChatMessage.user(*parts),), max_tokens=16))
    return out


@contextlib.contextmanager
def _server(kind: str, latency: float) -> Iterator[tuple[str, Callable[[], int]]]:
    """Yield (base url, a function counting chat requests received so far)."""
    if kind == "process":
        with ChatServerProcess(latency=latency) as proc:
            yield proc.url, proc.chat_calls
    else:
        with ChatServer(latency=latency) as srv:
            yield srv.url, lambda: len(srv.chat_calls())


def run(kind: str, args: argparse.Namespace) -> float:
    """Time ``args.repeats`` passes; return the best achieved/ideal ratio."""
    ideal = args.concurrency / args.latency
    with _server(kind, args.latency) as (url, count), tempfile.TemporaryDirectory() as tmp:
        backend = OpenAIBackend("bench-model", base_url=url, concurrency=args.concurrency, timeout=30)
        backend.chat_many(_requests(args.concurrency, args.image_size, "warmup"))  # client, connections
        rates = []
        for rep in range(args.repeats):
            reqs = _requests(args.requests, args.image_size, f"pass{rep}")
            before = count()
            t0 = time.perf_counter()
            out = backend.chat_many(reqs)
            dt = time.perf_counter() - t0
            bad = sum(r.status != "ok" for r in out)
            wrong = sum(f"pass{rep} request {i}:" not in r.text for i, r in enumerate(out))
            got = count() - before
            if bad or wrong or got != args.requests:
                raise SystemExit(
                    f"pass {rep}: {bad} failed, {wrong} out of order, {got} requests reached "
                    f"the server for {args.requests}"
                )
            rates.append(args.requests / dt)
            print(f"  pass {rep}: {args.requests} requests in {dt:.2f} s = {rates[-1]:.1f} req/s")
        best = max(rates)
        print(
            f"server in {kind}: concurrency {args.concurrency}, latency {args.latency * 1000:.0f} ms, "
            f"image {args.image_size or 'none'}: achieved {best:.1f} req/s, ideal {ideal:.1f} req/s, "
            f"ratio {best / ideal:.3f}"
        )

        cached = CachedBackend(backend, ReplyCache(tmp))
        reqs = _requests(args.requests, args.image_size, "cache")
        cached.chat_many(reqs)
        before = count()
        t0 = time.perf_counter()
        out = cached.chat_many(reqs)
        dt = time.perf_counter() - t0
        sent = count() - before
        if sent or not all(r.cached for r in out):
            raise SystemExit(f"warm cache sent {sent} requests")
        print(
            f"  warm cache: {args.requests} replies in {dt:.3f} s = {args.requests / dt:.0f} req/s, "
            f"{sent} requests sent"
        )
        backend.close()
        return best / ideal


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=640)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.2, help="injected server latency, seconds")
    ap.add_argument("--image-size", type=int, default=0, help="add a WxW image to every request")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes; the best is reported")
    ap.add_argument("--server", choices=["process", "thread", "both"], default="process")
    args = ap.parse_args()
    for kind in ["process", "thread"] if args.server == "both" else [args.server]:
        run(kind, args)


if __name__ == "__main__":
    main()
