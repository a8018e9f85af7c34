"""DCN-v2's cross layer: ``x0 * (W x + b) + x`` over the concatenated field vectors."""

from __future__ import annotations

import pytest
import torch

from lmrec.ctr import create_ctr_model
from lmrec.ctr.dcn import DCNNet
from lmrec.errors import UsageError


def test_cross_layer_matches_its_formula() -> None:
    torch.manual_seed(0)
    net = DCNNet([3, 4], n_multi=2, n_dense=1, k=2, hidden=(), dropout=0.0, cross_layers=1)
    width = 4 * 2  # two fields + the multi-hot and dense vectors, 2 dims each
    with torch.no_grad():
        net.cross[0].weight.copy_(torch.eye(width) * 2.0)
        net.cross[0].bias.fill_(1.0)
        net.cross_out.weight.fill_(1.0)
    cat = torch.tensor([[1, 2], [0, 3]])
    multi = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    dense = torch.tensor([[0.5], [-1.0]])
    v, linear = net.embed(cat, multi, dense)
    x0 = v.flatten(1)
    # x1 = x0 * (2 x0 + 1) + x0; the read-out sums it; the MLP (no hidden layer) is linear in x0
    expected = linear + (x0 * (2 * x0 + 1) + x0).sum(dim=1) + net.mlp(x0).squeeze(1)
    torch.testing.assert_close(net(cat, multi, dense), expected)


def test_cross_layers_must_be_positive() -> None:
    with pytest.raises(UsageError, match="cross_layers must be a whole number >= 1"):
        create_ctr_model("dcn", cross_layers=0)
    params = create_ctr_model("dcn", cross_layers=2).get_params()
    assert params["cross_layers"] == 2
    assert params["weight_decay"] == 1e-4  # DCN's own default, not DeepFM's
