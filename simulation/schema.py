"""Declare what a user's file or option may hold, once, and word every problem in one line.

Configs, profiles, study files and validation settings are :class:`Table` models built from
the field types here; :func:`check` turns pydantic's errors into one-line messages.

Example:
    >>> class Demo(Table):
    ...     rate: number(0, 1) = 0.5
    >>> check(Demo, {"rate": 2}, PpsimError, "demo.toml")
    Traceback (most recent call last):
    ...
    simulation.errors.PpsimError: demo.toml: rate: 2 is outside the allowed range; use a ...
    >>> check(Demo, {"rat": 2}, PpsimError, "demo.toml")
    Traceback (most recent call last):
    ...
    simulation.errors.PpsimError: demo.toml: unknown key 'rat' (did you mean 'rate'?); allowed: rate
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Optional

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    Strict,
    StringConstraints,
    ValidationError,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulation.errors import PpsimError
from simulation.tomlfile import did_you_mean

_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_WORDED = {"invalid", "unknown_key", "problem"}  # errors raised here, already in words


@dataclass(frozen=True)
class Spec:
    """What a field accepts, as data (for the command line) and in words (for help and errors);
    ``open`` excludes the bounds (``"low"`` or ``"high"``: that one alone) and ``words``, if
    given, says it all."""

    type_name: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    open: bool | str = False
    words: str = ""

    @property
    def allowed(self) -> str:
        """The allowed values in words: ``a number in [0, 1]``, ``one of a, b``, ..."""
        if self.words:
            return self.words
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type_name == "bool":
            return "true or false"
        if self.type_name not in ("int", "float"):
            return "a string"
        noun = "an integer" if self.type_name == "int" else "a number"
        unset = ", or unset" if self.optional else ""
        if self.low is None:
            return noun + unset
        if self.high is None:
            return f"{noun} {'>' if _excluded(self.open, 'low') else '>='} {self.low:g}{unset}"
        left = "(" if _excluded(self.open, "low") else "["
        right = ")" if _excluded(self.open, "high") else "]"
        return f"{noun} in {left}{self.low:g}, {self.high:g}{right}{unset}"

    def problem(self, error_type: str, value: Any) -> str:
        """What is wrong with ``value``, given pydantic's error type for it."""
        if error_type in _RANGE_ERRORS:
            return f"{value!r} is outside the allowed range; use {self.allowed}"
        if self.choices and isinstance(value, str):
            hint = did_you_mean(value, self.choices)
            return f"{value!r} is not allowed{hint}; use {self.allowed}"
        return f"expected {self.allowed}, got {value!r}"


def invalid(text: str) -> PydanticCustomError:
    """An error of the value being validated, already in words."""
    return PydanticCustomError("invalid", "{text}", {"text": text})


def problem(text: str, *at: str | int) -> PydanticCustomError:
    """An error found by a table's own check, located at the key path ``at`` inside it."""
    return PydanticCustomError("problem", "{text}", {"text": text, "at": at})


def _typed(base: Any, spec: Spec) -> Any:
    """``base`` carrying ``spec``, a failed check re-worded with the allowed values (inner
    tables and list items are worded by their own types and pass through)."""

    def explain(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["loc"] or first["type"] in _WORDED:
                raise
            raise invalid(spec.problem(first["type"], value)) from None

    return Annotated[base, spec, WrapValidator(explain)]


def _excluded(open: bool | str, bound: str) -> bool:
    """Whether ``open`` (True: both bounds, or ``"low"``/``"high"``) excludes ``bound``."""
    return open is True or open == bound


def _bounds(low: float | None, high: float | None, open: bool | str) -> list[Any]:
    found = []
    if low is not None:
        found.append(Gt(low) if _excluded(open, "low") else Ge(low))
    if high is not None:
        found.append(Lt(high) if _excluded(open, "high") else Le(high))
    return found


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    optional: bool = False,
    open: bool | str = False,
) -> Any:
    """A finite number in [low, high] (an integer is widened to float), or unset if optional;
    ``open`` excludes both bounds, or the ``"low"`` or ``"high"`` one."""
    base = Annotated[float, Strict(), AllowInfNan(False), *_bounds(low, high, open)]
    spec = Spec("float", low, high, optional=optional, open=open)
    return _typed(Optional[base] if optional else base, spec)  # noqa: UP045 - a runtime type


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def integer(low: int | None = None, high: int | None = None) -> Any:
    """An integer in [low, high]; a float with no fraction (``10.0``) counts as one."""
    base = Annotated[int, Strict(), *_bounds(low, high, False), BeforeValidator(_whole)]
    return _typed(base, Spec("int", low, high))


def one_of(*choices: str) -> Any:
    """One of the given strings; a near miss is answered with the closest one."""
    return _typed(Literal[choices], Spec("str", choices=choices))


def text(*, blank: bool = True, words: str = "") -> Any:
    """A string; with ``blank=False`` a non-empty one (surrounding spaces removed)."""
    if blank:
        return _typed(Annotated[str, Strict()], Spec("str", words=words))
    base = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
    return _typed(base, Spec("str", words=words or "a non-empty string"))


