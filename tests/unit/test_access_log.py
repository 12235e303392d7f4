"""The access line is uvicorn's, to the byte, without its copies of the record."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uvicorn.logging import AccessFormatter as UvicornAccessFormatter

from api.access_log import AccessFormatter, log_config

FORMAT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


def record(level: int, args: tuple[object, ...]) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", level, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )


@pytest.mark.parametrize("colours", [False, True])
@given(
    level=st.sampled_from([logging.INFO, logging.WARNING, logging.ERROR]),
    client=st.sampled_from(["127.0.0.1:5555", "[::1]:80", "-"]),
    method=st.sampled_from(["GET", "POST", "PUT"]),
    path=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
    version=st.sampled_from(["1.0", "1.1", "2"]),
    status=st.integers(100, 599),
)
def test_the_line_is_uvicorns(
    colours: bool, level: int, client: str, method: str, path: str, version: str, status: int
) -> None:
    args = (client, method, path, version, status)
    ours = AccessFormatter(FORMAT, use_colors=colours).format(record(level, args))
    theirs = UvicornAccessFormatter(FORMAT, use_colors=colours).format(record(level, args))

    assert ours == theirs


def test_the_configuration_is_uvicorns_with_this_formatter() -> None:
    config = log_config()

    assert config["formatters"]["access"]["()"] == "api.access_log.AccessFormatter"
    assert config["loggers"]["uvicorn.access"]["propagate"] is False  # one handler per record
