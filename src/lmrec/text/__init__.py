"""Item text -> embeddings with a pretrained sentence encoder (cached on disk)."""

from lmrec.text.encoder import DEFAULT_ENCODER, TextEncoder, encode_items, get_encoder

__all__ = ["DEFAULT_ENCODER", "TextEncoder", "encode_items", "get_encoder"]
