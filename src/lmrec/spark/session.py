"""A Spark session for lmrec's batch path: local mode by default, any master URL works."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from lmrec.errors import UsageError

__all__ = ["DEFAULT_MASTER", "require_pyspark", "spark_session"]

#: the master when ``--master`` is not given: two local cores
DEFAULT_MASTER = "local[2]"
#: driver memory (a local run's executors live in the driver), overridable by environment
DRIVER_MEMORY_ENV = "LMREC_SPARK_DRIVER_MEMORY"


def require_pyspark() -> None:
    """Fail with what to install when PySpark or a Java runtime is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError(
            "--engine spark needs PySpark: pip install 'lmrec[spark]' (and a Java 17+ runtime, "
            "e.g. apt-get install openjdk-17-jre-headless)"
        ) from None
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise UsageError(
            "--engine spark needs a Java 17+ runtime: apt-get install openjdk-17-jre-headless, "
            "or set JAVA_HOME"
        )


def spark_session(master: str | None = None, *, app: str = "lmrec") -> Any:
    """The session already active in this process (whatever its master), or a new one on
    ``master`` (default ``local[2]``).

    Python workers run this interpreter (so they import the same lmrec); timestamps are UTC;
    shuffles use a few partitions, as suits one machine (``spark.sql.shuffle.partitions`` in
    ``$SPARK_CONF_DIR`` or ``--conf`` still wins on a cluster through spark-submit)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (
        SparkSession.builder.master(master or DEFAULT_MASTER)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", os.environ.get(DRIVER_MEMORY_ENV, "4g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: say why in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"Spark did not start on master '{master or DEFAULT_MASTER}': {first}"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session
