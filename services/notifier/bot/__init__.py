"""The Telegram bot: linking, commands, signal channels."""
