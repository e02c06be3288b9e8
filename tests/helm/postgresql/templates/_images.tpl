{{/* registry/repository:tag, or @digest when one is set; global.imageRegistry wins. */}}
{{- define "sub.image" -}}
{{- $registry := .global.imageRegistry | default .image.registry -}}
{{- $ref := printf "%s/%s:%s" $registry .image.repository (toString .image.tag) -}}
{{- if .image.digest -}}{{- $ref = printf "%s/%s@%s" $registry .image.repository .image.digest -}}{{- end -}}
{{- if and (not .global.security.allowInsecureImages) (not (hasPrefix "docker.io/bitnami/" $ref)) -}}
{{- fail (printf "Original containers have been substituted for unrecognized ones: %s" $ref) -}}
{{- end -}}
{{- $ref -}}
{{- end -}}
