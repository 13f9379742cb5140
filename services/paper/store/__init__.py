"""The state file (SQLite, WAL): the connections, the tables, rows to values and back, and what
one write transaction does, spot and futures."""
