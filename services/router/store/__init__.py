"""The router's store."""
