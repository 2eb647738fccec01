"""The HTTP baseline: a bare FastAPI `async def` route returning a small JSON, on uvicorn like the service."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root() -> dict:
    return {"status": "ok"}
