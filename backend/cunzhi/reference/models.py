"""Configurable code tables and county settings (versioned, per county; ``county_code`` '' = default)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class CodeEntry(SQLModel, table=True):
    __tablename__ = "code_entry"

    table_name: str = Field(max_length=40, primary_key=True)
    county_code: str = Field(max_length=6, primary_key=True, default="")
    code: str = Field(max_length=40, primary_key=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    sort: int = 0
    active: bool = True
    # a value some tables carry per code (points_rule: the rule's default points; None = entered by hand)
    points: int | None = None


class CountySetting(SQLModel, table=True):
    __tablename__ = "county_setting"

    county_code: str = Field(max_length=6, primary_key=True, default="")
    key: str = Field(max_length=40, primary_key=True)
    value: str = Field(max_length=200)
