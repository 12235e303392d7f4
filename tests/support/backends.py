"""The store backends a contract test is parametrised with; PostgreSQL's are marked `postgres`."""

from __future__ import annotations

import pytest

BACKENDS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
