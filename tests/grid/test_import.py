"""The household roster import: XLSX or CSV with Chinese headers, a dry run with an error per row, then the
valid rows written through the engine; idempotent on head name + address; bad files refused clearly."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api import helpers as h
from tests.grid.support import GRID1, GRID2, WANFU_CUN

HEADER = ["户主姓名", "住址", "人口", "联系电话", "身份证号", "网格"]


def csv_bytes(rows: list[list], header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], header=HEADER) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, data: bytes, dry_run: bool, name: str = "roster.csv", org: str = WANFU_CUN):
    return client.post("/api/v1/households/import", files={"file": (name, data, "application/octet-stream")},
                       data={"org_code": org, "dry_run": "true" if dry_run else "false"})


ROWS = [
    ["王建国", "东庄 1 号", 4, h.phone(1, 1), h.id_number(1, 1), "一组网格"],
    ["李秀英", "东庄 2 号", "3", "", "", GRID2],
    ["", "东庄 3 号", 2, "", "", ""],                       # row 4: no head name
    ["张三", "东庄 4 号", 0, "", "", ""],                    # row 5: 0 members
    ["赵四", "东庄 5 号", 2, "12345", "", ""],               # row 6: bad phone
    ["钱五", "东庄 6 号", 2, "", "340321198001010000", ""],  # row 7: bad ID number
    ["孙六", "东庄 7 号", 2, "", "", "镇东一组"],             # row 8: a grid of another village
    ["王建国", "东庄 1 号", 5, "", "", ""],                   # row 9: repeats row 2
    ["周七", "东庄 8 号", "三", "", "", ""],                  # row 10: members not a number
]
EXPECTED_ERRORS = {(4, "head_name", "required"), (5, "members", "out_of_range"), (6, "phone", "invalid_phone"),
                   (7, "head_id_number", "invalid_id_number"), (8, "grid_code", "unknown_grid"),
                   (9, "head_name", "import_duplicate_row"), (10, "members", "invalid_type")}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "csv-gbk"])
def test_dry_run_then_write_then_reimport(g, fmt):
    make = {"csv": csv_bytes, "xlsx": xlsx_bytes, "csv-gbk": lambda r: csv_bytes(r, encoding="gb18030")}[fmt]
    va = g.c("VA")
    r = upload(va, make(ROWS), dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["dry_run"], body["rows"], body["valid"], body["invalid"]) == (True, 9, 2, 7)
    assert {(e["row"], e["field"], e["code"]) for e in body["errors"]} == EXPECTED_ERRORS
    assert all(e["message"] and e["column"] for e in body["errors"])
    assert next(e for e in body["errors"] if e["row"] == 5)["column"] == "人口"
    assert g.count("household") == 0  # a dry run writes nothing
    assert h.count(g.engine, "sync_mutation") == 0
    r = upload(va, make(ROWS), dry_run=False)
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0), body
    assert g.count("household") == 2  # only the valid rows
    with g.engine.connect() as conn:
        rows = {r.head_name: r for r in conn.exec_driver_sql("SELECT * FROM household")}
    assert rows["王建国"].grid_code == GRID1 and rows["王建国"].members == 4
    assert rows["王建国"].phone == h.phone(1, 1) and rows["王建国"].created_by == g.uid("VA")
    assert rows["李秀英"].grid_code == GRID2 and rows["李秀英"].members == 3
    # the same file again: nothing new; a changed row updates its household
    body = upload(va, make(ROWS), dry_run=False).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 2), body
    changed = [["王建国", "东庄 1 号", 6, h.phone(1, 1), h.id_number(1, 1), "一组网格"],
               ["吴八", "西庄 1 号", 1, "", "", ""]]
    body = upload(va, make(changed), dry_run=False).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 0), body
    assert g.count("household") == 3
    with g.engine.connect() as conn:
        wang = conn.exec_driver_sql("SELECT members, rev FROM household WHERE head_name = '王建国'").one()
    assert tuple(wang) == (6, 2)
    # written through the engine: devices pull them, history says who
    pulled = g.c("M").get("/api/v1/sync/pull").json()["changes"]
    assert sum(c["entity"] == "household" for c in pulled) == 3


def test_bad_files_are_refused_clearly_and_store_nothing(g):
    va = g.c("VA")
    body = h.assert_error(upload(va, b"\x89PNG\r\n\x1a\n\x00\x00\x00", dry_run=True, name="x.png"), 422)
    assert body["details"][0]["code"] == "import_unsupported_file"
    body = h.assert_error(upload(va, b"PK\x03\x04 not really a workbook", dry_run=True, name="x.xlsx"), 422)
    assert body["details"][0]["code"] == "import_unsupported_file"
    import zipfile

    fake = io.BytesIO()
    with zipfile.ZipFile(fake, "w") as z:  # a zip, but no workbook inside
        z.writestr("[Content_Types].xml", "<Types/>")
    body = h.assert_error(upload(va, fake.getvalue(), dry_run=True, name="x.xlsx"), 422)
    assert body["details"][0]["code"] == "import_unsupported_file"
    body = h.assert_error(upload(va, csv_bytes([["王", "址", 1]], header=["姓名", "住址", "人口"]), dry_run=True), 422)
    assert body["details"] == [{"field": "file.户主姓名", "code": "import_missing_column", "message": "缺少必需的列"}]
    many = csv_bytes([[f"户主{i}", f"东庄 {i} 号", 3, "", "", ""] for i in range(10_001)])
    body = h.assert_error(upload(va, many, dry_run=False), 422)
    assert body["details"][0]["code"] == "import_too_many_rows"
    huge = csv_bytes([[f"户主{i}", f"东庄 {i} 号", 3, "", "", ""] for i in range(50_000)])
    r = upload(va, huge, dry_run=False)
    assert r.status_code in (413, 422), r.text  # over the body limit or over 10,000 rows: never stored
    h.assert_error(r, r.status_code)
    body = h.assert_error(upload(va, csv_bytes(ROWS[:1]), dry_run=True, org="340321108"), 422)
    assert body["details"][0]["field"] == "org_code"
    en = g.c("VA", lang="en")
    h.assert_error(upload(en, b"\x00\x01binary", dry_run=True), 422, lang="en")
    assert g.count("household") == 0


@pytest.mark.parametrize("who,status", [("G", 403), ("M", 403), ("TV", 403), ("ZA", 403), ("TA", 200),
                                        ("CA", 403)])
def test_who_imports(g, who, status):
    r = upload(g.c(who), csv_bytes(ROWS[:2]), dry_run=False)
    assert r.status_code == status, r.text
    assert g.count("household") == (2 if status == 200 else 0)
