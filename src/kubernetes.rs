//! Kubernetes manifests outside Helm charts: which YAML files are manifests, and where their
//! pods keep their containers.
//!
//! A file is a manifest when one of its documents has `apiVersion` and `kind` at its top
//! ([`looks_like_manifest`]): both, because Helm values files carry one of them at their top
//! now and then (fluent-bit's `kind: DaemonSet`, an opentelemetry collector's `apiVersion`).
//! Every document of a manifest file is read (unlike Helm values, where only the first
//! counts), and the objects of a `kind: List`. The workloads are the objects with a pod template: `Pod` (`spec`), `CronJob`
//! (`spec.jobTemplate.spec.template.spec`), and every other kind whose
//! `spec.template.spec` has `containers` (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! and the custom kinds built like them: Argo Rollouts, OpenKruise).

use crate::helm::deref;
use crate::yaml::{Document, Node, Stream};

pub mod kustomizations;

pub use kustomizations::{ImageEntry, Kustomizations, KustomizeView};

/// Whether `text` looks like Kubernetes manifests: a line starting `apiVersion:` and one
/// starting `kind:`, both at the first column (the top of a document).
pub fn looks_like_manifest(text: &str) -> bool {
    let at_top = |key: &str| {
        text.lines()
            .any(|line| line.trim_start_matches('\u{feff}').starts_with(key))
    };
    at_top("apiVersion:") && at_top("kind:")
}

/// The line (1-based) of a "DO NOT EDIT" notice among the comment lines that open `text`: the
/// file is generated (`kustomize build`, a release script), and a change to it is lost at the
/// next generation.
pub fn generated_notice(text: &str) -> Option<usize> {
    text.lines()
        .take_while(|line| {
            let line = line.trim_start_matches('\u{feff}').trim();
            line.is_empty() || line.starts_with('#')
        })
        .position(|line| line.to_ascii_uppercase().contains("DO NOT EDIT"))
        .map(|index| index + 1)
}

/// An object that runs pods.
pub struct Workload<'d> {
    pub document: &'d Document,
    /// `Deployment/web`, as messages name it.
    pub label: String,
    /// The pod spec.
    pub pod: &'d Node,
}

/// One container of a workload's pod.
pub struct Container<'d> {
    pub node: &'d Node,
    /// `Deployment/web containers[nginx]`, as messages name it.
    pub label: String,
    /// An init container: it runs to completion before the others start.
    pub init: bool,
}

/// The workloads of every document of `stream`, in order.
/// The objects of a `kind: List` (what `kubectl get -o yaml` prints) are read as documents.
pub fn workloads<'d>(stream: &'d Stream<'_>) -> Vec<Workload<'d>> {
    let mut workloads = Vec::new();
    for document in &stream.documents {
        let root = &document.root;
        let is_list = root.get("kind").and_then(Node::value) == Some("List");
        match child(document, root, "items").filter(|_| is_list) {
            Some(items) => workloads.extend(
                items
                    .items()
                    .iter()
                    .filter_map(|item| workload(document, deref(document, item))),
            ),
            None => workloads.extend(workload(document, root)),
        }
    }
    workloads
}

/// The workload `root` describes, an object of `document`, if it runs pods.
fn workload<'d>(document: &'d Document, root: &'d Node) -> Option<Workload<'d>> {
    let get = |node, key| child(document, node, key);
    root.get("apiVersion")?.value()?;
    let kind = root.get("kind")?.value()?;
    let spec = get(root, "spec")?;
    let pod = match kind {
        "Pod" => spec,
        "CronJob" => {
            let job = get(get(spec, "jobTemplate")?, "spec")?;
            get(get(job, "template")?, "spec")?
        }
        _ => get(get(spec, "template")?, "spec")?,
    };
    pod.get("containers")?;
    let name = get(root, "metadata")
        .and_then(|metadata| metadata.get("name"))
        .and_then(Node::value)
        .unwrap_or("(unnamed)");
    Some(Workload {
        document,
        label: format!("{kind}/{name}"),
        pod,
    })
}

