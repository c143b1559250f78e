"""Shared pieces of the server benchmarks: fresh databases, a real server process, logins, realistic data.

Nothing here reads ../shared at import time; benchmarks that need the division CSVs take a path.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

PG_ADMIN = os.environ.get("CUNZHI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-only-password-2026"  # not the demo password: bench servers run outside demo mode
VILLAGE = "340321108200"  # 万福村, 万福镇, 怀远县
MEDIATOR = "wanfucun.mediator"
DEFAULT_DIVISION = ROOT.parent / "shared" / "data" / "china-division"


# ---- machine --------------------------------------------------------------------------------------
def machine() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"cores": os.cpu_count(), "ram_gib": round(mem_kb / 1024 / 1024, 1),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": platform.python_version(),
            "platform": platform.platform(terse=True)}


def print_machine(title: str) -> None:
    m = machine()
    print(f"== {title}")
    print(f"   machine: {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['platform']}, Python {m['python']}; {m['date']}; "
          f"load average at start {os.getloadavg()[0]:.1f}")


def parser(desc: str, db_default: str = "sqlite") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default=db_default)
    p.add_argument("--json", action="store_true", help="also print one JSON line with the figures")
    return p


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# ---- databases ------------------------------------------------------------------------------------
def _pg_url(dbname: str) -> str:
    return sa.make_url(PG_ADMIN).set(database=dbname).render_as_string(hide_password=False)


def _use(url: str, data_dir: Path) -> None:
    from cunzhi.core.config import get_settings
    from cunzhi.core.db import reset_engine

    os.environ["CUNZHI_DATABASE_URL"] = url
    os.environ["CUNZHI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("CUNZHI_SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ["CUNZHI_DEMO"] = "0"
    get_settings.cache_clear()
    reset_engine()


class BenchDB:
    """A fresh migrated database (SQLite file or PostgreSQL ``cunzhi_bench_*``), dropped on exit."""

    def __init__(self, kind: str, seed: bool = True, label: str = "db"):
        self.kind = kind
        self.seed = seed
        self.dir = Path(tempfile.mkdtemp(prefix=f"cunzhi-bench-{label}-"))
        if kind == "sqlite":
            self.url = f"sqlite:///{self.dir / 'bench.db'}"
            self.name = None
        else:
            self.name = f"cunzhi_bench_{label}_{uuid.uuid4().hex[:8]}"
            self.url = _pg_url(self.name)

    def __enter__(self) -> BenchDB:
        if self.kind == "postgresql":
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
            admin.dispose()
        self.activate()
        from cunzhi.migrate import upgrade

        upgrade(self.url)
        if self.seed:
            seed_demo_tree(self.url, self.dir)
        return self

    def activate(self) -> None:
        _use(self.url, self.dir)

    def env(self) -> dict[str, str]:
        return {"CUNZHI_DATABASE_URL": self.url, "CUNZHI_DATA_DIR": str(self.dir), "CUNZHI_DEMO": "0",
                "CUNZHI_SECRET_KEY": "bench-secret-key-not-for-production", "PYTHONPATH": str(ROOT / "backend")}

    def engine(self) -> sa.Engine:
        from cunzhi.core.db import get_engine

        self.activate()
        return get_engine()

    def __exit__(self, *exc) -> None:
        from cunzhi.core.db import reset_engine

        reset_engine()
        if self.kind == "postgresql":
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)


def seed_demo_tree(url: str, data_dir: Path) -> None:
    """The demo county's org tree and accounts (no records), like tests/support/databases.py."""
    from cunzhi.core.db import reset_engine, write_tx
    from cunzhi.demo.service import ACCOUNTS, COUNTY, NS
    from cunzhi.orgs.service import DEMO_SLICE, import_units, read_units
    from cunzhi.users.service import create_user

    _use(url, data_dir)
    with write_tx() as conn:
        import_units(conn, read_units(DEMO_SLICE, counties=[COUNTY]))
        for name, role, org, display in ACCOUNTS:
            create_user(conn, name, PASSWORD, role, org, display, user_id=str(uuid.uuid5(NS, f"user-{name}")))
    reset_engine()


def actor(username: str = MEDIATOR, client_id: str | None = None):
    """The Scope of a demo account, for in-process pushes (seeding)."""
    from cunzhi.core.db import read_tx
    from cunzhi.core.scope import Scope
    from cunzhi.users.models import User

    t = User.__table__
    with read_tx() as conn:
        u = conn.execute(sa.select(t).where(t.c.username == username)).mappings().one()
    return Scope(u["id"], u["username"], u["role"], u["org_code"], client_id or str(uuid.uuid4()), "bench")


def mediator_id(username: str = MEDIATOR) -> str:
    from cunzhi.demo.service import NS

    return str(uuid.uuid5(NS, f"user-{username}"))


