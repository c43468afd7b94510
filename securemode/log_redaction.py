"""A logging filter that scrubs registered secrets from every record before any handler sees it.

Prefect stores run logs in its database and does not redact them (reference/prefect.md §9), so the
filter sits on the Prefect run loggers and on the root handlers.
"""

from __future__ import annotations

import logging

from securemode.redact import redact

RUN_LOGGERS = ("prefect", "prefect.flow_runs", "prefect.task_runs", "securemode")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = RedactSecrets()


def install() -> None:
    """Attach the filter to the run loggers and to every root and Prefect handler (idempotent)."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
