"""Messages in: the projector (EVENTS into Postgres), the consumer it reads through, the
decoding of messages into events, and the rebuild command that replays the stream."""
