"""Nothing is acknowledged before it is committed: the commit comes before the response."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session


def test_the_commit_happens_before_the_response_is_sent(app: FastAPI) -> None:
    order: list[str] = []

    def on_commit(_session: Session) -> None:
        order.append("commit")

    inner = app.build_middleware_stack()

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        async def send_and_record(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                order.append("response")
            await send(message)

        await inner(scope, receive, send_and_record)

    app.middleware_stack = recording  # type: ignore[assignment]
    event.listen(Session, "after_commit", on_commit)
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
    finally:
        event.remove(Session, "after_commit", on_commit)
    assert order == ["commit", "response"]
