#!/usr/bin/env python3
"""Print what the containers of one Compose file, Kubernetes manifest or GitHub Actions workflow
run, read by PyYAML (an independent YAML reader, which resolves `<<` merge keys), as JSON lines:

    {"container": ..., "image": ..., "entrypoint": ..., "command": ..., "user": ...}

Usage: containers.py KIND FILE, KIND one of compose, manifest, workflow.
"""
import json
import sys

import yaml
from pods import pod_spec  # tests/yaml/pods.py, beside this script


def compose(documents):
    services = (documents[0] or {}).get("services") or {}
    for name, service in services.items():
        service = service or {}
        yield {
            "container": f"services.{name}",
            "image": None if "build" in service else service.get("image"),
            "entrypoint": service.get("entrypoint"),
            "command": service.get("command"),
            "user": service.get("user"),
        }


def manifest(documents):
    for document in documents:
        if not isinstance(document, dict) or "apiVersion" not in document:
            continue
        pod = pod_spec(document)
        if not isinstance(pod, dict):
            continue
        pod_user = (pod.get("securityContext") or {}).get("runAsUser")
        name = f"{document.get('kind')}/{(document.get('metadata') or {}).get('name')}"
        for key in ("initContainers", "containers"):
            for container in pod.get(key) or []:
                own = (container.get("securityContext") or {}).get("runAsUser")
                yield {
                    "container": f"{name} {key}[{container.get('name')}]",
                    "image": container.get("image"),
                    "entrypoint": container.get("command"),
                    "command": container.get("args"),
                    "user": own if own is not None else pod_user,
                }


def workflow(documents):
    jobs = (documents[0] or {}).get("jobs") or {}
    for job_name, job in jobs.items():
        container = job.get("container")
        if container is not None:
            image = container.get("image") if isinstance(container, dict) else container
            yield {"container": f"jobs.{job_name}.container", "image": image}
        for name, service in (job.get("services") or {}).items():
            image = service.get("image") if isinstance(service, dict) else service
            yield {"container": f"jobs.{job_name}.services.{name}", "image": image}


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as file:
        documents = list(yaml.safe_load_all(file))
    for container in {"compose": compose, "manifest": manifest, "workflow": workflow}[kind](documents):
        print(json.dumps(container))


main()
