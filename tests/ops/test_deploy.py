"""The install as an operator gets it, checked without a Docker engine:

- deploy/compose.yaml parses and holds what docs/deploy.md promises: PostgreSQL, the server built from our
  Dockerfile and Caddy with HTTPS + HSTS; secrets only from the environment (required, never written in);
  data on named volumes; every CUNZHI_* variable it sets is a real setting; every ${VAR} is in .env.example.
- The Dockerfile's Python steps are run as written (paths moved into a temp dir) in a clean virtualenv from the
  same lock file `make` uses, and the result migrates a database and builds the app; the PWA stage uses
  `npm ci` on the committed package-lock.json, the runtime stage installs pg_dump.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


# ---- the compose file ------------------------------------------------------------------------------------
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _vars(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+)", text))


def test_compose_services_volumes_and_secrets():
    from cunzhi.core.config import Settings

    c = compose()
    services = c["services"]
    assert set(services) == {"db", "server", "caddy"}
    db, server, caddy = services["db"], services["server"], services["caddy"]
    assert db["image"].startswith("postgres:") and "healthcheck" in db
    assert server["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert (DEPLOY / server["build"]["context"] / server["build"]["dockerfile"]).resolve() == REPO / "Dockerfile"
    assert server["depends_on"]["db"]["condition"] == "service_healthy"
    assert "ports" not in server and "ports" not in db  # only Caddy faces the network
    assert {p.split(":")[0] for p in caddy["ports"]} == {"80", "443"}
    # data on named volumes, each declared and used
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if not v.startswith(".")}
    assert used == set(c["volumes"]) and {"pgdata", "cunzhi-data", "caddy-data"} <= used
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"] and "cunzhi-data:/data" in server["volumes"]
    # secrets: from the environment, required (${VAR:?…}), never a literal in the file
    env = server["environment"]
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:[?-][^}]*)?\}", str(value)), (key, value)
    assert "${POSTGRES_PASSWORD:?" in env["CUNZHI_DATABASE_URL"]
    assert env["CUNZHI_SECRET_KEY"].startswith("${CUNZHI_SECRET_KEY:?")
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert env["CUNZHI_DATABASE_URL"].startswith("postgresql+psycopg://cunzhi:") and "@db:5432/cunzhi" in \
        env["CUNZHI_DATABASE_URL"]
    # every CUNZHI_* variable is one the server reads (a typo would be silently ignored)
    fields = {f"CUNZHI_{name.upper()}" for name in Settings.model_fields}
    assert {k for k in env if k.startswith("CUNZHI_")} <= fields
    # the command serves on all interfaces of the container, behind Caddy
    assert server["command"][:2] == ["cunzhi", "serve"] and "0.0.0.0" in server["command"]
    # every variable it needs is explained in .env.example, and the real .env is never committed
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example, re.M))
    assert _vars((DEPLOY / "compose.yaml").read_text(encoding="utf-8")) - {"CUNZHI_VERSION"} <= listed
    for line in example.splitlines():
        if re.match(r"^(POSTGRES_PASSWORD|CUNZHI_SECRET_KEY|CUNZHI_METRICS_TOKEN)=", line):
            assert line.split("=", 1)[1] == "", f"no secret in the example: {line}"
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/.env"], cwd=REPO).returncode
    assert ignored == 0, "deploy/.env must be git-ignored"


def test_caddy_serves_https_with_hsts_and_hides_metrics():
    caddy = compose()["services"]["caddy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"^\{\$CUNZHI_DOMAIN\} \{", text, re.M)  # a domain name: automatic HTTPS
    assert "http://" not in text.replace("# ", "")  # no plain-HTTP site
    hsts = re.search(r'Strict-Transport-Security "max-age=(\d+)', text)
    assert hsts and int(hsts.group(1)) >= 31536000
    assert re.search(r"@metrics path /metrics", text) and "respond @metrics 404" in text
    assert "reverse_proxy server:8000" in text and "header_up X-Request-ID" in text
    assert _vars(text.replace("{$", "${")) <= set(caddy["environment"])


# ---- the Dockerfile --------------------------------------------------------------------------------------
def dockerfile_steps() -> list[tuple[str, str, str]]:
    """(stage, instruction, arguments) of every step, continuation lines joined."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    steps, stage = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, args = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.search(r"\bAS (\w+)", args, re.I)
            stage = m.group(1) if m else "runtime"
        steps.append((stage, instr, args.strip()))
    return steps


def make_lock() -> str:
    m = re.search(r"^LOCK := (\S+)", (REPO / "Makefile").read_text(), re.M)
    assert m
    return m.group(1)


