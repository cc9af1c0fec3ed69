"""Piccolo's conf module (PICCOLO_CONF=forum.piccolo_conf): the engine and the app registry.

The engine here serves Piccolo's own CLI; the app rebinds tables to the engine of its settings
(forum.db.bind_engine), so nothing depends on import-time wiring.
"""

from piccolo.conf.apps import AppRegistry

from forum.db import create_engine
from forum.settings import Settings, database_url_from_env

DB = create_engine(
    Settings(data_dir=None, database_url=database_url_from_env(), secret_key="")  # type: ignore[arg-type]
)

APP_REGISTRY = AppRegistry(
    apps=["forum.piccolo_app", "search.piccolo_app", "moderation.piccolo_app"]
)
