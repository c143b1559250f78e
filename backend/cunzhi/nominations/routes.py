"""Read API of nominations and objections, the 好人档案 (honours), and the public notice page."""

from __future__ import annotations

import html
import uuid
from datetime import date, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope, audit, reads
from cunzhi.api.listing import (codes_schema, IsoDate, ERRORS, UpdatedSince, filter_codes, get_doc, get_one, history, history_doc, list_doc,
                                list_page)
from cunzhi.core.clock import today_shanghai
from cunzhi.core.db import read_tx, scope_clause
from cunzhi.nominations import rules
from cunzhi.nominations.entities import nomination, nomination_objection
from cunzhi.orgs.models import OrgUnit
from cunzhi.reference.service import code_labels

router = APIRouter(tags=["nominations"])
public_router = APIRouter(include_in_schema=False)
nom_t = nomination.table
obj_t = nomination_objection.table
org_t = OrgUnit.__table__


@router.get("/nominations", **list_doc(nomination, "nominations"))
def list_nominations(
    scope: CurrentScope,
    updated_since: UpdatedSince = None,
    org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    state: Annotated[str | None, Query(max_length=200), codes_schema(rules.STATES, 200)] = None,
    category: Annotated[str | None, Query(max_length=400)] = None,
    paused: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="search in the nominee's name")] = None,
    awarded_from: IsoDate | None = None,  # the dashboard's drill (i9)
    awarded_to: IsoDate | None = None,
    include_deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JSONResponse:
    """Nominations in the caller's scope, newest first (nominee phone and ID number masked by role)."""
    query = sa.select(nom_t).where(scope.clause(nom_t.c.org_code))
    if org_code:
        query = query.where(scope_clause(nom_t.c.org_code, org_code))
    if not include_deleted:
        query = query.where(nom_t.c.deleted.is_(False))
    if paused is not None:
        query = query.where(nom_t.c.paused.is_(paused))
    if q:
        query = query.where(nom_t.c.nominee_name.contains(q, autoescape=True))
    if awarded_from:
        query = query.where(nom_t.c.awarded_on >= awarded_from)
    if awarded_to:
        query = query.where(nom_t.c.awarded_on <= awarded_to)
    query = filter_codes(query, [(nom_t.c.state, state, rules.STATES, "state"),
                                 (nom_t.c.category, category, None, "category")])
    return list_page(nomination, scope, query, nom_t.c.created_at, limit=limit, cursor=cursor, kind=datetime,
                     action="nominations.list", updated_since=updated_since)


