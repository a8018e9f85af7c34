"""How strongly and in which ways a list is re-ranked (one object, per request or per run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, get_args

from lmrec.errors import UsageError

__all__ = [
    "DEFAULT_STRENGTH",
    "DiversityKind",
    "ExposureKind",
    "Objective",
    "Relevance",
    "RerankConfig",
]

#: The strength ``lmrec evaluate --rerank-sweep`` marks as default and the service uses when a
#: request asks for re-ranking without a strength. It and the defaults of :class:`RerankConfig`
#: (rank relevance, mean distance, inverse exposure 0.25) were chosen together on the validation
#: split of MovieLens 100K, as the setting closest to +20% ILD and +30% coverage that costs no
#: model (sequential, EASE, ALS, item-kNN) more than 5% NDCG@10 (RESULTS.md, "frontier").
DEFAULT_STRENGTH = 0.3
Relevance = Literal["rank", "minmax", "softmax", "zsoftmax", "probability"]
DiversityKind = Literal["mmr", "mean"]
ExposureKind = Literal["share", "inverse"]
Objective = Literal["item", "list"]
RELEVANCE_KINDS: tuple[str, ...] = get_args(Relevance)
DIVERSITY_KINDS: tuple[str, ...] = get_args(DiversityKind)
EXPOSURE_KINDS: tuple[str, ...] = get_args(ExposureKind)
OBJECTIVES: tuple[str, ...] = get_args(Objective)


@dataclass(frozen=True)
class RerankConfig:
    """Greedy re-ranking of a model's top ``candidates``: each slot takes the item maximising

    ``(1 - strength) * relevance + strength * (diversity * distance + novelty * novelty_i
    + freshness * freshness_i + exposure * exposure_i - calibration * KL(user's category mix || list's)) / weights``

    ``relevance`` is the model's preference on [0, 1]: ``1 / log2(1 + rank)`` among the
    candidates (the DCG discount; ``"minmax"`` scales the scores instead, ``"softmax"`` takes
    ``exp(score - best)``, and ``"zsoftmax"`` takes ``exp(sharpness * (score - best) / std)``
    with the standard deviation of the candidates' scores, so that it means the same for
    models whose scores live on different scales; ``"probability"`` takes the softmax of
    ``sharpness * score`` over the candidates, so a slot's relevance is the chance that the
    user's next item is that one, and with ``objective="list"`` the relevance part is the list's
    expected DCG: a user whose model is unsure gives up little by diversifying, a confident
    one keeps its first choices; it suits models whose scores are logits, such as
    ``sequential``, and on MovieLens 100K it bought the sequential model no more ILD per NDCG
    than rank relevance (RESULTS.md)), ``distance`` is 1 minus the mean
    similarity to the items already chosen (``diversity_kind="mean"``: the item's share of the
    list's intra-list diversity) or 1 minus the largest (``"mmr"``, Carbonell & Goldstein 1998),
    the KL term is Steck's (2018) calibration, and the exposure term favours items shown less
    often so far to other users (aggregate diversity: more of the catalog gets shown):
    ``exposure_kind="share"`` gives ``1 - shown_i / (max shown + 1)``, a penalty on the most
    shown items; ``"inverse"`` gives ``1 / (1 + shown_i)``, a bonus for items shown rarely or
    never, which on MovieLens 100K bought the same coverage for far less NDCG (RESULTS.md).
    ``strength = 0`` keeps the model's order.

    ``objective="list"`` makes each slot's value its gain in one objective over the whole list
    of ``k``: ``(1 - strength) * sum_slots(relevance * w_slot) / sum_slots(w_slot) + strength *
    (diversity * ILD + the other terms averaged over the list) / weights``, with the DCG weight
    ``w_slot = 1 / log2(slot + 2)``. The first slots then weigh relevance most, as NDCG does,
    and a later item's distances count once per pair it forms, as intra-list diversity counts
    them; ``"item"`` values every slot alike. On MovieLens 100K (validation) it bought EASE
    more for less (strength 0.25: ILD +10.6%, coverage +50%, NDCG@10 -1.0%; the default:
    +5.8%, +33%, -3.3%) but not the sequential model (RESULTS.md, "one objective over the
    whole list"), so it is not the default.
    ``dedupe`` drops candidates whose text cosine to a chosen item is at least that value;
    ``explore`` gives that share of the slots (the last ones) to Thompson sampling on observed
    click rates; ``pinned`` items come first, in the order given.
    """

    strength: float = 0.0
    diversity: float = 1.0
    diversity_kind: DiversityKind = "mean"  # mean distance to the chosen items; "mmr": closest
    novelty: float = 0.0
    calibration: float = 0.0
    freshness: float = 0.0
    exposure: float = 0.25
    exposure_kind: ExposureKind = "inverse"  # 1 / (1 + shown); share: 1 - shown / (max + 1)
    relevance: Relevance = "rank"  # rank: 1 / log2(1 + rank); minmax: scores scaled to [0, 1]
    sharpness: float = 1.0  # zsoftmax / probability: how fast relevance falls (inverse temperature)
    dedupe: float | None = 0.95
    explore: float = 0.0
    candidates: int = 100
    objective: Objective = "item"
    pinned: tuple[int, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise UsageError(f"re-ranking strength must be in [0, 1], not {self.strength}")
        for name in ("diversity", "novelty", "calibration", "freshness", "exposure"):
            if getattr(self, name) < 0:
                raise UsageError(f"re-ranking weight '{name}' must be >= 0")
        if self.diversity_kind not in DIVERSITY_KINDS:
            raise UsageError(f"diversity_kind must be 'mean' or 'mmr', not '{self.diversity_kind}'")
        if self.exposure_kind not in EXPOSURE_KINDS:
            raise UsageError(
                f"exposure_kind must be 'share' or 'inverse', not '{self.exposure_kind}'"
            )
        if self.objective not in OBJECTIVES:
            raise UsageError(f"objective must be 'item' or 'list', not '{self.objective}'")
        if self.relevance not in RELEVANCE_KINDS:
            raise UsageError(
                f"relevance must be one of {', '.join(RELEVANCE_KINDS)}, not '{self.relevance}'"
            )
        if not self.sharpness > 0:
            raise UsageError(f"relevance sharpness must be > 0, not {self.sharpness}")
        if not 0.0 <= self.explore <= 1.0:
            raise UsageError(f"explore share must be in [0, 1], not {self.explore}")
        if self.dedupe is not None and not 0.0 < self.dedupe <= 1.0:
            raise UsageError(f"dedupe threshold must be in (0, 1], not {self.dedupe}")
        if self.candidates < 1:
            raise UsageError(f"candidates must be at least 1, not {self.candidates}")

    @property
    def active(self) -> bool:
        """Whether this changes anything beyond the model's own order."""
        return self.strength > 0 or self.explore > 0 or bool(self.pinned) or self.dedupe is not None

    def with_strength(self, strength: float) -> RerankConfig:
        return replace(self, strength=strength)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pinned"] = list(self.pinned)
        return d
