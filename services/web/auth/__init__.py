"""Sign-up, sign-in and recovery: sessions, passwords, mail links, TOTP, throttling."""
