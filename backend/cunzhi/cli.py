"""The ``cunzhi`` command line: serve, db, orgs, users, demo, openapi."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cunzhi.core.config import get_settings

app = typer.Typer(help="村治 Cunzhi: the server and its administration.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations and restore.", no_args_is_help=True)
orgs_app = typer.Typer(help="The organisation tree.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")


def _upgrade() -> None:
    """Apply pending migrations under the migration lock; a database newer than this code stops the command."""
    from cunzhi.migrate import DatabaseNewerThanCode, upgrade

    try:
        upgrade()
    except DatabaseNewerThanCode as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(3) from None


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Apply pending migrations, load the demo on first start if CUNZHI_DEMO=1, then serve app + API."""
    import uvicorn

    from cunzhi.core.logging import configure_logging

    configure_logging()
    settings = get_settings()
    if settings.migrate_on_start:
        _upgrade()
    else:
        _refuse_unless_current()
    if workers > 1:
        _multiprocess_metrics_dir()
    from cunzhi.sync import watermark

    if watermark.check_on_start():
        typer.echo("数据库已从备份恢复：已自动轮换同步纪元 / database restored from a backup: new sync epoch")
    if settings.demo:
        from cunzhi.core.db import get_engine, read_tx
        from cunzhi.demo.service import demo_loaded

        with read_tx(get_engine()) as conn:
            loaded = demo_loaded(conn)
        if not loaded:
            demo()
    else:
        _refuse_demo_passwords()
    from cunzhi.core.security import install_access_log_filter

    install_access_log_filter()
    typer.echo(f"村治 Cunzhi: http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    if settings.demo:
        typer.echo("演示账号 / demo logins (password cunzhi-demo): wanfucun.mediator, wanfucun.grid, wanfucun.admin, "
                   "zhendong.mediator, wanfu.admin, wanfu.viewer, tangji.admin, county.admin")
    from cunzhi.maintenance import start_daily

    start_daily()
    # logging: our own one line per request (no access log: it prints query strings), configured by the app
    uvicorn.run("cunzhi.main:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, log_level=settings.log_level.lower(), access_log=False, log_config=None)


def _refuse_unless_current() -> None:
    """CUNZHI_MIGRATE_ON_START=0: serve only a database this release's migrations have brought to head."""
    from cunzhi.migrate import check

    status = check()
    if status.state != "current":
        typer.echo(f"error: {status.message}" + ("" if status.state == "newer" else "; run `cunzhi db upgrade`"),
                   err=True)
        raise typer.Exit(3)


def _multiprocess_metrics_dir() -> None:
    """Several workers: prometheus_client keeps each one's samples in files that /metrics adds up."""
    import os
    import shutil

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = get_settings().data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)  # samples of a previous run's (dead) workers
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def _refuse_demo_passwords() -> None:
    """Outside demo mode, no active account may still accept the public demo password."""
    from cunzhi.core.db import get_engine, read_tx
    from cunzhi.users.service import demo_password_accounts

    with read_tx(get_engine()) as conn:
        names = demo_password_accounts(conn)
    if not names:
        return
    shown = ", ".join(names)
    typer.echo(
        f"拒绝启动：以下账号仍使用公开的演示密码 cunzhi-demo：{shown}\n"
        f"请为每个账号设置新密码（cunzhi users set-password 用户名）或停用（cunzhi users deactivate 用户名），"
        f"或以演示模式运行（CUNZHI_DEMO=1）。\n"
        f"Refusing to start: these accounts still accept the public demo password cunzhi-demo: {shown}\n"
        f"Give each a new password (cunzhi users set-password USERNAME) or deactivate it "
        f"(cunzhi users deactivate USERNAME), or run in demo mode (CUNZHI_DEMO=1).", err=True)
    raise typer.Exit(3)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from cunzhi.migrate import DatabaseNewerThanCode, upgrade

    try:
        applied = upgrade(revision=revision)
    except DatabaseNewerThanCode as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(3) from None
    typer.echo(f"database at {revision}" + (f"; applied {', '.join(applied)}" if applied else "; nothing to apply"))


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from cunzhi.migrate import downgrade

    downgrade(revision)
    typer.echo(f"database at {revision}")


@db_app.command("check")
def db_check() -> None:
    """Say where the database stands: exit 0 up to date, 1 migrations pending, 3 newer than this release."""
    from cunzhi.migrate import check

    status = check()
    typer.echo(f"database: {get_settings().resolved_database_url.rsplit('@', 1)[-1]}")
    typer.echo(f"revision: {status.current or '(none)'}; this release's head: {status.head}")
    typer.echo(status.message)
    raise typer.Exit({"current": 0, "behind": 1, "empty": 1, "newer": 3}[status.state])


@db_app.command("backup")
def db_backup(
    dest: Annotated[Path | None, typer.Option("--dir", help="folder for backups (default CUNZHI_BACKUP_DIR, "
                                                           "else DATA_DIR/backups)")] = None,
    keep: Annotated[int | None, typer.Option(help="backups to keep (default CUNZHI_BACKUP_KEEP, 14)")] = None,
) -> None:
    """Back up the database (SQLite online backup / pg_dump -Fc) into a dated file with a .sha256; keep the newest N."""
    from cunzhi.backup import BackupError, backup, checksum_path

    try:
        path = backup(dest, keep)
    except (BackupError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"backup {path} ({path.stat().st_size:,} bytes), checksum {checksum_path(path).name}")


@db_app.command("restore")
def db_restore(file: Annotated[Path, typer.Argument(help="a backup written by `cunzhi db backup`")]) -> None:
    """Restore a backup (stop the server first): checks its .sha256, restores, migrates, and marks the restore."""
    from cunzhi.backup import BackupError, restore
    from cunzhi.migrate import DatabaseNewerThanCode
    from cunzhi.sync.state import SERIAL_GAP_AFTER_RESTORE

    try:
        done = restore(file)
    except BackupError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    except DatabaseNewerThanCode as e:
        typer.echo(f"error: restored, but {e}", err=True)
        raise typer.Exit(3) from None
    typer.echo(f"restored {done.file.name}; marked restored: new server epoch {done.epoch}; case-number counters "
               f"moved forward by {SERIAL_GAP_AFTER_RESTORE}. Every phone will reset and re-send what the backup lacks.")


@db_app.command("rebuild-summaries")
def db_rebuild_summaries() -> None:
    """Recount the dashboard's summary tables from the record tables (they are kept exact on every write; this
    is the migration's backfill, for peace of mind or after a hand edit of the records)."""
    import sqlalchemy as sa

    from cunzhi.core.db import write_tx
    from cunzhi.dashboard.summary import TABLES, rebuild

    _upgrade()
    with write_tx() as conn:
        rebuild(conn)
        rows = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in TABLES}
    typer.echo("summary tables recounted: " + ", ".join(f"{k} {v} rows" for k, v in rows.items()))


