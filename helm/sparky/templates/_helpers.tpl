{{/*
Names, labels, images and the environment every Sparky pod gets.
Component helpers take (dict "root" $ "name" "<service>").
*/}}

{{- define "sparky.fullname" -}}
{{- if contains "sparky" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-sparky" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sparky.componentName" -}}
{{- printf "%s-%s" (include "sparky.fullname" .root) .name -}}
{{- end -}}

{{- define "sparky.instanceLabels" -}}
app.kubernetes.io/name: sparky
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sparky.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{ include "sparky.instanceLabels" . }}
app.kubernetes.io/part-of: sparky
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "sparky.selectorLabels" -}}
{{ include "sparky.instanceLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "sparky.labels" -}}
{{ include "sparky.commonLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* The services this release runs, in a fixed order. */}}
{{- define "sparky.enabledServices" -}}
{{- $names := list "ingress" "router" "executor" "accounts" "ledger" "billing" "web" "notifier" -}}
{{- if .Values.services.paper.enabled -}}{{- $names = append $names "paper" -}}{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* The services the ingress controller may reach: not the executor (trading), which serves
no tenant API; the exchange-accounts API (accounts) does; the web app on a host of its own;
the notifier only when Telegram reaches it (its webhook mode, /telegram/webhook). */}}
{{- define "sparky.publicServices" -}}
ingress router accounts ledger billing web
{{- if include "sparky.telegramWebhook" . }} notifier{{ end }}
{{- end -}}

{{/* "true" when Telegram pushes the bot's updates to the notifier (webhook mode) rather than
the notifier polling Telegram; empty otherwise. */}}
{{- define "sparky.telegramWebhook" -}}
{{- $t := .Values.services.notifier.telegram -}}
{{- if and $t.botTokenSecret.name (eq $t.mode "webhook") -}}true{{- end -}}
{{- end -}}

{{/* The APIs the notifier calls as a tenant (SPARKY_NOTIFIER_<NAME>_URL) with the API key it
holds for that tenant: the bot's answers (exchange accounts too), the kill switch, signal
posts through ingress. */}}
{{- define "sparky.notifierCalls" -}}
billing router ledger ingress accounts
{{- end -}}

{{/* The APIs the web app calls as the signed-in tenant (SPARKY_WEB_<NAME>_URL), and the only
pods it may reach besides Postgres, DNS and its SMTP server. */}}
{{- define "sparky.webCalls" -}}
billing router ledger accounts ingress notifier
{{- end -}}

{{/* The services that hold a Vault identity, and so a mounted ServiceAccount token. */}}
{{- define "sparky.vaultServices" -}}
executor accounts
{{- end -}}

{{/* The code a component runs (services.<program>, image <repository>-<program>): accounts,
the exchange-accounts API, is the executor's code in its accounts role. */}}
{{- define "sparky.program" -}}
{{- if eq .name "accounts" -}}executor{{- else -}}{{ .name }}{{- end -}}
{{- end -}}

{{/* The services that own a Postgres schema, each migrated by its own Job. */}}
{{- define "sparky.databaseServices" -}}
router executor ledger billing web notifier
{{- end -}}

{{- define "sparky.image" -}}
{{- $program := include "sparky.program" . -}}
{{- $svc := index .root.Values.services $program -}}
{{- $own := $svc.image | default dict -}}
{{- $repository := printf "%s-%s" (default .root.Values.image.repository $own.repository) $program -}}
{{- if $own.repository -}}{{- $repository = $own.repository -}}{{- end -}}
{{- if $own.digest -}}
{{- printf "%s@%s" $repository $own.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default (default .root.Chart.AppVersion .root.Values.image.tag) $own.tag) -}}
{{- end -}}
{{- end -}}

{{/* One environment variable from a Secret: (dict "var" NAME "ref" (dict "name" … "key" …)). */}}
{{- define "sparky.secretVar" -}}
- name: {{ .var }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s: a Secret name is required" .var) .ref.name }}
      key: {{ required (printf "%s: a Secret key is required" .var) .ref.key }}
{{- end -}}

{{/* A URL given either as a value or by Secret reference: (dict "var" NAME "url" … "secret" …). */}}
{{- define "sparky.urlVar" -}}
{{- if .secret.name -}}
{{ include "sparky.secretVar" (dict "var" .var "ref" .secret) }}
{{- else -}}
- name: {{ .var }}
  value: {{ required (printf "%s: a URL is required" .var) .url | quote }}
{{- end -}}
{{- end -}}

{{- define "sparky.databaseUrlSecret" -}}
{{- $svc := index .root.Values.services .name -}}
{{- toYaml (default .root.Values.postgres.urlSecret $svc.databaseUrlSecret) -}}
{{- end -}}

{{/* The migration login's URL: only the migration Jobs get it. */}}
{{- define "sparky.databaseMigrationUrlSecret" -}}
{{- $svc := index .root.Values.services .name -}}
{{- toYaml (default .root.Values.postgres.migrationUrlSecret $svc.databaseMigrationUrlSecret) -}}
{{- end -}}

{{/* The roles each database service switches to, by kind (libs/common/db_roles.py SERVICE_ROLES). */}}
{{- define "sparky.roleKinds" -}}
{{- $kinds := dict "router" (list "reader" "writer") "executor" (list "api" "writer") "ledger" (list "reader" "writer") "billing" (list "writer") "web" (list "writer") "notifier" (list "api" "writer") -}}
{{- join " " (index $kinds .name) -}}
{{- end -}}

{{/* A service's role names as YAML {kind: name}: databaseRoles, else <prefix>_<service>_<kind>. */}}
{{- define "sparky.databaseRoles" -}}
{{- $svc := index .root.Values.services .name -}}
{{- $prefix := default (replace "-" "_" .root.Values.config.namespace) .root.Values.postgres.rolePrefix -}}
{{- $own := $svc.databaseRoles | default dict -}}
{{- $roles := dict -}}
{{- range $kind := splitList " " (include "sparky.roleKinds" .) -}}
{{- $_ := set $roles $kind (default (printf "%s_%s_%s" $prefix $.name $kind) (index $own $kind)) -}}
{{- end -}}
{{- toYaml $roles -}}
{{- end -}}

{{/* Settings shared by every service (libs/common/config.py ServiceSettings). */}}
{{- define "sparky.sharedEnv" -}}
{{- $c := .Values.config -}}
- name: SPARKY_ENVIRONMENT
  value: {{ $c.environment | quote }}
- name: SPARKY_NAMESPACE
  value: {{ $c.namespace | quote }}
- name: SPARKY_PARTITIONS
  value: {{ $c.partitions | quote }}
{{ include "sparky.urlVar" (dict "var" "SPARKY_NATS_URL" "url" .Values.nats.url "secret" .Values.nats.urlSecret) }}
- name: SPARKY_NATS_REPLICAS
  value: {{ .Values.nats.replicas | quote }}
- name: SPARKY_INTENTS_DUPLICATE_WINDOW_S
  value: {{ $c.intentsDuplicateWindowSeconds | quote }}
- name: SPARKY_EVENTS_MAX_AGE_DAYS
  value: {{ $c.eventsMaxAgeDays | quote }}
- name: SPARKY_HTTP_HOST
  value: "0.0.0.0"
- name: SPARKY_HTTP_PORT
  value: "8000"
- name: SPARKY_LOG_LEVEL
  value: {{ $c.logLevel | quote }}
- name: SPARKY_LOG_JSON
  value: "true"
{{- with $c.otlpEndpoint }}
- name: SPARKY_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- range $var, $value := $c.env }}
- name: {{ $var }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* The runtime login and the roles; no migration at start-up: the Jobs migrate, with the
migration login the pods never see. */}}
{{- define "sparky.databaseEnv" -}}
{{- $prefix := printf "SPARKY_%s_" (upper .name) -}}
{{ include "sparky.secretVar" (dict "var" "SPARKY_DATABASE_URL" "ref" (include "sparky.databaseUrlSecret" . | fromYaml)) }}
- name: {{ $prefix }}DATABASE_SCHEMA
  value: {{ .name | quote }}
