"""Print the hash-pinned requirements one service's image needs, taken from the constraints file.

``requirements/constraints.txt`` pins every group together, with hashes (``make lock``). An
image installs only its service's closure: the shared dependencies of ``pyproject.toml``, the
service's optional group, and everything those pull in, following the ``# via`` annotations uv
writes under each pin. Each kept entry is copied verbatim (version and hashes), so
``pip install --no-deps --require-hashes`` installs exactly what was locked and nothing else.

The ``# via`` graph names a package's dependants whatever extra pulled it in, so the closure can
be slightly larger than strictly needed (uvicorn's ``standard`` extras everywhere), never
smaller; ``pip check`` in the image build and tests/unit/ops confirm nothing is missing.

Standard library only: it runs in the image's build stage before anything is installed.

    python scripts/service_requirements.py router > /tmp/router-requirements.txt
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "sparky"
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")
_VIA_ONE = re.compile(r"^\s*#\s+via\s+(\S.*)$")
_VIA_ITEM = re.compile(r"^\s*#\s{2,}(\S.*)$")
_VIA_START = re.compile(r"^\s*#\s+via\s*$")


def normalise(name: str) -> str:
    """Return the PEP 503 normal form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Pin:
    """One entry of the constraints file: its text and the packages that pull it in."""

    name: str
    lines: list[str] = field(default_factory=list)
    via: set[str] = field(default_factory=set)


def parse_constraints(text: str) -> dict[str, Pin]:
    """Return every pin of a uv-compiled, hash-pinned file by normalised name."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for line in text.splitlines():
        pin = _PIN.match(line)
        if pin:
            current = pins.setdefault(normalise(pin.group(1)), Pin(normalise(pin.group(1))))
            current.lines.append(line)
            in_via = False
        elif current is not None and line.lstrip().startswith("--hash"):
            current.lines.append(line)
        elif current is not None:
            in_via = _read_via(line, current, in_via=in_via)
    return pins


def _read_via(line: str, pin: Pin, *, in_via: bool) -> bool:
    if _VIA_START.match(line):
        return True
    one = _VIA_ONE.match(line)
    item = _VIA_ITEM.match(line) if in_via else None
    found = one or item
    if found:
        pin.via.add(_parent(found.group(1)))
    return in_via and item is not None


def _parent(text: str) -> str:
    """``sparky (pyproject.toml)`` is the project itself; anything else is a package name."""
    match = _NAME.match(text.strip())
    return normalise(match.group(1)) if match else text.strip()


def roots(pyproject: Mapping[str, object], service: str) -> set[str]:
    """Return the names the project asks for directly: shared dependencies plus the group."""
    project = pyproject.get("project")
    if not isinstance(project, dict):
        raise SystemExit("pyproject.toml has no [project] table")
    groups = project.get("optional-dependencies", {})
    if service not in groups:
        raise SystemExit(f"no optional-dependency group {service!r} in pyproject.toml")
    return {_requirement_name(spec) for spec in [*project["dependencies"], *groups[service]]}


def _requirement_name(spec: str) -> str:
    match = _NAME.match(spec.strip())
    if match is None:
        raise SystemExit(f"cannot read a requirement name from {spec!r}")
    return normalise(match.group(1))


def closure(pins: Mapping[str, Pin], start: Iterable[str]) -> set[str]:
    """Return ``start`` and every pin pulled in by one of them, transitively."""
    children: dict[str, set[str]] = {}
    for pin in pins.values():
        for parent in pin.via:
            children.setdefault(parent, set()).add(pin.name)
    found: set[str] = set()
    todo = [normalise(name) for name in start]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        if name not in pins:
            raise SystemExit(f"{name} is required but not pinned: run `make lock`")
        found.add(name)
        todo.extend(children.get(name, ()))
    return found


def service_requirements(service: str, root: Path = ROOT) -> str:
    """Return the requirements file text of ``service``'s image."""
    pins = parse_constraints((root / "requirements" / "constraints.txt").read_text())
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    wanted = closure(pins, roots(pyproject, service))
    body = [line for name in sorted(wanted) for line in pins[name].lines]
    header = f"# {service}: generated from requirements/constraints.txt by {Path(__file__).name}"
    return "\n".join([header, *body, ""])


def main(argv: list[str] | None = None) -> None:
    """Print the requirements of the service named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service")
    parser.add_argument("--root", type=Path, default=ROOT, help="The repository's root.")
    args = parser.parse_args(argv)
    sys.stdout.write(service_requirements(args.service, args.root))


if __name__ == "__main__":
    main()
