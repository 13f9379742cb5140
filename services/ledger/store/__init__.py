"""Postgres: the tables, declared once (`tables`), how rows map onto them (`mapping`,
`bulk`), the projector's batches (`batch`), migrations and the engine (`database`)."""
