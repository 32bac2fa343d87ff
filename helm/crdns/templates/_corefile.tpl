{{/*
The Corefile. One zone server block on coredns.ports.dns does everything a
client sees (cache, DNSSEC, metrics) and asks crdns over the unix socket.

What answers what: the local crdns answers for every cluster. With `peers`
it watches every peer's API server too (docs/multi-cluster.md), so its
answer already holds all clusters' records. peering.fallbackTo is only for
when the local crdns cannot answer at all (down, not synced); a peer's crdns,
holding the same data, then answers in its place.

Fallback to peer clusters has two shapes, because CoreDNS's grpc plugin uses
one TLS setting and one policy for all of its upstreams, and the chart serves
crdns's socket without TLS (crdns --tls-listen is not used here):
- without TLS and with one worker, one grpc line lists the socket first and
  the peers after it, policy sequential: a gRPC error from crdns (down, not
  synced) moves on;
- with TLS, or with several workers (whose sockets take turns: policy
  round_robin, which must not pick a peer before a local worker), the zone
  block forwards to two loopback tiers, the local one (grpc to the sockets)
  and the peer one (grpc to the peers); forward moves on when the local tier
  answers SERVFAIL, which is what a failing grpc becomes. In the local tier
  the grpc plugin tries the next worker when one fails.
The peering listener (grpc:// block) answers peers from the local crdns only,
so two clusters falling back to each other never loop.
*/}}
{{/* The grpc directive to this pod's crdns, at four spaces: several workers take turns. */}}
{{- define "crdns.localGrpc" -}}
grpc . {{ include "crdns.localTargets" . }}
{{- if gt (include "crdns.workers" . | int) 1 }} {
        policy round_robin
    }
{{- end }}
{{- end }}

{{- define "crdns.corefile" -}}
{{- $zones := include "crdns.zones" . | fromJsonArray }}
{{- $c := .Values.coredns }}
{{- $p := .Values.peering }}
{{- $sock := include "crdns.localTargets" . }}
{{- $tlsDir := include "crdns.peeringTlsDir" . }}
{{- $tiered := include "crdns.tieredFallback" . }}
{{- $bind := "" }}{{ if $c.bind }}{{ $bind = printf "bind %s" (join " " $c.bind) }}{{ end }}
{{- $metrics := printf "prometheus :%d" (int $c.ports.metrics) }}
# Zones served to clients.
{{ range $zones }}{{ . }}:{{ $c.ports.dns | int64 }} {{ end }}{
{{- if $bind }}
    {{ $bind }}
{{- end }}
    errors
{{- if $c.queryLog }}
    log
{{- end }}
    health :{{ $c.ports.health | int64 }} {
        lameduck {{ $c.lameduck }}
    }
    ready :{{ $c.ports.ready | int64 }}
    {{ $metrics }}
{{- if $c.reload.enabled }}
    reload {{ $c.reload.interval }} {{ $c.reload.jitter }}
{{- end }}
{{- if $c.loadbalance }}
    loadbalance
{{- end }}
{{- with $c.cache }}{{ if .enabled }}
    cache {
        success {{ .successCapacity | int64 }} {{ .successTtl | int64 }} {{ .minTtl | int64 }}
        denial {{ .denialCapacity | int64 }} {{ .denialTtl | int64 }} {{ .minTtl | int64 }}
{{- if .prefetch }}
        prefetch {{ .prefetch }}
{{- end }}
{{- if .serveStale.enabled }}
{{- $st := .serveStale }}
        serve_stale {{ $st.duration }} {{ $st.mode }}
        {{- if eq $st.mode "verify" }} {{ $st.verifyTimeout }}{{ end }}
        {{- if $st.responseTtl }} {{ $st.responseTtl }}{{ if $st.failureRecheck }} {{ $st.failureRecheck }}{{ end }}{{ end }}
{{- end }}
    }
{{- end }}{{ end }}
{{- with $c.dnssec }}{{ if .enabled }}
    dnssec {
{{- range .keys }}
        key file {{ include "crdns.dnssecDir" $ }}/{{ .basename }}
{{- end }}
        cache_capacity {{ .cacheCapacity | int64 }}
    }
{{- end }}{{ end }}
{{- with $c.extraPlugins }}
    {{- . | trim | nindent 4 }}
{{- end }}
{{- if $tiered }}
    forward . 127.0.0.1:{{ $p.fallbackPorts.local | int64 }} 127.0.0.1:{{ $p.fallbackPorts.peers | int64 }} {
        policy sequential
        failover SERVFAIL
        max_fails 0
    }
{{- else if $p.fallbackTo }}
    grpc . {{ $sock }} {{ join " " $p.fallbackTo }} {
        policy sequential
    }
{{- else }}
    {{ include "crdns.localGrpc" $ }}
{{- end }}
}
{{- if $tiered }}

# Fallback tier 1: this pod's crdns.
{{ range $zones }}{{ . }}:{{ $p.fallbackPorts.local | int64 }} {{ end }}{
    bind 127.0.0.1
    errors
    {{ $metrics }}
    {{ include "crdns.localGrpc" $ }}
}

# Fallback tier 2: peer clusters' listeners{{ if $p.tls.enabled }}, over TLS{{ end }}, in order.
{{ range $zones }}{{ . }}:{{ $p.fallbackPorts.peers | int64 }} {{ end }}{
    bind 127.0.0.1
    errors
    {{ $metrics }}
    grpc . {{ join " " $p.fallbackTo }} {
{{- if $p.tls.enabled }}
        tls {{ $tlsDir }}/tls.crt {{ $tlsDir }}/tls.key {{ $tlsDir }}/ca.crt
        tls_servername {{ $p.tls.serverName }}
{{- end }}
        policy sequential
    }
}
{{- end }}
{{- if $p.serve }}

# Peering listener: peer clusters fall back to this cluster's crdns.
{{ range $zones }}grpc://{{ . }}:{{ $p.port | int64 }} {{ end }}{
{{- if $bind }}
    {{ $bind }}
{{- end }}
    errors
    {{ $metrics }}
{{- if $p.tls.enabled }}
    tls {{ $tlsDir }}/tls.crt {{ $tlsDir }}/tls.key {{ $tlsDir }}/ca.crt {
        client_auth {{ $p.tls.clientAuth }}
    }
{{- end }}
    {{ include "crdns.localGrpc" $ }}
}
{{- end }}
{{- with $c.extraServerBlocks }}

{{ . | trim }}
{{- end }}
{{ end }}