@db_app.command("mark-restored")
def db_mark_restored() -> None:
    """After restoring a backup: rotate the server epoch and move serial counters forward."""
    from cunzhi.core.db import write_tx
    from cunzhi.sync.state import mark_restored
    from cunzhi.sync.watermark import recorded_high_water

    _upgrade()
    with write_tx() as conn:
        epoch = mark_restored(conn, recorded_high_water())  # counters past the feed's high-water mark
    typer.echo(f"new server epoch {epoch}; serial counters (those created after the backup too) moved past the "
               "feed's high-water mark. Every phone will reset and re-send what the backup lacks.")


@orgs_app.command("import")
def orgs_import(
    folder: Annotated[Path, typer.Argument(help="folder with provinces/cities/areas/streets/villages CSV(.gz)")],
    county: Annotated[list[str], typer.Option("--county", help="county code (6 digits), repeatable")] = [],  # noqa: B006
    province: Annotated[list[str], typer.Option("--province", help="province code (2 digits), repeatable")] = [],  # noqa: B006
) -> None:
    """Import official division codes into the org tree (idempotent; prints counts per level)."""
    import time

    from cunzhi.core.db import write_tx
    from cunzhi.orgs.service import ImportError_, import_units, read_units

    if not folder.is_dir():
        typer.echo(f"error: {folder} is not a folder", err=True)
        raise typer.Exit(2)
    _upgrade()
    started = time.perf_counter()
    try:
        with write_tx() as conn:
            counts = import_units(conn, read_units(folder, counties=county, provinces=province))
    except ImportError_ as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    levels = ("province", "city", "county", "township", "village")
    for kind in ("inserted", "updated", "unchanged"):
        per = getattr(counts, kind)
        typer.echo(f"{kind:>9}: " + ", ".join(f"{lvl} {per.get(lvl, 0)}" for lvl in levels))
    typer.echo(f"done in {time.perf_counter() - started:.1f} s")


