"""The notifier: tells traders what happened (fills, rejections, failures…) on the channels they
verified (Telegram, Discord, email, a signed webhook), and runs the Telegram bot (issue 19)."""
