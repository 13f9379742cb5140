"""Subscription (account hub tab): plan, usage against limits, the standing in words, and the
links to Stripe Checkout and the customer portal.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api.common import form_of, refused_status, render
from services.web.errors import ApiError
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]

SUBSCRIPTION = "/account/subscription"


def standing(tenant: dict[str, Any]) -> str:
    """The payment standing in words."""
    state, ends = tenant.get("payment_state"), tenant.get("grace_ends_at")
    if tenant.get("status") == "suspended":
        return "Your account is suspended: alerts are refused. Contact us."
    if state == "grace":
        return (
            f"Your last payment failed. The {tenant['plan']} plan stays in force until {ends}: "
            "update your payment method in the portal to keep it."
        )
    if state == "lapsed":
        return (
            f"Your payment lapsed: the {tenant['plan_in_force']} plan's limits apply until you pay."
        )
    return f"You are on the {tenant['plan']} plan, in good standing."


async def _subscription(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    error: str | None = None,
    status: int = 200,
    link: dict[str, str] | None = None,
) -> Response:
    tenant = await api.get("billing", "/api/v1/account")
    usage = await api.get("billing", "/api/v1/usage")
    context = {
        "tenant": tenant,
        "standing": standing(tenant),
        "usage": usage,
        "today": usage[-1] if usage else None,
        "error": error,
        "link": link,
        "tab": "subscription",
    }
    return await render(request, "account/subscription.html", context, me=me, status_code=status)


@router.get(SUBSCRIPTION)
async def subscription(request: Request, me: Me, api: Api) -> Response:
    """Plan, usage against limits, the way to Checkout and the portal, standing in words."""
    return await _subscription(request, me, api)


async def _stripe(request: Request, me: SignedIn, api: TenantApi, path: str, body: Any) -> Response:
    try:
        link = await api.post("billing", path, json=body)
    except ApiError as exc:
        return await _subscription(request, me, api, error=exc.message, status=refused_status(exc))
    url = str(link["url"])
    if not url.startswith(("https://", "http://")):
        return await _subscription(
            request, me, api, error="The payment provider gave no usable link.", status=502
        )
    # A link, not a redirect: the CSP's form-action 'self' stops a form's redirect elsewhere.
    what = "Stripe Checkout" if path.endswith("checkout") else "the billing portal"
    return await _subscription(request, me, api, link={"url": url, "what": what})


@router.post(SUBSCRIPTION + "/checkout")
async def checkout(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Off to Stripe Checkout to subscribe to a plan."""
    form = await form_of(request)
    return await _stripe(
        request, me, api, "/api/v1/billing/checkout", {"plan": form.get("plan", "")}
    )


@router.post(SUBSCRIPTION + "/portal")
async def portal(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Off to Stripe's portal: invoices, card, cancellation."""
    return await _stripe(request, me, api, "/api/v1/billing/portal", None)
