"""The small expression language of process diagrams: gateway conditions and timer durations.

Agency admins upload diagrams, so an expression must never run code. SpiffWorkflow would
evaluate Python; instead an expression is parsed with `ast` and only comparisons of the
process's answers with constants are allowed:

    outcome == "declined"
    coverage["has_medicaid"] and not urgent
    decision in ("denied", "partly approved")

A name that no step has answered yet reads as None, so a condition on it is simply false.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

LONGEST_EXPRESSION = 500

_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


class ExpressionError(ValueError):
    """The expression is not one a diagram may use; the message says why."""


def parse(expression: str) -> ast.expr:
    """The expression's tree, or ExpressionError naming what is not allowed."""
    text = (expression or "").strip()
    if not text:
        raise ExpressionError("The expression is empty.")
    if len(text) > LONGEST_EXPRESSION:
        raise ExpressionError(f"Keep expressions under {LONGEST_EXPRESSION} characters.")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        raise ExpressionError(f"“{text}” is not a valid expression ({error.msg}).") from None
    _check(tree, text)
    return tree


def _check(node: ast.AST, text: str) -> None:
    allowed = (
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.Compare,
        ast.Name,
        ast.Load,
        ast.Constant,
        ast.Tuple,
        ast.List,
        ast.Subscript,
        *_COMPARISONS,
    )
    for child in ast.walk(node):
        if not isinstance(child, allowed):
            raise ExpressionError(
                f"“{text}” uses {type(child).__name__}; conditions may only compare answers "
                "with values (==, !=, <, >, in, and, or, not)."
            )
        if isinstance(child, ast.UnaryOp) and not isinstance(child.op, ast.Not):
            raise ExpressionError(f"“{text}”: only `not` may stand before a value.")
        if isinstance(child, ast.Name) and child.id.startswith("_"):
            raise ExpressionError(f"“{text}”: names may not start with an underscore.")
        if isinstance(child, ast.Subscript) and not (
            isinstance(child.slice, ast.Constant) and isinstance(child.slice.value, str | int)
        ):
            raise ExpressionError(f'“{text}”: look up answers by a quoted name, like x["y"].')


def names_in(expression: str) -> set[str]:
    """The answers an expression reads (for checking a diagram before it runs)."""
    return {node.id for node in ast.walk(parse(expression)) if isinstance(node, ast.Name)}


def evaluate(expression: str, data: Mapping[str, Any]) -> Any:
    """The value of the expression over the process's answers."""
    return _value(parse(expression), data)


def _value(node: ast.AST, data: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return {"True": True, "False": False, "None": None}.get(node.id, data.get(node.id))
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_value(item, data) for item in node.elts)
    if isinstance(node, ast.Subscript):
        container = _value(node.value, data)
        key = node.slice.value  # type: ignore[attr-defined]  # checked in _check
        return container.get(key) if isinstance(container, Mapping) else None
    if isinstance(node, ast.UnaryOp):
        return not _value(node.operand, data)
    if isinstance(node, ast.BoolOp):
        values = (_value(item, data) for item in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        return _compare(node, data)
    raise ExpressionError(f"Cannot evaluate {type(node).__name__}.")  # pragma: no cover


def _compare(node: ast.Compare, data: Mapping[str, Any]) -> bool:
    left = _value(node.left, data)
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        right = _value(comparator, data)
        try:
            if not _COMPARISONS[type(op)](left, right):
                return False
        except TypeError:
            return False  # an unanswered (None) value compared with a number: not true
        left = right
    return True
