"""A restricted reader for formulas read from files: what a model file's formula may contain.

formulaic evaluates a formula's function calls as Python, so a formula from a
file (untrusted text) is checked here before formulaic ever sees it. The reader
accepts exactly:

* terms joined by the formula operators ``+ - : * / **`` and parentheses;
* ``0``, ``1`` and ``-1`` (intercept on or off), and a small integer after ``**``;
* variable names, bare or in backquotes, each one of the variables the model
  file declares;
* calls of the transforms the formula layer supports (:data:`TRANSFORMS`:
  ``C``, ``center``, ``scale``, ``standardize``, ``poly``, ``I`` and the
  element-wise numpy functions ``np.log`` ... in :data:`NUMPY_FUNCTIONS`),
  whose arguments are declared variables, numeric or string literals, lists
  of literals, arithmetic (``+ - * / ** // %``, unary minus) of those, and
  nested calls of the same transforms;
* one ``offset(expr)`` term (a known term of the linear predictor), whose
  expression may hold only variables, numbers, arithmetic and the numpy
  functions (:func:`check_offset_expression`); it is evaluated by this module
  (:func:`evaluate_offset`), never by formulaic.

Anything else (attribute access other than ``np.<function>``, any other name,
subscripts, lambdas, comprehensions, sets, dicts, f-strings, keyword names
starting with an underscore) is refused with a :class:`FormulaRefused` naming
the offending text. What passes can only look up data columns and call the
listed functions, so evaluating it cannot run code from the file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

__all__ = ["FormulaRefused", "NUMPY_FUNCTIONS", "TRANSFORMS", "check_formula",
           "check_offset_expression", "evaluate_offset", "split_offset", "split_strata"]

#: Transforms a stored formula may call (formulaic's stateful transforms and ``C``/``I``).
TRANSFORMS = frozenset({"C", "I", "center", "scale", "standardize", "poly"})
#: Element-wise numpy functions a stored formula may call as ``np.<name>``.
NUMPY_FUNCTIONS = frozenset({
    "log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "square", "abs", "sign",
    "sin", "cos", "tan", "arcsinh", "tanh", "floor", "ceil",
})
#: Longest formula accepted (text) and highest ``poly`` degree / ``**`` power.
MAX_LENGTH = 20_000
MAX_DEGREE = 50

_TOKEN = re.compile(
    r"\s*(?:(?P<bq>`[^`]*`)|(?P<num>\d+(?:\.\d*)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*"
    r"(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|(?P<op>\*\*|[-+:*/()]))"
)
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod)


class FormulaRefused(ValueError):
    """A stored formula holds something the restricted reader does not accept."""


def check_formula(rhs: str, variables: set[str] | frozenset[str]) -> set[str]:
    """Check a formula's right-hand side; return the variables it reads.

    Raises :class:`FormulaRefused` (naming the offending text) unless ``rhs``
    is made only of the parts listed in the module docstring, with every
    variable one of ``variables``.
    """
    if not isinstance(rhs, str):
        raise FormulaRefused("the formula must be a string")
    if len(rhs) > MAX_LENGTH:
        raise FormulaRefused(f"the formula is {len(rhs)} characters long (at most {MAX_LENGTH})")
    reader = _Reader(_tokens(rhs), frozenset(variables))
    reader.expression()
    if reader.pos != len(reader.tokens):
        raise FormulaRefused(f"unexpected {reader.tokens[reader.pos][1]!r} in the formula")
    return reader.used


_STRATA = re.compile(r"strata\(\s*(?:`([^`]+)`|([A-Za-z_][A-Za-z0-9_.]*))\s*\)")


def split_strata(rhs: str) -> tuple[str, str | None]:
    """Take a conditional model's ``strata(column)`` term out of a right-hand side.

    Returns the right-hand side without it and the column name (None when
    there is no such term). The term must be one of the top-level terms joined
    by ``+`` and name one column, bare or in backquotes; it is never evaluated.
    ``"x1 + x2 + strata(pair)"`` gives ``("x1 + x2", "pair")``.
    """
    if not isinstance(rhs, str) or len(rhs) > MAX_LENGTH:
        raise FormulaRefused("the formula must be a string of at most "
                             f"{MAX_LENGTH} characters")
    tokens = _tokens(rhs)
    found = [i for i, (kind, text) in enumerate(tokens) if kind == "call" and text.startswith("strata(")]
    if not found:
        return rhs, None
    if len(found) > 1:
        raise FormulaRefused("the formula has more than one strata() term")
    i = found[0]
    match = _STRATA.fullmatch(tokens[i][1])
    if match is None:
        raise FormulaRefused(f"{tokens[i][1]!r}: strata() takes one column name")
    ops = {tokens[k][1] for k in (i - 1, i + 1) if 0 <= k < len(tokens)}
    if not ops <= {"+"}:
        raise FormulaRefused("strata() must be a term of its own, joined to the others by '+'")
    rest = tokens[:i - 1] + tokens[i + 1:] if i > 0 else tokens[i + 2:]
    text = " ".join(t for _, t in rest).strip() or "1"
    return text, match.group(1) or match.group(2)


def _tokens(rhs: str) -> list[tuple[str, str]]:
    """Split into (kind, text) tokens; a call ``f(...)`` is one token holding its whole text."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(rhs):
        if rhs[pos:].strip() == "":
            break
        m = _TOKEN.match(rhs, pos)
        if m is None:
            raise FormulaRefused(f"the formula holds {rhs[pos:].strip()[:40]!r}, which a "
                                 "model file's formula may not contain")
        kind = m.lastgroup or "op"
        text = m.group(kind)
        pos = m.end()
        if kind == "name" and rhs[pos:].lstrip().startswith("("):
            start = rhs.index("(", pos)
            end = _closing_paren(rhs, start)
            out.append(("call", text + rhs[start:end + 1]))
            pos = end + 1
            continue
        out.append((kind, text))
    return out


