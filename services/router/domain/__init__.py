"""The router's domain."""
