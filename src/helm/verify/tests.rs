use super::*;
use crate::rules::test_support::{HELM_CATALOG, catalog_from_yaml};

const MANIFESTS: &str = "---
# Source: web/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-web
spec:
  template:
    spec:
      securityContext:
        runAsUser: 101
      initContainers:
        - name: init
          image: busybox:1.36
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            runAsGroup: 7
---
# Source: web/templates/job.yaml
apiVersion: batch/v1
kind: CronJob
metadata:
  name: rel-job
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: redis:7
---
apiVersion: v1
kind: Service
metadata:
  name: rel-web
";

fn key(kind: &str, name: &str, container: &str) -> Key {
    (kind.into(), name.into(), container.into())
}

#[test]
fn containers_of_every_workload_with_their_effective_ids() {
    let found = containers(MANIFESTS).expect("reads");
    assert_eq!(found.len(), 3);
    let web = &found[&key("Deployment", "rel-web", "web")];
    assert_eq!(web.image, "nginx:1.27");
    // The container's own runAsGroup, the pod's runAsUser.
    assert_eq!((web.run_as_user, web.run_as_group), (Some(101), Some(7)));
    assert_eq!(
        found[&key("Deployment", "rel-web", "init")].image,
        "busybox:1.36"
    );
    assert_eq!(found[&key("CronJob", "rel-job", "job")].image, "redis:7");
}

fn container(image: &str, run_as_user: Option<u64>) -> Container {
    Container {
        image: image.into(),
        run_as_user,
        run_as_group: None,
    }
}

#[test]
fn each_container_must_run_what_the_migration_should_give_it() {
    let catalog = catalog_from_yaml(HELM_CATALOG);
    let before: Containers = [
        (
            key("Deployment", "a", "moved"),
            container("nginx:1.27", None),
        ),
        (
            key("Deployment", "a", "missed"),
            container("docker.io/library/node:20", None),
        ),
        (
            key("Deployment", "a", "prefixed"),
            container("redis:7", None),
        ),
        (
            key("Deployment", "a", "unmapped"),
            container("busybox:1.36", None),
        ),
        (
            key("Deployment", "a", "gone"),
            container("busybox:1.36", None),
        ),
    ]
    .into();
    let after: Containers = [
        (
            key("Deployment", "a", "moved"),
            container("reg.example.dev/nginx:1.27", Some(101)),
        ),
        (key("Deployment", "a", "missed"), container("node:20", None)),
        (
            key("Deployment", "a", "prefixed"),
            container("docker.io/reg.example.dev/redis:7", None),
        ),
        (
            key("Deployment", "a", "unmapped"),
            container("busybox:1.37", None),
        ),
        (
            key("Deployment", "a", "new"),
            container("busybox:1.36", None),
        ),
    ]
    .into();
    let differences = compare(&before, &after, &catalog);
    let about = |container: &str| {
        differences
            .iter()
            .filter(|difference| difference.starts_with(&format!("container `{container}`")))
            .count()
    };
    // The replacement runs, but as a uid that is not its own.
    assert!(
        differences.contains(&"container `moved` of Deployment a runs reg.example.dev/nginx:1.27 with runAsUser: 101, but that image runs as uid 1000 (catalog entry `nginx`)".to_owned()),
        "{differences:#?}"
    );
    for container in ["missed", "prefixed", "unmapped", "gone", "new"] {
        assert_eq!(about(container), 1, "{container}: {differences:#?}");
    }
    assert_eq!(differences.len(), 6, "{differences:#?}");
    // Nothing to say when every container runs what it should.
    let fine: Containers = [(
        key("Deployment", "a", "moved"),
        container("reg.example.dev/nginx:1.27", Some(1000)),
    )]
    .into();
    let was: Containers = [(
        key("Deployment", "a", "moved"),
        container("nginx:1.27", None),
    )]
    .into();
    assert!(compare(&was, &fine, &catalog).is_empty());
}

#[test]
fn helm_is_looked_up_on_the_path_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        Verifier::find(Some(dir.path().as_os_str().to_owned())).err(),
        Some(HelmNotFound)
    );
    let helm = dir.path().join("helm");
    std::fs::write(&helm, "#!/bin/sh\n").expect("write");
    // Not executable: not a helm.
    assert!(Verifier::find(Some(dir.path().as_os_str().to_owned())).is_err());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let found = Verifier::find(Some(dir.path().as_os_str().to_owned())).expect("found");
    assert_eq!(found.helm, helm);
}

#[test]
fn a_replacement_pinned_by_the_migration_is_still_the_same_image() {
    let catalog = catalog_from_yaml(HELM_CATALOG);
    let before: Containers = [(
        key("Pod", "a", "web"),
        container("reg.example.dev/nginx:1.27", None),
    )]
    .into();
    let pinned = format!("reg.example.dev/nginx:1.27@sha256:{}", "1".repeat(64));
    let after: Containers = [(key("Pod", "a", "web"), container(&pinned, None))].into();
    assert!(compare(&before, &after, &catalog).is_empty());
    let moved: Containers = [(key("Pod", "a", "web"), container("nginx:1.27", None))].into();
    assert_eq!(compare(&before, &moved, &catalog).len(), 1);
}

#[test]
fn a_chart_is_copied_without_git_and_without_following_links() {
    let from = tempfile::tempdir().unwrap();
    let root = from.path();
    std::fs::create_dir_all(root.join(".git/objects")).unwrap();
    std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(root.join("Chart.yaml"), "name: web\n").unwrap();
    std::fs::write(root.join("templates/pod.yaml"), "kind: Pod\n").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "token\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();

    let to = tempfile::tempdir().unwrap();
    let copy = to.path().join("web");
    copy_chart(root, &copy).unwrap();
    assert_eq!(
        std::fs::read_to_string(copy.join("templates/pod.yaml")).unwrap(),
        "kind: Pod\n"
    );
    assert!(copy.join("Chart.yaml").is_file());
    assert!(
        !copy.join(".git").exists(),
        "the repository's .git is not copied"
    );
    assert!(!copy.join("linked").exists(), "a link is not followed");
}
