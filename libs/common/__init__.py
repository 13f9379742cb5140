"""Contracts every Sparky service shares: settings, ids, messages, NATS topology, telemetry."""