@router.get("/nominations/{nomination_id}", **get_doc(nomination, "nomination"))
def get_nomination(nomination_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One nomination with its notice period (nominee phone and ID number masked by role)."""
    return get_one(nomination, scope, nomination_id, "nominations.get")


@router.get("/nominations/{nomination_id}/history", **history_doc(nomination, "nomination"))
def nomination_history(nomination_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the nomination: reviews, the notice, objections' effects, the award."""
    return history(nomination, scope, nomination_id, "nominations.history")


@router.get("/nomination-objections", **list_doc(nomination_objection, "objections to nominations"))
def list_objections(
    scope: CurrentScope,
    updated_since: UpdatedSince = None,
    org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    nomination_id: uuid.UUID | None = None,
    state: Annotated[str | None, Query(max_length=100), codes_schema(rules.OBJECTION_STATES, 100)] = None,
    include_deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JSONResponse:
    """Objections in the caller's scope, newest first (the objector's contact masked by role)."""
    query = sa.select(obj_t).where(scope.clause(obj_t.c.org_code))
    if org_code:
        query = query.where(scope_clause(obj_t.c.org_code, org_code))
    if nomination_id:
        query = query.where(obj_t.c.nomination_id == str(nomination_id))
    if not include_deleted:
        query = query.where(obj_t.c.deleted.is_(False))
    query = filter_codes(query, [(obj_t.c.state, state, rules.OBJECTION_STATES, "state")])
    return list_page(nomination_objection, scope, query, obj_t.c.created_at, limit=limit, cursor=cursor,
                     kind=datetime, action="nomination_objections.list", updated_since=updated_since)


@router.get("/nomination-objections/{objection_id}", **get_doc(nomination_objection, "objection"))
def get_objection(objection_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One objection to a nomination (the objector's contact masked by role)."""
    return get_one(nomination_objection, scope, objection_id, "nomination_objections.get")


@router.get("/nomination-objections/{objection_id}/history", **history_doc(nomination_objection, "objection"))
def objection_history(objection_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the objection: who, when, which fields."""
    return history(nomination_objection, scope, objection_id, "nomination_objections.history")


class Honour(BaseModel):
    id: str = Field(description="the nomination's id")
    org_code: str = Field(description="the village's code")
    category: str = Field(description="the honour's category (a nomination category)")
    nominee_name: str = Field(description="who was honoured")
    household_id: str | None = Field(description="their household, if known")
    award_title: str | None = Field(description="the title awarded")
    awarded_on: str | None = Field(description="the day it was awarded")
    year: int | None = Field(description="the year it was awarded")
    deeds: str | None = Field(description="what they did")


class Honours(BaseModel):
    items: list[Honour] = Field(description="awarded people and families, newest award first (at most 2000)")


@router.get("/honours", response_model=Honours, responses=ERRORS, dependencies=[reads("nomination")],
            summary="The honours archive (好人档案)")
def honours(
    scope: CurrentScope,
    org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="only those awarded in this year")] = None,
) -> JSONResponse:
    """好人档案: awarded people and families by village and year (award date), newest first.

    Names, category, title, deeds and date only: the archive never carries phone or ID numbers."""
    query = sa.select(nom_t).where(scope.clause(nom_t.c.org_code), nom_t.c.state == "awarded",
                                   nom_t.c.deleted.is_(False))
    if org_code:
        query = query.where(scope_clause(nom_t.c.org_code, org_code))
    if year:
        query = query.where(nom_t.c.awarded_on >= date(year, 1, 1), nom_t.c.awarded_on <= date(year, 12, 31))
    query = query.order_by(nom_t.c.awarded_on.desc(), nom_t.c.id).limit(2000)
    with read_tx() as conn:
        rows = conn.execute(query).mappings().all()
    items = [{"id": r["id"], "org_code": r["org_code"], "category": r["category"], "nominee_name": r["nominee_name"],
              "household_id": r["household_id"], "award_title": r["award_title"],
              "awarded_on": r["awarded_on"].isoformat() if r["awarded_on"] else None,
              "year": r["awarded_on"].year if r["awarded_on"] else None, "deeds": r["deeds"]} for r in rows]
    audit(scope, "honours.list")
    return JSONResponse({"items": items})


# ---- the public notice (公示), no sign-in ---------------------------------------------------------
COMMITTEES = ("村民委员会", "居民委员会")


class NoSuchVillage(Exception):
    """A public page asked for a code that is no village: answered as a page (public_page_404), not as API JSON."""


def village_or_404(conn, code: str) -> dict:
    """The village of a public page: its short name (万福村), its committee (万福村村民委员会) and its township."""
    if not code.isdigit() or len(code) != 12:
        raise NoSuchVillage(code)
    unit = conn.execute(sa.select(org_t).where(org_t.c.code == code, org_t.c.level == "village")).mappings().first()
    if unit is None:
        raise NoSuchVillage(code)
    parent = conn.execute(sa.select(org_t.c.name).where(org_t.c.code == unit["parent_code"])).scalar()
    name = unit["name"]
    short = next((name[: -len(c)] for c in COMMITTEES if name.endswith(c) and len(name) > len(c)), name)
    committee = name if short != name else f"{name}村民委员会"
    return {"code": unit["code"], "name": short, "committee": committee, "township": parent}


def public_page_404() -> HTMLResponse:
    """What someone who scanned or typed a wrong village code sees: a page that says so (no API JSON)."""
    body = ("<h1>未找到此页面</h1><p class=\"sub\">Page not found</p>"
            "<p>没有找到这个村的公示或积分榜。请核对网址中的村代码（12 位数字），或向村两委询问正确的地址。</p>"
            "<p>No village has this code. Check the 12-digit village code in the address, or ask the village "
            "committee for the right one.</p>")
    resp = page("未找到此页面", body)
    resp.status_code = 404
    return resp


PRINT_CSS = """
body{font-family:"Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:60rem;
padding:1.5rem;color:#111;line-height:1.6}
h1{text-align:center;font-size:1.8rem;margin:.5rem 0}
.sub{text-align:center;color:#444;margin:0 0 1rem}
table{width:100%;border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #333;padding:.4rem .6rem;vertical-align:top;text-align:left}
th{background:#f2f2f2}
.paused{color:#b00;font-weight:bold}
.how{border:2px solid #333;padding:.6rem 1rem;margin-top:1rem}
.foot{margin-top:1.5rem;text-align:right}
@page{size:A4 portrait;margin:15mm}
@media print{body{max-width:none;padding:0;font-size:11pt}th{background:none}a{color:inherit;text-decoration:none}
.noprint{display:none}tr{page-break-inside:avoid}}
"""


def summary(text: str | None, n: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n] + "…"


def page(title: str, body: str) -> HTMLResponse:
    doc = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width,initial-scale=1">'
           f'<meta name="robots" content="noindex"><title>{html.escape(title)}</title>'
           f"<style>{PRINT_CSS}</style></head><body>{body}</body></html>")
    return HTMLResponse(doc, headers={"Cache-Control": "no-cache", "Content-Security-Policy":
                                      "default-src 'none'; style-src 'unsafe-inline'"})


@public_router.get("/notice/{village_code}", response_class=HTMLResponse)
def public_notice(village_code: str) -> HTMLResponse:
    """公示: the village's nominations in their notice period — nominee, category, deeds, period, how to object."""
    e = html.escape
    today = today_shanghai()
    with read_tx() as conn:
        try:
            village = village_or_404(conn, village_code)
        except NoSuchVillage:
            return public_page_404()
        labels = {c["code"]: c["name_zh"] for c in code_labels(conn, village_code[:6]).get("nomination_category", [])}
        rows = conn.execute(sa.select(nom_t.c.nominee_name, nom_t.c.category, nom_t.c.deeds, nom_t.c.notice_starts_on,
                                      nom_t.c.notice_ends_on, nom_t.c.paused, nom_t.c.disqualifiers)
                            .where(nom_t.c.org_code == village_code, nom_t.c.state == "public_notice",
                                   nom_t.c.deleted.is_(False))
                            .order_by(nom_t.c.notice_starts_on, nom_t.c.nominee_name)).mappings().all()
    # a nominee with a recorded disqualifier is never shown (it cannot be approved; the township rejects it)
    rows = [r for r in rows if not rules.disqualified(r["disqualifiers"])]
    name = f"{village['township'] or ''}{village['name']}"
    trs = "".join(
        f"<tr><td>{e(r['nominee_name'])}</td><td>{e(labels.get(r['category'], r['category']))}</td>"
        f"<td>{e(summary(r['deeds']))}</td>"
        f"<td>{e(str(r['notice_starts_on']))} 至 {e(str(r['notice_ends_on']))}"
        + ('<br><span class="paused">异议核查中，公示暂停</span>' if r["paused"] else "") + "</td></tr>"
        for r in rows)
    table = (f"<table><thead><tr><th>被推荐人（户）</th><th>类别</th><th>主要事迹</th><th>公示期</th></tr></thead>"
             f"<tbody>{trs}</tbody></table>") if rows else "<p>目前没有正在公示的推荐对象。</p>"
    body = (f"<h1>{e(name)}道德模范、最美家庭推荐对象公示</h1>"
            f"<p class=\"sub\">公示日期：{e(today.isoformat())}</p>"
            f"<p>经群众推荐、村两委评议，现将以下推荐对象予以公示，接受群众监督。</p>{table}"
            f"<div class=\"how\"><strong>如何提出异议：</strong>公示期内，对推荐对象有异议的，可到{e(village['committee'])}"
            f"当面反映，或通过电话向村两委反映（可匿名）。异议须实事求是，村两委将记录并核查，"
            f"核查期间该对象的公示暂停。</div>"
            f"<p class=\"foot\">{e(village['committee'])}<br>{e(today.isoformat())}</p>")
    return page(f"{name} 公示", body)