def _closing_paren(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start`` (quotes and backquotes skipped)."""
    depth, i, quote = 0, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise FormulaRefused(f"unbalanced parentheses in {text[start - 20:start + 40]!r}")


class _Reader:
    """Recursive descent over the formula grammar (operators, parentheses, terms)."""

    def __init__(self, tokens: list[tuple[str, str]], variables: frozenset[str]) -> None:
        self.tokens, self.variables, self.pos = tokens, variables, 0
        self.used: set[str] = set()
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self) -> None:
        if self.peek() == ("op", "-") or self.peek() == ("op", "+"):  # "-1 + x"
            self.pos += 1
        self.term()
        while self.peek() is not None and self.peek()[1] in ("+", "-", "*", "/", ":"):
            self.pos += 1
            self.term()

    def term(self) -> None:
        self.factor()
        if self.peek() == ("op", "**"):
            self.pos += 1
            tok = self.peek()
            if tok is None or tok[0] != "num" or not tok[1].isdigit() or int(tok[1]) > MAX_DEGREE:
                raise FormulaRefused(f"'**' must be followed by an integer up to {MAX_DEGREE}")
            self.pos += 1

    def factor(self) -> None:
        tok = self.peek()
        if tok is None:
            raise FormulaRefused("the formula ends where a term was expected")
        kind, text = tok
        self.pos += 1
        if kind == "op" and text == "(":
            self.depth += 1
            if self.depth > 50:
                raise FormulaRefused("the formula nests parentheses too deeply")
            self.expression()
            if self.peek() != ("op", ")"):
                raise FormulaRefused("unbalanced parentheses in the formula")
            self.pos += 1
            self.depth -= 1
        elif kind == "num":
            if text not in ("0", "1"):
                raise FormulaRefused(f"the number {text} cannot stand as a term (only 0 or 1)")
        elif kind in ("name", "bq"):
            self.variable(text.strip("`") if kind == "bq" else text)
        elif kind == "call" and _OFFSET_CALL.match(text):  # offset(expr): its own grammar
            expr = text[text.index("(") + 1:text.rindex(")")]
            self.used |= check_offset_expression(expr, self.variables)
        elif kind == "call":
            _CallChecker(self).check(text)
        else:
            raise FormulaRefused(f"unexpected {text!r} in the formula")

    def variable(self, name: str) -> None:
        if name not in self.variables:
            raise FormulaRefused(f"the formula reads {name!r}, which is not one of the model's "
                                 "declared variables")
        self.used.add(name)


class _CallChecker:
    """Checks one call's Python text node by node against the whitelist."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.quoted: dict[str, str] = {}

    def check(self, text: str) -> None:
        def placeholder(m: re.Match) -> str:
            key = f"_lf_bq_{len(self.quoted)}"
            self.quoted[key] = m.group(0)[1:-1]
            return key

        source = re.sub(r"`[^`]*`", placeholder, text)
        try:
            tree = ast.parse(source, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise FormulaRefused(f"the formula term {text[:80]!r} is not a valid call") from None
        self.call(tree.body, text)

    def call(self, node: ast.AST, text: str) -> None:
        if not isinstance(node, ast.Call):
            raise FormulaRefused(f"the formula term {text[:80]!r} is not an allowed call")
        func = node.func
        if isinstance(func, ast.Name) and func.id in TRANSFORMS:
            name = func.id
        elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
              and func.value.id in ("np", "numpy") and func.attr in NUMPY_FUNCTIONS):
            name = f"np.{func.attr}"
        else:
            shown = ast.unparse(func)[:60]
            raise FormulaRefused(
                f"the formula calls {shown!r}, which a model file's formula may not call "
                f"(allowed: {', '.join(sorted(TRANSFORMS))} and np.<{'|'.join(sorted(NUMPY_FUNCTIONS))}>)"
            )
        for arg in node.args:
            self.value(arg, text)
        for kw in node.keywords:
            if kw.arg is None or kw.arg.startswith("_"):
                raise FormulaRefused(f"the formula term {text[:80]!r} passes a keyword "
                                     "that is not allowed")
            self.literal(kw.value, text)
        degree = node.args[1] if len(node.args) > 1 else next(
            (kw.value for kw in node.keywords if kw.arg == "degree"), None)
        if name == "poly" and degree is not None:
            if not (isinstance(degree, ast.Constant) and isinstance(degree.value, int)
                    and 1 <= degree.value <= MAX_DEGREE):
                raise FormulaRefused(f"poly() degree must be an integer from 1 to {MAX_DEGREE}")

    def value(self, node: ast.AST, text: str) -> None:
        if isinstance(node, ast.Name):
            self.reader.variable(self.quoted.get(node.id, node.id))
        elif isinstance(node, ast.Call):
            self.call(node, text)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
            self.value(node.left, text)
            self.value(node.right, text)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            self.value(node.operand, text)
        else:
            self.literal(node, text)

    def literal(self, node: ast.AST, text: str) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool,
                                                                        type(None))):
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.literal(node.operand, text)
        if isinstance(node, (ast.List, ast.Tuple)):
            for x in node.elts:
                self.literal(x, text)
            return
        raise FormulaRefused(f"the formula term {text[:80]!r} holds "
                             f"{ast.unparse(node)[:60]!r}, which is not allowed there")