def many(item: Any, words: str = "a non-empty list") -> Any:
    """A non-empty list of ``item`` values, kept as a tuple."""
    return _typed(Annotated[tuple[item, ...], MinLen(1)], Spec("list", words=words))


def plain(check: Callable[[Any], Any]) -> Any:
    """A value checked by ``check``, which returns it (converted) or raises :func:`invalid`."""
    return Annotated[Any, PlainValidator(check)]


def any_number(value: Any) -> int | float:
    """``value`` if it is an int or a finite float (not a bool), else an :func:`invalid` error."""
    if isinstance(value, float) and math.isfinite(value) or type(value) is int:
        return value
    raise invalid(f"expected a number, got {value!r}")


def pair(words: str, *, integers: bool = False) -> Any:
    """Two numbers ``[a, b]`` (integers only if asked; floats finite), kept as given: ints
    stay ints."""

    def number(x: Any) -> bool:
        return type(x) is int or not integers and isinstance(x, float) and math.isfinite(x)

    def check(value: Any) -> tuple[Any, Any]:
        if isinstance(value, list) and len(value) == 2 and all(map(number, value)):
            return tuple(value)
        values = value if isinstance(value, list) else []
        infinite = any(isinstance(x, float) and not math.isfinite(x) for x in values)
        raise invalid(f"expected {words}{', finite' if infinite else ''}, got {value!r}")

    return plain(check)


FLAG = _typed(Annotated[bool, Strict()], Spec("bool"))
TEXT = text()


def unknown_key_text(key: str, allowed: tuple[str, ...]) -> str:
    """``unknown key 'x' (did you mean 'y'?); allowed: ...``"""
    return f"unknown key {key!r}{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}"


def _refuse_unknown(data: Any, allowed: Collection[str], describe: Callable[[str], str]) -> Any:
    for key in data if isinstance(data, dict) else ():
        if key not in allowed:
            raise PydanticCustomError("unknown_key", "{text}", {"text": describe(key)})
    return data


def known_keys(
    allowed: Collection[str], describe: Callable[[str], str] | None = None
) -> BeforeValidator:
    """For a field holding a table of free values: refuse a key not in ``allowed``."""
    keys = tuple(allowed)
    describe = describe or (lambda key: unknown_key_text(key, keys))
    return BeforeValidator(lambda data: _refuse_unknown(data, keys, describe))


class _UserErrors(type(BaseModel)):
    """Calling a table's class with bad values raises its one-line ``error``, not pydantic's
    ``ValidationError`` (validation inside another table keeps pydantic's, with its path)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as exc:
            raise user_error(exc, cls.error) from None


class Table(BaseModel, metaclass=_UserErrors):
    """A table of a file a user writes: every key known (checked first), every value checked."""

    error: ClassVar[type[PpsimError]] = PpsimError
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys a file may use (aliases where a key is not a Python name)."""
        return tuple(f.alias or name for name, f in cls.model_fields.items())

    @classmethod
    def unknown_key(cls, key: str) -> str:
        """Why ``key`` is refused, with the closest known one and the known ones."""
        return unknown_key_text(key, cls.keys())

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        return _refuse_unknown(data, cls.keys(), cls.unknown_key)


class Problem(NamedTuple):
    """One problem of a file or option: where it is (a key path) and what is wrong."""

    loc: tuple[str | int, ...]
    text: str
    unknown: bool = False

    @property
    def where(self) -> str:
        """The key path as a user writes it (``vary.audit_rate[0]``; ``[base]`` if unknown)."""
        path = ""
        for part in self.loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        return f"[{path}]" if self.unknown and path else path

    def message(self, origin: str = "") -> str:
        """The one-line message: ``origin: where: text``."""
        return ": ".join(part for part in (origin, self.where, self.text) if part)


def first_problem(exc: ValidationError) -> Problem:
    """The problem to report: an unknown key (a typo often explains the rest), else the first."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "unknown_key"), errors[0])
    context = error.get("ctx") or {}
    loc = (*error["loc"], *context.get("at", ()))
    if "text" in context:
        return Problem(loc, context["text"], error["type"] == "unknown_key")
    if error["type"] == "missing":
        return Problem(loc, "required, but missing")
    if error["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return Problem(loc, f"expected a table, got {error['input']!r}")
    return Problem(loc, f"{error['msg'][:1].lower()}{error['msg'][1:]}, got {error['input']!r}")


def user_error(
    exc: ValidationError, error: type[PpsimError], origin: str = "", at: tuple = ()
) -> PpsimError:
    """``error`` with the one-line message of ``exc``, its key path prefixed by ``at``."""
    found = first_problem(exc)
    return error(found._replace(loc=(*at, *found.loc)).message(origin))


def check[M: BaseModel](
    model: type[M], data: Any, error: type[PpsimError], origin: str = "", at: tuple = ()
) -> M:
    """``data`` validated as ``model``, or ``error`` naming ``origin``, the key and the value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise user_error(exc, error, origin, at) from None