# ---- a real server process ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m cunzhi serve`` (or any uvicorn app factory) in its own process on loopback."""

    def __init__(self, env: dict[str, str], factory: str | None = None, workers: int = 1):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        if factory:
            self.cmd = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
                        "--port", str(self.port), "--log-level", "warning"]
        else:
            self.cmd = [sys.executable, "-m", "cunzhi", "serve", "--port", str(self.port)]
        if workers > 1:
            self.cmd += ["--workers", str(workers)]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        # CUNZHI_BENCH_SERVER_LOG=FILE keeps the server's log (errors, stack traces) in FILE, appended
        log_path = os.environ.get("CUNZHI_BENCH_SERVER_LOG")
        out: Any = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115  # closed with the process
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=str(ROOT), stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {' '.join(self.cmd)}")
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code in (200, 503, 404):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not come up")

    def rss_mb(self) -> float:
        """Resident set size of the server process and its descendants (uvicorn workers), MB."""
        total = 0
        pids, i = [self.proc.pid], 0
        while i < len(pids):
            try:
                for task in Path(f"/proc/{pids[i]}/task").iterdir():
                    pids += [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                pass
            i += 1
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far: per unit of work, a figure that the
        machine's load moves much less than wall time (a busy machine slows the process, not its work)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def login(base: str, username: str = MEDIATOR, client_id: str | None = None, **kw) -> httpx.Client:
    client_id = client_id or str(uuid.uuid4())
    c = httpx.Client(base_url=base, timeout=120, **kw)
    r = c.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD, "client_id": client_id})
    r.raise_for_status()
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    c.client_id = client_id  # type: ignore[attr-defined]
    return c


# ---- realistic records ----------------------------------------------------------------------------
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["秀英", "桂兰", "建国", "志强", "德明", "玉梅", "海燕", "春生", "文华", "永红", "国庆", "丽娟", "家豪",
         "淑珍", "宝山", "红梅", "长江", "金凤", "立新", "翠花", "振华", "小龙", "荣华", "福生"]
CATEGORIES = {"neighbor": "排水纠纷", "marriage_family": "赡养纠纷", "homestead": "宅基地边界纠纷",
              "land_contract": "土地承包纠纷", "contract": "民间借贷纠纷", "labor_wage": "劳务报酬纠纷",
              "damages": "损害赔偿纠纷"}
PLACES = ["东庄", "西庄", "后湖", "前岗", "老街", "新村组", "河湾"]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _id_number(rng: random.Random) -> str:
    born = date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28))
    body = f"340321{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _person(rng: random.Random, role: str) -> dict:
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "role": role,
            "gender": rng.choice(["female", "male"]),
            "phone": f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            "id_number": _id_number(rng), "address": f"万福镇{rng.choice(PLACES)}{rng.randint(1, 60)}号"}


def case_fields(rng: random.Random, org: str = VILLAGE, mediator: str | None = None) -> dict:
    """A new mediation case as the field app records it: every common field, two or three parties."""
    category = rng.choice(list(CATEGORIES))
    parties = [_person(rng, "applicant"), _person(rng, "respondent")]
    if rng.random() < 0.15:
        parties.append(_person(rng, "other"))
    risk = rng.choices(["blue", "yellow", "orange", "red"], [50, 30, 15, 5])[0]
    received = date.today() - timedelta(days=rng.randint(0, 120))
    return {"org_code": org, "title": f"{parties[0]['name'][0]}某与{parties[1]['name'][0]}某{CATEGORIES[category]}",
            "description": "当事人到村调委会反映情况，调解员登记受理并约定调解时间。", "category": category,
            "source": rng.choice(["party_request", "proactive", "patrol"]), "received_on": received.isoformat(),
            "place": rng.choice(PLACES), "parties": parties, "people_involved": len(parties) + rng.randint(0, 4),
            "amount_in_dispute": f"{rng.choice([0, 500, 1200, 3000, 8000])}.00",
            "mediator_ids": [mediator] if mediator else [], "risk_level": risk, "escalation_flag": risk == "red",
            "escalation_note": "双方情绪激动，已告知派出所" if risk == "red" else None}


def create_mutation(fields: dict, record_id: str | None = None) -> dict:
    return {"mutation_id": str(uuid.uuid4()), "entity": "mediation_case", "op": "upsert",
            "record_id": record_id or str(uuid.uuid4()), "base_rev": 0, "fields": fields,
            "client_time": "2026-11-28T10:02:00+08:00"}


def gzip_len(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def compact(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


@contextmanager
def timer():
    t = {"s": 0.0}
    start = time.perf_counter()
    yield t
    t["s"] = time.perf_counter() - start
