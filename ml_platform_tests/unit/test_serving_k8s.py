"""The endpoint's Kubernetes manifest (deploy/serving/deployment.yaml), checked offline: every object
deserialized by the kubernetes client's own models (an unknown or misspelt key would be dropped, so
the round trip must give the file back), and the container's arguments parsed by the real
``ml-platform serve`` parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from ml_platform.serving.server import add_parser

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "serving" / "deployment.yaml"
KINDS = {
    "Deployment": "V1Deployment",
    "Service": "V1Service",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
}


class _Response:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.data = json.dumps(doc)


def k8s_object(doc: dict[str, Any]) -> Any:
    return ApiClient().deserialize(_Response(doc), KINDS[doc["kind"]])


@pytest.fixture(scope="module")
def objects() -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    return {d["kind"]: (d, k8s_object(d)) for d in docs}


def test_every_object_round_trips_through_the_kubernetes_models(objects: dict[str, Any]) -> None:
    assert set(objects) == set(KINDS)
    for kind, (doc, obj) in objects.items():
        assert ApiClient().sanitize_for_serialization(obj) == doc, f"{kind}: a key the API does not know"
    broken = {**objects["Deployment"][0]}
    broken["spec"] = {**broken["spec"], "replica": 2}  # a typo the round trip catches
    assert ApiClient().sanitize_for_serialization(k8s_object(broken)) != broken


def _serve_args(container: Any) -> argparse.Namespace:
    env = {e.name: e for e in container.env}
    args = [a.replace("$(MLFLOW_TRACKING_URI)", "http://mlflow:5000") for a in container.args]
    assert "MLFLOW_TRACKING_URI" in env  # defined in `env`, so Kubernetes expands $(…) in args
    parser = argparse.ArgumentParser(prog="ml-platform")
    add_parser(parser.add_subparsers(dest="command", required=True))
    assert container.command == ["ml-platform"]
    return parser.parse_args(args)


def test_deployment_runs_the_endpoint_non_root_with_the_token_from_a_secret(objects: dict[str, Any]) -> None:
    deployment = objects["Deployment"][1]
    pod = deployment.spec.template.spec
    (container,) = pod.containers
    args = _serve_args(container)
    assert (args.command, args.model_name, args.alias) == ("serve", "flights_delay", "champion")
    assert args.tracking_uri == "http://mlflow:5000"
    assert (args.host, args.port) == ("0.0.0.0", container.ports[0].container_port)

    token = {e.name: e for e in container.env}[args.token_env]
    assert token.value is None and token.value_from.secret_key_ref.name == "ml-platform-serving"

    assert pod.security_context.run_as_non_root is True and pod.security_context.run_as_user == 10001
    assert container.security_context.read_only_root_filesystem is True
    assert container.security_context.allow_privilege_escalation is False
    mounts = {m.mount_path: m.name for m in container.volume_mounts}
    assert args.log_dir in mounts and "/tmp" in mounts  # the log and downloaded models are writable
    claims = {v.name: v.persistent_volume_claim for v in pod.volumes}
    assert claims[mounts[args.log_dir]].claim_name == objects["PersistentVolumeClaim"][1].metadata.name

    for probe in (container.startup_probe, container.readiness_probe, container.liveness_probe):
        assert probe.http_get.path == "/health" and probe.http_get.port == container.ports[0].name
    assert container.resources.limits and container.resources.requests


def test_service_selects_the_pods_and_targets_the_named_port(objects: dict[str, Any]) -> None:
    deployment, service = objects["Deployment"][1], objects["Service"][1]
    labels = deployment.spec.template.metadata.labels
    assert service.spec.selector.items() <= labels.items()
    assert deployment.spec.selector.match_labels.items() <= labels.items()
    (port,) = service.spec.ports
    assert port.target_port == deployment.spec.template.spec.containers[0].ports[0].name
    assert service.spec.type == "ClusterIP"
