"""A Spark session in local mode for the tests of the Spark path (skipped without PySpark
or Java, failed instead when $LMREC_REQUIRE_SPARK is set, as in CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    problem = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        problem = "PySpark is not installed (pip install 'lmrec[spark]')"
    if problem is None and not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        problem = "no Java runtime (apt-get install openjdk-17-jre-headless)"
    if problem is not None:
        if os.environ.get("LMREC_REQUIRE_SPARK"):
            pytest.fail(problem)
        pytest.skip(problem)
    from lmrec.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()
