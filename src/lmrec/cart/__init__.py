"""Cart (basket) completion: what else goes with the items already in a cart."""

from lmrec.cart.complete import complete_carts
from lmrec.cart.split import BasketSplit, split_baskets
from lmrec.cart.substitutes import substitute_matrix

__all__ = ["BasketSplit", "complete_carts", "split_baskets", "substitute_matrix"]
