use crate::rules::test_support::{has, run_values};

#[test]
fn empty_blocks_get_the_user_at_container_level_and_fs_group_at_pod_level() {
    let (text, messages) = run_values(
        "image:\n  repository: node\n  tag: \"20\"\npodSecurityContext: {}\n  # fsGroup: 2000\n\nsecurityContext: {} # container\n  # runAsUser: 1000\n",
        None,
    );
    assert_eq!(
        text,
        "image:\n  repository: reg.example.dev/node\n  tag: \"20\"\npodSecurityContext:\n  # fsGroup: 2000\n  fsGroup: 1000\n\nsecurityContext: # container\n  # runAsUser: 1000\n  runAsUser: 1000\n  runAsGroup: 1000\n  runAsNonRoot: true\n"
    );
    assert!(
        has(
            &messages,
            "security-context: `securityContext`: runAsUser: 1000 (added)"
        ),
        "{messages:?}"
    );
}

#[test]
fn written_ids_are_changed_in_place_keeping_their_quotes() {
    let (text, _) = run_values(
        "image: node:20\npodSecurityContext:\n  fsGroup: \"101\"\n  runAsUser: 101\ncontainerSecurityContext:\n  runAsUser: 101\n  runAsGroup: 101\n  runAsNonRoot: false\n",
        None,
    );
    assert_eq!(
        text,
        "image: reg.example.dev/node:20\npodSecurityContext:\n  fsGroup: \"1000\"\n  runAsUser: 1000\ncontainerSecurityContext:\n  runAsUser: 1000\n  runAsGroup: 1000\n  runAsNonRoot: true\n"
    );
}

