"""Alembic environment: Visio's tables, on the configured database (or one given by a test)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from logging.config import fileConfig

from sqlmodel import SQLModel

import visio.models  # noqa: F401  (registers every table)
from alembic import context
from visio.db import make_engine, uncompared_indexes
from visio.services.search_index import is_index_table
from visio.settings import settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata
# Autogenerate says it cannot compare an expression index (the folded titles' one, 0016) before
# `include_object` leaves it out: it is checked by tests/integration/test_migrations.py instead.
warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")


def _render_item(type_: str, obj: object, autogen_context) -> str | bool:  # type: ignore[no-untyped-def]
    """Render our UTC column type by its import path, so migrations stay readable."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        autogen_context.imports.add("import visio.models.types")
        return "visio.models.types.UTCDateTime()"
    if type_ == "type" and obj.__class__.__module__.startswith("sqlmodel"):
        autogen_context.imports.add("import sqlmodel")
        return f"sqlmodel.sql.sqltypes.{obj!r}"
    return False


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the search index out of comparisons: migration 0003 owns it, not the models."""
    return not (type_ == "table" and name is not None and is_index_table(name))


def include_object_on(dialect: str) -> Callable[..., bool]:
    """Compare an object made for one database only (`.ddl_if(dialect=...)` in the models, as a
    SQLite-only index) on that database only: elsewhere the migrations rightly leave it out."""
    uncompared = uncompared_indexes(target_metadata)

    def include_object(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        if type_ == "index" and name in uncompared:
            return False
        only = getattr(obj, "_ddl_if", None)  # SQLAlchemy's record of `.ddl_if()`
        return only is None or only.dialect in (None, dialect)

    return include_object


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("url", settings.db_url),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=_render_item,
        include_name=include_name,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes.get("url", settings.db_url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        include_name=include_name,
        include_object=include_object_on(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