- name: SPARKY_MIGRATE_ON_START
  value: "false"
{{- range $kind, $role := include "sparky.databaseRoles" . | fromYaml }}
- name: {{ $prefix }}{{ upper $kind }}_ROLE
  value: {{ $role | quote }}
{{- end }}
{{- end -}}

{{- define "sparky.redisEnv" -}}
{{ include "sparky.urlVar" (dict "var" "SPARKY_REDIS_URL" "url" .Values.redis.url "secret" .Values.redis.urlSecret) }}
{{- end -}}

{{/* What one service needs beyond the shared settings. */}}
{{- define "sparky.serviceEnv.ingress" -}}
{{ include "sparky.redisEnv" .root }}
- name: SPARKY_INGRESS_TRUSTED_PROXY_HOPS
  value: {{ .root.Values.services.ingress.trustedProxyHops | quote }}
{{- end -}}

{{- define "sparky.serviceEnv.router" -}}
{{ include "sparky.databaseEnv" . }}
{{ include "sparky.redisEnv" .root }}
- name: SPARKY_ROUTER_REPLICA_COUNT
  value: {{ .root.Values.services.router.replicas | quote }}
- name: SPARKY_ROUTER_REPLICA_INDEX_FROM_HOSTNAME
  value: "true"
{{ include "sparky.secretVar" (dict "var" "SPARKY_ORDER_SIGNING_KEY" "ref" .root.Values.orderSigning.routerKeySecret) }}
{{- end -}}