@users_app.command("create")
def users_create(username: str, role: Annotated[str, typer.Option(help="mediator, grid_worker, village_admin, "
                                                                        "township_admin, township_viewer, county_admin")],
                 org: Annotated[str, typer.Option(help="org code of the user's unit")],
                 display_name: str | None = None,
                 password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False) -> None:
    """Create an account (the password is read from stdin or prompted for)."""
    from cunzhi.core.db import write_tx
    from cunzhi.core.errors import AppError
    from cunzhi.users.service import create_user

    password = _read_password(password_stdin)
    _upgrade()
    try:
        with write_tx() as conn:
            user = create_user(conn, username, password, role, org, display_name)
    except AppError as e:
        _fail(e)
    typer.echo(f"user {user['username']} ({user['role']} @ {user['org_code']}) id {user['id']}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


def _fail(e) -> None:
    detail = "; ".join(f"{d.field}: {d.code}" for d in e.details) or e.code
    typer.echo(f"error: {detail}", err=True)
    raise typer.Exit(2) from None


@users_app.command("set-password")
def users_set_password(username: str,
                       password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False) -> None:
    """Set a new password (at least 12 characters, not a common one); the account's sessions end."""
    from cunzhi.core.db import write_tx
    from cunzhi.core.errors import AppError
    from cunzhi.users.service import find_user, set_password

    password = _read_password(password_stdin)
    _upgrade()
    try:
        with write_tx() as conn:
            user = find_user(conn, username)
            set_password(conn, user["id"], password)
    except AppError as e:
        _fail(e)
    typer.echo(f"password of {username} changed; its sessions are ended")


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate an account: its sessions end at once and it can no longer sign in."""
    from cunzhi.core.db import write_tx
    from cunzhi.core.errors import AppError
    from cunzhi.users.service import find_user, set_active

    _upgrade()
    try:
        with write_tx() as conn:
            set_active(conn, find_user(conn, username)["id"], False)
    except AppError as e:
        _fail(e)
    typer.echo(f"{username} deactivated; its sessions are ended")


@users_app.command("activate")
def users_activate(username: str) -> None:
    """Let a deactivated account sign in again."""
    from cunzhi.core.db import write_tx
    from cunzhi.core.errors import AppError
    from cunzhi.users.service import find_user, set_active

    _upgrade()
    try:
        with write_tx() as conn:
            set_active(conn, find_user(conn, username)["id"], True)
    except AppError as e:
        _fail(e)
    typer.echo(f"{username} can sign in again")


@app.command()
def demo() -> None:
    """Load the demo county 怀远县 (万福镇 pilot), accounts and six months of cases (idempotent)."""
    from cunzhi.core.db import write_tx
    from cunzhi.demo.service import DemoRefused, load_demo

    _upgrade()
    try:
        loaded = load_demo(write_tx)
    except DemoRefused as e:
        typer.echo(f"拒绝加载演示数据：数据库中已有其他账号（{e}）。演示账号使用公开密码，不能与真实账号共存。\n"
                   f"Refusing to load the demo: the database has other accounts ({e}). Demo accounts have a "
                   "public password and must not live next to real ones: use an empty database for the demo.",
                   err=True)
        raise typer.Exit(3) from None
    typer.echo(f"demo: {loaded.orgs_inserted} org units added, {loaded.users} accounts, "
               f"{loaded.applied} changes applied ({loaded.cases} cases, {loaded.events} events), "
               f"{loaded.duplicates} already there")


@app.command()
def maintain() -> None:
    """Forget stored sync answers past retention, purge attachments no record refers to, anonymise records
    closed longer ago than CUNZHI_PERSONAL_DATA_RETENTION_YEARS."""
    from cunzhi.maintenance import run_once

    _upgrade()
    typer.echo(json.dumps(run_once()))


keys_app = typer.Typer(help="Read-only API keys for integrations.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Option(help="what the key is for, e.g. 县综治平台")],
                org: Annotated[str, typer.Option(help="the unit whose subtree the key reads")],
                entities: Annotated[str | None, typer.Option(help="comma-separated record types (default: all)")] = None,
                days: Annotated[int, typer.Option(help="days until it expires (0: never)")] = 365,
                unmasked: Annotated[bool, typer.Option(help="see ID and phone numbers in full")] = False) -> None:
    """Issue a read-only API key (the secret is shown once), as an admin would in the app."""
    from datetime import timedelta

    from cunzhi.core.clock import today_shanghai
    from cunzhi.core.db import write_tx
    from cunzhi.core.errors import AppError
    from cunzhi.integrations.keys import create_key

    _upgrade()
    try:
        with write_tx() as conn:
            out = create_key(conn, name=name, org_code=org, unmasked=unmasked, creator=None,
                             entities=[e.strip() for e in entities.split(",") if e.strip()] if entities else None,
                             expires_on=today_shanghai() + timedelta(days=days) if days > 0 else None)
    except AppError as e:
        typer.echo(f"error: {e.code} {' '.join(d.field + ':' + d.code for d in e.details)}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"key (shown once): {out['secret']}\nid {out['id']}, unit {out['org_code']}, "
               f"expires {out['expires_on'] or 'never'}")


@keys_app.command("list")
def keys_list() -> None:
    """List every API key (never the secret)."""
    import sqlalchemy as sa

    from cunzhi.core.db import read_tx
    from cunzhi.integrations.keys import key_t, present_key

    _upgrade()
    with read_tx() as conn:
        for r in conn.execute(sa.select(key_t).order_by(key_t.c.created_at)).mappings():
            k = present_key(r)
            typer.echo(f"{k['id']}  {k['prefix']}…  {k['name']}  {k['org_code']}  "
                       f"{'revoked' if k['revoked_at'] else 'expires ' + str(k['expires_on'] or 'never')}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id")]) -> None:
    """Revoke an API key: it answers 401 from its next request."""
    from cunzhi.core.clock import utcnow
    from cunzhi.core.db import write_tx
    from cunzhi.integrations.keys import key_t

    _upgrade()
    with write_tx() as conn:
        n = conn.execute(key_t.update().where(key_t.c.id == key_id, key_t.c.revoked_at.is_(None))
                         .values(revoked_at=utcnow())).rowcount
    if not n:
        typer.echo("error: not_found", err=True)
        raise typer.Exit(2)
    typer.echo(f"revoked {key_id}")


erase_app = typer.Typer(help="Erase personal data (个人信息保护法 Art. 47): anonymise, everywhere it is kept.",
                        no_args_is_help=True)
app.add_typer(erase_app, name="erase")


def _finish_erase(erased, compact: bool) -> None:
    from cunzhi.core.db import get_engine
    from cunzhi.privacy.erasure import compact as compact_db
    from cunzhi.privacy.erasure import delete_files

    delete_files(erased)
    if compact:
        compact_db(get_engine())
    typer.echo(json.dumps(erased.summary()))


@erase_app.command("record")
def erase_record_cmd(entity: Annotated[str, typer.Argument(help="e.g. mediation_case")],
                     record_id: Annotated[str, typer.Argument(help="the record's id (uuid)")],
                     reason: Annotated[str, typer.Option(help="why (kept in the audit trail)")] = "",
                     compact: Annotated[bool, typer.Option(help="VACUUM afterwards so no old copy stays in "
                                                                "the database files")] = True) -> None:
    """Anonymise every person of one record and its child records: the record, its history, conflicts,
    stored answers and files."""
    from cunzhi.core.db import write_tx
    from cunzhi.privacy.erasure import erase_record

    _upgrade()
    try:
        with write_tx() as conn:
            erased = erase_record(conn, entity, record_id, reason=reason)
    except LookupError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    _finish_erase(erased, compact)


@erase_app.command("id-number")
def erase_id_number_cmd(reason: Annotated[str, typer.Option(help="why (kept in the audit trail)")] = "",
                        compact: Annotated[bool, typer.Option(help="VACUUM afterwards")] = True) -> None:
    """Anonymise the person with an ID number in every record that names them. The number is read from
    stdin (or prompted for), never from the command line, so it stays out of shell history."""
    from cunzhi.core.db import write_tx
    from cunzhi.privacy.erasure import erase_id_number

    number = sys.stdin.readline().strip() if not sys.stdin.isatty() else typer.prompt("ID number", hide_input=True)
    _upgrade()
    try:
        with write_tx() as conn:
            erased = erase_id_number(conn, number, reason=reason)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    _finish_erase(erased, compact)
# ---- field app (issue 12): a phone's local backup, replayed through the normal push ----
device_backup_app = typer.Typer(help="Backups exported by a phone (what it had not synced).", no_args_is_help=True)
app.add_typer(device_backup_app, name="device-backup")


@device_backup_app.command("import")
def device_backup_import(file: Path) -> None:
    """Replay a phone's backup file as its user on its device: same mutation ids (no double writes)."""
    from cunzhi.device_backup import BackupError, import_backup

    _upgrade()
    try:
        out = import_backup(json.loads(file.read_text(encoding="utf-8")))
    except (BackupError, json.JSONDecodeError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(out, ensure_ascii=False))


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema (for generating the PWA's types)."""
    from cunzhi.main import create_app

    typer.echo(json.dumps(create_app().openapi(), ensure_ascii=False, indent=1))


if __name__ == "__main__":  # pragma: no cover
    app()
