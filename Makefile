# ml_platform — see README.md. Every target installs what it needs into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ML_PLATFORM_HOME ?= $(CURDIR)/.ml_platform
export DAGSTER_HOME ?= $(ML_PLATFORM_HOME)/dagster_home
export SPARK_LOCAL_IP ?= 127.0.0.1
export MLFLOW_ENABLE_TELEMETRY ?= false
export DO_NOT_TRACK ?= true
# no tqdm bar in run logs each time a deploy or scoring run downloads a model's files
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR ?= false

.PHONY: install demo demo-weather dev status test lint fmt constraints clean bench prod-like prod-like-down prod-like-status

$(STAMP): pyproject.toml datasets/flights_delay/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,spark,examples]" -e datasets/flights_delay
	touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml deploy/local/dagster_storage.yaml
	mkdir -p $(DAGSTER_HOME)
	cat dagster.yaml deploy/local/dagster_storage.yaml > $(DAGSTER_HOME)/dagster.yaml

## demo: the whole lifecycle headless on the embedded default (starts from a fresh .ml_platform)
demo: $(STAMP)
	rm -rf $(ML_PLATFORM_HOME)
	$(MAKE) --no-print-directory $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/ml-platform demo

## demo-weather: the second example (datasets/seattle_weather: a spec, no Python) to a deployed champion
WEATHER_SPEC := datasets/seattle_weather/seattle_weather.yaml
demo-weather: $(STAMP)
	rm -rf $(ML_PLATFORM_HOME)
	$(MAKE) --no-print-directory $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/ml-platform validate --spec $(WEATHER_SPEC)
	$(BIN)/ml-platform replay --spec $(WEATHER_SPEC) --from vega_datasets:_data/seattle-weather.csv --to file
	$(BIN)/ml-platform demo --spec $(WEATHER_SPEC)

## dev: Dagster UI on 127.0.0.1:3000 and MLflow UI on 127.0.0.1:5000; one Ctrl-C stops both
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/dev.sh

## replay: publish the bundled data into $(ML_PLATFORM_HOME)/landing, one day every REPLAY_INTERVAL s
.PHONY: replay
REPLAY_DAYS ?= 14
REPLAY_INTERVAL ?= 10
replay: $(STAMP)
	$(BIN)/ml-platform replay --to file --days $(REPLAY_DAYS) --interval $(REPLAY_INTERVAL)

status: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/ml-platform status

## prod-like: Postgres + moto S3 + MLflow server + Dagster webserver/daemon on this machine, pipeline to a
## deployed champion (Spark features); prints where each part lives. prod-like-down stops it all.
prod-like: $(STAMP)
	$(BIN)/python -m devtools.prodlike up

prod-like-down:
	$(BIN)/python -m devtools.prodlike down

prod-like-status:
	$(BIN)/python -m devtools.prodlike status

## test: the whole suite (unit, assets, system)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check ml_platform ml_platform_tests bench devtools datasets
	$(BIN)/ruff format --check ml_platform ml_platform_tests bench devtools datasets
	$(BIN)/mypy ml_platform bench devtools datasets/flights_delay/flights_delay

fmt: $(STAMP)
	$(BIN)/ruff check --fix ml_platform ml_platform_tests bench devtools datasets
	$(BIN)/ruff format ml_platform ml_platform_tests bench devtools datasets

constraints: $(STAMP)
	{ head -2 constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v -i '^ml.platform'; } > constraints.tmp && mv constraints.tmp constraints.txt

clean:
	rm -rf $(ML_PLATFORM_HOME) .pytest_cache .mypy_cache .ruff_cache

## bench: benchmarks (not tests) → docs/benchmarks.md; in parts: bench-platform, bench-batch-scoring, bench-spark-scale
.PHONY: bench-platform bench-batch-scoring bench-spark-scale
bench: bench-platform bench-batch-scoring

bench-platform: $(STAMP)
	$(BIN)/python -m bench.run

## bench-batch-scoring: predictions asset vs pyfunc, Spark UDF vs pandas at 1x/30x → docs/batch_scoring.md
bench-batch-scoring: $(STAMP)
	$(BIN)/python -m bench.batch_scoring --home $(ML_PLATFORM_HOME)/bench_batch_scoring --day-runs 7
	$(BIN)/python -m bench.batch_scoring --home $(ML_PLATFORM_HOME)/bench_batch_scoring --engine spark --engines pandas,spark,spark:omp1 --scales 1 --rounds 2
	$(BIN)/python -m bench.batch_scoring --home $(ML_PLATFORM_HOME)/bench_batch_scoring --engine spark --engines spark:omp1 --scales 30 --rounds 1

## bench-spark-scale: Spark end to end (prepare, build, score) on the platform's defaults at SPARK_SCALES
## (10 30; add 100 for ~25 min and 9+ GB of /tmp) → SCALE_DIR/e2e.json (docs/benchmarks.md, "Sized partitions")
SPARK_SCALES ?= 10 30
SCALE_DIR ?= $(ML_PLATFORM_HOME)/bench_spark_scale
bench-spark-scale: $(STAMP)
	for n in $(SPARK_SCALES); do \
	  test -f $(SCALE_DIR)/data_x$$n/flights.parquet || \
	    $(BIN)/python -m bench.scale_data --factor $$n --out $(SCALE_DIR)/data_x$$n || exit 1; \
	  $(BIN)/python -m bench.spark_end_to_end measure --data-dir $(SCALE_DIR)/data_x$$n \
	    --store $(SCALE_DIR)/store_x$$n --omp-threads 1 --score-home $(SCALE_DIR)/home \
	    --json $(SCALE_DIR)/e2e.json --label $${n}x || exit 1; \
	done
