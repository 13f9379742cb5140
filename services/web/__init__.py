"""The trader's web app: sign-up, sign-in and recovery, and the signed-in pages (onboarding,
alerts, positions, strategies, settings, the account hub), server-rendered, acting as the
signed-in tenant on the other services' APIs (docs/web.md).

Rooms: `app` (wiring and lifespan) · `config` · `runtime` (`Runtime`, the long-lived object) ·
`api/` (routes, HTML pages: one module per page group) · `store` (its tables, declared once,
and the transactions on them) · `errors`. `auth/` holds the accounts (users, sessions,
passwords, TOTP, throttles, provisioning); `tenant_api` and `tenant_keys` act as the tenant;
`chart`, `sse` and `templates_tv` are its pure pieces. No `handlers` (it consumes no
messages), no `domain` beyond those, no `fsm`.
"""
