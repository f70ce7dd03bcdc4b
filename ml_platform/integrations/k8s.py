"""Kubernetes settings of heavy steps: ``dagster-k8s/config`` op tags with resource requests and
limits. Read by ``k8s_job_executor`` (each step its own pod) and ignored by local executors."""

from __future__ import annotations

from typing import Any

K8S_CONFIG_TAG = "dagster-k8s/config"


def k8s_step_tags(cpu: str, memory: str, cpu_limit: str, memory_limit: str, **labels: str) -> dict[str, Any]:
    """Op tags giving a step's pod these requests/limits (and pod labels)."""
    config: dict[str, Any] = {
        "container_config": {
            "resources": {
                "requests": {"cpu": cpu, "memory": memory},
                "limits": {"cpu": cpu_limit, "memory": memory_limit},
            }
        }
    }
    if labels:
        config["pod_template_spec_metadata"] = {"labels": labels}
    return {K8S_CONFIG_TAG: config}


# Feature builds run a Spark driver (local[N]) in the pod: 2 cores, room for the JVM.
FEATURES_STEP = k8s_step_tags("2", "4Gi", "2", "6Gi", **{"ml-platform/step": "features"})
# Training fits gradient boosting on a year of flights.
TRAINING_STEP = k8s_step_tags("2", "4Gi", "4", "8Gi", **{"ml-platform/step": "training"})
