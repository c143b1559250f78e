"""The baseline of bench/api_mix.py: a bare FastAPI app answering each route of the mix with the same JSON the
real server gave (captured first, read from the file named by CUNZHI_BENCH_BARE_JSON). No auth, no database."""

from __future__ import annotations

import json
import os

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import Response


def create_app() -> FastAPI:
    with open(os.environ["CUNZHI_BENCH_BARE_JSON"], encoding="utf-8") as fh:
        bodies = {k: json.dumps(v, ensure_ascii=False).encode() for k, v in json.load(fh).items()}
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # as the real app

    def answer(kind: str) -> Response:
        return Response(bodies[kind], media_type="application/json")

    @app.get("/api/v1/health")
    def health():
        return {"status": "ok"}

    @app.get("/api/v1/mediation-cases")
    def list_():
        return answer("list")

    @app.get("/api/v1/mediation-cases/{case_id}")
    def get(case_id: str):
        return answer("get")

    @app.post("/api/v1/sync/push")
    async def push(request: Request):
        await request.json()
        return answer("push")

    @app.get("/api/v1/sync/pull")
    def pull():
        return answer("pull")

    return app
