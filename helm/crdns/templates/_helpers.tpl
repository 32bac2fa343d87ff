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

{{- define "crdns.workers" -}}
{{- .Values.crdns.workers | default 1 | int }}
{{- end }}

{{/* What crdns --listen is given: one socket, or with workers one per worker ({worker} is crdns's token). */}}
{{- define "crdns.listenSocket" -}}
{{- if gt (include "crdns.workers" . | int) 1 }}
{{- printf "unix://%s/crdns-{worker}.sock" (.Values.crdns.socketDir | trimSuffix "/") }}
{{- else }}
{{- printf "unix://%s" (include "crdns.socketPath" .) }}
{{- end }}
{{- end }}

{{/* The local crdns as CoreDNS's grpc plugin lists it: every worker's socket, space-separated. */}}
{{- define "crdns.localTargets" -}}
{{- $n := include "crdns.workers" . | int }}
{{- if gt $n 1 }}
{{- $dir := .Values.crdns.socketDir | trimSuffix "/" }}
{{- $out := list }}
{{- range $i := until $n }}{{ $out = append $out (printf "unix://%s/crdns-%d.sock" $dir $i) }}{{ end }}
{{- join " " $out }}
{{- else }}
{{- printf "unix://%s" (include "crdns.socketPath" .) }}
{{- end }}
{{- end }}

{{/* The peering listener (CoreDNS grpc:// block) is needed to serve peers. */}}
{{- define "crdns.peeringListener" -}}
{{- if .Values.peering.serve }}true{{ end }}
{{- end }}

{{/* With TLS or several workers, fallback goes through two loopback tiers and forward (see corefile). */}}
{{- define "crdns.tieredFallback" -}}
{{- if and .Values.peering.fallbackTo (or .Values.peering.tls.enabled (gt (include "crdns.workers" . | int) 1)) }}true{{ end }}
{{- end }}

{{- define "crdns.peeringTlsUsed" -}}
{{- if and .Values.peering.tls.enabled (or .Values.peering.serve .Values.peering.fallbackTo) }}true{{ end }}
{{- end }}

{{- define "crdns.peeringTlsDir" -}}/etc/crdns/peering-tls{{- end }}
{{- define "crdns.dnssecDir" -}}/etc/coredns/dnssec{{- end }}

{{- define "crdns.peersDir" -}}/etc/crdns/peers{{- end }}

{{/*
The values added with peers, read so that an older release's values work
too: `helm upgrade --reuse-values` hands the templates the values of the
previous chart, without the keys this one added.
*/}}
{{- define "crdns.clusterName" -}}
{{- (.Values.cluster | default dict).name | default "" }}
{{- end }}
{{- define "crdns.peerReader" -}}
{{- if (.Values.peerReader | default dict).create }}true{{ end }}
{{- end }}

{{/*
Peers as a JSON list of {name, secretName, key, dir}. Checked here what the
schema cannot: names are unique and none is this cluster's own. cluster.name
is required with peers because crdns breaks ties between clusters' objects by
cluster name, and every cluster must break them alike: a cluster calling
itself "local" while its peers call it "a" would not.
*/}}
{{- define "crdns.peers" -}}
{{- $self := include "crdns.clusterName" . }}
{{- if and .Values.peers (not $self) }}
{{- fail "cluster.name: set this cluster's name (the name its peers list it under) when peers are set; clusters break ties by name and must all use the same names" }}
{{- end }}
{{- $seen := dict }}
{{- $out := list }}
{{- range .Values.peers }}
{{- if hasKey $seen .name }}
{{- fail (printf "peers: the name %q is listed more than once; each peer cluster needs a name of its own" .name) }}
{{- end }}
{{- if eq .name $self }}
{{- fail (printf "peers: %q is this cluster's own name (cluster.name); list only the other clusters" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- $out = append $out (dict "name" .name "secretName" .secretName "key" (default "kubeconfig" .key) "dir" (printf "%s/%s" (include "crdns.peersDir" $) .name)) }}
{{- end }}
{{- $out | toJson }}
{{- end }}
