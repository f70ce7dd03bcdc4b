"""What a logged model carries: the training data as an ``mlflow.data`` dataset (full-data digest,
schema from a sample), an all-optional input signature, pinned requirements, skops trusted types."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ml_platform.integrations.skops_import import import_skops_io

SCHEMA_SAMPLE_ROWS = 10_000


def frame_digest(frame: Any) -> str:
    """Fingerprint of every row and column of a DataFrame (names, dtypes, values).

    MLflow's own pandas digest hashes only the first 10,000 rows, and maps ``type`` over every cell
    to pick its columns (~2 s on a year of flights); this hashes all rows, vectorized."""
    import hashlib

    import pandas as pd

    md5 = hashlib.md5(usedforsecurity=False)
    md5.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    md5.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return md5.hexdigest()[:8]


def training_dataset(mlflow: Any, frame: Any, target: str, name: str) -> Any:
    """An ``mlflow.data`` pandas dataset with a full-data digest and a schema inferred from a
    sample: MLflow infers it cell by cell over the whole frame (~13 s for a year of flights),
    and every column has one dtype, so the first rows give the same schema."""
    from mlflow.models import infer_signature

    dataset = mlflow.data.from_pandas(frame, targets=target, name=name, digest=frame_digest(frame))
    dataset.__dict__["schema"] = infer_signature(frame.head(SCHEMA_SAMPLE_ROWS)).inputs  # cached_property
    return dataset


#: What a logged model needs to load and predict. Named, not inferred: MLflow's inference loads the
#: model in a subprocess (~3 s) and lists whatever that process had imported (pytest, rich, …).
MODEL_REQUIREMENTS = ("mlflow", "numpy", "pandas", "scikit-learn", "scipy", "skops")


def model_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def optional_inputs_signature(dataset_schema: Any, target: str, example: Any, output: Any) -> Any:
    """The model's signature: its inputs are the training dataset's schema (inferred once, from a
    sample: :func:`training_dataset`) without the target, every input optional: the pipelines
    encode or impute missing values (a day without weather still scores), so serving must accept
    them. The output's schema is inferred from ``output``, the model's answer to ``example``."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema

    inputs = Schema(
        [ColSpec(c.type, c.name, required=False) for c in dataset_schema.inputs if c.name != target]
    )
    return ModelSignature(inputs=inputs, outputs=infer_signature(example, output).outputs)


@contextlib.contextmanager
def pinned_requirements_trusted() -> Iterator[None]:
    """MLflow's checks of a model's requirements against this environment skipped while a model
    is logged with :func:`model_requirements` (as it saves the model, and as it loads it back to
    validate the input example): those pins are this environment's installed versions, so no
    check can find a mismatch, and the first maps every installed distribution to its modules
    (``packages_distributions()``, 0.6–1.2 s per process). Loading a model elsewhere still checks
    (:func:`environment_warnings`). Where another MLflow lacks the hook, logging is unchanged."""
    import mlflow.pyfunc
    from mlflow.utils import environment

    name = "warn_dependency_requirement_mismatches"
    hooked = [(m, getattr(m, name)) for m in (environment, mlflow.pyfunc) if hasattr(m, name)]
    for module, _ in hooked:
        setattr(module, name, _no_mismatch_possible)
    try:
        yield
    finally:
        for module, check in hooked:
            setattr(module, name, check)


def _no_mismatch_possible(requirements: list[str]) -> None:
    return None


def own_types(model: Any) -> list[str]:
    """Types skops does not trust by default in a model *this process just trained* (so trusted).
    Recorded in the MLmodel file so loading needs no pickle."""
    skops_io = import_skops_io()
    return list(skops_io.get_untrusted_types(data=skops_io.dumps(model)))


def output_classes(model: Any, names: list[str]) -> list[str]:
    """The class names of ``predict_proba``'s columns, in order: the model's ``classes_`` are the
    label indices it saw in training (a class absent from the window has no column)."""
    return [names[int(c)] for c in model.classes_]


def environment_warnings(model_dir: str | Path, python_version: str | None) -> list[str]:
    """What MLflow warns of when it loads a model, answered from the model's own files: each line of
    its ``requirements.txt`` this environment does not satisfy, and another Python (major.minor).

    MLflow's own check first maps every installed distribution to its modules
    (``packages_distributions()``, 0.5–0.9 s per process); the requirements a model of ours carries
    are pinned names (:data:`MODEL_REQUIREMENTS`), so their installed versions are all it needs."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    warnings = []
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python_version is None:
        warnings.append(f"the model names no Python version (running Python {running})")
    elif ".".join(python_version.split(".")[:2]) != running:
        warnings.append(f"the model was saved with Python {python_version}, this is Python {running}")
    file = Path(model_dir, "requirements.txt")
    lines = file.read_text().splitlines() if file.exists() else []
    for line in (raw.split("#")[0].strip() for raw in lines):
        if not line or line.startswith("-"):
            continue  # options (-r, -c, --index-url) and blanks
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue  # a path or URL, as MLflow skips it
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            warnings.append(f"requirement {line}: {req.name} is not installed")
            continue
        if not req.specifier.contains(installed, prereleases=True):
            warnings.append(f"requirement {line}: {req.name} {installed} is installed")
    return warnings


def load_pyfunc_checked(mlflow: Any, model_dir: str) -> Any:
    """``mlflow.pyfunc.load_model`` of a local model directory, its environment warnings
    (:func:`environment_warnings`) logged instead of MLflow's."""
    import logging

    import_skops_io()
    model = mlflow.pyfunc.load_model(model_dir, suppress_warnings=True)
    flavor = model.metadata.flavors.get("python_function", {})
    for warning in environment_warnings(model_dir, flavor.get("python_version")):
        logging.getLogger("ml_platform.models").warning(f"model at {model_dir}: {warning}")
    return model
