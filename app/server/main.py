"""Assemble the studio app: settings, lifespan (models, run manager, live hub), routers, static files."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.training.config import TrainConfig
from app.training.threads import pin_blas_threads

from .accesslog import AccessLogMiddleware
from .api.routes import (
    health,
    lesson_runs,  # issue 5: lessons 6-8, runs and replays
    lessons,  # issue 5: /lessons pages and /api/lessons
    live,
    models,
    pages,
    predict,
    replay,
    run_config,
    runs,
    studio,
)
from .inference import warm_up
from .live import LiveHub
from .models import ModelRegistry
from .runs import RunManager
from .security import SecurityMiddleware, document_error_shapes, resolve_token, validation_error
from .settings import Settings
from .storage import StorageError

log = logging.getLogger(__name__)
SWITCH_INTERVAL = 0.001


def create_app(settings: Settings | None = None, manager: RunManager | None = None) -> FastAPI:
    """Return the studio app; `manager` lets tests supply a run manager with small data."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pin_blas_threads()
        # A training thread holds the GIL most of the time; at the default 5 ms switch interval every
        # await in a request could wait that long for it. 1 ms keeps requests quick; it costs the
        # trainer nothing while no other thread asks for the GIL.
        sys.setswitchinterval(SWITCH_INTERVAL)
        registry = ModelRegistry(settings.models_dir, settings.saved_models_dir)
        app.state.models = registry
        app.state.default_model = pick_default_model(registry, settings)
        default = registry.get(app.state.default_model).net if registry.has(app.state.default_model) else None
        warm_up(default)
        app.state.runs = manager or RunManager(settings.max_concurrent_runs, settings.data_dir,
                                               state_dir=settings.state_dir,  # issue 6: persistence
                                               executor="ray" if settings.ray_address else settings.executor,
                                               ray_address=settings.ray_address)
        if app.state.runs.store is not None:
            registry.attach(app.state.runs.store)
        app.state.live = LiveHub(app.state.runs)
        if settings.train_on_start:
            # The video's network at a classroom pace, watched: the page opens on its climb.
            try:
                app.state.runs.create(TrainConfig(pace=settings.first_pace), name="default", watch=True)
            except StorageError as exc:   # a full or read-only state folder: serve what is there
                log.error("the first run was not started: %s", exc)
        try:
            yield
        finally:
            await app.state.live.close()
            app.state.runs.shutdown()

    app = FastAPI(title="Digit Studio", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Train a small neural network on MNIST and watch it learn. See docs/api.md.")
    app.state.settings = settings
    app.state.token, app.state.token_generated = resolve_token(settings.host, settings.token)
    app.state.templates = Jinja2Templates(directory=str(settings.templates_dir))
    for module in (health, models, runs, replay, studio, run_config, live, predict, pages):
        app.include_router(module.router)
    app.include_router(lessons.router)
    app.include_router(lesson_runs.router)
    settings.static_dir.mkdir(parents=True, exist_ok=True)
    add_middleware(app, settings)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    return app


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """Security headers and body limits on every response; CORS only if origins were configured
    (without it, browsers keep other sites' pages from reading the API: same-origin by default)."""
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(SecurityMiddleware, image_limit=predict.MAX_BODY, docs_csp=pages.DOCS_CSP)
    if settings.access_log != "off":   # outermost: it logs the security middleware's refusals too
        app.add_middleware(AccessLogMiddleware, mode=settings.access_log)
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    document_error_shapes(app)


def pick_default_model(registry: ModelRegistry, settings: Settings) -> str:
    """Load the shipped models now (so the first prediction is fast) and return the one predict uses
    without ?model: `best`, else `default` (with a warning; predict checks again on each request)."""
    present = [name for name in (settings.default_model, settings.fallback_model) if registry.has(name)]
    for name in present:
        registry.get(name)
    if not present:
        log.warning("no shipped model in %s: predict needs ?run=ID or a saved model", settings.models_dir)
        return settings.default_model
    if present[0] != settings.default_model:
        log.warning("model %r not found in %s; predicting with %r until it exists",
                    settings.default_model, settings.models_dir, present[0])
    return present[0]