def test_dockerfile_uses_the_lock_files_make_uses():
    steps = dockerfile_steps()
    runs = {stage: [a for s, i, a in steps if s == stage and i == "RUN"] for stage in ("web", "server", "runtime")}
    lock = make_lock()
    assert any(f"pip install --require-hashes -r {lock}" in r for r in runs["server"]), runs["server"]
    assert any("pip install --no-deps ." in r for r in runs["server"])
    assert not any(re.search(r"pip install(?! --require-hashes| --no-deps)", r) for r in runs["server"]), runs
    assert "npm ci" in " ".join(runs["web"]) and "npm install" not in " ".join(runs["web"])
    assert any("postgresql-client" in r for r in runs["runtime"])
    makefile = (REPO / "Makefile").read_text()
    assert "pip install -q --require-hashes -r $(LOCK)" in makefile and "npm ci" in makefile
    # every file a COPY names exists (a renamed lock file would break the image, not the tests)
    for stage, instr, args in steps:
        if instr == "COPY" and not args.startswith("--from"):
            *sources, _dest = shlex.split(args)
            for src in sources:
                assert (REPO / src).exists(), f"{stage}: COPY {src} does not exist"
    assert [a for s, i, a in steps if i == "COPY" and "package-lock.json" in a]


def test_dockerfile_python_steps_install_and_run(tmp_path):
    """The server stage's RUN steps, as written, into temp paths; then the runtime stage's settings."""
    steps = dockerfile_steps()
    ctx = tmp_path / "src"
    venv = tmp_path / "venv"
    workdir = ctx
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUNZHI_", "VIRTUAL_ENV", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for stage, instr, args in steps:
        if stage != "server":
            continue
        if instr == "WORKDIR":
            workdir = ctx
            workdir.mkdir(parents=True, exist_ok=True)
        elif instr == "COPY":
            *sources, dest = shlex.split(args)
            target = workdir / dest if not dest.startswith("/") else ctx / dest.lstrip("/")
            for src in sources:
                path = REPO / src
                if path.is_dir():  # like Docker: a folder's contents go into the destination
                    shutil.copytree(path, target, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / path.name)
        elif instr == "RUN":
            command = args.replace("/opt/venv", str(venv)).replace("python -m venv", f"{sys.executable} -m venv")
            p = subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                               timeout=900)
            assert p.returncode == 0, (command, p.stdout[-2000:], p.stderr[-4000:])
    # the runtime stage: its ENV, its migrations folder; nothing from the repository on the path
    app = tmp_path / "app"
    shutil.copytree(REPO / "migrations", app / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    run_env = {**env, "CUNZHI_DATA_DIR": str(tmp_path / "data"), "CUNZHI_MIGRATIONS_DIR": str(app / "migrations"),
               "CUNZHI_FRONTEND_DIR": str(app / "frontend"), "CUNZHI_DEMO": "0",
               "CUNZHI_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'image.db'}"}
    runtime_env = " ".join(a for s, i, a in steps if s == "runtime" and i == "ENV")
    for key in ("CUNZHI_DATA_DIR", "CUNZHI_MIGRATIONS_DIR", "CUNZHI_FRONTEND_DIR"):
        assert key in runtime_env
    cunzhi = str(venv / "bin" / "cunzhi")
    for args, expect in ((["db", "upgrade"], "database at head"), (["db", "check"], "up to date")):
        p = subprocess.run([cunzhi, *args], cwd=app, env=run_env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and expect in p.stdout, (args, p.stdout, p.stderr)
    check = "import cunzhi, cunzhi.main; cunzhi.main.create_app(); print(cunzhi.__file__)"
    p = subprocess.run([str(venv / "bin" / "python"), "-c", check], cwd=app, env=run_env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert str(venv) in p.stdout  # the installed package, not the repository's


# ---- the lock files ----------------------------------------------------------------------------------------
def _pins(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_lock_files_pin_every_dependency_with_hashes():
    """A dependency added to pyproject.toml without `make lock` fails here, not in the image build."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, test = _pins(REPO / "requirements.lock"), _pins(REPO / "requirements-test.lock")
    for dep in project["dependencies"]:
        name = _norm(re.match(r"[A-Za-z0-9_.-]+", dep).group(0))
        assert name in runtime and name in test, f"{name} is not in the lock files: run `make lock`"
    for dep in project["optional-dependencies"]["test"]:
        name = _norm(re.match(r"[A-Za-z0-9_.-]+", dep).group(0))
        assert name in test, f"{name} is not in requirements-test.lock: run `make lock`"
    for name, version in runtime.items():  # the server's pins agree with the tests'
        assert test.get(name) == version, (name, version, test.get(name))
    for lock in ("requirements.lock", "requirements-test.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (REPO / lock).read_text(encoding="utf-8"))
        for block in blocks:
            if re.match(r"[A-Za-z0-9]", block):
                assert "--hash=sha256:" in block, (lock, block[:80])
