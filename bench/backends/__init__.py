"""Model backends: the one chat interface planners and judges use (see ``base``).

Concrete backends live in their own modules and are resolved by name through the registry
(``openai`` -> ``bench.backends.openai_backend:OpenAIBackend``, ``scripted`` ->
``bench.backends.scripted:ScriptedBackend``); importing this package loads neither them nor any
client library.
"""

from .base import (
    JSON_OBJECT_FORMAT,
    Backend,
    BackendBase,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    ImagePart,
    TextPart,
    TokenLogprob,
    TopLogprob,
    Usage,
    extract_json,
    image_id,
    json_schema_format,
    parse_json_reply,
)

__all__ = [
    "JSON_OBJECT_FORMAT",
    "Backend",
    "BackendBase",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "ImagePart",
    "TextPart",
    "TokenLogprob",
    "TopLogprob",
    "Usage",
    "extract_json",
    "image_id",
    "json_schema_format",
    "parse_json_reply",
]
