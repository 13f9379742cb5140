"""The Dockerfile builds slim, non-root, compiler-free images from hash-checked wheels.

There is no Docker engine here: the Dockerfile is parsed and its rules asserted, and hadolint
lints it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.unit.ops.chart import REPO, SERVICES, tool

DOCKERFILE = REPO / "Dockerfile"
COMPILERS = re.compile(r"\b(gcc|g\+\+|cc|clang|make|build-essential|python3?-dev)\b")


@dataclass
class Stage:
    """One FROM … stage: its base image and its instructions."""

    image: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        """Return the arguments of every ``keyword`` instruction, in order."""
        return [rest for kw, rest in self.instructions if kw == keyword]


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _stages() -> tuple[dict[str, str], list[Stage]]:
    """Return the global ARG defaults and the stages of the Dockerfile."""
    defaults: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest in _instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append(Stage(image.strip(), name.strip()))
        elif keyword == "ARG" and not stages and "=" in rest:
            key, value = rest.split("=", 1)
            defaults[key] = value
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return defaults, stages


def _base(image: str, defaults: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)


def test_the_image_is_built_in_stages_on_a_slim_python() -> None:
    defaults, stages = _stages()
    assert [s.name for s in stages] == ["build", "runtime"]
    for stage in stages:
        assert re.fullmatch(r"python:3\.11-slim(-\w+)?", _base(stage.image, defaults))


def test_the_final_stage_runs_as_a_non_root_user() -> None:
    runtime = _stages()[1][-1]
    users = runtime.args("USER")
    assert users == ["10001:10001"]
    keywords = [kw for kw, _ in runtime.instructions]
    last_run = max(i for i, kw in enumerate(keywords) if kw == "RUN")
    assert last_run < keywords.index("USER") < keywords.index("CMD")
    assert "useradd --system --uid 10001" in " ".join(runtime.args("RUN"))


def test_the_final_stage_installs_nothing_and_has_no_compiler() -> None:
    runtime = _stages()[1][-1]
    for command in runtime.args("RUN"):
        assert "pip install" not in command
        assert "apt-get install" not in command
        assert not COMPILERS.search(command), command
    copies = runtime.args("COPY")
    assert copies == ["--from=build /opt/venv /opt/venv", "--from=build /app /app"]


def test_the_build_installs_hash_checked_wheels_of_one_service_only() -> None:
    build = _stages()[1][0]
    (install, *_) = [r for r in build.args("RUN") if "pip install" in r]
    for flag in ("--no-deps", "--require-hashes", "--only-binary=:all:", "pip check"):
        assert flag in install, flag
    assert "service_requirements.py" in install
    for service in SERVICES:
        assert service in install  # the SERVICE argument is checked against every name
    assert "services/${SERVICE}/ /app/services/${SERVICE}/" in build.args("COPY")[-1]
    assert not any(COMPILERS.search(r) for r in build.args("RUN"))


def test_the_container_serves_its_service_on_port_8000_with_a_health_check() -> None:
    runtime = _stages()[1][-1]
    env = " ".join(runtime.args("ENV"))
    assert "SPARKY_HTTP_HOST=0.0.0.0" in env
    assert "SPARKY_HTTP_PORT=8000" in env
    assert "SPARKY_SERVICE=${SERVICE}" in env
    assert runtime.args("EXPOSE") == ["8000"]
    assert "/healthz" in runtime.args("HEALTHCHECK")[0]
    assert 'python -m \\"services.${SPARKY_SERVICE}\\"' in runtime.args("CMD")[0]


def test_the_billing_image_carries_the_operator_cli_it_names() -> None:
    build = _stages()[1][0]
    (script,) = [r for r in build.args("RUN") if "/opt/venv/bin/sparkyctl" in r]
    assert "cp -r /src/tools /app/tools" in script
    (module,) = re.findall(r"'from (\S+) import main'", script)
    assert (REPO / (module.replace(".", "/") + ".py")).is_file(), module
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'sparkyctl = "{module}:main"' in pyproject  # the same command as pip installs


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parents = [str(Path(*Path(path).parts[: i + 1])) for i in range(len(Path(path).parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, p) for p in parents):
            ignored = not negate
    return ignored


def test_the_build_context_holds_only_what_the_image_copies() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for kept in (
        "pyproject.toml",
        "requirements/constraints.txt",
        "scripts/service_requirements.py",
        "libs/common/config.py",
        "services/router/migrations/env.py",
        "tools/sparkyctl/cli.py",
    ):
        assert not _ignored(kept, patterns), kept
    for dropped in (
        ".venv/bin/python",
        ".git/config",
        ".devstack/paper.sqlite3",
        ".tools/bin/helm",
        "tests/conftest.py",
        "scripts/run.py",
        "services/router/__pycache__/app.cpython-311.pyc",
    ):
        assert _ignored(dropped, patterns), dropped


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("hadolint")), "--failure-threshold", "warning", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_finds_nothing_to_fix() -> None:
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout


def test_hadolint_would_catch_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\n")
    assert _hadolint(careless).returncode != 0
