"""lmrec's batch path on Apache Spark (the ``spark`` extra): split, train (ALS on MLlib,
popularity and item-kNN as sums), score every user with any saved model, and evaluate, in
the same file formats as the single-machine path."""

from lmrec.spark.artifacts import SparkTraining, train_folder_on_spark
from lmrec.spark.evaluate import evaluate_lists_on_spark
from lmrec.spark.score import recommend_on_spark
from lmrec.spark.session import DEFAULT_MASTER, require_pyspark, spark_session
from lmrec.spark.split import split_on_spark
from lmrec.spark.train import SPARK_MODELS, train_on_spark

__all__ = [
    "DEFAULT_MASTER",
    "SPARK_MODELS",
    "SparkTraining",
    "evaluate_lists_on_spark",
    "recommend_on_spark",
    "require_pyspark",
    "spark_session",
    "split_on_spark",
    "train_folder_on_spark",
    "train_on_spark",
]
