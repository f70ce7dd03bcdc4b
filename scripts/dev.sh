#!/usr/bin/env bash
# Dagster (webserver + daemon) on 127.0.0.1:3000, the MLflow UI on 127.0.0.1:5000 and the champion's
# endpoint on 127.0.0.1:8000. One Ctrl-C (or TERM) stops all three; each server is stopped by its own PID.
set -euo pipefail
ROOT=$PWD
: "${ML_PLATFORM_HOME:=$PWD/.ml_platform}"
: "${DAGSTER_HOME:=$ML_PLATFORM_HOME/dagster_home}"
: "${DAGSTER_PORT:=3000}"
: "${MLFLOW_PORT:=5000}"
: "${SERVE_PORT:=8000}"
# Links between the UIs follow the ports (MLflow tags link to Dagster runs, Dagster metadata to MLflow).
: "${ML_PLATFORM_DAGSTER_UI_URL:=http://127.0.0.1:$DAGSTER_PORT}"
: "${ML_PLATFORM_MLFLOW_UI_URL:=http://127.0.0.1:$MLFLOW_PORT}"
export ML_PLATFORM_HOME DAGSTER_HOME ML_PLATFORM_DAGSTER_UI_URL ML_PLATFORM_MLFLOW_UI_URL
mkdir -p "$DAGSTER_HOME" "$ML_PLATFORM_HOME/mlartifacts"
DAGSTER_HOME=$(cd "$DAGSTER_HOME" && pwd)  # absolute: Dagster runs from it below
ML_PLATFORM_HOME=$(cd "$ML_PLATFORM_HOME" && pwd)
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cat dagster.yaml deploy/local/dagster_storage.yaml > "$DAGSTER_HOME/dagster.yaml"

# a new tracking DB from the per-machine template instead of MLflow's migrations (ml_platform/integrations/mlflow_db.py)
python -c "from ml_platform.integrations.mlflow_db import ensure_local_db as e; e('sqlite:///$ML_PLATFORM_HOME/mlflow.db')"
env --default-signal=INT,TERM mlflow server --host 127.0.0.1 --port "$MLFLOW_PORT" \
  --backend-store-uri "sqlite:///$ML_PLATFORM_HOME/mlflow.db" \
  --artifacts-destination "$ML_PLATFORM_HOME/mlartifacts" --workers 1 &
MLFLOW_PID=$!
# From DAGSTER_HOME, whose dagster.yaml is the root one plus the local storage: started from the
# root, `dagster dev` would warn that the root dagster.yaml "will not be used", which is not so.
(cd "$DAGSTER_HOME" && exec env --default-signal=INT,TERM dagster dev -w "$ROOT/workspace.yaml" -h 127.0.0.1 -p "$DAGSTER_PORT") &
DAGSTER_PID=$!
# The champion's endpoint (follows the alias; 503 on /health until a champion exists). SERVE_SPEC picks
# one spec when several are configured.
env --default-signal=INT,TERM ml-platform serve --host 127.0.0.1 --port "$SERVE_PORT" ${SERVE_SPEC:+--spec "$SERVE_SPEC"} &
SERVE_PID=$!

stop() {
  trap - INT TERM EXIT
  kill -INT "$DAGSTER_PID" 2>/dev/null || true
  kill -TERM "$MLFLOW_PID" 2>/dev/null || true
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  wait "$DAGSTER_PID" 2>/dev/null || true
  wait "$MLFLOW_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "Dagster: http://127.0.0.1:$DAGSTER_PORT   MLflow: http://127.0.0.1:$MLFLOW_PORT/#/models?workflowType=machine_learning   endpoint: http://127.0.0.1:$SERVE_PORT   (Ctrl-C stops all)"
wait -n "$DAGSTER_PID" "$MLFLOW_PID" "$SERVE_PID"
