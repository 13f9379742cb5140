"""Exchange accounts: a tenant's accounts and their keys in Vault, validated, published to the
``accounts`` bucket, purged with their tenant; and, for the order path, an account's exchange
session with its own keys. The accounts role's room."""
