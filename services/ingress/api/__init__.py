"""The ingress's api."""
