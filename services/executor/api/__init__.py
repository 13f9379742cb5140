"""The exchange-accounts API (the accounts role): thin routes over `AccountService`."""
