"""The router's handlers."""
