"""int8 quantization of ONNX graphs: which products it leaves in float32, and the outlier
ratio that ranks them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


def two_products(path: Path) -> Path:
    """y = (x @ W1) * s @ W2, s stretching one of 16 columns: the second product's input has an
    outlier that the first one's has not."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(4, 16)).astype(np.float32)
    w2 = rng.normal(size=(16, 3)).astype(np.float32)
    s = np.ones(16, dtype=np.float32)
    s[3] = 50.0
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"], name="first"),
            helper.make_node("Mul", ["h", "s"], ["hs"], name="stretch"),
            helper.make_node("MatMul", ["hs", "w2"], ["y"], name="second"),
        ],
        "two",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
         numpy_helper.from_array(s, "s")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_the_outlier_ratio_is_max_over_rms_of_each_products_input(tmp_path: Path) -> None:
    from lmrec.onnx import input_outliers, weight_products

    src = two_products(tmp_path / "two.onnx")
    assert weight_products(src) == ["first", "second"]
    x = np.zeros((2, 4), dtype=np.float32)
    x[0, 0] = 3.0  # max 3, rms sqrt(9 / 8): sqrt(8)
    y = np.ones((1, 4), dtype=np.float32)  # max = rms: 1
    ratios = input_outliers(src, [{"x": x}, {"x": y}])
    assert ratios["first"] == pytest.approx(np.sqrt(8.0))  # the larger of the two calls
    feeds = [{"x": np.random.default_rng(1).normal(size=(64, 4)).astype(np.float32)}]
    ratios = input_outliers(src, feeds)
    assert ratios["second"] > 2 * ratios["first"]
    assert input_outliers(src, [{"x": np.zeros((3, 4), np.float32)}]) == {
        "first": 0.0, "second": 0.0,
    }  # fmt: skip


def test_kept_nodes_stay_float32_and_the_rest_become_int8(tmp_path: Path) -> None:
    import onnx
    from lmrec.onnx import quantize_int8

    src = two_products(tmp_path / "two.onnx")
    ops = {}
    for keep in ((), ("second",)):
        dst = quantize_int8(src, tmp_path / f"q{len(keep)}.onnx", keep_nodes=keep)
        ops[keep] = [n.op_type for n in onnx.load(str(dst)).graph.node]
    assert ops[()].count("MatMul") == 0
    assert ops[()].count("MatMulInteger") == 2
    assert ops[("second",)].count("MatMul") == 1
    assert ops[("second",)].count("MatMulInteger") == 1
