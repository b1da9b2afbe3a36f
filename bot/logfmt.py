"""Log line formats: ``text`` for people, ``json`` (one object per line) for collectors.

Both scrub every secret a publisher registered (``bot.publishers.webhook.hide_in_logs``)
from the whole line, tracebacks included, on top of the per-logger filter that already
cleans the message of the HTTP libraries' records.

A JSON line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the
``feed``/``item``/``channel`` named in the message (``feed=ev-en``) as fields of their
own, and ``exception`` when there is a traceback.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# The value ends before a ":" or "," that ends its word ("polled feed=ev-en: 3 new items"):
# that punctuation belongs to the sentence, not to the name.
FIELDS = re.compile(r"\b(feed|item|channel)=(\S+?)(?=[:,]?(?:\s|$))")


def _scrub(text: str) -> str:
    from bot.publishers.edge import registered_secrets, scrub

    secrets = registered_secrets()
    return scrub(text, secrets) if secrets and any(s in text for s in secrets) else text


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return _scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        for key, value in FIELDS.findall(message):
            doc.setdefault(key, value)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        clean = {k: _scrub(v) if isinstance(v, str) else v for k, v in doc.items()}
        return json.dumps(clean, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``text`` or ``json``."""
    return JsonFormatter() if log_format == "json" else TextFormatter()
