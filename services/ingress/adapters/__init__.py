"""The ingress's adapters."""
