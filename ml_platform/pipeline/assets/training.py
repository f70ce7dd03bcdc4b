"""The model: an sklearn Pipeline trained on the N most recent partitions before the holdout,
logged to MLflow and registered as a new version aliased ``challenger``."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dagster as dg
import numpy as np

from ml_platform.integrations.k8s import TRAINING_STEP
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.storage import PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.drift import PROFILE_ARTIFACT
from ml_platform.ml.fit_progress import fit_progress
from ml_platform.ml.memory import spare_collector
from ml_platform.ml.metrics import point_metrics, tidy
from ml_platform.ml.model_card import model_description, model_tags, run_note
from ml_platform.ml.model_factory import fit_lean, pipeline_for, spec_scores
from ml_platform.ml.windows import resolve_windows
from ml_platform.pipeline.assets.common import code_version, git_sha, lazy_partitions_in
from ml_platform.pipeline.assets.run_reason import training_reason
from ml_platform.pipeline.assets.training_threads import (
    CONCURRENT_REFERENCE_BYTES,
    beside,
    drift_reference,
    prepare_registry,
)
from ml_platform.pipeline.code_versions import spec_hash
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.recovery import clean_temp_files, worker_tags
from ml_platform.specs.models import TrainingSpec

TRAIN_METRIC_SAMPLE = 20_000


def training_sample(
    training: TrainingSpec, features: PartitionedParquet, days: list[str], label: str
) -> tuple[float, int] | None:
    """``(fraction, seed)`` of every day's labelled rows to train on, or None for all of them:
    ``sample_fraction`` as it is, ``sample_rows`` as the share of the window's labelled rows it is."""
    if training.sample_fraction is not None:
        return training.sample_fraction, training.sample_seed
    if training.sample_rows is None:
        return None
    labelled = features.count(days, label)
    if labelled <= training.sample_rows:
        return None
    return training.sample_rows / labelled, training.sample_seed


class TrainConfig(dg.Config):
    """Run config for training (e.g. from the launchpad or a schedule)."""

    hyperparameters: dict[str, Any] = {}
    as_of: str | None = None
    reason: str | None = None  # default: from the run's tags (schedule, sensor, backfill, manual)


