"""The router's api."""