{{/* Vault for one identity: (dict "root" $ "identity" "read"|"write"). The trading pods get
only the read role, the accounts pods only the write role: each ServiceAccount is bound to one. */}}
{{- define "sparky.vaultEnv" -}}
{{- $v := .root.Values.vault -}}
{{- if and (eq .root.Values.config.environment "prod") (not (hasPrefix "https://" $v.url)) }}
{{- fail "vault.url must be https:// when config.environment is prod: exchange keys travel on it" }}
{{- end -}}
- name: SPARKY_EXECUTOR_VAULT_URL
  value: {{ $v.url | quote }}
{{- if $v.caConfigMap }}
- name: SPARKY_EXECUTOR_VAULT_CA_CERT
  value: {{ printf "/etc/sparky/vault-ca/%s" $v.caKey | quote }}
{{- end }}
- name: SPARKY_EXECUTOR_VAULT_MOUNT
  value: {{ $v.mount | quote }}
- name: SPARKY_EXECUTOR_VAULT_PREFIX
  value: {{ $v.prefix | quote }}
- name: SPARKY_EXECUTOR_VAULT_KUBERNETES_MOUNT
  value: {{ $v.kubernetesMount | quote }}
{{- if eq .identity "read" }}
- name: SPARKY_EXECUTOR_VAULT_AUTH
  value: kubernetes
- name: SPARKY_EXECUTOR_VAULT_KUBERNETES_ROLE
  value: {{ $v.readRole | quote }}
{{- else }}
- name: SPARKY_EXECUTOR_VAULT_WRITE_AUTH
  value: kubernetes
- name: SPARKY_EXECUTOR_VAULT_WRITE_KUBERNETES_ROLE
  value: {{ $v.writeRole | quote }}
{{- end }}
{{- if .root.Values.services.paper.enabled }}
- name: SPARKY_EXECUTOR_PAPER_EXCHANGE_URL
  value: {{ printf "http://%s:8000" (include "sparky.componentName" (dict "root" .root "name" "paper")) | quote }}
{{- end }}
{{- end -}}

{{/* The executor, trading: the ORDERS consumer and the tracker; Vault read only; no tenant API. */}}
{{- define "sparky.serviceEnv.executor" -}}
{{ include "sparky.databaseEnv" . }}
- name: SPARKY_EXECUTOR_ROLE
  value: trading
- name: SPARKY_EXECUTOR_REPLICA_COUNT
  value: {{ .root.Values.services.executor.replicas | quote }}
- name: SPARKY_EXECUTOR_REPLICA_INDEX_FROM_HOSTNAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{ include "sparky.vaultEnv" (dict "root" .root "identity" "read") }}
{{- $keys := .root.Values.orderSigning }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_EXECUTOR_ORDER_VERIFY_KEY_ROUTER" "ref" (default $keys.routerKeySecret $keys.routerVerifyKeySecret)) }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_EXECUTOR_ORDER_VERIFY_KEY_LEDGER" "ref" (default $keys.ledgerKeySecret $keys.ledgerVerifyKeySecret)) }}
{{- end -}}

