{{/* Names and labels, as `helm create` names them, so the chart reads like any other. */}}
{{- define "mcp-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mcp-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "mcp-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mcp-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "mcp-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mcp-gateway.hazelcastName" -}}
{{- printf "%s-hazelcast" (include "mcp-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gateway.hazelcastSelectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: hazelcast
{{- end }}

{{/* Hazelcast members the gateway connects to: the release's own cluster, or an existing one. */}}
{{- define "mcp-gateway.hazelcastMembers" -}}
{{- if .Values.hazelcast.enabled }}
{{- list (printf "%s.%s.svc:5701" (include "mcp-gateway.hazelcastName" .) .Release.Namespace) | toJson }}
{{- else }}
{{- .Values.hazelcast.externalMembers | toJson }}
{{- end }}
{{- end }}

{{/*
The gateway's configuration: `config` from the values with the keys the chart owns set from
`ports` (and the session store from `hazelcast`), so the configuration, the command line, the
probes and Envoy's bootstrap cannot disagree about a port.
*/}}
{{- define "mcp-gateway.config" -}}
{{- $cfg := deepCopy (default (dict) .Values.config) }}
{{- $_ := set $cfg "server" (mergeOverwrite (default (dict) $cfg.server) (dict "host" "0.0.0.0" "port" (int .Values.ports.broker))) }}
{{- $_ := set $cfg "admin" (mergeOverwrite (default (dict) $cfg.admin) (dict "host" "0.0.0.0" "port" (int .Values.ports.admin))) }}
{{- $members := include "mcp-gateway.hazelcastMembers" . | fromJsonArray }}
{{- if $members }}
{{- $sessions := default (dict) $cfg.sessions }}
{{- $hz := mergeOverwrite (default (dict) $sessions.hazelcast) (dict "clusterName" .Values.hazelcast.clusterName "members" $members) }}
{{- $_ := set $cfg "sessions" (mergeOverwrite $sessions (dict "store" "hazelcast" "hazelcast" $hz)) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* Refusals of values that would render a broken installation, each naming the value to change. */}}
{{- define "mcp-gateway.checks" -}}
{{- $cfg := include "mcp-gateway.config" . | fromYaml }}
{{- $store := dig "sessions" "store" "memory" $cfg }}
{{- if and (eq $store "memory") (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- fail "more than one gateway replica needs a shared session store: set hazelcast.enabled=true or hazelcast.externalMembers (or replicaCount=1 without autoscaling)" }}
{{- end }}
{{- if and .Values.hazelcast.enabled .Values.hazelcast.externalMembers }}
{{- fail "hazelcast.enabled and hazelcast.externalMembers exclude each other: pick the release's own cluster or an existing one" }}
{{- end }}
{{- $ports := list }}
{{- range $name, $port := .Values.ports }}
{{- $ports = append $ports (int $port) }}
{{- end }}
{{- if ne (len $ports) (len (uniq $ports)) }}
{{- fail (printf "ports must all differ, got %s" (toJson .Values.ports)) }}
{{- end }}
{{- end }}

{{/*
Envoy's bootstrap: the project's envoy/envoy.yaml (files/envoy.yaml links to it), with its tagged
ports (`# PORT:<name>`) set from `ports` and the MCP listener on every address of the pod. The
gateway's clusters stay on 127.0.0.1: the gateway runs in the same pod.
*/}}
{{- define "mcp-gateway.envoyConfig" -}}
{{- $text := .Files.Get "files/envoy.yaml" }}
{{- if not $text }}
{{- fail "files/envoy.yaml is empty or missing: it links to the repository's envoy/envoy.yaml; package the chart from a checkout" }}
{{- end }}
{{- $ports := dict "admin" .Values.ports.envoyAdmin "listener" .Values.ports.mcp "extproc" .Values.ports.extproc "broker" .Values.ports.broker "xds" .Values.ports.xds }}
{{- range $name, $port := $ports }}
{{- $tag := printf "port_value: \\d+ \\} # PORT:%s\\b" $name }}
{{- if not (regexMatch $tag $text) }}
{{- fail (printf "envoy.yaml has no port tagged PORT:%s" $name) }}
{{- end }}
{{- $text = regexReplaceAll $tag $text (printf "port_value: %d } # PORT:%s" (int $port) $name) }}
{{- end }}
{{- $listener := "\\{ address: [^,]+, (port_value: \\d+ \\} # PORT:listener)" }}
{{- if not (regexMatch $listener $text) }}
{{- fail "envoy.yaml has no listener address tagged PORT:listener" }}
{{- end }}
{{- regexReplaceAll $listener $text "{ address: 0.0.0.0, ${1}" }}
{{- end }}
