"""One exception type per layer, each able to say *where* a problem is.

Every message names the file, the line, the sample and the field when they are known, because a
benchmark user fixing a 2,000-line ``samples.jsonl`` needs the location, not a stack trace.
"""

from __future__ import annotations


class EditbenchError(Exception):
    """Base class: anything editbench raises on purpose. The CLI turns it into a one-line error."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        sample: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.sample = sample
        self.field = field
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.file:
            where.append(f"{self.file}:{self.line}" if self.line is not None else self.file)
        if self.sample is not None:
            where.append(f"sample {self.sample!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class UsageError(EditbenchError):
    """Bad command-line or API usage (unknown option, malformed component spec)."""


class RegistryError(UsageError):
    """A name that is not registered, or a plug-in that cannot be loaded."""


class SuiteError(EditbenchError):
    """A suite folder, file or sample that does not validate."""


class ToolError(EditbenchError):
    """A tool that cannot apply its operation (bad params, missing input)."""


class EditSystemError(EditbenchError):
    """An editing system that failed on a sample. (Not ``SystemError``: that name is a builtin.)"""


class JudgeError(EditbenchError):
    """A judge that cannot run at all (missing weights, bad configuration)."""


class BackendError(EditbenchError):
    """A model backend that cannot be built or reached."""


class StoreError(EditbenchError):
    """A run directory that cannot be read or written."""
