{{/*
The pod template of one service: (dict "root" $ "name" "<service>").
Non-root, read-only root filesystem, probes on /healthz and /readyz, a pause before SIGTERM so
the endpoint is gone from every load balancer before the server stops accepting.
*/}}
{{- define "sparky.podTemplate" -}}
{{- $root := .root -}}
{{- $svc := index $root.Values.services .name -}}
{{- $p := $root.Values.probes -}}
{{- $vault := has .name (include "sparky.vaultServices" $root | splitList " ") -}}
metadata:
  labels:
    {{- include "sparky.labels" . | nindent 4 }}
  {{- with $svc.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "sparky.componentName" . }}
  # Only executor (read role) and accounts (write role) pods log in to Vault with their
  # ServiceAccount token.
  automountServiceAccountToken: {{ $vault }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: 30
  {{- with $svc.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  containers:
    - name: {{ .name }}
      image: {{ include "sparky.image" . | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      command: ["python", "-m", "services.{{ include "sparky.program" . }}"]
      env:
        {{- include "sparky.env" . | nindent 8 }}
      ports:
        - name: http
          containerPort: 8000
          protocol: TCP
      startupProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: 5
        timeoutSeconds: {{ $p.timeoutSeconds }}
        failureThreshold: {{ $p.startupFailureThreshold }}
      livenessProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: {{ $p.livenessPeriodSeconds }}
        timeoutSeconds: {{ $p.timeoutSeconds }}
        failureThreshold: 3
      readinessProbe:
        httpGet: {path: /readyz, port: http}
        periodSeconds: {{ $p.readinessPeriodSeconds }}
        timeoutSeconds: {{ $p.timeoutSeconds }}
        failureThreshold: 3
      lifecycle:
        preStop:
          exec:
            command: ["sleep", "5"]
      resources:
        {{- toYaml $svc.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if eq .name "paper" }}
        - name: data
          mountPath: /data
        {{- end }}
        {{- if and $vault $root.Values.vault.caConfigMap }}
        - name: vault-ca
          mountPath: /etc/sparky/vault-ca
          readOnly: true
        {{- end }}
        {{- if and (ne .name "paper") $root.Values.nats.users.enabled $root.Values.nats.users.caConfigMap }}
        - name: nats-ca
          mountPath: /etc/sparky/nats-ca
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if and $vault $root.Values.vault.caConfigMap }}
    - name: vault-ca
      configMap:
        name: {{ $root.Values.vault.caConfigMap }}
    {{- end }}
    {{- if and (ne .name "paper") $root.Values.nats.users.enabled $root.Values.nats.users.caConfigMap }}
    - name: nats-ca
      configMap:
        name: {{ $root.Values.nats.users.caConfigMap }}
    {{- end }}
    {{- if eq .name "paper" }}
    - name: data
      {{- if $svc.persistence.existingClaim }}
      persistentVolumeClaim:
        claimName: {{ $svc.persistence.existingClaim }}
      {{- else }}
      emptyDir:
        sizeLimit: 1Gi
      {{- end }}
    {{- end }}
  {{- with $svc.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  topologySpreadConstraints:
    {{- if $svc.topologySpreadConstraints }}
    {{- toYaml $svc.topologySpreadConstraints | nindent 4 }}
    {{- else }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "sparky.selectorLabels" . | nindent 10 }}
    {{- end }}
{{- end -}}