# --------------------------------------------------------------------------
# offset(...) terms: a known term of the linear predictor, read and computed
# here without formulaic (its expression is evaluated by this module alone).
# --------------------------------------------------------------------------

_OFFSET_CALL = re.compile(r"\boffset\s*\(")


def split_offset(rhs: str) -> tuple[str, str | None]:
    """``(rhs without its offset term, the offset's expression or None)``.

    ``"x + offset(log(n))"`` gives ``("x", "log(n)")``. The term must be added on its own
    (``+ offset(...)`` at the top level, once); the expression must pass
    :func:`check_offset_expression`. A right-hand side left empty becomes ``"1"``.

    Examples
    --------
    >>> from logitfit.data.formula_reader import split_offset
    >>> split_offset("age + C(group) + offset(np.log(exposure))")
    ('age + C(group)', 'np.log(exposure)')
    >>> split_offset("age")
    ('age', None)
    """
    masked = re.sub(r"`[^`]*`", lambda m: "_" * len(m.group(0)), rhs)  # names in backquotes
    found = [m for m in _OFFSET_CALL.finditer(masked) if _depth(masked, m.start()) == 0]
    if not found:
        return rhs, None
    if len(found) > 1:
        raise FormulaRefused("the formula has more than one offset(...) term; add the offsets "
                             "inside one: offset(a + b)")
    start = found[0].start()
    open_paren = masked.index("(", start)
    end = _closing_paren(rhs, open_paren)
    expr = rhs[open_paren + 1:end].strip()
    before, after = rhs[:start].rstrip(), rhs[end + 1:].lstrip()
    if before and not before.endswith("+") or after and not after.startswith("+"):
        raise FormulaRefused("an offset must be added as a term of its own, as in "
                             "'y ~ x + offset(log(n))'")
    if not expr:
        raise FormulaRefused("offset() needs an expression, as in offset(log(n))")
    rest = (before[:-1].rstrip() + " " + after).strip() if before else after[1:].strip()
    return (rest or "1"), expr


