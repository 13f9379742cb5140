"""The ingress's domain."""
