"""The ledger's api."""