#[test]
fn bitnami_layout_sets_the_sub_components_and_leaves_volume_permissions_alone() {
    let values = "image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: 17.6.0\n\
primary:\n  podSecurityContext:\n    enabled: true\n    fsGroup: 1001\n  containerSecurityContext:\n    enabled: true\n    runAsUser: 1000\n    runAsNonRoot: false\n\
readReplicas:\n  containerSecurityContext:\n    enabled: false\n    runAsUser: 0\n\
volumePermissions:\n  image:\n    repository: bitnami/os-shell\n  containerSecurityContext:\n    runAsUser: 0\n";
    let (text, messages) = run_values(values, None);
    assert!(text.contains("  containerSecurityContext:\n    enabled: true\n    runAsUser: 1001\n    runAsNonRoot: true\n    runAsGroup: 1001\n"), "{text}");
    assert!(
        text.contains(
            "readReplicas:\n  containerSecurityContext:\n    enabled: false\n    runAsUser: 0\n"
        ),
        "{text}"
    );
    assert!(text.contains("volumePermissions:\n  image:\n    repository: bitnami/os-shell\n  containerSecurityContext:\n    runAsUser: 0\n"), "{text}");
    assert!(
        has(
            &messages,
            "security-context-unset: `readReplicas.containerSecurityContext.enabled` is false"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_root_replacement_turns_run_as_non_root_off_and_adds_none() {
    let (text, _) = run_values(
        "image: ghcr.io/acme/tool:1\nsecurityContext:\n  runAsNonRoot: true\n  runAsUser: 1000\n",
        None,
    );
    assert_eq!(
        text,
        "image: reg.example.dev/tool:1\nsecurityContext:\n  runAsNonRoot: false\n  runAsUser: 0\n  runAsGroup: 0\n"
    );
}

#[test]
fn without_a_gid_groups_are_neither_added_nor_changed() {
    let (text, messages) = run_values(
        "image: nginx:1.27\npodSecurityContext:\n  fsGroup: 101\nsecurityContext: {}\n",
        None,
    );
    assert_eq!(
        text,
        "image: reg.example.dev/nginx:1.27\npodSecurityContext:\n  fsGroup: 101\nsecurityContext:\n  runAsUser: 1000\n  runAsNonRoot: true\n"
    );
    assert!(
        has(
            &messages,
            "missing-fact: `podSecurityContext.fsGroup` stays `101`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_per_container_layout_and_shared_components_are_reported() {
    let keda = "image:\n  operator:\n    repository: node\n  webhooks:\n    repository: nginx\nsecurityContext:\n  runAsUser: 5\n";
    let (text, messages) = run_values(keda, None);
    assert!(
        text.contains("securityContext:\n  runAsUser: 5\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: the values' top level holds 2 different main images"
        ),
        "{messages:?}"
    );

    let nested = "image: node:20\nsecurityContext:\n  operator:\n    runAsUser: 5\n";
    let (text, messages) = run_values(nested, None);
    assert!(
        text.ends_with("securityContext:\n  operator:\n    runAsUser: 5\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `securityContext` is not a plain security context (`operator`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_component_without_a_context_gets_one_only_when_the_templates_read_it() {
    let values = "server:\n  image: node:20\n  replicas: 1\n";
    let (text, messages) = run_values(values, None);
    assert_eq!(
        text,
        "server:\n  image: reg.example.dev/node:20\n  replicas: 1\n"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `server` sets no podSecurityContext"
        ),
        "{messages:?}"
    );

    let chart = crate::helm::chart::Chart::with_templates(&[(
        "templates/server.yaml",
        "{{ toYaml .Values.server.podSecurityContext }}",
    )]);
    let (text, _) = crate::rules::test_support::run_values_in(values, &chart);
    assert_eq!(
        text,
        "server:\n  image: reg.example.dev/node:20\n  replicas: 1\n  podSecurityContext:\n    runAsUser: 1000\n    runAsGroup: 1000\n    runAsNonRoot: true\n    fsGroup: 1000\n"
    );
}

#[test]
fn an_unknown_user_is_a_missing_fact() {
    let values = "image: ghcr.io/acme/unknown:1\nsecurityContext:\n  runAsUser: 5\n";
    let (text, messages) = run_values(values, None);
    assert_eq!(
        text,
        "image: reg.example.dev/unknown-user:1\nsecurityContext:\n  runAsUser: 5\n"
    );
    assert!(
        has(
            &messages,
            "missing-fact: the catalog states no numeric user"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_pod_that_runs_as_root_on_purpose_keeps_its_context() {
    let values = "image: node:20\nnodeAgent:\n  podSecurityContext:\n    runAsUser: 0\n  containerSecurityContext: {}\n";
    let (text, messages) = run_values(values, None);
    assert_eq!(
        text,
        "image: reg.example.dev/node:20\nnodeAgent:\n  podSecurityContext:\n    runAsUser: 0\n  containerSecurityContext: {}\n"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `nodeAgent.podSecurityContext.runAsUser` is 0"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_block_disabled_in_any_yaml_spelling_stays_disabled() {
    let values = "image: node:20\npodSecurityContext:\n  enabled: False\n  fsGroup: 101\nsecurityContext:\n  enabled: off\n";
    let (text, messages) = run_values(values, None);
    assert_eq!(
        text,
        values.replace("image: node:20", "image: reg.example.dev/node:20")
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `podSecurityContext.enabled` is false"
        ),
        "{messages:?}"
    );
}

#[test]
fn ids_written_beside_the_image_become_the_replacements() {
    // ingress-nginx keeps the controller's ids in `controller.image` and renders them into the
    // container's security context.
    let (text, messages) = run_values(
        "controller:\n  image:\n    repository: node\n    tag: \"20\"\n    runAsNonRoot: false\n    runAsUser: 101\n    runAsGroup: \"82\"\n  containerSecurityContext:\n    allowPrivilegeEscalation: false\n",
        None,
    );
    assert!(
        text.starts_with("controller:\n  image:\n    repository: reg.example.dev/node\n    tag: \"20\"\n    runAsNonRoot: true\n    runAsUser: 1000\n    runAsGroup: \"1000\"\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "security-context: `controller.image`: runAsUser 101 → 1000, runAsGroup 82 → 1000, runAsNonRoot false → true"
        ),
        "{messages:?}"
    );
    // Without a gid in the catalog the group stays, and says why.
    let (text, messages) = run_values(
        "image:\n  repository: nginx\n  tag: \"1.27\"\n  runAsUser: 101\n  runAsGroup: 101\n",
        None,
    );
    assert!(
        text.contains("runAsUser: 1000\n  runAsGroup: 101\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "missing-fact: `image.runAsGroup` stays `101`: the catalog does not state the group"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_context_the_templates_give_a_container_of_another_image_is_left_alone() {
    let template = "spec:\n  initContainers:\n    - name: mariadb-isalive\n      image: {{ .Values.mariadb.image.repository }}:{{ .Values.mariadb.image.tag }}\n      {{- with .Values.app.dbInit }}\n      securityContext:\n        {{- toYaml .securityContext | nindent 12 }}\n      {{- end }}\n  containers:\n    - name: app\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n      {{- with .Values.app.securityContext }}\n      securityContext: {{ toYaml . | nindent 8 }}\n      {{- end }}\n";
    let values = "image:\n  repository: node\n  tag: \"20\"\napp:\n  securityContext: {}\n  dbInit:\n    securityContext: {}\n";
    let (text, _) = run_with_templates(values, &[("templates/deployment.yaml", template)]);
    assert_eq!(
        text,
        "image:\n  repository: reg.example.dev/node\n  tag: \"20\"\napp:\n  securityContext:\n    runAsUser: 1000\n    runAsGroup: 1000\n    runAsNonRoot: true\n  dbInit:\n    securityContext: {}\n"
    );
}

#[test]
fn an_anchored_block_other_components_alias_is_reported_not_edited() {
    let values = "image: node:20\nsecurityContext: &shared\n  runAsUser: 101\nworker:\n  image: redis:7\n  securityContext: *shared\n";
    let (text, messages) = run_values(values, None);
    assert!(
        text.contains("securityContext: &shared\n  runAsUser: 101\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `securityContext` is anchored `&shared`, and other settings use it through `*shared`"
        ),
        "{messages:?}"
    );
}

/// Migrate `values` with [`HELM_CATALOG`](crate::rules::test_support::HELM_CATALOG) and a chart
/// of these templates: the result and `rule: message` for every finding.
fn run_with_templates(values: &str, templates: &[(&str, &str)]) -> (String, Vec<String>) {
    crate::rules::test_support::run_values_in(
        values,
        &crate::helm::chart::Chart::with_templates(templates),
    )
}

#[test]
fn an_empty_block_a_template_falls_back_from_is_reported_not_filled() {
    // Airflow's helper: while the component's contexts are empty, the pod gets the chart's
    // own `runAsUser: uid` and `fsGroup: gid` (fsGroup 0 on purpose). Filling the block would
    // drop that fsGroup.
    let helpers = "{{- define \"podSecurityContext\" -}}\n{{- $ := index . 0 -}}\n{{- with index . 1 }}\n{{- if .securityContexts.pod -}}\n{{ toYaml .securityContexts.pod }}\n{{- else if .securityContext -}}\n{{ toYaml .securityContext }}\n{{- else -}}\nrunAsUser: {{ $.Values.uid }}\nfsGroup: {{ $.Values.gid }}\n{{- end -}}\n{{- end -}}\n{{- end -}}\n";
    let deployment = "spec:\n  template:\n    spec:\n      securityContext: {{ include \"podSecurityContext\" (list . .Values.scheduler) | nindent 8 }}\n      containers:\n        - name: scheduler\n          image: {{ .Values.scheduler.image }}\n";
    let values = "uid: 50000\ngid: 0\nscheduler:\n  image: node:20\n  securityContext: {}\n  securityContexts:\n    pod: {}\n";
    let (text, messages) = run_with_templates(
        values,
        &[
            ("templates/_helpers.tpl", helpers),
            ("templates/scheduler.yaml", deployment),
        ],
    );
    assert_eq!(
        text,
        values.replace("node:20", "reg.example.dev/node:20"),
        "the block stays empty"
    );
    assert!(
        messages.contains(&"security-context-unset: `scheduler.securityContext` is empty, and while it is the chart's templates write a security context of their own (templates/_helpers.tpl:6), which writes runAsUser from `uid` (50000) and fsGroup from `gid` (0); filling it would switch that off, with whatever else it sets; reg.example.dev/node runs as uid 1000, gid 1000 (catalog entry `node`): set `uid: 1000`, `gid: 1000` (or fill the block by hand with everything the fallback set)".to_owned()),
        "{messages:?}"
    );
    assert!(!has(&messages, "security-context:"), "{messages:?}");

    // Once the values the fallback writes from hold the replacement's ids, it is right as it is.
    let set = values.replace("uid: 50000\ngid: 0\n", "uid: 1000\ngid: 1000\n");
    let (_, messages) = run_with_templates(
        &set,
        &[
            ("templates/_helpers.tpl", helpers),
            ("templates/scheduler.yaml", deployment),
        ],
    );
    assert!(!has(&messages, "security-context-unset"), "{messages:?}");
}

#[test]
fn a_fallback_that_writes_the_image_mappings_ids_needs_nothing_more() {
    // ingress-nginx: while `controller.containerSecurityContext` is empty, the helper writes
    // `runAsUser: {{ .Values.controller.image.runAsUser }}`, which hardport sets itself.
    let helpers = "{{- define \"ctx\" -}}\n{{- if .Values.controller.containerSecurityContext -}}\n{{- toYaml .Values.controller.containerSecurityContext -}}\n{{- else -}}\nrunAsUser: {{ .Values.controller.image.runAsUser }}\ncapabilities:\n  drop: [ALL]\n{{- end -}}\n{{- end -}}\n";
    let deployment = "spec:\n  containers:\n    - name: controller\n      image: {{ .Values.controller.image.repository }}:{{ .Values.controller.image.tag }}\n      securityContext: {{ include \"ctx\" . | nindent 8 }}\n";
    let values = "controller:\n  image:\n    repository: node\n    tag: \"20\"\n    runAsUser: 101\n  containerSecurityContext: {}\n";
    let (text, messages) = run_with_templates(
        values,
        &[
            ("templates/_helpers.tpl", helpers),
            ("templates/controller.yaml", deployment),
        ],
    );
    assert!(
        text.contains("    runAsUser: 1000\n  containerSecurityContext: {}\n"),
        "{text}"
    );
    assert!(!has(&messages, "security-context-unset"), "{messages:?}");
}

#[test]
fn a_block_shared_with_a_container_of_another_image_gets_the_components_ids() {
    // Bitnami's PostgreSQL: the copy-certs init container runs another image with the main
    // container's block on purpose, so the files it writes belong to the main user.
    let template = "spec:\n  initContainers:\n    - name: copy-certs\n      image: {{ .Values.shell.image.repository }}:{{ .Values.shell.image.tag }}\n      {{- with .Values.primary.containerSecurityContext }}\n      securityContext: {{ toYaml . | nindent 8 }}\n      {{- end }}\n  containers:\n    - name: postgresql\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n      {{- with .Values.primary.containerSecurityContext }}\n      securityContext: {{ toYaml . | nindent 8 }}\n      {{- end }}\n";
    let values = "image:\n  repository: node\n  tag: \"20\"\nprimary:\n  containerSecurityContext:\n    runAsUser: 1001\nshell:\n  image:\n    repository: ghcr.io/acme/os-shell\n    tag: \"1\"\n";
    let (text, messages) = run_with_templates(values, &[("templates/sts.yaml", template)]);
    assert!(text.contains("    runAsUser: 1000\n"), "{text}");
    assert!(
        has(
            &messages,
            "security-context: `primary.containerSecurityContext`"
        ),
        "{messages:?}"
    );
}

#[test]
fn an_image_read_through_an_enclosing_with_is_that_containers_image() {
    // ingress-nginx's certgen jobs: `{{ with (merge .Values….patch.image …) }}` then
    // `image: {{ .registry }}/{{ .image }}`. Their context is the patch image's, not the
    // controller's.
    let template = "spec:\n  containers:\n    - name: create\n      {{- with (merge .Values.controller.webhooks.patch.image .Values.global.image) }}\n      image: {{ .registry }}/{{ .image }}:{{ .tag }}\n      {{- end }}\n      {{- if .Values.controller.webhooks.createSecretJob.securityContext }}\n      securityContext: {{ toYaml .Values.controller.webhooks.createSecretJob.securityContext | nindent 8 }}\n      {{- end }}\n";
    let values = "controller:\n  image:\n    repository: node\n    tag: \"20\"\n  webhooks:\n    createSecretJob:\n      securityContext:\n        runAsUser: 65532\n    patch:\n      image:\n        repository: ghcr.io/acme/certgen\n        tag: v1\n";
    let (text, _) = run_with_templates(values, &[("templates/job.yaml", template)]);
    assert!(
        text.contains("        runAsUser: 65532\n"),
        "the job keeps its own uid: {text}"
    );
}

#[test]
fn a_component_the_templates_give_a_fallback_context_gets_none_added() {
    let helpers = "{{- define \"ctx\" -}}\n{{- if .securityContexts.pod -}}\n{{ toYaml .securityContexts.pod }}\n{{- else -}}\nrunAsUser: {{ .uid }}\n{{- end -}}\n{{- end -}}\n";
    let deployment = "spec:\n  template:\n    spec:\n      securityContext: {{ include \"ctx\" .Values.web | nindent 8 }}\n      containers:\n        - name: web\n          image: {{ .Values.web.image }}\n      {{- with .Values.web.podSecurityContext }}\n      x: {{ . }}\n      {{- end }}\n";
    let values = "web:\n  image: node:20\n  uid: 50000\n";
    let (text, messages) = run_with_templates(
        values,
        &[
            ("templates/_helpers.tpl", helpers),
            ("templates/web.yaml", deployment),
        ],
    );
    assert_eq!(
        text,
        "web:\n  image: reg.example.dev/node:20\n  uid: 50000\n"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `web` sets no security context, and the chart's templates then write one of their own (templates/_helpers.tpl:2), which writes runAsUser from `web.uid` (50000)"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_component_of_a_dependency_is_said_to_be_the_dependencys() {
    let (_, messages) = run_values(
        "redis-ha:\n  exporter:\n    image: redis:7.2\n",
        Some(
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: redis-ha\n    version: 4.0.0\n    repository: https://dandydeveloper.github.io/charts/\n",
        ),
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `redis-ha.exporter` sets no podSecurityContext, securityContext or containerSecurityContext; its pods are rendered by the templates of dependency `redis-ha`, which hardport does not have (it is not vendored)"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_context_only_one_images_containers_use_outside_its_settings_is_reported() {
    // ingress-nginx: the certgen job's context sits under `createSecretJob`, its image under
    // `patch`; hardport sets neither, and says so when the ids differ from the replacement's.
    let template = "spec:\n  containers:\n    - name: create\n      {{- with .Values.controller.webhooks.patch.image }}\n      image: {{ .repository }}:{{ .tag }}\n      {{- end }}\n      securityContext: {{ toYaml .Values.controller.webhooks.createSecretJob.securityContext | nindent 8 }}\n";
    let values = "controller:\n  webhooks:\n    createSecretJob:\n      securityContext:\n        runAsUser: 65532\n    patch:\n      image:\n        repository: ghcr.io/acme/tool\n        tag: v1\n";
    let (text, messages) = run_with_templates(values, &[("templates/job.yaml", template)]);
    assert!(text.contains("runAsUser: 65532"), "not edited: {text}");
    assert!(
        has(
            &messages,
            "security-context-unset: `controller.webhooks.createSecretJob.securityContext.runAsUser` is 65532, and the chart's templates use `controller.webhooks.createSecretJob.securityContext` for the containers of `controller.webhooks.patch.image` only (templates/job.yaml:3), whose replacement reg.example.dev/tool runs with runAsUser 0"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_side_images_own_context_is_checked_against_its_replacement() {
    let template = "spec:\n  initContainers:\n    - name: fetch\n      image: {{ .Values.fetchImage.repository }}:{{ .Values.fetchImage.tag }}\n      securityContext: {{ toYaml .Values.fetch.securityContext | nindent 8 }}\n  containers:\n    - name: app\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n";
    let values = "image:\n  repository: node\n  tag: \"20\"\nfetchImage:\n  repository: ghcr.io/acme/tool\n  tag: \"1\"\nfetch:\n  securityContext:\n    runAsUser: 1000\n";
    let (text, messages) = run_with_templates(values, &[("templates/pod.yaml", template)]);
    assert!(text.contains("    runAsUser: 1000\n"), "{text}");
    assert!(
        has(
            &messages,
            "security-context-unset: `fetch.securityContext.runAsUser` is 1000, and the chart's templates use `fetch.securityContext` for the containers of `fetchImage` only"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_side_image_block_that_leaves_its_ids_to_the_pod_is_reported() {
    // grafana: the download-dashboards init container runs the curl image with a block that
    // sets no runAsUser, so it takes the pod's, which is grafana's.
    let template = "spec:\n  securityContext: {{ toYaml .Values.securityContext | nindent 4 }}\n  initContainers:\n    - name: download\n      image: {{ .Values.downloadImage.repository }}:{{ .Values.downloadImage.tag }}\n      securityContext: {{ toYaml .Values.download.securityContext | nindent 8 }}\n  containers:\n    - name: app\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n";
    let values = "image:\n  repository: node\n  tag: \"20\"\ndownloadImage:\n  repository: redis\n  tag: \"7\"\nsecurityContext:\n  runAsUser: 472\n  fsGroup: 472\ndownload:\n  securityContext:\n    allowPrivilegeEscalation: false\n";
    let (text, messages) = run_with_templates(values, &[("templates/deployment.yaml", template)]);
    assert!(
        text.contains("securityContext:\n  runAsUser: 1000\n  fsGroup: 1000\n"),
        "{text}"
    );
    assert!(
        text.ends_with("download:\n  securityContext:\n    allowPrivilegeEscalation: false\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `download.securityContext` sets no runAsUser or runAsGroup, so the containers of `downloadImage` (templates/deployment.yaml:4) run with the pod's, which hardport sets to the component's main image's (runAsUser 1000, runAsGroup 1000); their replacement reg.example.dev/redis runs with runAsUser 999, runAsGroup 999"
        ),
        "{messages:?}"
    );

    // The same ids, or a block that states its own, say nothing.
    let own = values.replace(
        "    allowPrivilegeEscalation: false\n",
        "    runAsUser: 999\n    runAsGroup: 999\n",
    );
    let (_, messages) = run_with_templates(&own, &[("templates/deployment.yaml", template)]);
    assert!(
        !messages.iter().any(|m| m.contains("sets no runAsUser")),
        "{messages:?}"
    );
    // With a container-level block beside it, the pod-level one gets no runAsUser: the side
    // container runs as its image's own user, nothing is inherited.
    let no_pod_user = values.replace(
        "  runAsUser: 472\n  fsGroup: 472\n",
        "  fsGroup: 472\ncontainerSecurityContext: {}\n",
    );
    let (_, messages) =
        run_with_templates(&no_pod_user, &[("templates/deployment.yaml", template)]);
    assert!(
        !messages.iter().any(|m| m.contains("sets no runAsUser")),
        "{messages:?}"
    );
}

#[test]
fn an_init_container_block_the_templates_give_the_main_image_gets_its_ids() {
    // Bitnami MariaDB: `preserve-logs-symlinks` runs the main image with
    // `primary.initContainerSecurityContext`.
    let template = "spec:\n  initContainers:\n    - name: preserve-logs-symlinks\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n      securityContext: {{ toYaml .Values.primary.initContainerSecurityContext | nindent 8 }}\n  containers:\n    - name: db\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n      securityContext: {{ toYaml .Values.primary.containerSecurityContext | nindent 8 }}\n";
    let values = "image:\n  repository: node\n  tag: \"20\"\nprimary:\n  containerSecurityContext:\n    runAsUser: 1001\n  initContainerSecurityContext:\n    enabled: true\n    runAsUser: 1001\n";
    let (text, _) = run_with_templates(values, &[("templates/statefulset.yaml", template)]);
    assert!(
        text.ends_with("  initContainerSecurityContext:\n    enabled: true\n    runAsUser: 1000\n"),
        "{text}"
    );

    // An init container running another image keeps its block; so does a chart without
    // templates, which cannot say whose init containers read it.
    let other = template.replacen(
        "{{ .Values.image.repository }}:{{ .Values.image.tag }}",
        "{{ .Values.tools.repository }}:{{ .Values.tools.tag }}",
        1,
    );
    let with_tools = format!("{values}tools:\n  repository: busybox\n  tag: \"1\"\n");
    let (text, _) = run_with_templates(&with_tools, &[("templates/statefulset.yaml", &other)]);
    assert!(
        text.contains("  initContainerSecurityContext:\n    enabled: true\n    runAsUser: 1001\n"),
        "{text}"
    );
    let (text, _) = run_values(values, None);
    assert!(
        text.ends_with("  initContainerSecurityContext:\n    enabled: true\n    runAsUser: 1001\n"),
        "{text}"
    );
}

#[test]
fn a_side_image_container_without_a_context_is_reported_when_the_pods_ids_are_not_its_own() {
    // mattermost's `init-mysql`: no securityContext of its own, so it takes the pod's, which
    // hardport sets to the main image's.
    let template = "spec:\n  template:\n    spec:\n      securityContext: {{ toYaml .Values.securityContext | nindent 8 }}\n      initContainers:\n      - name: wait\n        image: \"{{ .Values.waitImage.repository }}:{{ .Values.waitImage.tag }}\"\n      containers:\n      - name: app\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n";
    let values = "image:\n  repository: node\n  tag: \"20\"\nwaitImage:\n  repository: redis\n  tag: \"7\"\nsecurityContext:\n  runAsUser: 2000\n  runAsGroup: 2000\n  fsGroup: 2000\n";
    let (_, messages) = run_with_templates(values, &[("templates/deployment.yaml", template)]);
    assert!(
        messages.contains(&"security-context-unset: the containers of `waitImage` (templates/deployment.yaml:6) have no security context, so they run with the pod's, which hardport sets to the component's main image's (runAsUser 1000, runAsGroup 1000); their replacement reg.example.dev/redis runs with runAsUser 999, runAsGroup 999: give them a security context with `runAsUser: 999`, `runAsGroup: 999` (the chart's templates write none)".to_owned()),
        "{messages:?}"
    );

    // A container that writes a context of its own, or that runs in another template (another
    // pod), inherits nothing from this one.
    let own = template.replace(
        "        image: \"{{ .Values.waitImage.repository }}:{{ .Values.waitImage.tag }}\"\n",
        "        image: \"{{ .Values.waitImage.repository }}:{{ .Values.waitImage.tag }}\"\n        securityContext:\n          runAsUser: 999\n",
    );
    let (_, messages) = run_with_templates(values, &[("templates/deployment.yaml", &own)]);
    assert!(!has(&messages, "security-context-unset"), "{messages:?}");
    let job = "spec:\n  template:\n    spec:\n      containers:\n      - name: wait\n        image: \"{{ .Values.waitImage.repository }}:{{ .Values.waitImage.tag }}\"\n";
    let app = template.replace(
        "      initContainers:\n      - name: wait\n        image: \"{{ .Values.waitImage.repository }}:{{ .Values.waitImage.tag }}\"\n",
        "",
    );
    let (_, messages) = run_with_templates(
        values,
        &[
            ("templates/deployment.yaml", &app),
            ("templates/job.yaml", job),
        ],
    );
    assert!(!has(&messages, "security-context-unset"), "{messages:?}");
}

#[test]
fn a_null_block_is_reported_as_null_not_as_a_wrong_value() {
    let (text, messages) = run_values("image: node:20\nsecurityContext:\n", None);
    assert_eq!(text, "image: reg.example.dev/node:20\nsecurityContext:\n");
    assert!(
        has(
            &messages,
            "security-context-unset: `securityContext` is null, so the pod runs with the image's own user"
        ),
        "{messages:?}"
    );
    let (_, messages) = run_values("image: node:20\nsecurityContext: [1]\n", None);
    assert!(
        has(
            &messages,
            "security-context-unset: `securityContext` is not a mapping"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_block_read_relative_to_a_with_by_a_container_a_helper_builds_the_image_of_is_the_components() {
    // external-dns's webhook: its image comes from a helper given the `with` dot, and the main
    // container hands `.Values.provider` whole to a helper; the webhook's own block is its own.
    let helpers = "{{- define \"webhookImage\" -}}\n{{- with .image }}{{ printf \"%s:%s\" .repository .tag }}{{- end }}\n{{- end }}\n";
    let deployment = "spec:\n  containers:\n    - name: main\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n      args: {{ include \"args\" .Values.provider }}\n    {{- with .Values.provider.webhook }}\n    - name: webhook\n      image: {{ include \"webhookImage\" . }}\n      {{- with .securityContext }}\n      securityContext: {{ toYaml . | nindent 8 }}\n      {{- end }}\n    {{- end }}\n";
    let values = "image:\n  repository: nginx\n  tag: \"1.27\"\nprovider:\n  webhook:\n    image:\n      repository: redis\n      tag: \"7\"\n    securityContext: {}\n";
    let (text, _) = run_with_templates(
        values,
        &[
            ("templates/_helpers.tpl", helpers),
            ("templates/deployment.yaml", deployment),
        ],
    );
    assert!(
        text.ends_with("    securityContext:\n      runAsUser: 999\n      runAsGroup: 999\n      runAsNonRoot: true\n"),
        "{text}"
    );
}
