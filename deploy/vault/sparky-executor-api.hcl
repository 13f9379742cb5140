# Vault policy of the executor's exchange-accounts API (role "sparky-executor-api"): store and
# replace an account's keys, read them back to validate them against the exchange, and delete
# them with the account. No list: nobody can enumerate tenants' accounts.
#
# Same layout and defaults as sparky-executor.hcl.
path "secret/data/sparky/sparky/tenants/+/accounts/*" {
  capabilities = ["create", "update", "read"]
}

# Deleting an account removes every version of its keys (DELETE on the metadata path).
path "secret/metadata/sparky/sparky/tenants/+/accounts/*" {
  capabilities = ["delete"]
}
