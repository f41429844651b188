{{- define "weir.fullname" -}}
{{- printf "%s" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "weir.labels" -}}
app.kubernetes.io/part-of: weir
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "weir.image" -}}
{{- $root := index . 0 -}}
{{- printf "%s/%s:%s" $root.Values.image.registry (index . 1) (default $root.Chart.AppVersion $root.Values.image.tag) -}}
{{- end -}}

{{- define "weir.tokenSecret" -}}
{{- default (printf "%s-api-token" (include "weir.fullname" .)) .Values.apiToken.existingSecret -}}
{{- end -}}

{{- define "weir.kafka" -}}
{{- if .Values.kafka.bundled.enabled -}}
{{- printf "%s-kafka:9092" (include "weir.fullname" .) -}}
{{- else -}}
{{- .Values.kafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{- define "weir.jdbc" -}}
{{- if .Values.postgresql.bundled.enabled -}}
{{- printf "jdbc:postgresql://%s-postgresql:5432/weir" (include "weir.fullname" .) -}}
{{- else -}}
{{- .Values.postgresql.url -}}
{{- end -}}
{{- end -}}

{{/* Kafka credentials of one component (dict: root, name, dir): its Secret's file, or the operator's explicit word that none are needed. */}}
{{- define "weir.kafkaCredentials" -}}
{{- $secret := index .root.Values.kafka.clientSecrets .name -}}
{{- if $secret }}
- name: WEIR_KAFKA_PROPERTIES_FILE
  value: {{ printf "%s/client.properties" .dir | quote }}
{{- else if .root.Values.kafka.unauthenticated }}
- name: WEIR_KAFKA_UNAUTHENTICATED
  value: "true"
{{- else }}
{{- fail (printf "kafka.clientSecrets.%s is required (Kafka carries enforcement), or kafka.unauthenticated=true for a broker nobody else can reach" .name) }}
{{- end }}
{{- end -}}

{{/* Settings every Spring Boot service shares: Kafka and the token. */}}
{{- define "weir.serviceEnv" -}}
- name: WEIR_KAFKA_BOOTSTRAP
  value: {{ include "weir.kafka" . | quote }}
- name: WEIR_API_TOKENS_FILE
  value: /var/run/weir/api-tokens
{{- end -}}

{{/* A service's database role (dict: root, name): its own from postgresql.roles, or the shared one. */}}
{{- define "weir.databaseEnv" -}}
{{- $role := dig .name dict (.root.Values.postgresql.roles | default dict) -}}
- name: SPRING_DATASOURCE_USERNAME
  value: {{ $role.username | default .root.Values.postgresql.username | quote }}
{{- if and $role.username (not $role.existingSecret) }}
{{- fail (printf "postgresql.roles.%s.existingSecret is required with its username: a role of its own has a password of its own" .name) }}
{{- end }}
- name: SPRING_DATASOURCE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $role.existingSecret | default .root.Values.postgresql.existingSecret }}
      key: password
{{- end -}}

{{/* Whether the listeners are on TLS; rendering fails when neither a Secret nor tls.disabled is given. */}}
{{- define "weir.tls" -}}
{{- $tls := .Values.tls | default dict -}}
{{- $disabled := eq (toString ($tls.disabled | default false)) "true" -}}
{{- if and $tls.secretName $disabled -}}
{{- fail "tls.secretName and tls.disabled=true contradict each other: give one" -}}
{{- else if $tls.secretName -}}
{{- if not $tls.agentSecretName -}}
{{- fail "tls.agentSecretName is required with tls.secretName: the agents' certificate (127.0.0.1 and the scrape name), so that no node holds the services' key" -}}
{{- end -}}
true
{{- else if not $disabled -}}
{{- fail "tls.secretName is required (a kubernetes.io/tls Secret for the APIs), or tls.disabled=true for plaintext listeners" -}}
{{- end -}}
{{- end -}}

{{/* The scheme the listeners speak, for probes (HTTPS or HTTP) and URLs (https or http). */}}
{{- define "weir.scheme" -}}
{{- if include "weir.tls" . }}https{{ else }}http{{ end -}}
{{- end -}}

{{/* A Spring Boot service's listener on the TLS Secret mounted at /var/run/weir-tls. */}}
{{- define "weir.serviceTlsEnv" -}}
{{- if include "weir.tls" . }}
- name: SPRING_SSL_BUNDLE_PEM_WEIR_KEYSTORE_CERTIFICATE
  value: file:/var/run/weir-tls/tls.crt
- name: SPRING_SSL_BUNDLE_PEM_WEIR_KEYSTORE_PRIVATEKEY
  value: file:/var/run/weir-tls/tls.key
- name: SPRING_SSL_BUNDLE_PEM_WEIR_TRUSTSTORE_CERTIFICATE
  value: file:/var/run/weir-tls/ca.crt
- name: SPRING_SSL_BUNDLE_PEM_WEIR_RELOADONUPDATE
  value: "true"
- name: SERVER_SSL_BUNDLE
  value: weir
- name: WEIR_TLS_BUNDLE
  value: weir
{{- end }}
{{- end -}}
