"""User profiles people can read and edit: interests, favourites, activity, edits."""

from lmrec.profiles.build import HistoryEntry, build_profile, category_weights
from lmrec.profiles.edits import ProfileEdits

__all__ = ["HistoryEntry", "ProfileEdits", "build_profile", "category_weights"]
