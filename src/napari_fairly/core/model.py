"""Model building blocks: frozen pydantic models and values that know their source.

A :class:`Sourced` value is never guessed: ``value is None`` exactly when the status is
``missing`` (or ``invalid``, where the file's raw text is kept in ``raw``), and
``source`` names where a present value came from (``"ome:Pixels@PhysicalSizeX"``,
``"nd2:metadata.channels[0].channel.emissionLambdaNm"``, ``"template lyon.yaml"``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator
from typing_extensions import Self

T = TypeVar("T")


class FrozenModel(BaseModel):
    """Immutable model that rejects unknown keys (a misspelt key is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, validated again (unlike model_copy)."""
        data = self.model_dump()
        data.update(changes)
        return type(self).model_validate(data)


class Status(str, Enum):
    """Why a value is what it is (SPEC 3.3)."""

    PRESENT = "present"  # stated by the file
    INFERRED = "inferred"  # derived from stated values (immersion → RI, DeltaT → Δt)
    OPERATOR = (
        "operator"  # typed or overridden by the operator (or a facility template)
    )
    MISSING = "missing"  # not known: never replaced by 0, 1 or NaN
    INVALID = (
        "invalid"  # the file states something impossible; raw text kept in ``raw``
    )


class Reason(str, Enum):
    """Why a value is missing or not trusted (SPEC 3.3)."""

    NOT_IN_FILE = "not_in_file"
    NOT_APPLICABLE = "not_applicable"
    READER_UNSUPPORTED = "reader_unsupported"
    UNIT_NOT_PHYSICAL = "unit_not_physical"
    INVALID_VALUE = "invalid_value"
    OPERATOR_DECLINED = "operator_declined"
    DEFAULT_UNIT = "default_unit"  # unit absent from the file, OME default assumed


class OriginalValue(FrozenModel):
    """What the file said about a value the operator corrected (a plain record)."""

    value: Any = None
    unit: str | None = None
    status: Status = Status.MISSING
    source: str = ""
    reason: str | None = None
    raw: str | None = None


class Sourced(FrozenModel, Generic[T]):
    """A value, its unit, and where it came from; ``value=None`` means not known."""

    value: T | None = None
    unit: str | None = None
    status: Status = Status.MISSING
    source: str = ""
    reason: str | None = None
    raw: str | None = None  # the file's own text, kept when it could not be trusted
    # what the file said before the operator corrected it (status operator only)
    original: OriginalValue | None = None

    @model_validator(mode="after")
    def _value_matches_status(self) -> Self:
        missing = self.status in (Status.MISSING, Status.INVALID)
        if missing and self.value is not None:
            raise ValueError(
                f"a {self.status.value} value must be None, got {self.value!r}"
            )
        if not missing and self.value is None:
            raise ValueError(f"status {self.status.value} needs a value")
        return self

    @property
    def present(self) -> bool:
        """True when a value is known (from the file, inferred or from the operator)."""
        return self.value is not None

    @classmethod
    def found(
        cls, value: T, source: str, unit: str | None = None, **kw: Any
    ) -> Sourced[T]:
        """A value stated by the file at ``source``."""
        return cls(value=value, unit=unit, status=Status.PRESENT, source=source, **kw)

    @classmethod
    def inferred(
        cls, value: T, source: str, unit: str | None = None, **kw: Any
    ) -> Sourced[T]:
        """A value derived from stated ones; ``source`` says how."""
        return cls(value=value, unit=unit, status=Status.INFERRED, source=source, **kw)

    @classmethod
    def operator(
        cls,
        value: T,
        source: str = "operator",
        unit: str | None = None,
        original: Sourced[Any] | None = None,
    ) -> Sourced[T]:
        """A value typed by the operator or fixed by a facility template.

        ``original`` keeps what the file said, so a corrected value never hides it.
        """
        kept = None
        if original is not None:
            kept = OriginalValue(
                **original.model_dump(exclude={"original"}),
            )
        return cls(
            value=value, unit=unit, status=Status.OPERATOR, source=source, original=kept
        )

    @classmethod
    def missing(
        cls,
        looked_for: str = "",
        reason: Reason | str = Reason.NOT_IN_FILE,
        unit: str | None = None,
    ) -> Sourced[T]:
        """Not known; ``looked_for`` names what was searched (``ome:LensNA``)."""
        why = reason.value if isinstance(reason, Reason) else reason
        return cls(unit=unit, status=Status.MISSING, source=looked_for, reason=why)

    @classmethod
    def invalid(
        cls, raw: str, source: str, why: str, unit: str | None = None
    ) -> Sourced[T]:
        """The file states an impossible value (a pixel size of 0); ``raw`` keeps it."""
        return cls(unit=unit, status=Status.INVALID, source=source, reason=why, raw=raw)
