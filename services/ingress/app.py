"""Wiring of the ingress service: the FastAPI app, whose lifespan runs an `IngressRuntime`
(what it starts and stops: `services.ingress.runtime`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from libs.common.api import install_error_answers
from libs.common.broker import make_broker
from libs.common.logs import configure_logging
from libs.common.messages.types import utcnow
from libs.common.ops import ops_router
from libs.common.service import nats_check
from libs.common.telemetry import setup_tracing
from services.ingress.api.openapi import ingress_openapi
from services.ingress.api.tracing import trace_requests
from services.ingress.api.webhook import Admission, WebhookSlots, router
from services.ingress.config import SERVICE, IngressSettings
from services.ingress.runtime import IngressRuntime


def create_app(
    settings: IngressSettings,
    *,
    clock: Callable[[], datetime] = utcnow,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Return the ingress app; its lifespan connects NATS, the KV copies and Redis."""
    provider = tracer_provider or _bootstrap(settings)
    broker = make_broker(settings, SERVICE, tracer_provider=provider)
    runtime = IngressRuntime(settings, broker, clock, provider.get_tracer(__name__))
    app = FastAPI(
        title="Sparky ingress",
        lifespan=runtime.lifespan,
        version="1",
        docs_url=None,
        redoc_url=None,
        # Traced by the OpenTelemetry instrumentation below, whose hook redacts the token;
        # FastAPI's own telemetry would record the raw path a second time.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.admission = Admission(settings.max_in_flight)
    app.state.webhook_slots = WebhookSlots(settings.max_in_flight_per_webhook)
    app.include_router(router)
    install_error_answers(app)  # unknown paths and methods answer in the common shape
    document = ingress_openapi(app.title, app.version)
    app.openapi = lambda: document  # type: ignore[method-assign]
    app.include_router(ops_router({"nats": nats_check(broker), "config": runtime.config_loaded}))
    # Spans are recorded when they can be exported, or when the caller brings its provider.
    record = tracer_provider is not None or settings.effective_trace_sample_ratio > 0
    trace_requests(app, provider, record=record)
    return app


def _bootstrap(settings: IngressSettings) -> TracerProvider:
    """`libs.common.service.bootstrap`, with the sampling ratio of the settings."""
    configure_logging(SERVICE, level=settings.log_level, json=settings.log_json)
    return setup_tracing(
        SERVICE,
        otlp_endpoint=settings.otlp_endpoint,
        sample_ratio=settings.effective_trace_sample_ratio,
    )
