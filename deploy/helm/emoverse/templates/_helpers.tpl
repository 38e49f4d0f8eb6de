{{/*
Names and labels. Mirrors packages/k8s/src/private/names.ts: objects are named <release>-<component>.
Call with (dict "root" $ "component" "gateway").
*/}}
{{- define "emoverse.selectorLabels" -}}
app.kubernetes.io/name: emoverse
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "emoverse.labels" -}}
{{ include "emoverse.selectorLabels" . }}
app.kubernetes.io/part-of: emoverse
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: emoverse-{{ .root.Chart.Version }}
{{- end }}

{{/* NATS URL: the embedded StatefulSet's Service or nats.url (env.ts natsUrl). */}}
{{- define "emoverse.natsUrl" -}}
{{- if eq .Values.nats.mode "external" -}}
{{ .Values.nats.url }}
{{- else -}}
nats://{{ .Release.Name }}-nats.{{ .Release.Namespace }}.svc:{{ .Values.nats.clientPort }}
{{- end -}}
{{- end }}

{{/*
The env every container gets (env.ts containerEnv).
Call with (dict "root" $ "serviceName" "gateway" "identity" "gateway" "gatewayAuth" true "ep" "cpu" "grpcPort" 50051
"metricsPort" 9464 "healthPort" 9465 "extra" (dict)); identity is the NATS user the pod connects as. A gRPC server
(grpcPort set) also gets its TLS files (certificates.ts grpcTlsEnv).
*/}}
{{- define "emoverse.env" -}}
- name: NATS_URL
  value: {{ include "emoverse.natsUrl" .root | quote }}
{{ include "emoverse.natsClientEnv" (dict "root" .root "identity" .identity) }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .root.Values.telemetry.otlpEndpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .serviceName | quote }}
- name: EMOVERSE_TRACE_EXPORTER
  value: {{ if .root.Values.telemetry.otlpEndpoint }}"otlp"{{ else }}"none"{{ end }}
- name: EMOVERSE_EP
  value: {{ .ep | quote }}
- name: EMOVERSE_STORAGE_MODE
  value: {{ .root.Values.storage.mode | quote }}
{{- if eq .root.Values.storage.mode "pvc" }}
- name: EMOVERSE_MODELS_DIR
  value: {{ .root.Values.storage.mountPath | quote }}
{{- else }}
- name: EMOVERSE_OBJECT_STORE_BUCKET
  value: {{ .root.Values.storage.objectStoreBucket | quote }}
{{- end }}
- name: EMOVERSE_STREAM_REPLICAS
  value: {{ .root.Values.nats.streamReplicas | quote }}
{{- if .grpcPort }}
- name: EMOVERSE_GRPC_PORT
  value: {{ .grpcPort | quote }}
{{- end }}
{{- if .metricsPort }}
- name: EMOVERSE_METRICS_PORT
  value: {{ .metricsPort | quote }}
{{- end }}
{{- if .healthPort }}
- name: EMOVERSE_HEALTH_PORT
  value: {{ .healthPort | quote }}
{{- end }}
{{- if and .grpcPort .root.Values.grpcTls.enabled }}
- name: EMOVERSE_TLS_CERT
  value: /etc/emoverse-tls/grpc/tls.crt
- name: EMOVERSE_TLS_KEY
  value: /etc/emoverse-tls/grpc/tls.key
{{- end }}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- if and .gatewayAuth .root.Values.gateway.auth.enabled }}
- name: EMOVERSE_AUTH_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "emoverse.gatewayAuthSecretName" .root | quote }}
      key: token
{{- end }}
{{- range $name, $value := .extra }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/*
requests/limits plus nvidia.com/gpu in limits (workloads.ts resourceRequirements): `gpus` wins over an
nvidia.com/gpu written into limits by hand, and empty maps render as {} rather than null.
*/}}
{{- define "emoverse.resources" -}}
{{- $limits := deepCopy .resources.limits }}
{{- if gt (int .gpus) 0 }}
{{- $_ := set $limits "nvidia.com/gpu" (toString .gpus) }}
{{- end -}}
requests: {{- toYaml .resources.requests | nindent 2 }}
limits: {{- toYaml $limits | nindent 2 }}
{{- end }}

