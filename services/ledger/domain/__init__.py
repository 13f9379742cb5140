"""The ledger's domain."""
