"""Building components from specs and computing their ids, in one place.

A run records, for every system and judge, the spec it was built from, the id computed from its
resolved configuration and version, and its declared info; workers and later stages rebuild the
same component from that record through the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import registry
from bench.ids import component_id
from bench.model import ComponentRecord, ScoreSpec
from bench.spec import ComponentSpec


@dataclass(frozen=True)
class Built:
    """A live component with its spec and id."""

    kind: str
    spec: ComponentSpec
    obj: Any
    id: str

    @property
    def display(self) -> str:
        return str(self.spec)

    def record(self) -> ComponentRecord:
        info: dict[str, Any] = {}
        if hasattr(self.obj, "info"):
            got = self.obj.info()
            info = got.to_dict() if hasattr(got, "to_dict") else dict(getattr(got, "__dict__", {}) or {})
        if hasattr(self.obj, "description") and "description" not in info:
            info["description"] = self.obj.description
        if self.kind == "judges":
            info["scope"] = getattr(self.obj, "scope", "sample")
        info["display"] = self.display
        return ComponentRecord(
            kind=self.kind,
            name=self.spec.name,
            args=dict(self.spec.args),
            id=self.id,
            version=str(getattr(self.obj, "version", "1")),
            info=info,
        )

    def score_specs(self) -> list[ScoreSpec]:
        return list(self.obj.score_specs()) if hasattr(self.obj, "score_specs") else []


def build_component(kind: str, spec: ComponentSpec) -> Built:
    obj = registry.build(kind, spec)
    config = obj.config() if hasattr(obj, "config") else dict(spec.args)
    extra = obj.identity_extra() if hasattr(obj, "identity_extra") else {}
    cid = component_id(spec.name, config, getattr(obj, "version", "1"), extra=extra)
    return Built(kind=kind, spec=spec, obj=obj, id=cid)
