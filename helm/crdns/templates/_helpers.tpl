{{/* Names and labels shared by every template. */}}

{{- define "crdns.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "crdns.fullname" -}}
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

{{- define "crdns.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "crdns.selectorLabels" -}}
app.kubernetes.io/name: {{ include "crdns.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "crdns.labels" -}}
helm.sh/chart: {{ include "crdns.chart" . }}
{{ include "crdns.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: crdns
{{- end }}

{{- define "crdns.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "crdns.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag or repository@digest; crdns's tag defaults to the appVersion. */}}
{{- define "crdns.image" -}}
{{- $img := index . 0 }}{{ $default := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (toString (default $default $img.tag)) }}
{{- end }}
{{- end }}

{{/* Zones without a trailing dot, lower-cased, validated non-empty. */}}
{{- define "crdns.zones" -}}
{{- if not .Values.zones }}
{{- fail "zones: name at least one zone crdns is authoritative for (--set zones={example.org})" }}
{{- end }}
{{- $out := list }}
{{- range .Values.zones }}
{{- $z := . | toString | trim | lower | trimSuffix "." }}
{{- if eq $z "" }}{{ $z = "." }}{{ end }}
{{- $out = append $out $z }}
{{- end }}
{{- $out | uniq | toJson }}
{{- end }}

{{- define "crdns.socketPath" -}}
{{- printf "%s/crdns.sock" (.Values.crdns.socketDir | trimSuffix "/") }}
{{- end }}

{{/* The peering listener (CoreDNS grpc:// block) is needed to serve peers. */}}
{{- define "crdns.peeringListener" -}}
{{- if .Values.peering.serve }}true{{ end }}
{{- end }}

{{/* With TLS, fallback goes through two loopback tiers and forward (see corefile). */}}
{{- define "crdns.tieredFallback" -}}
{{- if and .Values.peering.fallbackTo .Values.peering.tls.enabled }}true{{ end }}
{{- end }}

{{- define "crdns.peeringTlsUsed" -}}
{{- if and .Values.peering.tls.enabled (or .Values.peering.serve .Values.peering.fallbackTo) }}true{{ end }}
{{- end }}

{{- define "crdns.peeringTlsDir" -}}/etc/crdns/peering-tls{{- end }}
{{- define "crdns.dnssecDir" -}}/etc/coredns/dnssec{{- end }}
