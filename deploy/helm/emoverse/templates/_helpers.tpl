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
Call with (dict "root" $ "serviceName" "gateway" "ep" "cpu" "grpcPort" 50051 "metricsPort" 9464 "extra" (dict)).
*/}}
{{- define "emoverse.env" -}}
- name: NATS_URL
  value: {{ include "emoverse.natsUrl" .root | quote }}
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
{{- if .grpcPort }}
- name: EMOVERSE_GRPC_PORT
  value: {{ .grpcPort | quote }}
{{- end }}
{{- if .metricsPort }}
- name: EMOVERSE_METRICS_PORT
  value: {{ .metricsPort | quote }}
{{- end }}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
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
{{- end }}

{{- define "emoverse.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}
