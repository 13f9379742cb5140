"""Field names: each field's canonical name, its aliases, and a hint for a misspelt one.

A name is matched whatever its case or surrounding spaces (``Qty``, ``quantityType``); an
unknown name is refused, with the closest known spelling when one is close enough
(``"stopLos"`` → did you mean ``"stopLoss"``?), so a typo never trades the default silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from services.ingress.domain.values import Value, clip, shown
from services.ingress.errors import FieldError

MAX_ERRORS = 20
_KNOWN = "see the alert formats in Sparky's documentation"
_CLOSE_ENOUGH = 0.75


@dataclass(frozen=True)
class Names:
    """The names an object may hold: canonical ``fields``, and ``aliases`` → canonical name.

    ``where`` prefixes the error fields of a nested object (``take_profit.``).
    """

    fields: frozenset[str]
    aliases: Mapping[str, str]
    where: str = ""
    _lookup: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lookup = {name.lower(): name for name in self.fields}
        lookup |= {alias.lower(): name for alias, name in self.aliases.items()}
        object.__setattr__(self, "_lookup", MappingProxyType(lookup))

    @property
    def spellings(self) -> list[str]:
        """Every name as documented (canonical names and aliases)."""
        return sorted(self.fields | set(self.aliases))

    def canonical(self, key: str) -> str | None:
        """Return the canonical name of ``key``, or None when it names no field."""
        return self._lookup.get(key.strip().lower())

    def suggestion(self, key: str) -> str | None:
        """Return the documented name closest to an unknown ``key``, if one is close."""
        spelled = {name.lower(): name for name in self.spellings}
        found = difflib.get_close_matches(key.strip().lower(), spelled, n=1, cutoff=_CLOSE_ENOUGH)
        return spelled[found[0]] if found else None

    def unknown(self, key: str) -> FieldError:
        """Return the refusal of an unknown ``key``, with a hint when one is close."""
        hint = self.suggestion(key)
        if self.where:
            message = f"{self.where.rstrip('.')} has no field {shown(key)}"
        else:
            message = f"{shown(key)} is not a field Sparky knows"
        message += f": did you mean '{hint}'?" if hint is not None else f" ({_KNOWN})."
        return FieldError(clip(self.where + key), message)

    def read(self, pairs: Iterable[tuple[str, Value]]) -> tuple[dict[str, Value], list[FieldError]]:
        """Return ``{canonical name: value}`` and the problems: unknown or repeated names.

        A JSON ``null`` is as if the field were not there.
        """
        values: dict[str, Value] = {}
        given_as: dict[str, str] = {}
        errors: list[FieldError] = []
        for key, value in pairs:
            name = self.canonical(key)
            if name is None:
                errors.append(self.unknown(key))
            elif name in given_as:
                first, again = shown(given_as[name]), shown(key)
                message = f"{self.where}{name} is given twice (as {first} and {again})."
                errors.append(FieldError(self.where + name, message))
            else:
                given_as[name] = key
                if value is not None:
                    values[name] = value
        return values, errors[:MAX_ERRORS]
