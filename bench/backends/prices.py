"""Token prices for dollar accounting of hosted models.

The table maps a model-name prefix to ``(dollars per million input tokens, dollars per million
output tokens)``; the longest matching prefix wins, so ``gpt-4o-mini-2024-07-18`` is priced as
``gpt-4o-mini`` and not as ``gpt-4o``. Prices are list prices for standard (non-batch,
non-cached-input) processing as published by the provider at ``PRICE_TABLE_VERSION``; runs
record that version next to their dollars so old totals stay interpretable when prices change.
A model not in the table (a local vLLM or Ollama model, say) has an unknown price: ``None``,
never a made-up zero.
"""

from __future__ import annotations

from collections.abc import Mapping

PRICE_TABLE_VERSION = "openai-2025-08"

PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-2024-05-13": (5.00, 15.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}


def price_for(
    model: str | None, table: Mapping[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """The ``(in, out)`` $/Mtok price of ``model`` by longest prefix, or ``None`` if unknown.

    >>> price_for("gpt-4o-mini-2024-07-18")
    (0.15, 0.6)
    >>> price_for("Qwen/Qwen2.5-VL-7B-Instruct") is None
    True
    """
    if not model:
        return None
    table = PRICES if table is None else table
    best: str | None = None
    for prefix in table:
        if model.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else table[best]


def dollars_for(price: tuple[float, float] | None, tokens_in: int, tokens_out: int) -> float | None:
    """Cost of one call, or ``None`` when the price is unknown."""
    if price is None:
        return None
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
