"""An in-memory stand-in for a `KVMirror`, for unit tests of code that reads one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class DictLookup(Generic[T]):
    """What `libs.common.auth.WatchedLookup` asks of a mirror: ``get``, ``ready`` and
    ``in_touch``."""

    data: dict[str, T] = field(default_factory=dict)
    ready: bool = True
    in_touch: bool = True

    def get(self, key: str) -> T | None:
        return self.data.get(key)
