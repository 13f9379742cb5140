"""Who may do what on NATS: one table, rendered into the NATS server's users and permissions.

Each service connects as its own user. What it may publish follows the contracts: only ingress
publishes INTENTS, only the router (and the ledger's cancels, signed) ORDERS, only the executor
order events, only billing writes the credential buckets; a service reads and watches only the
buckets it mirrors and consumes only the streams it handles (the notifier through its one
durable consumer, and it publishes no message at all). Everything else is refused by the
server, whatever a compromised pod's code tries.

Every service may verify the deployment's streams and buckets (``STREAM.INFO``) and create one
that is missing (NATS wiped), never update, purge or delete one: changing the topology is the
``admin`` user's (`make run`'s setup, the operator's tools, tests' clean-up).

Replies come to an inbox of the service's own (``_INBOX_<service>.>``, the client's
``inbox_prefix``), so no service can read answers meant for another.

``python -m libs.common.nats_access --namespace sparky`` prints the server's ``authorization``
block (passwords as ``$SPARKY_NATS_PASSWORD_<USER>`` variables from the server's
environment, or given with ``--passwords-from-env``); the Helm chart's copy is
``--namespace nsplaceholder > helm/sparky/files/nats-authorization.conf`` (a test keeps it
current).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from libs.common.config import ServiceSettings
from libs.common.topology import Durables, Topology

ADMIN = "admin"
CHART_NAMESPACE = "nsplaceholder"
"""The namespace of the Helm chart's copy (files/nats-authorization.conf); the chart puts the
deployment's own in its place."""
SERVICES = ("ingress", "router", "executor", "accounts", "ledger", "billing", "notifier")
USERS = (ADMIN, *SERVICES)


@dataclass(frozen=True)
class Access:
    """What one service may do, in the contracts' terms."""

    publish: tuple[str, ...] = ()
    """Message subjects (wildcards allowed) it may publish to a stream."""
    consume: tuple[str, ...] = ()
    """Streams it reads with consumers of its own."""
    read: tuple[str, ...] = ()
    """KV buckets it reads and watches."""
    write: tuple[str, ...] = ()
    """KV buckets it writes (and reads)."""
    durables: tuple[str, ...] = ()
    """The only consumers it may create, bind, read and delete on the streams it consumes
    (empty: any consumer of those streams)."""


def table(t: Topology) -> dict[str, Access]:
    """Return every service's `Access` in deployment ``t``: the one table."""
    ns = t.namespace
    events = f"{ns}.events.*"
    credentials = (t.tenants_bucket, t.api_keys_bucket)
    return {
        "ingress": Access(
            publish=(f"{ns}.intents.>", f"{events}.intent.accepted", f"{events}.alert.refused"),
            read=(t.tenants_bucket, t.webhook_tokens_bucket),
        ),
        "router": Access(
            publish=(
                f"{ns}.orders.>",
                f"{events}.intent.rejected",
                f"{events}.settings.kill_switch",
            ),
            consume=(t.intents_stream, t.events_stream, t.orders_stream),
            read=(*credentials, t.accounts_bucket),
            write=(t.router_settings_bucket,),
        ),
        "executor": Access(  # trading: ORDERS in, order events out
            publish=(
                *(f"{events}.{kind}.>" for kind in ("order", "position", "protection", "funding")),
                f"{events}.intent.rejected",  # a cancel that finds nothing open
            ),
            consume=(t.orders_stream,),
            read=credentials,
            write=(t.accounts_bucket,),
        ),
        "accounts": Access(  # the executor's exchange-accounts API and tenant purges
            consume=(t.events_stream,),
            read=credentials,
            write=(t.accounts_bucket,),
        ),
        "ledger": Access(
            publish=(f"{ns}.orders.>",),  # cancels only: the executor checks the signer
            consume=(t.events_stream,),
            read=(*credentials, t.accounts_bucket),
        ),
        "billing": Access(
            publish=(f"{events}.tenant.deleted", f"{events}.billing.>"),
            consume=(t.events_stream,),
            write=(t.tenants_bucket, t.api_keys_bucket, t.webhook_tokens_bucket),
        ),
        "notifier": Access(  # EVENTS in through its one durable consumer; it publishes none
            consume=(t.events_stream,),
            read=credentials,
            durables=(Durables.NOTIFIER,),
        ),
    }


def inbox_prefix(service: str) -> str:
    """The prefix of ``service``'s reply subjects (nats-py's ``inbox_prefix``)."""
    return f"_INBOX_{service}"


def _kv_stream(bucket: str) -> str:
    return f"KV_{bucket}"


