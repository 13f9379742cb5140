"""How `make run` configures the servers it starts itself (commands, ports, URLs, files)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from scripts.demo import DemoTenant, load_demo, save_demo
from scripts.infra import LocalNats, LocalRedis, host_port, is_local, local_port, with_netloc
from scripts.local_postgres import RUN_AS, LocalPostgres
from scripts.local_vault import LocalOpenBao, config_text
from scripts.private_files import read_private_json, write_private_json
from scripts.servers import database_name


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_urls_give_host_and_port_with_the_servers_default() -> None:
    assert host_port("nats://127.0.0.1:14222", 4222) == ("127.0.0.1", 14222)
    assert host_port("redis://localhost/0", 6379) == ("localhost", 6379)
    assert host_port("postgresql://postgres@db.example:5433/x", 5432) == ("db.example", 5433)


def test_only_loopback_hosts_are_local() -> None:
    assert is_local("127.0.0.1")
    assert is_local("localhost")
    assert is_local("::1")
    assert not is_local("10.1.2.3")
    assert not is_local("db.example")


def test_local_server_takes_the_configured_port_when_free_else_a_free_one() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        other = local_port(f"nats://127.0.0.1:{taken}", 4222)
        assert other != taken
    assert local_port(f"nats://127.0.0.1:{taken}", 4222) == taken
    assert local_port("redis://cache.example:6379/0", 6379) != 6379


def test_url_of_a_local_server_keeps_scheme_database_and_path() -> None:
    assert with_netloc("redis://cache.example:6379/2", 16379) == "redis://127.0.0.1:16379/2"
    assert with_netloc("nats://nats:4222", 14222) == "nats://127.0.0.1:14222"


def test_database_name_is_checked_before_it_is_quoted_into_ddl() -> None:
    assert database_name("postgresql://postgres@127.0.0.1:5432/sparky") == "sparky"
    assert database_name("postgresql://postgres@127.0.0.1:5432") == "sparky"
    with pytest.raises(SystemExit, match="not a plain name"):
        database_name('postgresql://postgres@127.0.0.1:5432/x";DROP')


def test_nats_runs_with_jetstream_on_loopback_storing_under_the_data_folder(
    tmp_path: Path,
) -> None:
    words = LocalNats(14222, tmp_path).command()
    assert words[0].endswith("nats-server")
    assert "-js" in words
    assert words[words.index("-a") + 1] == "127.0.0.1"
    assert words[words.index("-p") + 1] == "14222"
    assert words[words.index("-sd") + 1] == str(tmp_path / "nats")


def test_redis_keeps_an_append_only_file_under_the_data_folder(tmp_path: Path) -> None:
    words = LocalRedis(16379, tmp_path).command()
    options = dict(zip(words[1::2], words[2::2], strict=True))
    assert options["--bind"] == "127.0.0.1"
    assert options["--port"] == "16379"
    assert options["--dir"] == str(tmp_path / "redis")
    assert options["--appendonly"] == "yes"


def test_postgres_listens_on_tcp_loopback_only_and_not_as_root(tmp_path: Path) -> None:
    server = LocalPostgres(15432, tmp_path)
    words = server.command()
    assert Path(words[0]).name == "postgres"
    assert words[words.index("-h") + 1] == "127.0.0.1"
    assert words[words.index("-p") + 1] == "15432"
    assert words[words.index("-k") + 1] == ""  # no Unix socket
    assert server.url("sparky") == "postgresql://postgres@127.0.0.1:15432/sparky"
    assert server.run_as == (RUN_AS if os.geteuid() == 0 else None)


def test_openbao_config_is_persistent_storage_on_loopback(tmp_path: Path) -> None:
    text = config_text(18200, 18201, tmp_path / "data")
    assert f'storage "raft" {{ path = "{tmp_path / "data"}"' in text
    assert 'address = "127.0.0.1:18200"' in text
    assert "tls_disable = true" in text
    assert "-dev" not in LocalOpenBao(18200, tmp_path).command()


def test_private_json_is_written_0600_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "keys.json"
    write_private_json(path, {"a": 1})
    write_private_json(path, {"b": 2})
    assert mode(path) == 0o600
    assert read_private_json(path) == {"b": 2}
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]  # no staging file left


def test_private_json_readable_by_others_is_narrowed_when_read(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"root_token": "t"}')
    path.chmod(0o644)
    assert read_private_json(path) == {"root_token": "t"}
    assert mode(path) == 0o600
    assert read_private_json(tmp_path / "absent.json") is None


def test_demo_tenant_is_kept_privately_and_read_back(tmp_path: Path) -> None:
    demo = DemoTenant("t", "w", "whk_x", "spk_y", 3, "paper-key", "paper-secret")
    path = tmp_path / "demo-sparky.json"
    save_demo(path, demo)
    assert mode(path) == 0o600
    assert load_demo(path) == demo
    path.write_text('{"tenant_id": "t", "shape": "old"}')
    assert load_demo(path) is None  # an unknown layout makes a new demo, never a crash
