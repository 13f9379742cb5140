"""The trader's web app: sign-up, sign-in and recovery, and the signed-in pages (onboarding,
alerts, positions, strategies, settings, the account hub), server-rendered, acting as the
signed-in tenant on the other services' APIs (docs/web.md).
"""