/// The value under `key` of the mapping `node`, through an alias.
pub fn child<'d>(document: &'d Document, node: &'d Node, key: &str) -> Option<&'d Node> {
    node.get(key).map(|value| deref(document, value))
}

impl<'d> Workload<'d> {
    /// The pod's init containers, then its containers.
    pub fn containers(&self) -> Vec<Container<'d>> {
        let mut containers = Vec::new();
        for (list, init) in [("initContainers", true), ("containers", false)] {
            let Some(items) = self.pod.get(list) else {
                continue;
            };
            for (index, item) in deref(self.document, items).items().iter().enumerate() {
                let node = deref(self.document, item);
                let name = node
                    .get("name")
                    .and_then(Node::value)
                    .map_or_else(|| index.to_string(), str::to_owned);
                containers.push(Container {
                    node,
                    label: format!("{} {list}[{name}]", self.label),
                    init,
                });
            }
        }
        containers
    }

    /// The node under `key` of the pod spec, through an alias.
    pub fn pod_get(&self, key: &str) -> Option<&'d Node> {
        child(self.document, self.pod, key)
    }
}

impl<'d> Container<'d> {
    /// The node under `key`, through an alias.
    pub fn get(&self, key: &str, document: &'d Document) -> Option<&'d Node> {
        child(document, self.node, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_needs_both_api_version_and_kind_at_the_top() {
        assert!(looks_like_manifest("apiVersion: v1\nkind: Pod\n"));
        assert!(looks_like_manifest(
            "# c\n---\napiVersion: apps/v1\nkind: Deployment\n"
        ));
        assert!(looks_like_manifest(
            "\u{feff}apiVersion: v1\r\nkind: Pod\r\n"
        ));
        // fluent-bit's values: `kind` alone.
        assert!(!looks_like_manifest(
            "kind: DaemonSet\nimage:\n  repository: x\n"
        ));
        // Nested keys are not a document's top.
        assert!(!looks_like_manifest("a:\n  apiVersion: v1\n  kind: Pod\n"));
    }

    #[test]
    fn a_generated_notice_is_found_in_the_opening_comments_only() {
        assert_eq!(
            generated_notice("# This is an auto-generated file. DO NOT EDIT\napiVersion: v1\n"),
            Some(1)
        );
        assert_eq!(
            generated_notice("\n# header\n# Do not edit.\nkind: Pod\n"),
            Some(3)
        );
        assert_eq!(generated_notice("kind: Pod\n# DO NOT EDIT\n"), None);
    }

    #[test]
    fn the_objects_of_a_list_are_read() {
        let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n    spec:\n      containers: [{name: c, image: redis}]\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: s}\n";
        let stream = crate::yaml::parse(text).expect("parses");
        let labels: Vec<String> = workloads(&stream)
            .iter()
            .map(|workload| workload.label.clone())
            .collect();
        assert_eq!(labels, ["Pod/a"]);
    }

    #[test]
    fn pods_are_found_in_every_document_and_every_workload_kind() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: []}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: init\n          image: busybox\n      containers:\n        - name: app\n          image: nginx\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: tick}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: c, image: busybox}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - image: redis\n";
        let stream = crate::yaml::parse(text).expect("parses");
        let labels: Vec<String> = workloads(&stream)
            .iter()
            .flat_map(|workload| workload.containers())
            .map(|container| {
                format!(
                    "{}{}",
                    container.label,
                    if container.init { " (init)" } else { "" }
                )
            })
            .collect();
        assert_eq!(
            labels,
            [
                "Deployment/web initContainers[init] (init)",
                "Deployment/web containers[app]",
                "CronJob/tick containers[c]",
                "Pod/p containers[0]",
            ]
        );
    }
}