{{/* The exchange-accounts API: the executor's code in its accounts role, Vault write; no
order keys (it verifies no commands). */}}
{{- define "sparky.serviceEnv.accounts" -}}
{{ include "sparky.databaseEnv" (dict "root" .root "name" "executor") }}
- name: SPARKY_EXECUTOR_ROLE
  value: accounts
- name: SPARKY_EXECUTOR_EXCHANGE_WEIGHT_SHARE
  value: {{ .root.Values.services.accounts.exchangeWeightShare | quote }}
{{ include "sparky.vaultEnv" (dict "root" .root "identity" "write") }}
{{- if .root.Values.services.paper.enabled }}
{{- /* Tenants open paper accounts themselves (POST /api/v1/exchange-accounts/paper). */}}
{{ include "sparky.secretVar" (dict "var" "SPARKY_EXECUTOR_PAPER_ADMIN_TOKEN" "ref" .root.Values.services.paper.adminTokenSecret) }}
{{- end }}
{{- end -}}

{{- define "sparky.serviceEnv.ledger" -}}
{{ include "sparky.databaseEnv" . }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_ORDER_SIGNING_KEY" "ref" .root.Values.orderSigning.ledgerKeySecret) }}
{{- end -}}

{{- define "sparky.serviceEnv.billing" -}}
{{- $b := .root.Values.services.billing -}}
{{ include "sparky.databaseEnv" . }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_BILLING_OPERATOR_TOKEN" "ref" $b.operatorTokenSecret) }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_OPERATOR_TOKEN" "ref" $b.operatorTokenSecret) }}
- name: SPARKY_BILLING_URL
  value: "http://127.0.0.1:8000"