def model_asset(pipeline: PipelineNames) -> dg.AssetsDefinition:
    spec = pipeline.spec
    cols = spec.features.model_columns

    @dg.asset(
        key=pipeline.model_key,
        ins={"features": lazy_partitions_in(pipeline.features_key)},
        io_manager_key="json_io_manager",
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"scikitlearn", "mlflow"},
        op_tags=TRAINING_STEP,
        description=f"A `{spec.estimator.label}` {spec.task} Pipeline for `{spec.target.name}`, trained on "
        f"the {spec.training.window_partitions} partitions before a {spec.training.holdout_partitions}-"
        "partition holdout (time-based split). Registered in MLflow with alias `challenger`.",
    )
    @spare_collector
    def _model(
        context: dg.AssetExecutionContext,
        config: TrainConfig,
        mlflow: MlflowRegistry,
        features: PartitionedParquet,
    ) -> dg.Output[dict[str, Any]]:
        base = getattr(features.store, "_base_path", None)
        if base is not None and getattr(base, "protocol", "file") in ("", "file", "local"):
            for path in clean_temp_files(str(base)):
                context.log.warning(f"removed a temp file a killed write left behind: {path}")
        windows = resolve_windows(
            spec.training,
            pipeline.partition_keys,
            list(features.keys()),
            config.as_of,
            pipeline.features_label,
        )
        label = spec.target.name
        # only the window's labelled rows and the model's columns leave Parquet
        training = spec.training
        taken = training_sample(training, features, windows.train, label)
        # with the day column, so the two later reads of the window come from the decoded-table cache
        frame = features.read(
            windows.train, columns=[*cols, label, PARTITION_COLUMN], where_present=label, sample=taken
        )
        del frame[PARTITION_COLUMN]
        if taken:
            context.log.info(
                f"training sample: {taken[0]:.2%} of each day's labelled rows (seed {taken[1]}), day by day"
            )
        y = frame.pop(label).to_numpy()
        rows = len(frame)
        if spec.task == "classification" and len(np.unique(y)) < 2:
            raise dg.Failure(
                f"training window {windows.train_range}: its {rows} labelled rows hold a single class "
                f"({label} = {y[0] if rows else 'none'}): a classifier cannot be trained"
            )
        params = {**spec.estimator.params, **config.hyperparameters}
        context.log.info(f"training on {rows} rows, {windows.train_range}; params {params}")
        # a fixed sample for in-sample fit quality (scoring every training row costs as much as a fit)
        sample = np.sort(
            np.random.default_rng(0).choice(rows, size=min(TRAIN_METRIC_SAMPLE, rows), replace=False)
        )
        probe, example = frame.iloc[sample].copy(), frame.head(5).copy()
        model = pipeline_for(spec, params)
        held = [frame]
        del frame  # fit_lean frees it before the estimator fits
        # MLflow opened (imports, store, experiment) and a killed run's leftovers recovered while
        # the model fits: the fit's work is in C with the GIL released, and neither needs the other
        preparing = ThreadPoolExecutor(1, thread_name_prefix="mlflow-prepare")
        prepared = preparing.submit(
            prepare_registry, mlflow, pipeline.name, spec.model_name, context.instance
        )
        preparing.shutdown(wait=False)  # the thread ends with its one task
        started = time.perf_counter()
        with fit_progress(model.steps[-1][1], context.log.info) as reports:
            context.log.info(
                f"fit started: {spec.estimator.label} on {rows:,} rows"
                + ("" if reports else " (this estimator reports no progress; next line when done)")
            )
            fit_lean(model, held, y)
        fit_seconds = time.perf_counter() - started
        for note in prepared.result():  # a recovery that failed fails the step here, as before the fit
            context.log.warning(note)
        context.log.info(
            f"fit {rows:,} rows x {len(cols)} features over {len(windows.train)} partitions in "
            f"{fit_seconds:.1f} s ({rows / max(fit_seconds, 1e-9):,.0f} rows/s)"
        )
        train_metrics = point_metrics(
            spec.metric_task, y[sample], spec_scores(spec, model, probe), where="training window sample"
        )
        tags = {
            "dagster_run_id": context.run.run_id,
            "dagster_asset": pipeline.model_key.to_user_string(),
            "pipeline": pipeline.name,
            "train_partitions": windows.train_range,
            "holdout_partitions": windows.holdout_range,
            "code_version": code_version(),
            "git_sha": git_sha(),
            "training_reason": training_reason(config.reason, context.run.tags),
            "spec_hash": spec_hash(spec),
            "training_sample": f"{taken[0]} of each day, seed {taken[1]}" if taken else "all labelled rows",
            **worker_tags(),
        }
        back_link = mlflow.dagster_run_url(context.run.run_id)
        if back_link:
            tags["dagster_run_url"] = back_link
        # the drift reference (the new model's profile of its window) is computed beside the MLflow
        # logging when the window is small enough to hold twice: both mostly wait on C code
        # (Arrow, OpenMP, SQLite) and neither needs the other's result
        concurrent = rows * (len(cols) + 1) * 8 <= CONCURRENT_REFERENCE_BYTES
        with beside(concurrent, drift_reference, spec, features, windows.train, taken, model) as reference:
            logged = mlflow.log_trained_model(
                experiment=pipeline.name,
                model_name=spec.model_name,
                model=model,
                task=spec.task,
                classes=spec.class_names,
                params={**params, "estimator": spec.estimator.label, "features": ",".join(cols)},
                metrics={f"train_{k}": tidy(v) for k, v in train_metrics.items()}
                | {"fit_seconds": round(fit_seconds, 2)},
                tags=tags,
                # read again, now that the fit's memory is free, for the dataset's digest and schema
                train_frame=features.read(
                    windows.train, columns=[*cols, label], where_present=label, sample=taken
                ),
                target=label,
                input_example=example,
            )
            version_url = mlflow.version_url(spec.model_name, logged["version"])
            trained_by = {"Dagster run that trained it": back_link}
            mlflow.describe_run(
                logged["run_id"],
                run_note(
                    f"{spec.model_name} v{logged['version']}",
                    {**trained_by, "model version": version_url},
                    [f"reason: {tags['training_reason']}", f"train {windows.train_range}, {rows:,} rows"],
                ),
            )
            mlflow.describe_version(
                spec.model_name,
                logged["version"],
                run_note(
                    f"{spec.model_name} v{logged['version']} (model card after the deploy gate)", trained_by
                ),
            )
            mlflow.describe_model(
                spec.model_name, model_description(spec), model_tags(spec, tags["spec_hash"])
            )
            profile = reference.result()
        mlflow.log_to_run(logged["run_id"], {}, {PROFILE_ARTIFACT: json.dumps(profile)})
        mlflow.tag_version(spec.model_name, logged["version"], {"reference_profile": PROFILE_ARTIFACT})
        record = {
            "model_name": spec.model_name,
            **logged,
            "train_partitions": windows.train,
            "holdout_partitions": windows.holdout,
            "train_rows": rows,
            "train_label_mean": float(y.mean()),
            "params": {k: v for k, v in params.items()},
            "dagster_run_id": context.run.run_id,
        }
        metadata: dict[str, Any] = {
            "model_version": logged["version"],
            "model_uri": logged["model_uri"],
            "mlflow_run_id": logged["run_id"],
            "train_window": windows.train_range,
            "holdout_window": windows.holdout_range,
            "train_rows": rows,
            "training_reason": tags["training_reason"],
            "fit_seconds": round(fit_seconds, 2),
            "dataset_digest": logged["dataset_digest"],
        }
        for name, url in mlflow.links(
            logged["experiment_id"], logged["run_id"], spec.model_name, logged["version"]
        ).items():
            metadata[name] = dg.MetadataValue.url(url)
        return dg.Output(record, metadata=metadata)

    return _model
