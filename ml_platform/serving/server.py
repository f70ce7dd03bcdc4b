"""``ml-platform serve``: the endpoint under uvicorn, on 127.0.0.1 unless told otherwise.

``add_parser``/``run`` plug the subcommand into the CLI; ``python -m ml_platform.serving.server``
runs it standalone. The bearer token is read from the environment variable named by
``--token-env`` when the server starts, never at import, and never printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def serve(
    tracking_uri: str,
    model_name: str,
    alias: str = "champion",
    host: str = "127.0.0.1",
    port: int = 8000,
    log_dir: str | Path = "prediction_log",
    token_env: str | None = None,
    max_rows: int = 10_000,
    poll_seconds: float = 5.0,
) -> int:
    """Serve ``models:/<model_name>@<alias>`` until interrupted (SIGINT/SIGTERM); 0 on a clean stop."""
    import uvicorn

    from ml_platform.serving.app import create_app
    from ml_platform.serving.holder import ModelHolder
    from ml_platform.serving.prediction_log import PredictionLog

    token = None
    if token_env:
        token = os.environ.get(token_env, "").strip()
        if not token:  # asked for auth but got no token: refuse rather than serve unprotected
            print(f"serve: environment variable {token_env} (the bearer token) is not set", file=sys.stderr)
            return 2
    holder = ModelHolder(tracking_uri, model_name, alias=alias, poll_seconds=poll_seconds)
    prediction_log = PredictionLog(log_dir)
    holder.start()
    state = holder.health()
    print(
        f"serve: models:/{model_name}@{alias} → {state['status']}"
        + (f" (version {state['model']['version']})" if state["model"] else f" ({state['reason']})")
        + f" on http://{host}:{port}, prediction log {Path(log_dir).resolve()}",
        file=sys.stderr,
        flush=True,
    )
    app = create_app(holder, prediction_log, token=token, max_rows=max_rows)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    try:
        server.run()
    finally:
        holder.stop()
        prediction_log.close()
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``serve`` subcommand (the CLI maps ``--spec`` to the model name, tracking URI, log dir)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve", help="serve the champion model over HTTP (follows the alias, logs every prediction)"
    )
    parser.add_argument("--spec", default=None, help="bundled spec whose model is served")
    parser.add_argument("--model-name", default=None, help="registered model name (default: from the spec)")
    parser.add_argument("--tracking-uri", default=None, help="MLflow tracking/registry URI")
    parser.add_argument("--log-dir", default=None, help="prediction log directory")
    parser.add_argument("--alias", default="champion", help="registry alias to follow (default champion)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--token-env", default=None, help="env var holding the bearer token (default: no auth)"
    )
    parser.add_argument("--max-rows", type=int, default=10_000, help="largest batch accepted (default 10000)")
    parser.add_argument("--poll-seconds", type=float, default=5.0, help="registry poll interval (default 5)")
    parser.set_defaults(fn=run)
    return parser


def run(args: argparse.Namespace) -> int:
    missing = [flag for flag in ("model_name", "tracking_uri", "log_dir") if getattr(args, flag) is None]
    if missing:
        print(f"serve: missing {', '.join('--' + m.replace('_', '-') for m in missing)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return serve(
        args.tracking_uri,
        args.model_name,
        alias=args.alias,
        host=args.host,
        port=args.port,
        log_dir=args.log_dir,
        token_env=args.token_env,
        max_rows=args.max_rows,
        poll_seconds=args.poll_seconds,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ml-platform-serve", description=__doc__)
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
