"""The access log's lines as uvicorn writes them, without its two copies of every record.

uvicorn's AccessFormatter copies each record, and its base class copies it again, before
filling in the line: on a single-event POST the access line cost about as much as authenticating
the key. A record of `uvicorn.access` reaches one handler only (that logger does not propagate),
so the fields are set on the record itself here; the line is the same, colours and all.
"""

from __future__ import annotations

import logging
from copy import deepcopy
from typing import Any

from uvicorn._ansi import style
from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter as UvicornAccessFormatter


class AccessFormatter(UvicornAccessFormatter):
    """uvicorn's access formatter, filling in the record it is given."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        client_addr, method, full_path, http_version, status_code = record.args  # type: ignore[misc]
        request_line = f"{method} {full_path} HTTP/{http_version}"
        levelname = record.levelname
        separator = " " * (8 - len(levelname))
        if self.use_colors:
            request_line = style(request_line, bold=True)
            levelname = self.color_level_name(levelname, record.levelno)
        record.__dict__.update(
            client_addr=client_addr,
            request_line=request_line,
            status_code=self.get_status_code(int(str(status_code))),
            levelprefix=levelname + ":" + separator,
        )
        return logging.Formatter.formatMessage(self, record)


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with this access formatter in place of its own."""
    config = deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["()"] = f"{__name__}.AccessFormatter"
    return config
