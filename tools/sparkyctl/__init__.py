"""``sparkyctl``: the operator's command line, a client of billing's operator API.

It talks to billing over HTTP only and imports no service (an import-linter contract says so),
so it runs wherever billing's API answers: an operator's machine, CI, or a billing pod.

There is no server-side bootstrap command: the first operator is the configured token itself
(``SPARKY_BILLING_OPERATOR_TOKEN``, the ``bootstrap`` operator), with which ``sparkyctl operator
create NAME`` adds each person; ``sparkyctl operator revoke bootstrap`` then disables it.
"""