- name: SPARKY_BILLING_PUBLIC_BASE_URL
  value: {{ default (printf "https://%s" .root.Values.ingress.host) $b.publicBaseUrl | quote }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_BILLING_SIGNUP_TOKEN" "ref" .root.Values.services.web.signupTokenSecret) }}
{{- with $b.stripe.apiKeySecret }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_BILLING_STRIPE_API_KEY" "ref" .) }}
{{- end }}
{{- with $b.stripe.webhookSecretSecret }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_BILLING_STRIPE_WEBHOOK_SECRET" "ref" .) }}
{{- end }}
{{- end -}}

{{/* The web app: the tenant APIs by their Services, billing's sign-up credential, its data
key, SMTP; no NATS, no Redis, no Vault. */}}
{{- define "sparky.serviceEnv.web" -}}
{{- $w := .root.Values.services.web -}}
{{ include "sparky.databaseEnv" . }}
{{- range $name := splitList " " (include "sparky.webCalls" .root) }}
- name: SPARKY_WEB_{{ upper $name }}_URL
  value: {{ printf "http://%s:8000" (include "sparky.componentName" (dict "root" $.root "name" $name)) | quote }}
{{- end }}
- name: SPARKY_WEB_PUBLIC_URL
  value: {{ printf "https://%s" $w.ingress.host | quote }}
- name: SPARKY_WEB_WEBHOOK_BASE_URL
  value: {{ default (printf "https://%s" .root.Values.ingress.host) .root.Values.services.billing.publicBaseUrl | quote }}
- name: SPARKY_WEB_COOKIE_SECURE
  value: "true"
{{ include "sparky.secretVar" (dict "var" "SPARKY_WEB_SIGNUP_TOKEN" "ref" $w.signupTokenSecret) }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_WEB_DATA_KEY" "ref" $w.dataKeySecret) }}
- name: SPARKY_WEB_SMTP_HOST
  value: {{ required "services.web.smtp.host is required" $w.smtp.host | quote }}
- name: SPARKY_WEB_SMTP_PORT
  value: {{ $w.smtp.port | quote }}
- name: SPARKY_WEB_SMTP_SECURITY
  value: {{ $w.smtp.security | quote }}
- name: SPARKY_WEB_MAIL_FROM
  value: {{ $w.smtp.mailFrom | quote }}
{{- with $w.smtp.username }}
- name: SPARKY_WEB_SMTP_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- with $w.smtp.passwordSecret }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_WEB_SMTP_PASSWORD" "ref" .) }}
{{- end }}
{{- end -}}

{{/* The notifier: EVENTS through its NATS user, the APIs it calls as a tenant, its data key,
SMTP, and Telegram only when a bot token is given (services.notifier.telegram). */}}
{{- define "sparky.serviceEnv.notifier" -}}
{{- $n := .root.Values.services.notifier -}}
{{ include "sparky.databaseEnv" . }}
{{- range $name := splitList " " (include "sparky.notifierCalls" .root) }}
- name: SPARKY_NOTIFIER_{{ upper $name }}_URL
  value: {{ printf "http://%s:8000" (include "sparky.componentName" (dict "root" $.root "name" $name)) | quote }}
{{- end }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_NOTIFIER_DATA_KEY" "ref" $n.dataKeySecret) }}
- name: SPARKY_NOTIFIER_SMTP_HOST
  value: {{ required "services.notifier.smtp.host is required" $n.smtp.host | quote }}
- name: SPARKY_NOTIFIER_SMTP_PORT
  value: {{ $n.smtp.port | quote }}
- name: SPARKY_NOTIFIER_SMTP_SECURITY
  value: {{ $n.smtp.security | quote }}
- name: SPARKY_NOTIFIER_MAIL_FROM
  value: {{ $n.smtp.mailFrom | quote }}
{{- with $n.smtp.username }}
- name: SPARKY_NOTIFIER_SMTP_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- with $n.smtp.passwordSecret }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_NOTIFIER_SMTP_PASSWORD" "ref" .) }}
{{- end }}
{{- $t := $n.telegram }}
{{- if $t.botTokenSecret.name }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN" "ref" $t.botTokenSecret) }}
- name: SPARKY_NOTIFIER_TELEGRAM_BOT_USERNAME
  value: {{ required "services.notifier.telegram.botUsername is required with a bot token" $t.botUsername | quote }}
- name: SPARKY_NOTIFIER_TELEGRAM_API_URL
  value: {{ $t.apiUrl | quote }}
- name: SPARKY_NOTIFIER_TELEGRAM_MODE
  value: {{ $t.mode | quote }}
{{- if eq $t.mode "webhook" }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_NOTIFIER_TELEGRAM_WEBHOOK_SECRET" "ref" $t.webhookSecretSecret) }}
- name: SPARKY_NOTIFIER_TELEGRAM_WEBHOOK_URL
  value: {{ printf "https://%s" .root.Values.ingress.host | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "sparky.serviceEnv.paper" -}}
{{ include "sparky.secretVar" (dict "var" "SPARKY_PAPER_ADMIN_TOKEN" "ref" .root.Values.services.paper.adminTokenSecret) }}
- name: SPARKY_PAPER_STATE_PATH
  value: /data/paper.sqlite3
- name: SPARKY_PAPER_PRICE_SOURCE
  value: {{ .root.Values.services.paper.priceSource | quote }}
{{- end -}}

{{/* The service's own NATS user (libs/common/nats_access.py): the paper exchange has none. */}}
{{- define "sparky.natsUserEnv" -}}
{{- $users := .root.Values.nats.users -}}
{{- if and $users.enabled (has .name (list "ingress" "router" "executor" "accounts" "ledger" "billing" "notifier")) }}
- name: SPARKY_NATS_USER
  value: {{ .name | quote }}
{{ include "sparky.secretVar" (dict "var" "SPARKY_NATS_PASSWORD" "ref" (dict "name" $users.secretName "key" .name)) }}
{{- if $users.caConfigMap }}
- name: SPARKY_NATS_CA_FILE
  value: /etc/sparky/nats-ca/{{ $users.caKey }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "sparky.env" -}}
{{- $svc := index .root.Values.services .name -}}
{{ include "sparky.sharedEnv" .root }}
{{- include "sparky.natsUserEnv" . }}
{{ include (printf "sparky.serviceEnv.%s" .name) . }}
{{- range $var, $value := $svc.env }}
- name: {{ $var }}
  value: {{ $value | quote }}
{{- end }}
{{- range $var, $ref := $svc.secretEnv }}
{{ include "sparky.secretVar" (dict "var" $var "ref" $ref) }}
{{- end }}
{{- end -}}