def _depth(text: str, pos: int) -> int:
    """Parenthesis depth of ``text`` at ``pos``."""
    return text[:pos].count("(") - text[:pos].count(")")


def _offset_tree(expr: str) -> tuple[ast.AST, dict[str, str]]:
    """The parsed expression and its backquoted names (``_lf_bq_k`` -> name)."""
    quoted: dict[str, str] = {}

    def placeholder(m: re.Match) -> str:
        key = f"_lf_bq_{len(quoted)}"
        quoted[key] = m.group(0)[1:-1]
        return key

    if len(expr) > MAX_LENGTH:
        raise FormulaRefused(f"the offset expression is {len(expr)} characters long (at most {MAX_LENGTH})")
    try:
        tree = ast.parse(re.sub(r"`[^`]*`", placeholder, expr), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise FormulaRefused(f"offset({expr[:80]}) is not a valid expression") from None
    return tree.body, quoted


def _offset_function(node: ast.Call) -> str | None:
    """The numpy function an offset expression calls (``log(x)`` or ``np.log(x)``), else None."""
    f = node.func
    if isinstance(f, ast.Name) and f.id in NUMPY_FUNCTIONS:
        return f.id
    if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
            and f.value.id in ("np", "numpy") and f.attr in NUMPY_FUNCTIONS):
        return f.attr
    return None


def check_offset_expression(expr: str, variables: set[str] | frozenset[str]) -> set[str]:
    """Check the expression inside ``offset(...)``; return the variables it reads.

    Accepted: variable names (bare or in backquotes, each one of ``variables``), numbers,
    arithmetic ``+ - * / **`` and unary minus, and one-argument calls of the element-wise
    numpy functions (:data:`NUMPY_FUNCTIONS`, bare as ``log(n)`` or as ``np.log(n)``).
    Anything else is a :class:`FormulaRefused` naming it.

    Examples
    --------
    >>> from logitfit.data.formula_reader import check_offset_expression
    >>> sorted(check_offset_expression("log(n) - np.log(2)", {"n"}))
    ['n']
    """
    tree, quoted = _offset_tree(expr)
    used: set[str] = set()

    def visit(node: ast.AST, depth: int = 0) -> None:
        if depth > 50:
            raise FormulaRefused(f"offset({expr[:80]}) nests too deeply")
        if isinstance(node, ast.Name):
            name = quoted.get(node.id, node.id)
            if name not in variables:
                raise FormulaRefused(f"offset({expr[:80]}) reads {name!r}, which is not one of "
                                     "the data's (or the model's declared) variables")
            used.add(name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult,
                                                                  ast.Div, ast.Pow)):
            visit(node.left, depth + 1)
            visit(node.right, depth + 1)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            visit(node.operand, depth + 1)
        elif isinstance(node, ast.Call) and _offset_function(node) is not None \
                and len(node.args) == 1 and not node.keywords:
            visit(node.args[0], depth + 1)
        else:
            raise FormulaRefused(f"offset({expr[:80]}) holds {ast.unparse(node)[:60]!r}; an offset "
                                 "may use variables, numbers, + - * / ** and np.<function>(...) "
                                 f"of {', '.join(sorted(NUMPY_FUNCTIONS))}")

    visit(tree)
    return used


def evaluate_offset(expr: str, column: Callable[[str], Any]) -> Any:
    """The value of a checked offset expression; ``column(name)`` gives a variable's values.

    Only the nodes :func:`check_offset_expression` accepts are evaluated (no ``eval``):
    names through ``column``, numbers, arithmetic and the listed numpy functions.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.data.formula_reader import evaluate_offset
    >>> evaluate_offset("log(n) + 1", {"n": np.array([1.0, np.e])}.__getitem__)
    array([1., 2.])
    """
    import numpy as np

    tree, quoted = _offset_tree(expr)
    operators = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                 ast.Div: np.divide, ast.Pow: np.power}

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return column(quoted.get(node.id, node.id))
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.BinOp):
            return operators[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp):
            v = value(node.operand)
            return np.negative(v) if isinstance(node.op, ast.USub) else v
        return getattr(np, _offset_function(node))(value(node.args[0]))

    with np.errstate(all="ignore"):  # log(0) and the like: the caller names the bad row
        return value(tree)
