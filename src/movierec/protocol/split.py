"""The one owner of the user split of the MovieLens ratings.

    evaluation users   userId % 5 == 0   read only by `movierec evaluate` (:mod:`movierec.evaluation.run`)
    validation users   userId % 5 == 1   training users held out to tune the model
    fit users          userId % 5 in {2, 3, 4}   the collaborative signal while tuning

Training reads ``training_users`` (validation + fit); every tuned value is chosen on the
validation users' likes with a signal fitted on the fit users. The final collaborative signal is
fitted on every training user. The filters are applied while a ratings file is scanned, so the
training code never holds an evaluation user's rating.

>>> import polars as pl
>>> frame = pl.DataFrame({"userId": [1, 2, 5, 10, 11]})
>>> training_users(frame)["userId"].to_list(), evaluation_users(frame)["userId"].to_list()
([1, 2, 11], [5, 10])
>>> validation_users(training_users(frame), "userId")["userId"].to_list()
[1, 11]
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

USER_MODULUS = 5
EVALUATION_REMAINDER = 0
VALIDATION_REMAINDER = 1
RULE = {"modulus": USER_MODULUS, "evaluation": EVALUATION_REMAINDER, "validation": VALIDATION_REMAINDER}

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def _is_evaluation(user: str) -> pl.Expr:
    return pl.col(user) % USER_MODULUS == EVALUATION_REMAINDER


def _is_validation(user: str) -> pl.Expr:
    return pl.col(user) % USER_MODULUS == VALIDATION_REMAINDER


def training_users(frame: Frame, user: str = "userId") -> Frame:
    """The rows of every user but the evaluation users (validation + fit users)."""
    return frame.filter(~_is_evaluation(user))


def evaluation_users(frame: Frame, user: str = "userId") -> Frame:
    """The rows of the evaluation users. Called by the evaluation run only."""
    return frame.filter(_is_evaluation(user))


def validation_users(frame: Frame, user: str = "user_id") -> Frame:
    """Of training rows, the validation users' (the tuning's truth)."""
    return frame.filter(_is_validation(user))


def fit_users(frame: Frame, user: str = "user_id") -> Frame:
    """Of training rows, the fit users' (the signal fitted while tuning)."""
    return frame.filter(~_is_validation(user))


#: Spreads a sample of users over the whole id range, the same in every engine: the MINSTD
#: generator's multiplier and prime modulus.
SAMPLE_HASH = (48_271, 2_147_483_647)


def user_sample(frame: pl.DataFrame, count: int, user: str = "user_id") -> pl.DataFrame:
    """The rows of at most ``count`` of the users of ``frame`` (all of them below that): those
    first by ``(user · a) mod p`` (:data:`SAMPLE_HASH`), then by id. Deterministic.

    >>> frame = pl.DataFrame({"user_id": [1, 2, 2, 3]})
    >>> user_sample(frame, 2)["user_id"].to_list()
    [1, 2, 2]
    """
    multiplier, modulus = SAMPLE_HASH
    chosen = frame.select(pl.col(user).unique()).sort((pl.col(user) * multiplier) % modulus, user).head(count)
    return frame.join(chosen, on=user, how="semi", maintain_order="left")


def split_description() -> str:
    """The user split in words, as the manifest and the evaluation record it.

    >>> split_description()
    'evaluation userId % 5 == 0, validation userId % 5 == 1, the rest fit'
    """
    return (
        f"evaluation userId % {USER_MODULUS} == {EVALUATION_REMAINDER}, "
        f"validation userId % {USER_MODULUS} == {VALIDATION_REMAINDER}, the rest fit"
    )
