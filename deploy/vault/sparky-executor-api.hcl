# Vault policy of the executor's exchange-accounts API (role "sparky-executor-api"): store and
# replace an account's keys, read them back to validate them against the exchange, and delete
# them with the account, or with every account of a tenant billing deleted (the accounts
# process's executor-tenants consumer, on tenant.deleted). No list:
# nobody can enumerate tenants' accounts; a purge deletes the paths of the rows it finds.
#
# Same layout and defaults as sparky-executor.hcl.
path "secret/data/sparky/sparky/tenants/+/accounts/*" {
  capabilities = ["create", "update", "read"]
}

# Deleting an account removes every version of its keys and their metadata (DELETE on the
# metadata path; a soft delete of data/ would leave versions that could be undeleted).
path "secret/metadata/sparky/sparky/tenants/+/accounts/*" {
  capabilities = ["delete"]
}
