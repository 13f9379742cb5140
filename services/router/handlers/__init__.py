"""Messages in: intents (read, decide, commit, publish) and the executor's fills and drifts
that keep the known positions."""
