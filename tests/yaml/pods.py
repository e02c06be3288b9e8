"""Where a Kubernetes object keeps its pod spec, for the test scripts that read manifests
(`tests/yaml/containers.py`, `tests/helm/render.py`)."""


def pod_spec(document):
    """The pod spec of a workload document: a Pod's `spec`, a CronJob's job template's, any
    other kind's `spec.template.spec` (None when there is none)."""
    spec = document.get("spec") or {}
    if document.get("kind") == "Pod":
        return spec
    if document.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec")
