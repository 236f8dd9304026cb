"""`digit-studio serve`: the studio server (uvicorn) with a training run in the background."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .common import fail
from .train import pace_value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the studio server (page, API, live training)",
                       description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--no-train", action="store_true", help="do not start the default training run")
    p.add_argument("--pace", type=pace_value, default="classroom",
                   help="the first run's pace: classroom (default: slow, then faster), full, or examples/s")
    p.add_argument("--state-dir", type=Path, default=None,
                   help="the server's state: runs database, checkpoints, saved models "
                        "(default $DIGIT_STUDIO_HOME or ./var)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="MNIST folder (default $DIGIT_STUDIO_DATA or data/mnist)")
    p.add_argument("--models-dir", type=Path, default=None,
                   help="shipped models folder (default models/ or $DIGIT_STUDIO_MODELS)")
    p.add_argument("--max-runs", type=int, default=2, help="runs that may train at once (default 2)")
    p.add_argument("--executor", choices=["process", "thread"], default=None,
                   help="where runs train: process (worker processes, one per run, MNIST shared) or thread "
                        "(inside the server process); default $DIGIT_STUDIO_EXECUTOR, else process")
    p.add_argument("--ray", dest="ray_address", default=None, metavar="ADDRESS",
                   help="train each run as an actor on the Ray cluster at ADDRESS (e.g. 10.0.0.5:6379; "
                        "default $DIGIT_STUDIO_RAY); needs the extra: pip install -e '.[cluster]'")
    p.add_argument("--token", default=None,
                   help="teacher token for changing runs and models (default $DIGIT_STUDIO_TOKEN; "
                        "if neither is set, one is generated and printed when --host is not loopback)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--access-log", default="quiet", choices=["quiet", "all", "off"],
                   help="a line per request: quiet (default: all but successful predicts and health checks, "
                        "which a class sends by the hundred a second), all, or off")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from app.server.coalesce import CoalescingHTTPProtocol
    from app.server.main import create_app
    from app.server.settings import Settings
    from app.training.config import TrainConfig, pace_problem

    if not 0 < args.port < 65536:
        fail(f"--port must be 1 to 65535, got {args.port}")
    if (why := pace_problem(args.pace, TrainConfig().batch_size)) is not None:
        fail(why)
    if args.max_runs < 1:
        fail(f"--max-runs must be at least 1, got {args.max_runs}")
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    keys = ("state_dir", "models_dir", "token", "executor", "ray_address")
    overrides = {key: getattr(args, key) for key in keys if getattr(args, key)}
    settings = Settings(host=args.host, port=args.port, train_on_start=not args.no_train,
                        first_pace=args.pace, max_concurrent_runs=args.max_runs, data_dir=args.data_dir,
                        access_log=args.access_log, **overrides)
    app = create_app(settings)
    announce_token(app.state.token, app.state.token_generated, settings.host)
    # ws_max_size: a drawing may arrive as a PNG data URL; 8 MB covers the 5 MB file limit in base64.
    # No permessage-deflate: compressing every frame for every client (zlib, per connection) takes the
    # event loop's time from everyone else, training included (docs/performance.md has the figure).
    # access_log=False: the app writes its own, quieter one (app/server/accesslog.py). The HTTP protocol:
    # uvicorn's own (httptools), writing each connection's pieces as one (app/server/coalesce.py).
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level, access_log=False,
                http=CoalescingHTTPProtocol,
                ws_max_size=8 * 1024 * 1024, ws_per_message_deflate=False, timeout_graceful_shutdown=5)
    return 0


def announce_token(token: str | None, generated: bool, host: str) -> None:
    """Print who may change runs: the generated token (the teacher needs to see it), or where it came from."""
    if token is None:
        print(f"Listening on {host} only: anyone on this machine may start, stop and delete runs (no token).",
              flush=True)
    elif generated:
        print(f"Teacher token (needed to start, stop, save and delete runs and models): {token}\n"
              "  Set $DIGIT_STUDIO_TOKEN or --token to choose your own.", flush=True)
    else:
        print("Teacher token set: starting, stopping, saving and deleting need it.", flush=True)
