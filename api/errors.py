"""Error answers and request limits of the HTTP API.

Every error body is `{"detail": <English sentence>, "detail_es": <Spanish sentence>, "errors":
[{"field", "message", "message_es"}]}`. Bodies over 1 MiB (20 MiB for CSV imports) get 413 before
they are read into memory. Nothing a client sends should end in a 500.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.services.errors import Problem, ServiceError, problems_from_errors

MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def error_body(detail: str, detail_es: str | None, problems: list[Problem] | None = None) -> dict:
    return {
        "detail": detail,
        "detail_es": detail_es,
        "errors": [{"field": p.field, "message": p.message, "message_es": p.message_es} for p in problems or []],
    }


async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
    return JSONResponse(error_body(exc.message, exc.message_es, exc.problems), status_code=exc.status_code)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = problems_from_errors(list(exc.errors()))
    if not problems:
        problems = [Problem("", "The request is not valid.", "La petición no es válida.")]
    detail = " ".join(p.message for p in problems[:5])
    detail_es = " ".join(p.message_es for p in problems[:5])
    return JSONResponse(error_body(detail, detail_es, problems), status_code=422)


async def _integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
    # Two requests raced for the same unique value (e.g. one phone number in one campaign).
    logger.info("Integrity conflict answered with 409: {}", type(exc.orig).__name__)
    return JSONResponse(
        error_body(
            "The change conflicts with data changed at the same time (for example a duplicate); reload and try again.",
            "El cambio choca con otro hecho a la vez (por ejemplo un duplicado); recarga e inténtalo de nuevo.",
        ),
        status_code=409,
    )


class BodyTooLarge(HTTPException):
    """Raised while the body streams in (an HTTPException, so FastAPI's body parsing re-raises it)."""

    def __init__(self, limit: int) -> None:
        self.mib = limit // (1024 * 1024)
        super().__init__(413, f"The request body is larger than {self.mib} MiB.")


async def _body_too_large(_request: Request, exc: BodyTooLarge) -> JSONResponse:
    return _too_large_response(exc.mib)


def _too_large_response(mib: int) -> JSONResponse:
    return JSONResponse(
        error_body(f"The request body is larger than {mib} MiB.", f"El cuerpo de la petición supera {mib} MiB."),
        status_code=413,
    )


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over the limit, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, max_upload_bytes: int = MAX_UPLOAD_BYTES):
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit(self, path: str) -> int:
        return self.max_upload_bytes if path.rstrip("/").endswith("/import") else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(send, limit)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send, limit)

    @staticmethod
    async def _reject(send: Send, limit: int) -> None:
        response = _too_large_response(limit // (1024 * 1024))
        await response({"type": "http"}, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


def install_error_handling(app: FastAPI) -> None:
    """Register the error answers and the body-size limit on the app."""
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, _integrity_error)  # type: ignore[arg-type]
    app.add_exception_handler(BodyTooLarge, _body_too_large)  # type: ignore[arg-type]
    app.add_middleware(BodySizeLimit)
