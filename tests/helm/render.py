#!/usr/bin/env python3
"""Render a chart with a real Helm engine (PyPI helm-python-sdk, the Helm v4 Go SDK) and print
every container the rendered manifests run, as JSON lines:

    {"template": ..., "kind": ..., "name": ..., "container": ..., "image": ..., "init": bool}

Usage: render.py CHART_DIR. Exit 1 with Helm's message when the chart does not render.
"""
import json
import sys
from pathlib import Path

import yaml
from helm_python.chart import Chart

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "yaml"))
from pods import pod_spec  # noqa: E402  (tests/yaml/pods.py)


def main():
    try:
        manifests = Chart.load(sys.argv[1]).render(
            values=None, name="rel", namespace="ns", is_install=True
        )
    except Exception as error:  # the engine's message is the test's diagnosis
        print(f"render failed: {error}", file=sys.stderr)
        sys.exit(1)
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):  # shown to the user, not applied
            continue
        for document in yaml.safe_load_all(text):
            if not isinstance(document, dict):
                continue
            spec = pod_spec(document)
            if not spec:
                continue
            for key, init in (("initContainers", True), ("containers", False)):
                for container in spec.get(key) or []:
                    print(json.dumps({
                        "template": template,
                        "kind": document.get("kind"),
                        "name": (document.get("metadata") or {}).get("name"),
                        "container": container.get("name"),
                        "image": container.get("image"),
                        "init": init,
                    }, sort_keys=True))


main()
