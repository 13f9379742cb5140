"""One module per channel kind, all behind `services.notifier.channels.base.Channel`."""
