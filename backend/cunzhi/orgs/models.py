"""The organisation tree: province → city → county → township → village (→ grid)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from cunzhi.core.db import OrgCodeType

LEVELS = ("province", "city", "county", "township", "village", "grid")


def level_of(code: str) -> str:
    """Official codes say their level by their length: 2, 4, 6, 9, 12 digits (grids add a suffix)."""
    return {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}.get(len(code), "grid")


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"

    code: str = Field(sa_type=OrgCodeType, primary_key=True)
    name: str = Field(max_length=100)
    level: str = Field(max_length=16, index=True)
    parent_code: str | None = Field(default=None, sa_type=OrgCodeType, index=True)
