"""docs/specs.md is what ``python -m devtools.spec_reference`` generates from the pydantic spec
models (real models, the real example specs): a field added, renamed or re-described without
regenerating the doc fails here."""

from devtools.spec_reference import OUT, render
from ml_platform.specs import models


def test_committed_spec_reference_equals_the_generated_one() -> None:
    assert OUT.read_text() == render(), "docs/specs.md is stale: run python -m devtools.spec_reference"


def test_every_field_of_every_spec_model_is_documented_with_an_example() -> None:
    text = render()
    for name in ("PipelineSpec", "PartitioningSpec", "TimeSpec", "TargetSpec", "EstimatorSpec"):
        model = getattr(models, name)
        for field, info in model.model_fields.items():
            assert f"| `{info.alias or field}` |" in text, f"{name}.{field} missing from docs/specs.md"
    assert "| `positive_class` |" in text and "`positive_class: sun`" in text
    assert "`format: '%Y/%m/%d'`" in text
