"""Scores as expectations over the score token's distribution (``expected=true``).

A sampled digit throws away what the model knows: a judge torn between 3 and 4 says "4" and the
0.45 on "3" is lost. When the backend returns ``logprobs`` with top alternatives, the value of a
criterion can instead be ``Σ p(v)·v / Σ p(v)`` over the alternatives at the score token's
position that are valid values of the criterion (integers in range, or the labels of a
categorical criterion) — the expectation used by G-Eval-style judges.

Locating the score token: the reply must be bare JSON (so character offsets are meaningful),
the reported tokens must spell the reply exactly, and the value must sit in **one** token (a
"4", a " 85" or a "pass"; a two-token "100" in a digit-by-digit tokenizer cannot be scored this
way). Whenever a condition fails the sampled value is kept and the judgement says why, so an
expectation is never silently a sample.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.backends.base import TokenLogprob, TopLogprob

from .rubric import CriterionDef

TOP_LOGPROBS = 20  # the most OpenAI (and vLLM by default) return


@dataclass(frozen=True)
class Expectation:
    """The expected value, or ``None`` with the reason in ``note``; ``mass`` = probability of valid values."""

    value: float | None
    note: str
    mass: float = 0.0


# --- where each scalar value sits in a JSON text ----------------------------------------------


class _Scanner:
    """A strict JSON reader that records the character span of every scalar, keyed by its path."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.spans: dict[tuple[str, ...], tuple[int, int]] = {}

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at offset {self.i}")

    def value(self, path: tuple[str, ...]) -> None:
        self.ws()
        if self.i >= len(self.s):
            raise self.fail("unexpected end")
        c = self.s[self.i]
        if c == "{":
            self.obj(path)
        elif c == "[":
            self.arr(path)
        elif c == '"':
            start = self.i
            self.string()
            self.spans[path] = (start + 1, self.i - 1)  # the content, without the quotes
        else:
            start = self.i
            while self.i < len(self.s) and self.s[self.i] not in ",}] \t\r\n":
                self.i += 1
            json.loads(self.s[start : self.i])  # validates the literal
            self.spans[path] = (start, self.i)

    def string(self) -> str:
        start = self.i
        self.i += 1
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\":
                self.i += 2
                continue
            self.i += 1
            if c == '"':
                return json.loads(self.s[start : self.i])
        raise self.fail("unterminated string")

    def obj(self, path: tuple[str, ...]) -> None:
        self.i += 1
        self.ws()
        if self.s[self.i : self.i + 1] == "}":
            self.i += 1
            return
        while True:
            self.ws()
            if self.s[self.i : self.i + 1] != '"':
                raise self.fail("expected a key")
            key = self.string()
            self.ws()
            if self.s[self.i : self.i + 1] != ":":
                raise self.fail("expected ':'")
            self.i += 1
            self.value((*path, key))
            self.ws()
            c = self.s[self.i : self.i + 1]
            self.i += 1
            if c == "}":
                return
            if c != ",":
                raise self.fail("expected ',' or '}'")

    def arr(self, path: tuple[str, ...]) -> None:
        self.i += 1
        self.ws()
        if self.s[self.i : self.i + 1] == "]":
            self.i += 1
            return
        n = 0
        while True:
            self.value((*path, str(n)))
            n += 1
            self.ws()
            c = self.s[self.i : self.i + 1]
            self.i += 1
            if c == "]":
                return
            if c != ",":
                raise self.fail("expected ',' or ']'")


def value_spans(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """Character span of every scalar in a JSON text (strings without their quotes).

    >>> t = '{"a": {"score": 4}, "b": "pass"}'
    >>> s = value_spans(t); t[slice(*s[("a", "score")])], t[slice(*s[("b",)])]
    ('4', 'pass')
    """
    sc = _Scanner(text)
    sc.value(())
    sc.ws()
    if sc.i != len(text):
        raise ValueError(f"trailing text at offset {sc.i}")
    return sc.spans


# --- the expectation ------------------------------------------------------------------------------


def _clean(token: str) -> str:
    return token.strip().strip('"').strip()


def expected_value(
    text: str,
    logprobs: Sequence[TokenLogprob] | None,
    path: tuple[str, ...],
    criterion: CriterionDef,
    spans: dict[tuple[str, ...], tuple[int, int]] | None = None,
) -> Expectation:
    """The expectation of ``criterion``'s value at ``path`` in the reply ``text``.

    ``spans`` may be passed when several criteria of one reply are scored (computed once).
    """
    if not logprobs:
        return Expectation(None, "the backend returned no logprobs")
    if "".join(t.token for t in logprobs) != text:
        return Expectation(None, "the logprob tokens do not spell the reply")
    if spans is None:
        try:
            spans = value_spans(text)
        except ValueError as err:
            return Expectation(None, f"the reply is not bare JSON ({err})")
    if path not in spans:
        return Expectation(None, "the value's position in the reply is unknown")
    start, end = spans[path]
    pos, hit = 0, []
    for k, t in enumerate(logprobs):
        t_end = pos + len(t.token)
        if t_end > start and pos < end:
            hit.append(k)
        pos = t_end
    if len(hit) != 1:
        return Expectation(None, f"the value spans {len(hit)} tokens, not one")
    tok = logprobs[hit[0]]
    if _clean(tok.token) != text[start:end].strip():
        return Expectation(None, f"the value shares its token {tok.token!r} with other text")
    mass_by_value: dict[float, float] = {}
    alts = list(tok.top)
    if not any(a.token == tok.token for a in alts):
        alts.append(TopLogprob(tok.token, tok.logprob))
    seen: set[str] = set()
    for a in alts:
        if a.token in seen:
            continue
        seen.add(a.token)
        v = criterion.value_of(_clean(a.token)) if criterion.categorical else _number(a.token, criterion)
        if v is None:
            continue
        mass_by_value[v] = mass_by_value.get(v, 0.0) + math.exp(a.logprob)
    mass = sum(mass_by_value.values())
    if mass <= 0.0:
        return Expectation(None, "no alternative at the score token is a valid value")
    value = sum(v * p for v, p in mass_by_value.items()) / mass
    return Expectation(
        value, f"expectation over {len(mass_by_value)} values (probability mass {mass:.3f})", mass
    )


def _number(token: str, criterion: CriterionDef) -> float | None:
    s = _clean(token)
    if not s or not (s.isdigit() or (s.startswith("-") and s[1:].isdigit())):
        return None
    return criterion.value_of(int(s))