{{- define "emoverse.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "emoverse.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{/* Secret names (secrets.ts): the one the user names, or the one the chart creates. */}}
{{- define "emoverse.natsAuthSecretName" -}}
{{ .Values.nats.auth.existingSecret | default (printf "%s-nats-auth" .Release.Name) }}
{{- end }}

{{- define "emoverse.gatewayAuthSecretName" -}}
{{ .Values.gateway.auth.existingSecret | default (printf "%s-gateway-auth" .Release.Name) }}
{{- end }}

{{- define "emoverse.natsTlsSecretName" -}}
{{ .Values.nats.tls.secretName | default (printf "%s-nats-tls" .Release.Name) }}
{{- end }}

{{- define "emoverse.natsClientTlsSecretName" -}}
{{ .Values.nats.tls.mtls.clientSecretName | default (printf "%s-nats-client-tls" .Release.Name) }}
{{- end }}

{{/*
The NATS identities, in the order of packages/bus's table, read from the generated authorization file the
chart includes: a user added there needs no edit here. A JSON list; use with fromJsonArray.
*/}}
{{- define "emoverse.natsIdentities" -}}
{{- $ids := list }}
{{- range regexFindAll "user: \"[^\"]+\"" (.Files.Get "files/nats-authorization.conf") -1 }}
{{- $ids = append $ids (trimSuffix "\"" (trimPrefix "user: \"" .)) }}
{{- end }}
{{- toJson $ids }}
{{- end }}

{{/* NATS_PASSWORD_<ID>: the variable nats-server reads an identity's password from (permissions.ts passwordVariable). */}}
{{- define "emoverse.natsPasswordVariable" -}}
NATS_PASSWORD_{{ regexReplaceAll "[^A-Z0-9]" (upper .) "_" }}
{{- end }}

{{/*
A generated password or token: a letter, then 31 letters and digits (sprig's crypto-random randAlpha and
randAlphaNum). nats-server reads a password from its environment as config, hence the letter first.
*/}}
{{- define "emoverse.randomSecret" -}}
{{ randAlpha 1 }}{{ randAlphaNum 31 }}
{{- end }}

{{/*
The NATS connection env of a pod (secrets.ts natsClientEnv): its identity's own password key, and the TLS
files. Call with (dict "root" $ "identity" "gateway").
*/}}
{{- define "emoverse.natsClientEnv" -}}
- name: NATS_USER
  value: {{ .identity | quote }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "emoverse.natsAuthSecretName" .root | quote }}
      key: {{ .identity | quote }}
{{- if .root.Values.nats.tls.enabled }}
- name: NATS_TLS_CA
  value: /etc/emoverse-tls/nats/ca.crt
{{- if .root.Values.nats.tls.mtls.enabled }}
- name: NATS_TLS_CERT
  value: /etc/emoverse-tls/nats/tls.crt
- name: NATS_TLS_KEY
  value: /etc/emoverse-tls/nats/tls.key
{{- end }}
{{- end }}
{{- end }}

{{/*
The client TLS volume (secrets.ts natsClientTlsMounts): only ca.crt of the server's Secret, plus the client
certificate with mTLS. A YAML list, empty when TLS is off.
*/}}
{{- define "emoverse.natsClientTlsVolumes" -}}
{{- if .Values.nats.tls.enabled }}
- name: nats-tls
  projected:
    sources:
      - secret:
          name: {{ include "emoverse.natsTlsSecretName" . | quote }}
          items:
            - { key: ca.crt, path: ca.crt }
      {{- if .Values.nats.tls.mtls.enabled }}
      - secret:
          name: {{ include "emoverse.natsClientTlsSecretName" . | quote }}
          items:
            - { key: tls.crt, path: tls.crt }
            - { key: tls.key, path: tls.key }
      {{- end }}
{{- end }}
{{- end }}

{{- define "emoverse.natsClientTlsMounts" -}}
{{- if .Values.nats.tls.enabled }}
- { name: nats-tls, mountPath: /etc/emoverse-tls/nats, readOnly: true }
{{- end }}
{{- end }}

{{/*
The port of a URL (network-policies.ts urlPort): the first of a comma-separated list, without scheme, path
and user info, then :<digits> at the end; .default when there is none. Call with (dict "url" ... "default" 4222).
*/}}
{{- define "emoverse.urlPort" -}}
{{- $u := first (splitList "," .url) }}
{{- $u = regexReplaceAll "^[A-Za-z][A-Za-z0-9+.-]*://" $u "" }}
{{- $u = regexReplaceAll "[/?#].*$" $u "" }}
{{- $u = regexReplaceAll "^.*@" $u "" }}
{{- $port := trimPrefix ":" (regexFind ":[0-9]+$" $u) }}
{{- $port | default .default }}
{{- end }}

{{/*
Egress to NATS's client port (network-policies.ts natsEgress): the release's NATS pods, or any address on an
external URL's port. Call with (dict "root" $ "port" <the client port>).
*/}}
{{- define "emoverse.natsEgress" -}}
{{- if eq .root.Values.nats.mode "external" -}}
- ports:
    - { protocol: TCP, port: {{ .port }} }
{{- else -}}
- to:
    - podSelector:
        matchLabels: {{- include "emoverse.selectorLabels" (dict "root" .root "component" "nats") | nindent 10 }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- end }}
{{- end }}

{{/*
The names a client may dial a Service by (certificates.ts serviceDnsNames), as YAML list items.
Call with (dict "root" $ "service" "gateway").
*/}}
{{- define "emoverse.serviceDnsNames" -}}
{{- $base := printf "%s-%s" .root.Release.Name .service }}
{{- $ns := .root.Release.Namespace -}}
- {{ $base | quote }}
- {{ printf "%s.%s" $base $ns | quote }}
- {{ printf "%s.%s.svc" $base $ns | quote }}
- {{ printf "%s.%s.svc.cluster.local" $base $ns | quote }}
{{- end }}

{{/*
What every cert-manager Certificate's spec shares (certificates.ts certificate): the issuer, the lifetime, and
a new ECDSA key at every renewal. Call with (dict "root" $ "usages" (list "server auth")).
*/}}
{{- define "emoverse.certificateSpec" -}}
issuerRef:
  name: {{ .root.Values.certManager.issuerRef.name | quote }}
  kind: {{ .root.Values.certManager.issuerRef.kind | quote }}
  group: {{ .root.Values.certManager.issuerRef.group | quote }}
duration: {{ .root.Values.certManager.duration | quote }}
renewBefore: {{ .root.Values.certManager.renewBefore | quote }}
privateKey:
  algorithm: ECDSA
  size: 256
  rotationPolicy: Always
usages:
  - digital signature
{{- range .usages }}
  - {{ . }}
{{- end }}
{{- end }}
