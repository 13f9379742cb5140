"""The long-lived object: what the web app's routes share, built once by
`services.web.app.create_app`, closed by its lifespan, reached as `runtime_of(request)`.

The types are imported for the checker only: the modules that read the runtime (sessions,
rendering, tenant keys) are among those it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    import httpx
    from fastapi.templating import Jinja2Templates

    from libs.common.sealing import DataBox
    from services.web.auth.provisioning import Provisioner
    from services.web.auth.sessions import Sessions
    from services.web.auth.throttle import Throttle
    from services.web.auth.users import Users
    from services.web.config import WebSettings
    from services.web.crypto import Signer
    from services.web.mail import Mailer
    from services.web.store import Database


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """The settings, the clock, the database and the stores over it, the secrets' keys, the
    throttles, mail, templates and the one HTTP client the app calls the other services with."""

    settings: WebSettings
    clock: Callable[[], datetime]
    db: Database
    http: httpx.AsyncClient
    templates: Jinja2Templates
    data_box: DataBox
    csrf_signer: Signer
    sessions: Sessions
    users: Users
    throttle: Throttle  # sign-in failures
    resend_throttle: Throttle  # verification and reset mails
    signup_throttle: Throttle
    provisioner: Provisioner
    mailer: Mailer

    async def close(self) -> None:
        """Close the HTTP client and the engine's connections."""
        await self.http.aclose()
        await self.db.engine.dispose()


def runtime_of(owner: HTTPConnection | Starlette) -> Runtime:
    """Return the app's `Runtime`, from a request or from the app itself (background tasks)."""
    app = owner.app if isinstance(owner, HTTPConnection) else owner
    found: Runtime = app.state.runtime
    return found
