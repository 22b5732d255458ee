{{/*
Names and labels.
*/}}
{{- define "s1copilot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "s1copilot.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "s1copilot.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "s1copilot.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "s1copilot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "s1copilot.labels" -}}
helm.sh/chart: {{ include "s1copilot.chart" . }}
app.kubernetes.io/name: {{ include "s1copilot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: s1copilot
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "worker") */}}
{{- define "s1copilot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "s1copilot.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "s1copilot.componentLabels" -}}
{{ include "s1copilot.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "s1copilot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "s1copilot.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "s1copilot.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The Secret every credential comes from. The chart never creates it and takes no
credential as a value: create it with kubectl (README, Kubernetes).
*/}}
{{- define "s1copilot.secretName" -}}
{{- required "existingSecret is required: the name of a Secret holding S1C_S1_TOKEN and the other credentials (README, Kubernetes (Helm))" .Values.existingSecret -}}
{{- end -}}

{{/*
Refuses credentials passed inline through config (values.schema.json refuses them too;
this covers --disable-openapi-validation and schema-less tools).
*/}}
{{- define "s1copilot.checkConfig" -}}
{{- range $where, $m := dict "config" .Values.config "codecServer.config" .Values.codecServer.config -}}
{{- range $k, $v := $m -}}
{{- if and (ne $k "S1C_LLM_PROMPT_TOKENS") (regexMatch "(TOKENS?|SECRET|PASSWORD|API_KEY|_KEYS?)$" (upper $k)) -}}
{{- fail (printf "%s.%s looks like a credential: put it in the Secret named by existingSecret, never in values" $where $k) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* One env var from a key of the existing Secret: (dict "ctx" $ "name" "S1C_S1_TOKEN" "optional" true) */}}
{{- define "s1copilot.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "s1copilot.secretName" .ctx }}
      key: {{ .name }}
      optional: {{ .optional }}
{{- end -}}

{{/*
The Temporal connection of every process: the s1copilot variables and the SDK's standard
TEMPORAL_* variables (go.temporal.io/sdk/contrib/envconfig), with the same values.
*/}}
{{- define "s1copilot.temporalEnv" -}}
{{- $t := .Values.temporal -}}
- name: S1C_TEMPORAL_ADDRESS
  value: {{ $t.address | quote }}
- name: S1C_TEMPORAL_NAMESPACE
  value: {{ $t.namespace | quote }}
- name: S1C_TASK_QUEUE
  value: {{ $t.taskQueue | quote }}
- name: TEMPORAL_ADDRESS
  value: {{ $t.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $t.namespace | quote }}
{{- if or $t.tls.enabled $t.apiKey.enabled $t.tls.clientCertSecret }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- if $t.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ $t.tls.serverName | quote }}
{{- end }}
{{- if $t.apiKey.enabled }}
{{ include "s1copilot.secretEnv" (dict "ctx" . "name" "TEMPORAL_API_KEY" "optional" false) }}
{{- end }}
{{- if $t.tls.clientCertSecret }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/s1copilot/temporal-tls/tls.crt
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/s1copilot/temporal-tls/tls.key
{{- if $t.tls.serverCA }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/s1copilot/temporal-tls/ca.crt
{{- end }}
{{- end }}
{{- if .Values.codec.enabled }}
{{ include "s1copilot.secretEnv" (dict "ctx" . "name" "S1C_CODEC_KEYS" "optional" false) }}
{{- end }}
{{- end -}}

{{/* The plain settings of values.config (credentials are refused above). */}}
{{- define "s1copilot.configEnv" -}}
{{- include "s1copilot.checkConfig" . -}}
{{- range $k, $v := .Values.config }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{- define "s1copilot.policyEnv" -}}
{{- if .Values.policy.enabled }}
- name: S1C_POLICY_FILE
  value: /etc/s1copilot/policy/policy.yaml
{{- end }}
{{- end -}}

{{/* Volume mounts: policy (a directory, never subPath, so ConfigMap updates reach the hot reload), Temporal certs, /tmp. */}}
{{- define "s1copilot.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .policy .ctx.Values.policy.enabled }}
- name: policy
  mountPath: /etc/s1copilot/policy
  readOnly: true
{{- end }}
{{- if .ctx.Values.temporal.tls.clientCertSecret }}
- name: temporal-tls
  mountPath: /etc/s1copilot/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "s1copilot.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and .policy .ctx.Values.policy.enabled }}
- name: policy
  configMap:
    name: {{ default (printf "%s-policy" (include "s1copilot.fullname" .ctx)) .ctx.Values.policy.existingConfigMap }}
{{- end }}
{{- if .ctx.Values.temporal.tls.clientCertSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .ctx.Values.temporal.tls.clientCertSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "s1copilot.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "s1copilot.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Pod-level settings shared by every Deployment. */}}
{{- define "s1copilot.podCommon" -}}
serviceAccountName: {{ include "s1copilot.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- include "s1copilot.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Liveness /healthz, readiness (path) on the named port. */}}
{{- define "s1copilot.probes" -}}
livenessProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 10
  failureThreshold: 3
  timeoutSeconds: 3
readinessProbe:
  httpGet: {path: {{ .readyPath }}, port: {{ .port }}}
  periodSeconds: 5
  failureThreshold: 2
  timeoutSeconds: 3
{{- end -}}
