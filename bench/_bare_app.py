"""The yardstick of bench/api.py: the barest FastAPI endpoint, served by the same uvicorn stack."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/bare")
async def bare() -> JSONResponse:
    return JSONResponse({"status": "ok"})
