"""The chat interface every model backend speaks, and the helpers around it.

A backend turns :class:`ChatRequest` objects (text and images in) into :class:`ChatResponse`
objects (text, or JSON text, out). Planners and judges only ever talk to this interface, so the
same judge runs on OpenAI, a vLLM server, Ollama or a scripted fake.

Contract (see :class:`Backend`):

* ``chat_many(requests)`` is synchronous, callable from any thread or process, and returns one
  response per request **in the same order**. The backend owns its concurrency and rate limits.
* A per-request failure never raises: it comes back as ``status="error"`` (or ``"refused"``)
  with a message. Only programming errors (wrong argument types) raise.
* ``spec()`` holds only what changes the replies (kind, model, endpoint host, revision…), never
  an API key and never transport knobs (retries, concurrency, timeouts): it feeds component ids
  and cache keys.

Images travel with their content id (the project's image id: SHA-256 over ``b"RGB8|w|h|"`` and
the raw RGB bytes), so cache keys never depend on how an image happened to be encoded.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from PIL import Image

from bench.ids import image_id  # the project's image id (pixels, not encodings); re-exported

Status = Literal["ok", "refused", "error"]
FormatMode = Literal["json_schema", "json_object", "text"]


def encode_png(img: Image.Image, compress_level: int = 1) -> bytes:
    """PNG-encode an image (RGB). A fast level is fine: identity is of pixels, not bytes."""
    buf = io.BytesIO()
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    rgb.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextPart:
    """A piece of text inside a chat message."""

    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image inside a chat message, identified by its content id.

    Build one with :meth:`from_pil` (computes the id) or :meth:`from_png` (id and PNG bytes
    already known, e.g. from the image store). Equality and cache keys use ``image_id`` only.
    """

    image_id: str
    image: Image.Image | None = field(default=None, compare=False, repr=False)
    png: bytes | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.image is None and self.png is None:
            raise ValueError(f"ImagePart {self.image_id[:12]}: needs a PIL image or PNG bytes")

    @classmethod
    def from_pil(cls, img: Image.Image) -> ImagePart:
        return cls(image_id=image_id(img), image=img)

    @classmethod
    def from_png(cls, image_id: str, png: bytes) -> ImagePart:
        return cls(image_id=image_id, png=png)

    def png_bytes(self) -> bytes:
        """The PNG encoding sent on the wire (the stored bytes when given, else encoded now)."""
        if self.png is not None:
            return self.png
        assert self.image is not None
        return encode_png(self.image)


