use super::*;

const HELPERS: &str = r#"{{- define "db.image" -}}
{{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global) }}
{{- end -}}
{{- define "db.metrics.image" -}}
{{ include "common.images.image" (dict "imageRoot" .Values.metrics.image "global" .Values.global) }}
{{- end -}}
"#;

const STATEFULSET: &str = r#"apiVersion: apps/v1
kind: StatefulSet
spec:
  template:
    spec:
      initContainers:
        - name: init-perms
          image: {{ include "db.image" . }}
          {{- if .Values.init.command }}
          command: {{ toYaml .Values.init.command }}
          {{- else }}
          command:
            - /bin/bash
            - -ec
            - chown 1001 /data
          {{- end }}
      containers:
        - name: db
          image: {{ template "db.image" . }}
          {{- if .Values.customLivenessProbe }}
          livenessProbe: {{- include "common.tplvalues.render" (dict "value" .Values.customLivenessProbe) | nindent 12 }}
          {{- else if .Values.livenessProbe.enabled }}
          livenessProbe:
            exec:
              command:
                - /bin/sh
                - -c
                - pg_isready -U postgres
          {{- end }}
        {{- if .Values.metrics.enabled }}
        - name: metrics
          image: {{ include "db.metrics.image" . }}
          command: ["/bin/bash", "-c", "exporter"]
          readinessProbe:
            httpGet:
              path: /metrics
        {{- end }}
        - name: plain
          image: "{{ .Values.sidecar.image.repository }}:{{ .Values.sidecar.image.tag }}"
          args: ["--port", "8080"]
"#;

fn sites() -> Vec<ShellSite> {
    shell_sites([
        ("templates/_helpers.tpl".to_owned(), HELPERS),
        ("templates/statefulset.yaml".to_owned(), STATEFULSET),
    ])
}

#[test]
fn each_shell_a_container_runs_is_tied_to_its_values_image() {
    let sites = sites();
    let found: Vec<(usize, &str, &str, Vec<&str>)> = sites
        .iter()
        .map(|site| {
            (
                site.line,
                site.shell.as_str(),
                site.runs_in.as_str(),
                site.images.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (13, "/bin/bash", "command", vec!["image"]),
            (26, "/bin/sh", "livenessProbe", vec!["image"]),
            (33, "/bin/bash", "command", vec!["metrics.image"]),
        ]
    );
}

#[test]
fn a_guarding_custom_probe_key_is_the_override() {
    let sites = sites();
    assert_eq!(
        sites[1].override_key.as_deref(),
        Some("customLivenessProbe")
    );
    assert_eq!(sites[0].override_key.as_deref(), Some("init.command"));
    assert_eq!(sites[2].override_key, None);
}

#[test]
fn image_paths_drop_the_field_and_keep_image_keys_only() {
    assert_eq!(image_path("image.repository").as_deref(), Some("image"));
    assert_eq!(
        image_path("metrics.image").as_deref(),
        Some("metrics.image")
    );
    assert_eq!(
        image_path("controller.image.tag").as_deref(),
        Some("controller.image")
    );
    assert_eq!(image_path("global"), None);
    assert_eq!(image_path("replicas"), None);
}

#[test]
fn words_that_merely_contain_a_shell_are_not_one() {
    for text in [
        "- shell-operator",
        "- bashful",
        "- -c",
        "command: [\"/usr/bin/node\"]",
        "- echo sh",
    ] {
        assert_eq!(shell_word(text), None, "{text}");
    }
    assert_eq!(shell_word("command: sh").as_deref(), Some("sh"));
    assert_eq!(shell_word("- 'bash'").as_deref(), Some("bash"));
}

#[test]
fn repositories_the_templates_default_are_found_in_either_spelling() {
    let text = r#"{{- define "sentry.image" -}}
{{- default "getsentry/sentry" .Values.images.sentry.repository -}}:{{- default .Chart.AppVersion .Values.images.sentry.tag -}}
{{- end -}}
{{- define "traefik.imageRepository" -}}
{{- .Values.image.repository | default "traefik" -}}
{{- end -}}
{{ .Values.image.tag | default "v1" }}
{{- .Values.hub.image.repository | default (ternary "a" "b" .Values.hub.on) -}}
"#;
    let owned = |path: &str, default: Option<&str>| (path.to_owned(), default.map(str::to_owned));
    assert_eq!(
        repository_defaults(text),
        [
            owned("images.sentry.repository", Some("getsentry/sentry")),
            owned("image.repository", Some("traefik")),
            owned("hub.image.repository", None),
        ]
    );
}

#[test]
fn a_helper_is_read_to_its_own_end_and_image_maps_are_images() {
    let text = "{{- define \"app.image\" -}}\n{{- if .Values.global.on }}x{{- end }}\n{{ .Values.images.redis.repository }}:{{ .Values.controller.image.image }}\n{{- end -}}\n";
    let helpers = defines(text);
    assert_eq!(helpers.len(), 1);
    let refs: Vec<String> = helpers[0]
        .1
        .refs
        .iter()
        .filter_map(|reference| image_path(reference))
        .collect();
    assert_eq!(refs, ["images.redis", "controller.image"]);
}
