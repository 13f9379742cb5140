"""The notifier's HTTP routes: channels (tenant API), signal sources and Telegram's webhook."""