Part = TextPart | ImagePart


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn. ``content`` is a tuple of parts; a bare string becomes one text part."""

    role: Literal["system", "user", "assistant"]
    content: tuple[Part, ...]

    def __post_init__(self) -> None:
        content: Any = self.content
        if isinstance(content, str):
            parts: tuple[Part, ...] = (TextPart(content),)
        else:
            parts = tuple(TextPart(p) if isinstance(p, str) else p for p in content)
        for p in parts:
            if not isinstance(p, (TextPart, ImagePart)):
                raise TypeError(f"ChatMessage part must be TextPart or ImagePart, got {type(p).__name__}")
        object.__setattr__(self, "content", parts)

    @classmethod
    def system(cls, text: str) -> ChatMessage:
        return cls("system", (TextPart(text),))

    @classmethod
    def user(cls, *parts: str | Part | Image.Image) -> ChatMessage:
        """A user turn from strings, parts and PIL images, in order."""
        out: list[Part] = []
        for p in parts:
            if isinstance(p, str):
                out.append(TextPart(p))
            elif isinstance(p, (TextPart, ImagePart)):
                out.append(p)
            else:  # a PIL image
                out.append(ImagePart.from_pil(p))
        return cls("user", tuple(out))

    def text(self) -> str:
        """The text parts joined by newlines (images dropped)."""
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))


def json_schema_format(schema: dict[str, Any], name: str = "reply", strict: bool = True) -> dict[str, Any]:
    """A ``response_format`` asking for JSON valid against ``schema`` (OpenAI's wire shape)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}}


JSON_OBJECT_FORMAT: dict[str, Any] = {"type": "json_object"}


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to make.

    ``response_format`` is ``None``, ``{"type": "json_object"}`` or a json_schema format (build
    it with :func:`json_schema_format`). ``n_index`` is the sample index when a judge draws n
    samples of the same prompt: it only enters the cache key, so draw 2 never reuses draw 1.
    """

    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = None
    response_format: dict[str, Any] | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    n_index: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        if not self.messages:
            raise ValueError("ChatRequest needs at least one message")
        fmt = self.response_format
        if fmt is not None and fmt.get("type") not in ("json_object", "json_schema", "text"):
            raise ValueError(f"ChatRequest.response_format: unknown type {fmt.get('type')!r}")
        if fmt is not None and fmt.get("type") == "json_schema" and "json_schema" not in fmt:
            raise ValueError("ChatRequest.response_format: json_schema needs a 'json_schema' entry")

    @property
    def format_mode(self) -> FormatMode:
        """The strongest JSON mode asked for: ``json_schema`` > ``json_object`` > ``text``."""
        t = (self.response_format or {}).get("type", "text")
        return t if t in ("json_schema", "json_object") else "text"

    def key_material(self) -> dict[str, Any]:
        """Everything about the request that can change the reply, JSON-able, images by id.

        This is what a cache key hashes; transport settings never appear here.
        """
        msgs = []
        for m in self.messages:
            parts: list[dict[str, str]] = []
            for p in m.content:
                if isinstance(p, TextPart):
                    parts.append({"type": "text", "text": p.text})
                else:
                    parts.append({"type": "image", "id": p.image_id})
            msgs.append({"role": m.role, "content": parts})
        return {
            "messages": msgs,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "response_format": self.response_format,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "n_index": self.n_index,
        }

    def __hash__(self) -> int:  # response_format is a dict; hash the canonical material instead
        return hash(json.dumps(self.key_material(), sort_keys=True))


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopLogprob:
    token: str
    logprob: float


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability and the alternatives the server reported."""

    token: str
    logprob: float
    top: tuple[TopLogprob, ...] = ()


@dataclass(frozen=True)
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class ChatResponse:
    """What came back for one request.

    ``status`` is ``ok`` (``text`` holds the reply), ``refused`` (the model declined; ``error``
    holds the refusal) or ``error`` (transport or protocol failure after retries; ``error`` says
    why, with secrets scrubbed). ``dollars`` is ``None`` when the model is not in the price
    table, 0 for a cache hit. ``raw`` is the raw reply body and ``raw_id`` its SHA-256, so a
    judge can store it content-addressed. ``attempts`` counts HTTP requests actually sent
    (retries and format fallbacks included; 0 for a cache hit). ``format_used`` says which
    JSON mode the server finally accepted.
    """

    text: str
    status: Status = "ok"
    error: str | None = None
    model_resolved: str | None = None
    endpoint_host: str | None = None
    finish_reason: str | None = None
    logprobs: tuple[TokenLogprob, ...] | None = None
    usage: Usage = field(default_factory=Usage)
    cached: bool = False
    seconds: float = 0.0
    dollars: float | None = None
    raw_id: str = ""
    raw: str | None = field(default=None, repr=False)
    attempts: int = 1
    format_used: FormatMode | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def json(self) -> Any:
        """The reply parsed as JSON: strict first, then :func:`extract_json` as the last resort.

        Raises ``ValueError`` when no JSON value can be recovered.
        """
        return parse_json_reply(self.text)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChatResponse:
        d = dict(d)
        if d.get("logprobs") is not None:
            d["logprobs"] = tuple(
                TokenLogprob(t["token"], t["logprob"], tuple(TopLogprob(**a) for a in t.get("top", ())))
                for t in d["logprobs"]
            )
        d["usage"] = Usage(**(d.get("usage") or {}))
        return cls(**d)

    @classmethod
    def failure(
        cls,
        message: str,
        *,
        endpoint_host: str | None = None,
        seconds: float = 0.0,
        attempts: int = 1,
        status: Status = "error",
    ) -> ChatResponse:
        return cls(
            text="",
            status=status,
            error=message,
            endpoint_host=endpoint_host,
            seconds=seconds,
            attempts=attempts,
        )


def raw_hash(raw: str | bytes) -> str:
    """SHA-256 of a raw reply, the id under which it is stored content-addressed."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# The protocol
# ---------------------------------------------------------------------------------------------


@runtime_checkable
class Backend(Protocol):
    """A chat model. See the module docstring for the contract."""

    name: str
    version: str

    def spec(self) -> dict[str, Any]:
        """Identity-relevant settings only (kind, model, endpoint host, revision). No secrets."""
        ...

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """One response per request, in order; failures come back as responses, never raise."""
        ...

    def chat(self, request: ChatRequest) -> ChatResponse: ...


class BackendBase:
    """Shared plumbing: ``chat`` in terms of ``chat_many`` and a secret-free ``repr``."""

    name: str = "backend"
    version: str = "1"

    def spec(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:  # pragma: no cover
        raise NotImplementedError

    def chat(self, request: ChatRequest) -> ChatResponse:
        return self.chat_many([request])[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec()!r})"


def check_requests(requests: Iterable[Any]) -> list[ChatRequest]:
    """Materialise and type-check a batch (a programming error raises here, early)."""
    out = list(requests)
    for i, r in enumerate(out):
        if not isinstance(r, ChatRequest):
            raise TypeError(f"chat_many: item {i} is {type(r).__name__}, not ChatRequest")
    return out


# ---------------------------------------------------------------------------------------------
# JSON from model text
# ---------------------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def _loads_lenient(s: str) -> Any:
    try:
        return json.loads(s)
    except ValueError:
        return json.loads(_strip_trailing_commas(s))


def _strip_trailing_commas(s: str) -> str:
    """Remove commas before ``}``/``]`` outside string literals."""
    out: list[str] = []
    in_str = esc = False
    i = 0
    while i < len(s):
        c = s[i]
        if in_str:
            out.append(c)
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif c == ",":
            j = i + 1
            while j < len(s) and s[j] in " \t\r\n":
                j += 1
            if j < len(s) and s[j] in "}]":
                i += 1
                continue
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _balanced_spans(text: str, opener: str, closer: str) -> Iterable[str]:
    """Yield each top-level balanced ``{...}`` (or ``[...]``) span, skipping string literals."""
    start = text.find(opener)
    while start != -1:
        depth = 0
        in_str = esc = False
        for j in range(start, len(text)):
            c = text[j]
            if in_str:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    in_str = False
                continue
            if c == '"':
                in_str = True
            elif c == opener:
                depth += 1
            elif c == closer:
                depth -= 1
                if depth == 0:
                    yield text[start : j + 1]
                    break
        else:
            return  # unbalanced to the end: nothing more to find
        start = text.find(opener, start + 1)


def extract_json(text: str) -> Any:
    """Recover a JSON value from free model text: the last-resort parser.

    Tries, in order: fenced code blocks (```json ... ```), then the first balanced ``{...}``
    object that parses, then the first balanced ``[...]`` array; trailing commas are tolerated
    everywhere. Raises ``ValueError`` when nothing parses.

    >>> extract_json('Sure! ```json\\n{"a": 1,}\\n``` done')
    {'a': 1}
    >>> extract_json('score: {"s": [1, 2,], "t": "}"} end')
    {'s': [1, 2], 't': '}'}
    """
    for block in _FENCE.findall(text):
        try:
            return _loads_lenient(block.strip())
        except ValueError:
            pass
    for opener, closer in (("{", "}"), ("[", "]")):
        for span in _balanced_spans(text, opener, closer):
            try:
                return _loads_lenient(span)
            except ValueError:
                continue
    raise ValueError(f"no JSON value found in reply: {text[:200]!r}")


def parse_json_reply(text: str) -> Any:
    """Strict ``json.loads`` first (what JSON modes return), :func:`extract_json` otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return extract_json(text)
