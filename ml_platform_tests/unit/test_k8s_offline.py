"""Kubernetes, checked offline (no cluster): the production instance file and the training job's
``k8s_job_executor`` run config validated by Dagster's own config system; a step pod rendered by
dagster-k8s's own ``construct_dagster_k8s_job``; ``K8sRunLauncher`` (configured from
deploy/dagster.yaml) launching a run against a stand-in Kubernetes batch API that records the Job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._config import process_config, resolve_to_config_type
from dagster._core.instance.config import dagster_instance_config
from dagster_k8s import K8sRunLauncher
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import (
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from ml_platform.definitions import build_definitions
from ml_platform.environments.production import production_environment
from ml_platform.integrations.k8s import K8S_CONFIG_TAG
from ml_platform.pipeline.names import PipelineNames
from ml_platform_tests.helpers import short_flights_spec
from ml_platform_tests.instances import local_instance

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
IMAGE = "registry.example.com/ml-platform/user-code:0.1.0"
PROD_ENV = {
    "MLFLOW_TRACKING_URI": "http://mlflow.ml-platform.svc:5000",
    "ML_PLATFORM_S3_BUCKET": "ml-platform-prod",
    "ML_PLATFORM_S3_ENDPOINT_URL": "https://s3.eu-west-1.amazonaws.com",
    "AWS_REGION": "eu-west-1",
}
K8S_ENV = {
    "DAGSTER_K8S_JOB_NAMESPACE": "ml-platform",
    "DAGSTER_K8S_JOB_IMAGE": IMAGE,
    "DAGSTER_K8S_SERVICE_ACCOUNT": "ml-platform-runs",
}


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> tuple[dg.Definitions, PipelineNames]:
    spec = short_flights_spec()
    env = production_environment(tmp_path_factory.mktemp("prod"), PROD_ENV)
    return build_definitions([spec], env), PipelineNames(spec)


@pytest.fixture
def k8s_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**PROD_ENV, **K8S_ENV}.items():
        monkeypatch.setenv(name, value)


def good_run_config(pipeline: PipelineNames) -> dict[str, Any]:
    return {
        "execution": {
            "config": {
                "job_namespace": "ml-platform",
                "max_concurrent": 2,
                "image_pull_policy": "IfNotPresent",
                "env_config_maps": ["ml-platform-env"],
                "env_secrets": ["ml-platform-secrets"],
                "step_k8s_config": {"pod_spec_config": {"node_selector": {"pool": "batch"}}},
            }
        },
        "ops": {pipeline.model_key.to_python_identifier(): {"config": {"reason": "k8s check"}}},
    }


def test_training_job_uses_k8s_job_executor_and_validates_run_config(prod, k8s_env) -> None:
    defs, pipeline = prod
    job = defs.resolve_job_def(f"{pipeline.name}_train")
    assert job.executor_def.name == "k8s"
    # the other jobs keep Dagster's default, a process per step in the run's pod
    assert defs.resolve_job_def(f"{pipeline.name}_ingest").executor_def.name == "multi_or_in_process_executor"

    validated = dg.validate_run_config(job, good_run_config(pipeline))["execution"]["k8s"]
    assert validated["max_concurrent"] == 2
    assert validated["step_k8s_config"]["pod_spec_config"] == {"node_selector": {"pool": "batch"}}

    bad = good_run_config(pipeline)
    bad["execution"]["config"]["max_concurrent"] = "two"
    with pytest.raises(dg.DagsterInvalidConfigError, match=r'max_concurrent.*"two"|"two".*max_concurrent'):
        dg.validate_run_config(job, bad)
    typo = good_run_config(pipeline)
    typo["execution"]["config"]["job_namespaces"] = "ml-platform"
    with pytest.raises(dg.DagsterInvalidConfigError, match="job_namespaces"):
        dg.validate_run_config(job, typo)


def _tags(job: dg.JobDefinition, op: str) -> dict[str, str]:
    return dict(next(n for n in job.nodes if n.name == op).tags)


def test_heavy_steps_carry_k8s_resource_tags(prod) -> None:
    defs, pipeline = prod
    train = _tags(defs.resolve_job_def(f"{pipeline.name}_train"), pipeline.model_key.to_python_identifier())
    ingest = _tags(
        defs.resolve_job_def(f"{pipeline.name}_ingest"), pipeline.features_key.to_python_identifier()
    )
    for tags, step in ((train, "training"), (ingest, "features")):
        config = get_user_defined_k8s_config(tags)  # dagster-k8s parses + validates the tag
        resources = config.container_config["resources"]
        assert set(resources) == {"requests", "limits"}
        assert config.pod_template_spec_metadata["labels"]["ml-platform/step"] == step
    assert json.loads(train[K8S_CONFIG_TAG])["container_config"]["resources"]["limits"]["memory"] == "8Gi"


def test_step_job_rendered_by_dagster_k8s(prod) -> None:
    defs, pipeline = prod
    job = defs.resolve_job_def(f"{pipeline.name}_train")
    step_key = pipeline.model_key.to_python_identifier()
    exec_config = good_run_config(pipeline)["execution"]["config"]
    # what k8s_job_executor's step handler merges: executor config, then the step's own tags
    context = K8sContainerContext(
        namespace=exec_config["job_namespace"],
        env_config_maps=exec_config["env_config_maps"],
        env_secrets=exec_config["env_secrets"],
        env_vars=["ML_PLATFORM_ENV=production"],
        run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(exec_config["step_k8s_config"]),
    ).merge(K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(_tags(job, step_key))))
    launcher_like = type(
        "LauncherSettings",
        (),
        {
            "job_image": IMAGE,
            "dagster_home": "/opt/dagster/dagster_home",
            "instance_config_map": "dagster-instance",
            "postgres_password_secret": "dagster-postgresql-secret",
        },
    )()
    job_config = context.get_k8s_job_config(job_image=None, run_launcher=launcher_like)
    args = ["dagster", "api", "execute_step", "--step-keys", step_key]
    rendered = construct_dagster_k8s_job(
        job_config=job_config,
        args=args,
        job_name="dagster-step-abc123",
        pod_name="dagster-step-abc123",
        component="step_worker",
        user_defined_k8s_config=context.run_k8s_config,
        labels={"dagster/job": job.name, "dagster/op": step_key},
        env_vars=[{"name": "DAGSTER_RUN_STEP_KEY", "value": step_key}],
    )
    pod = rendered.spec.template.spec
    container = pod.containers[0]
    assert container.image == IMAGE
    assert container.args == args
    env = {e.name: e.value for e in container.env}
    assert env["DAGSTER_RUN_STEP_KEY"] == step_key
    assert env["ML_PLATFORM_ENV"] == "production"
    assert env["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    assert env["DAGSTER_PG_PASSWORD"] is None  # from the secret, never inline
    assert {s.config_map_ref.name for s in container.env_from if s.config_map_ref} == {"ml-platform-env"}
    assert {s.secret_ref.name for s in container.env_from if s.secret_ref} == {"ml-platform-secrets"}
    assert container.resources.requests == {"cpu": "2", "memory": "4Gi"}
    assert container.resources.limits == {"cpu": "4", "memory": "8Gi"}
    assert pod.node_selector == {"pool": "batch"}
    labels = rendered.spec.template.metadata.labels
    assert labels["app.kubernetes.io/component"] == "step_worker"
    assert labels["dagster/op"] == step_key
    assert labels["ml-platform/step"] == "training"


def test_production_instance_file_validates_with_dagsters_schema(k8s_env) -> None:
    config, _ = dagster_instance_config(str(DEPLOY))
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    limits = config["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert {"key": "ml_platform/deploy", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    checked = process_config(resolve_to_config_type(K8sRunLauncher.config_type()), launcher["config"])
    assert checked.success, checked.errors
    assert checked.value["job_image"] == IMAGE


class RecordingBatchApi:
    """Stands in for kubernetes.client.BatchV1Api: records Jobs instead of creating them."""

    def __init__(self) -> None:
        self.created: list[tuple[str, Any]] = []

    def create_namespaced_job(self, namespace: str, body: Any, **_: Any) -> Any:
        self.created.append((namespace, body))
        return body


class UnusedCoreApi:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the run launcher should not call CoreV1Api.{name} to launch a run")


def test_k8s_run_launcher_creates_the_run_job(prod, k8s_env, tmp_path: Path) -> None:
    defs, pipeline = prod
    config, _ = dagster_instance_config(str(DEPLOY))
    settings = process_config(
        resolve_to_config_type(K8sRunLauncher.config_type()), config["run_launcher"]["config"]
    ).value
    kubeconfig = tmp_path / "kubeconfig"  # a syntactically valid kubeconfig; nothing connects to it
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "offline", "user": {"token": "unused"}}],
                "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
                "current-context": "offline",
            }
        )
    )
    batch = RecordingBatchApi()
    launcher = K8sRunLauncher(
        **{**settings, "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)},
        k8s_client_batch_api=batch,
        k8s_client_core_api=UnusedCoreApi(),
    )
    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.launcher import LaunchRunContext
    from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin

    job = defs.resolve_job_def(f"{pipeline.name}_train")
    origin = JobPythonOrigin(
        job.name,
        RepositoryPythonOrigin(
            executable_path="/usr/local/bin/python",
            code_pointer=ModuleCodePointer("ml_platform.definitions", "defs", "/opt/dagster/app"),
            container_image=IMAGE,
        ),
    )
    with local_instance() as instance:
        launcher.register_instance(instance)
        run = instance.create_run_for_job(
            job_def=job, run_config=good_run_config(pipeline), job_code_origin=origin
        )
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
        events = [e.message for e in instance.all_logs(run.run_id) if e.message]

    assert len(batch.created) == 1
    namespace, k8s_job = batch.created[0]
    assert namespace == "ml-platform"
    assert k8s_job.metadata.name.startswith("dagster-run-")
    container = k8s_job.spec.template.spec.containers[0]
    assert container.image == IMAGE
    assert container.args[:5] == ["/usr/local/bin/python", "-m", "dagster", "api", "execute_run"]
    assert run.run_id in " ".join(container.args)
    env = {e.name: e.value for e in container.env}
    assert env["DAGSTER_RUN_JOB_NAME"] == job.name
    assert container.resources.requests == {"cpu": "250m", "memory": "512Mi"}
    assert container.resources.limits == {"cpu": "1", "memory": "1Gi"}
    assert k8s_job.spec.template.spec.service_account_name == "ml-platform-runs"
    labels = k8s_job.metadata.labels
    assert labels["dagster/run-id"] == run.run_id
    assert labels["app.kubernetes.io/part-of"] == "ml-platform"
    assert labels["app.kubernetes.io/component"] == "run_worker"
    assert any("Kubernetes run worker job" in m for m in events), events


def test_helm_values_match_the_instance_file() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["tagConcurrencyLimits"] == instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    code = values["dagster-user-deployments"]["deployments"][0]
    assert code["dagsterApiGrpcArgs"] == ["--module-name", "ml_platform.definitions"]
    assert code["securityContext"]["runAsNonRoot"] is True
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "-c constraints.txt" in dockerfile and "\nUSER 10001" in dockerfile
