use crate::discovery::FileKind;
use crate::kubernetes::Kustomizations;
use crate::rules::Context;
use crate::rules::test_support::{has, migrate_twice, run_kind, test_catalog};

fn run(text: &str) -> (String, Vec<String>) {
    run_kind(FileKind::Manifest, text)
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
spec:
  template:
    spec:
      securityContext:
        runAsUser: 999
        fsGroup: 999
        runAsNonRoot: true
      initContainers:
        - name: init
          image: postgres:16-alpine
          command: [sh, -c, 'chown -R 999 /data']
      containers:
        - name: db
          image: postgres:16
          args: [\"-c\", \"max_connections=200\"]
          env:
            - name: POSTGRES_PASSWORD
              value: secret
          volumeMounts:
            - name: data
              mountPath: /var/lib/postgresql/data
          livenessProbe:
            exec:
              command: [pg_isready]
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  ports: [{port: 5432}]
";

#[test]
fn images_and_the_public_ids_of_a_pod_that_runs_one_replacement_move() {
    let (text, messages) = run(DEPLOYMENT);
    assert!(
        text.contains("          image: reg.example.dev/postgres:16\n          command: [sh"),
        "{text}"
    );
    assert!(
        text.contains("          image: reg.example.dev/postgres:16\n          args:"),
        "{text}"
    );
    assert!(
        text.contains("      securityContext:\n        runAsUser: 70\n        fsGroup: 70\n        runAsNonRoot: true\n"),
        "999 was the public image's uid and gid: {text}"
    );
    assert!(
        text.ends_with("kind: Service\nmetadata:\n  name: db\nspec:\n  ports: [{port: 5432}]\n")
    );
    assert!(
        text.contains("              mountPath: /var/lib/postgresql/pgdata\n"),
        "the replacement keeps its data elsewhere: {text}"
    );
    assert!(
        has(
            &messages,
            "security-context: `Deployment/db securityContext`: runAsUser 999 → 70, fsGroup 999 → 70"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "needs-shell: `Deployment/db initContainers[init].command` runs `sh`"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "exec-probe: `Deployment/db containers[db].livenessProbe` runs `pg_isready`"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "entrypoint-feature: `Deployment/db containers[db].env`: `POSTGRES_PASSWORD`"
        ),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("containers[db].args")),
        "the replacement's entrypoint is the program, so options reach it: {messages:?}"
    );
}

#[test]
fn ids_chosen_for_the_deployment_stay() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 1000, runAsGroup: 1000}\n  containers:\n    - name: c\n      image: reg.example.dev/postgres:16\n      securityContext:\n        runAsUser: 0\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(
        !messages.iter().any(|m| m.starts_with("security-context")),
        "{messages:?}"
    );
}

#[test]
fn a_pod_id_shared_by_different_images_is_reported_not_moved() {
    let text = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsUser: 999\n      containers:\n        - name: db\n          image: postgres:16\n        - name: proxy\n          image: nginx:1.27\n";
    let (migrated, messages) = run(text);
    assert!(migrated.contains("        runAsUser: 999\n"), "{migrated}");
    assert!(
        has(
            &messages,
            "security-context-unset: `StatefulSet/s securityContext` writes a public image's runAsUser, and it applies to containers that run different images (StatefulSet/s containers[db], StatefulSet/s containers[proxy])"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_container_context_is_the_container_s_own_and_cronjobs_are_read() {
    let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: dump\n              image: postgres:16\n              securityContext:\n                runAsUser: 999\n                runAsGroup: 999\n";
    let (migrated, _) = run(text);
    assert!(
        migrated.ends_with("              image: reg.example.dev/postgres:16\n              securityContext:\n                runAsUser: 70\n                runAsGroup: 70\n"),
        "{migrated}"
    );
}

#[test]
fn an_image_a_kustomization_renames_is_left_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [deploy.yaml]\nimages:\n  - name: postgres\n    newTag: \"16\"\n",
    )
    .expect("write");
    let manifest = dir.path().join("deploy.yaml");
    let index = Kustomizations::read([], [manifest.as_path()], 1 << 20);
    let kustomized = index.around_manifest(&manifest);
    let catalog = test_catalog();
    let context = Context::new(&catalog).with_kustomized(&kustomized);
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: postgres:15\n";
    let (migration, messages) = migrate_twice(FileKind::Manifest, text, context);
    assert_eq!(migration.text, text);
    assert!(
        messages.iter().any(
            |m| m.starts_with("unresolved-image: `Pod/p containers[c].image`:")
                && m.contains("kustomization.yaml renames `postgres` in its `images:`")
        ),
        "{messages:?}"
    );
}

#[test]
fn documents_without_a_pod_and_other_kinds_are_left_alone() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  image: postgres:16\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source: {repoURL: x}\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(messages.is_empty(), "{messages:?}");
}

