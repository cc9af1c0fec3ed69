"""Piccolo app of the search package: the outbox, the vocabulary and missed searches."""

import os

from piccolo.conf.apps import AppConfig

from search.tables import SearchMiss, SearchOutbox, SearchWord

APP_CONFIG = AppConfig(
    app_name="search",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[SearchOutbox, SearchWord, SearchMiss],
    migration_dependencies=["forum.piccolo_app"],
    commands=[],
)
