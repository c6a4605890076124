"""The chat-completions wire format, apart from any client: reading replies and headers.

Kept separate from the client code so that every OpenAI-compatible backend (the async HTTP one,
a batch-API one) reads replies, prices them and scrubs errors the same way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from .base import ChatResponse, FormatMode, TokenLogprob, TopLogprob, Usage, raw_hash
from .prices import dollars_for, price_for

_SECRET_PATTERNS = (re.compile(r"sk-[A-Za-z0-9_\-]{6,}"), re.compile(r"(?i)bearer\s+[A-Za-z0-9._\-]+"))
MAX_ERROR_CHARS = 600


def endpoint_host(base_url: str) -> str:
    """``host[:port]`` of a base URL: what a judge id and a response record name as the server."""
    parts = urlsplit(base_url if "//" in base_url else "//" + base_url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds a server asked us to wait: ``retry-after-ms``, or ``Retry-After`` as seconds or an
    HTTP date. ``None`` when absent or unparseable; never negative."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def scrub_secrets(text: str, secret: str | None = None) -> str:
    """``text`` with ``secret`` and anything key-shaped (``sk-…``, bearer tokens) replaced by
    ``***``, cut to ``MAX_ERROR_CHARS``: what may go into an error message or a log.

    >>> scrub_secrets("bad key sk-abcdef123456 for Bearer xyz")
    'bad key *** for ***'
    """
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    for pat in _SECRET_PATTERNS:
        text = pat.sub("***", text)
    return text[:MAX_ERROR_CHARS]


def read_completion(
    body: dict[str, Any],
    raw: str,
    *,
    model: str,
    host: str,
    prices: Mapping[str, tuple[float, float]] | None,
    mode: FormatMode,
    attempts: int,
    seconds: float,
    scrub: Callable[[str], str] = scrub_secrets,
) -> ChatResponse:
    """Turn a parsed ``chat.completion`` body into a :class:`ChatResponse`.

    A message ``refusal`` or ``finish_reason="content_filter"`` is a refusal; a body without
    choices, or a message without content, is an error; the price comes from the model the
    server says answered (else the one asked for), ``None`` when unknown or when the server
    reported no usage.
    """
    common: dict[str, Any] = {
        "endpoint_host": host,
        "seconds": seconds,
        "attempts": attempts,
        "raw": raw,
        "raw_id": raw_hash(raw),
    }
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        err = body.get("error")
        msg = f"server error: {err}" if err else "reply has no choices"
        return ChatResponse(text="", status="error", error=scrub(str(msg)), **common)
    choice = choices[0]
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, list):  # some servers return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    refusal = message.get("refusal")
    finish = choice.get("finish_reason")
    model_resolved = body.get("model") or model
    usage_d = body.get("usage") or {}
    usage = Usage(int(usage_d.get("prompt_tokens") or 0), int(usage_d.get("completion_tokens") or 0))
    price = price_for(model_resolved, prices) or price_for(model, prices)
    dollars = dollars_for(price, usage.tokens_in, usage.tokens_out) if usage_d else None
    fields = {
        "model_resolved": model_resolved,
        "finish_reason": finish,
        "usage": usage,
        "dollars": dollars,
        "format_used": mode,
        "logprobs": parse_logprobs(choice.get("logprobs")),
        **common,
    }
    if refusal or finish == "content_filter":
        why = str(refusal) if refusal else "finish_reason=content_filter"
        return ChatResponse(text=content or "", status="refused", error=why, **fields)
    if content is None:
        return ChatResponse(text="", status="error", error="reply has no message content", **fields)
    return ChatResponse(text=str(content), **fields)


def parse_logprobs(lp: Any) -> tuple[TokenLogprob, ...] | None:
    """Chat-completions ``logprobs.content`` -> TokenLogprob tuple (``None`` when absent)."""
    if not isinstance(lp, dict) or not isinstance(lp.get("content"), list):
        return None
    out = []
    for t in lp["content"]:
        top = tuple(
            TopLogprob(str(a.get("token", "")), float(a.get("logprob", float("-inf"))))
            for a in (t.get("top_logprobs") or [])
        )
        out.append(TokenLogprob(str(t.get("token", "")), float(t.get("logprob", float("-inf"))), top))
    return tuple(out)
