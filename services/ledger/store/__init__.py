"""The ledger's store."""
