"""A mypy plugin: SQLModel table classes have ``__table__`` (SQLAlchemy sets it at run time; mypy cannot see it).

Every ``class X(SQLModel, table=True)`` gets ``__table__: ClassVar[sqlalchemy.Table]``, so ``X.__table__.c.id``
type-checks like the rest of the code instead of needing an ignore at each use.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.plugin import ClassDefContext, Plugin
from mypy.plugins.common import add_attribute_to_class


def _add_table(ctx: ClassDefContext) -> None:
    table = ctx.api.named_type_or_none("sqlalchemy.sql.schema.Table")
    if table is None:
        if not ctx.api.final_iteration:
            ctx.api.defer()
        return
    if "__table__" not in ctx.cls.info.names:
        add_attribute_to_class(ctx.api, ctx.cls, "__table__", table, is_classvar=True)


class SQLModelTables(Plugin):
    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        return _add_table if fullname == "sqlmodel.main.SQLModel" else None


def plugin(version: str) -> type[Plugin]:
    return SQLModelTables
