# Vault policy of the executors' trading path (role "sparky-executor"): read one account's
# exchange API keys at a time, nothing else: no list, no write, no other path.
#
# Keys live in KV v2 at <mount>/data/<prefix>/<namespace>/tenants/<tenant>/accounts/<hex(label)>;
# this file assumes the chart's defaults: mount "secret", prefix "sparky", namespace "sparky".
# Another deployment namespace (config.namespace) gets its own copy with that segment changed.
path "secret/data/sparky/sparky/tenants/+/accounts/*" {
  capabilities = ["read"]
}
