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
    from cunzhi.migrate import upgrade

    upgrade()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Apply pending migrations, load the demo on first start if CUNZHI_DEMO=1, then serve app + API."""
    import uvicorn

    _upgrade()
    from cunzhi.sync import watermark

    if watermark.check_on_start():
        typer.echo("数据库已从备份恢复：已自动轮换同步纪元 / database restored from a backup: new sync epoch")
    settings = get_settings()
    if settings.demo:
        from cunzhi.core.db import get_engine, read_tx
        from cunzhi.demo.service import demo_loaded

        with read_tx(get_engine()) as conn:
            loaded = demo_loaded(conn)
        if not loaded:
            demo()
    typer.echo(f"村治 Cunzhi: http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    if settings.demo:
        typer.echo("演示账号 / demo logins (password cunzhi-demo): wanfucun.mediator, wanfucun.grid, wanfucun.admin, "
                   "zhendong.mediator, wanfu.admin, wanfu.viewer, tangji.admin, county.admin")
    from cunzhi.maintenance import start_daily

    start_daily()
    uvicorn.run("cunzhi.main:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, log_level="info")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from cunzhi.migrate import upgrade

    upgrade(revision=revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from cunzhi.migrate import downgrade

    downgrade(revision)
    typer.echo(f"database at {revision}")


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

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("password", hide_input=True,
                                                                                     confirmation_prompt=True)
    _upgrade()
    try:
        with write_tx() as conn:
            user = create_user(conn, username, password, role, org, display_name)
    except AppError as e:
        typer.echo("error: " + "; ".join(f"{d.field}: {d.code}" for d in e.details), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"user {user['username']} ({user['role']} @ {user['org_code']}) id {user['id']}")


@app.command()
def demo() -> None:
    """Load the demo county 怀远县 (万福镇 pilot), accounts and six months of cases (idempotent)."""
    from cunzhi.core.db import write_tx
    from cunzhi.demo.service import load_demo

    _upgrade()
    loaded = load_demo(write_tx)
    typer.echo(f"demo: {loaded.orgs_inserted} org units added, {loaded.users} accounts, "
               f"{loaded.applied} changes applied ({loaded.cases} cases, {loaded.events} events), "
               f"{loaded.duplicates} already there")


@app.command()
def maintain() -> None:
    """Forget stored sync answers past retention and purge attachments no record refers to."""
    from cunzhi.maintenance import run_once

    _upgrade()
    typer.echo(json.dumps(run_once()))


keys_app = typer.Typer(help="Read-only API keys for integrations.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(username: Annotated[str, typer.Argument(help="an account with role integration")],
                days: int = 365) -> None:
    """Issue a read-only API key (shown once) for an integration account."""
    from cunzhi.core.db import write_tx
    from cunzhi.core.errors import AppError
    from cunzhi.users.service import create_api_key

    _upgrade()
    try:
        with write_tx() as conn:
            out = create_api_key(conn, username, days)
    except AppError as e:
        typer.echo(f"error: {e.code}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"key (shown once): {out['key']}\nsession {out['session_id']}, expires {out['expires_at']:%Y-%m-%d}")


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
