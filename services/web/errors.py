"""The web app's errors, by what the visitor sees next; `services.web.app` answers the first
three, the pages answer the others next to the form or as a 503 page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.web.auth.sessions import ActiveSession


class NotSignedInError(Exception):
    """No live session: the app's handler redirects to ``/login?next=…``."""

    def __init__(self, next_path: str) -> None:
        super().__init__("not signed in")
        self.next_path = next_path


class EmailNotVerifiedError(Exception):
    """Signed in with an unverified email: the app's handler shows the "verify" page."""

    def __init__(self, session: ActiveSession) -> None:
        super().__init__("email not verified")
        self.session = session


class CsrfRefusedError(Exception):
    """A POST without this browser's CSRF token: answered 403."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ApiError(Exception):
    """A service refused the request: its status, its sentence, and the fields it named."""

    status: int
    message: str
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


@dataclass
class ServiceUnavailableError(Exception):
    """A service is down, starting up or failing: the page says so, never a traceback."""

    service: str

    def __str__(self) -> str:
        return f"The {self.service} service is temporarily unavailable."


class MissingApiKeyError(Exception):
    """The user has no tenant API key (sign-up not finished): nothing can be called for them."""


class ProvisioningError(Exception):
    """Billing could not be reached or refused the sign-up; retrying later is safe."""


class EmailTakenError(Exception):
    """Someone else signed up with this email meanwhile."""


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""