#[test]
fn args_that_are_a_whole_command_need_a_command_on_the_replacement() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: db\n      image: postgres:16\n      args: [postgres, -c, fsync=off]\n    - name: web\n      image: nginx:1.27\n      args: [nginx, -g, daemon off;]\n";
    let (migrated, messages) = run(text);
    assert!(
        migrated.contains("args: [postgres, -c, fsync=off]"),
        "args are never edited"
    );
    assert!(
        has(
            &messages,
            "entrypoint-feature: `Pod/p containers[db].args` starts `postgres`, which the public image's entrypoint script ran as it is; reg.example.dev/postgres's entrypoint `postgres` runs before them"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "missing-fact: `Pod/p containers[web].args` starts `nginx`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_pod_moved_to_a_root_replacement_is_no_longer_required_to_run_as_non_root() {
    let catalog = crate::rules::test_support::catalog_from_yaml(
        "version: 1\nregistry: reg.example.dev\nimages:\n  - name: tool\n    match: [tool]\n    source: test\n    public: {user: \"1000\", group: \"1000\"}\n    hardened: {user: \"0\", group: \"0\", shell: false}\n",
    );
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsUser: 1000\n    runAsNonRoot: true\n  containers:\n    - name: c\n      image: tool:1\n      securityContext:\n        runAsNonRoot: true\n";
    let (migration, _) = migrate_twice(FileKind::Manifest, text, Context::new(&catalog));
    assert_eq!(
        migration.text,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsUser: 0\n    runAsNonRoot: false\n  containers:\n    - name: c\n      image: reg.example.dev/tool:1\n      securityContext:\n        runAsNonRoot: false\n",
        "the kubelet refuses runAsNonRoot with uid 0"
    );
}

#[test]
fn a_shared_pod_id_is_reported_whatever_the_order_of_the_containers() {
    for containers in [
        "    - {name: db, image: postgres:16}\n    - {name: proxy, image: envoyproxy/envoy:v1.30}\n",
        "    - {name: proxy, image: envoyproxy/envoy:v1.30}\n    - {name: db, image: postgres:16}\n",
    ] {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  securityContext: {{runAsUser: 999}}\n  containers:\n{containers}"
        );
        let (migrated, messages) = run(&text);
        assert!(migrated.contains("{runAsUser: 999}"), "{migrated}");
        assert!(
            has(&messages, "security-context-unset: `Pod/p securityContext`"),
            "{messages:?}"
        );
    }
}

#[test]
fn a_shared_pod_id_that_needs_no_move_is_not_reported() {
    // node's public uid and its replacement's are both 1000.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 1000}\n  containers:\n    - {name: app, image: node:20}\n    - {name: proxy, image: envoyproxy/envoy:v1.30}\n";
    let (_, messages) = run(text);
    assert!(!has(&messages, "security-context-unset"), "{messages:?}");
}

#[test]
fn a_command_that_runs_the_public_script_is_reported() {
    let (_, messages) = run(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: db\n      image: postgres:16\n      command: [docker-entrypoint.sh]\n      args: [postgres]\n",
    );
    assert!(
        has(
            &messages,
            "entrypoint-feature: `Pod/p containers[db].command` runs `docker-entrypoint.sh`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_pod_group_moves_only_for_the_containers_that_inherit_it() {
    // The sidecar sets its own user but inherits the pod's group: the group is shared.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsUser: 999\n    runAsGroup: 999\n  containers:\n    - {name: db, image: postgres:16}\n    - name: sidecar\n      image: envoyproxy/envoy:v1.30\n      securityContext: {runAsUser: 1234}\n";
    let (migrated, messages) = run(text);
    assert!(
        migrated.contains("    runAsUser: 70\n    runAsGroup: 999\n"),
        "{migrated}"
    );
    assert!(
        has(
            &messages,
            "security-context-unset: `Pod/p securityContext` writes a public image's runAsGroup"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_container_moved_to_root_under_a_non_root_pod_says_so_itself() {
    let catalog = crate::rules::test_support::catalog_from_yaml(
        "version: 1\nregistry: reg.example.dev\nimages:\n  - name: tool\n    match: [tool]\n    source: test\n    public: {user: \"1000\", group: \"1000\"}\n    hardened: {user: \"0\", group: \"0\", shell: false}\n",
    );
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers:\n    - name: c\n      image: tool:1\n      securityContext:\n        runAsUser: 1000\n";
    let (migration, _) = migrate_twice(FileKind::Manifest, text, Context::new(&catalog));
    assert!(
        migration.text.ends_with(
            "      securityContext:\n        runAsUser: 0\n        runAsNonRoot: false\n"
        ),
        "{}",
        migration.text
    );
}

#[test]
fn args_that_repeat_the_replacement_s_program_are_reported() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: api\n      image: reg.example.dev/node:20\n      args: [node, app.js]\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(
        has(
            &messages,
            "entrypoint-feature: `Pod/p containers[api].args` starts with `node`"
        ),
        "{messages:?}"
    );
}