def _consume(stream: str, durables: tuple[str, ...] = ()) -> list[str]:
    api = "$JS.API.CONSUMER"
    if durables:
        return [
            subject
            for d in durables
            for subject in (
                f"{api}.CREATE.{stream}.{d}",
                f"{api}.CREATE.{stream}.{d}.>",
                f"{api}.DURABLE.CREATE.{stream}.{d}",
                f"{api}.INFO.{stream}.{d}",
                f"{api}.DELETE.{stream}.{d}",
                f"{api}.MSG.NEXT.{stream}.{d}",
                f"$JS.ACK.{stream}.{d}.>",
            )
        ]
    return [
        f"{api}.CREATE.{stream}",
        f"{api}.CREATE.{stream}.>",
        f"{api}.DURABLE.CREATE.{stream}.>",
        f"{api}.INFO.{stream}.>",
        f"{api}.DELETE.{stream}.>",
        f"{api}.MSG.NEXT.{stream}.>",
        f"$JS.ACK.{stream}.>",
    ]


def _read(bucket: str) -> list[str]:
    stream = _kv_stream(bucket)
    return [
        *_consume(stream),
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.STREAM.MSG.GET.{stream}",
    ]


def permissions(service: str, t: Topology) -> dict[str, dict[str, list[str]]]:
    """Return the NATS ``permissions`` of ``service``: publish and subscribe allow-lists."""
    access = table(t)[service]
    streams = [spec.name for spec in t.streams()]
    buckets = [*t.buckets(), *access.write]
    topology = [*streams, *(_kv_stream(b) for b in dict.fromkeys(buckets))]
    publish = ["$JS.API.INFO"]
    publish += [f"$JS.API.STREAM.{op}.{name}" for name in topology for op in ("INFO", "CREATE")]
    publish += list(access.publish)
    for stream in access.consume:
        publish += _consume(stream, access.durables)
    if access.consume:
        publish.append(f"{t.namespace}.dlq.>")
    for bucket in dict.fromkeys((*access.read, *access.write)):
        publish += _read(bucket)
    publish += [f"$KV.{bucket}.>" for bucket in access.write]
    if access.consume or access.read or access.write:
        publish.append("$JS.FC.>")  # flow-control answers of the watches' push consumers
    return {
        "publish": {"allow": list(dict.fromkeys(publish))},
        "subscribe": {"allow": [f"{inbox_prefix(service)}.>"]},
    }


def connect_options(settings: ServiceSettings, service: str) -> dict[str, Any]:
    """Return the `nats.connect` options of ``service``: its own user (when configured), its own
    reply inbox (`libs.common.nats_access`) and TLS with the configured CA.
    """
    user = settings.nats_user or service
    options: dict[str, Any] = {"name": f"sparky-{service}", "inbox_prefix": inbox_prefix(user)}
    if settings.nats_user is not None:
        options["user"] = settings.nats_user
        password = settings.nats_password
        options["password"] = password.get_secret_value() if password is not None else ""
    if settings.nats_ca_file is not None:
        options["tls"] = ssl.create_default_context(cafile=settings.nats_ca_file)
    return options


def new_passwords() -> dict[str, str]:
    """Return a fresh random password for every user (a local NATS of `make run` or a test)."""
    return {user: secrets.token_urlsafe(24) for user in USERS}


def password_variable(user: str) -> str:
    """The environment variable holding ``user``'s password in the rendered configuration."""
    return f"SPARKY_NATS_PASSWORD_{user.upper()}"


def authorization(t: Topology, passwords: Mapping[str, str] | None = None) -> dict[str, object]:
    """Return the server's ``authorization`` block: ``admin`` with every right, each service
    with its own. A user's password is taken from ``passwords`` or left as a variable the
    server resolves from its environment.
    """

    def password(user: str) -> str:
        if passwords is not None:
            return passwords[user]
        return f"${password_variable(user)}"

    users: list[dict[str, object]] = [{"user": ADMIN, "password": password(ADMIN)}]
    users += [
        {"user": s, "password": password(s), "permissions": permissions(s, t)} for s in SERVICES
    ]
    return {"users": users}


def server_config(t: Topology, passwords: Mapping[str, str] | None = None) -> str:
    """Return the ``authorization`` block as NATS configuration text (JSON is valid there;
    ``$VAR`` passwords are left unquoted so the server reads them from its environment).
    """
    text = json.dumps(authorization(t, passwords), indent=2)
    if passwords is None:
        for user in USERS:
            variable = password_variable(user)
            text = text.replace(f'"${variable}"', f"${variable}")
    return f"authorization {text}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--namespace",
        default="sparky",
        help=f"the deployment's namespace ({CHART_NAMESPACE}: the Helm chart's copy)",
    )
    parser.add_argument(
        "--passwords-from-env",
        action="store_true",
        help="write the passwords in clear from $SPARKY_NATS_PASSWORD_<USER> (not variables)",
    )
    args = parser.parse_args(argv)
    topology = Topology(namespace=args.namespace)
    passwords = None
    if args.passwords_from_env:
        missing = [u for u in USERS if password_variable(u) not in os.environ]
        if missing:
            names = ", ".join(password_variable(u) for u in missing)
            sys.stderr.write(f"missing: {names}\n")
            return 2
        passwords = {u: os.environ[password_variable(u)] for u in USERS}
    sys.stdout.write(server_config(topology, passwords))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
