"""Vault policies match where the executor keeps keys; NOTES.txt tells a working first step."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import typer
import yaml

from services.executor.adapters.vault import VaultLocation
from tests.unit.ops.chart import CHART, REPO, helm, render
from tools.sparkyctl.cli import app as cli_app

POLICIES = REPO / "deploy" / "vault"
BAO = REPO / ".venv" / "bin" / "bao"
_PATH = re.compile(r'path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}')


def _policy(name: str) -> dict[str, set[str]]:
    text = (POLICIES / f"{name}.hcl").read_text()
    return {
        path: {c.strip().strip('"') for c in caps.split(",")} for path, caps in _PATH.findall(text)
    }


def _matches(glob: str, path: str) -> bool:
    # Vault: "+" is one path segment, a trailing "*" any suffix.
    regex = re.escape(glob).replace(r"\+", "[^/]+").replace(r"\*", ".*")
    return re.fullmatch(regex, path) is not None


def test_policies_are_valid_hcl_in_canonical_form(tmp_path: Path) -> None:
    for source in POLICIES.glob("*.hcl"):
        copy = tmp_path / source.name
        shutil.copy(source, copy)
        result = subprocess.run(
            [str(BAO), "policy", "fmt", str(copy)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert copy.read_text() == source.read_text(), f"{source.name} is not formatted"


def test_trading_path_may_only_read_one_account_s_keys() -> None:
    account = VaultLocation("secret", "sparky", "sparky").path("t-1", "main")
    policy = _policy("sparky-executor")
    assert list(policy.values()) == [{"read"}]
    (glob,) = policy
    assert _matches(glob, f"secret/data/{account}")
    assert not _matches(glob, "secret/data/sparky/sparky/tenants/t-1")
    assert not fnmatch.fnmatch("secret/metadata/x", glob)


def test_accounts_api_may_write_read_and_delete_keys_but_never_list() -> None:
    account = VaultLocation("secret", "sparky", "sparky").path("t-1", "main")
    policy = _policy("sparky-executor-api")
    data = next(caps for glob, caps in policy.items() if _matches(glob, f"secret/data/{account}"))
    meta = next(
        caps for glob, caps in policy.items() if _matches(glob, f"secret/metadata/{account}")
    )
    assert data == {"create", "update", "read"}
    assert meta == {"delete"}
    assert not any("list" in caps for caps in policy.values())


def _bindings(guide: str) -> dict[str, str]:
    """Return role -> ServiceAccount of the guide's ``vault write auth/kubernetes/role/…``."""
    pattern = r"auth/kubernetes/role/(\S+) \\\n\s+bound_service_account_names=(\S+) "
    return dict(re.findall(pattern, guide))


def test_deploy_guide_binds_each_role_the_chart_logs_in_with_to_its_own_account() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())["vault"]
    guide = (REPO / "docs" / "deploy.md").read_text()
    for role in (values["readRole"], values["writeRole"]):
        assert f"vault policy write {role} deploy/vault/{role}.hcl" in guide
    bindings = _bindings(guide)
    assert bindings == {
        values["readRole"]: "sparky-executor",  # the trading StatefulSet
        values["writeRole"]: "sparky-accounts",  # the exchange-accounts API
    }
    annotated = {
        doc["metadata"]["annotations"]["vault.hashicorp.com/role"]: doc["metadata"]["name"]
        for doc in render()
        if doc["kind"] == "ServiceAccount"
        and "vault.hashicorp.com/role" in doc["metadata"].get("annotations", {})
    }
    assert annotated == bindings


def _notes(tmp_path: Path) -> str:
    """Render NOTES.txt (helm template skips it) by wrapping it in a ConfigMap."""
    chart = tmp_path / "sparky"
    shutil.copytree(CHART, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "zz-notes.yaml").write_text(
        '{{- define "notes.text" -}}' + notes + "{{- end -}}\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n"
        'data: {notes: {{ include "notes.text" . | quote }}}\n'
    )
    out = helm("template", "sparky", str(chart), "-n", "sparky", "-s", "templates/zz-notes.yaml")
    text: str = yaml.safe_load(out.stdout)["data"]["notes"]
    return text


def test_notes_show_how_to_create_the_first_tenant_with_commands_that_exist(
    tmp_path: Path,
) -> None:
    notes = _notes(tmp_path)
    assert "kubectl -n sparky exec -it deploy/sparky-billing --" in notes
    assert 'sparkyctl tenant create "Acme Trading" --plan pro' in notes
    assert "https://sparky.example.com/webhooks/tv/<token>" in notes
    assert "sparky-executor (policy deploy/vault/sparky-executor.hcl, read)" in notes
    assert "-> ServiceAccount sparky-accounts" in notes
    # Typer builds a click-like command tree (its own vendored click): walk it by name.
    command: Any = typer.main.get_command(cli_app)
    for group, sub in (("tenant", "create"), ("tenant", "list"), ("plan", "list"),
                       ("token", "create")):  # fmt: skip
        assert f"sparkyctl {group} {sub}" in notes
        assert sub in command.commands[group].commands, f"the CLI has no `sparkyctl {group} {sub}`"
    create = command.commands["tenant"].commands["create"]
    assert ["--plan"] in [p.opts for p in create.params]


def test_notes_say_telegram_is_off_until_a_bot_token_is_set(tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    assert "Notifications tab (email through\n   smtp.example.com:587, Discord" in notes
    assert "Telegram is off: set services.notifier.telegram.botTokenSecret" in notes
