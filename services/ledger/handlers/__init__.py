"""The ledger's handlers."""
