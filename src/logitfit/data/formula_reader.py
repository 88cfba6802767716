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
  nested calls of the same transforms.

Anything else (attribute access other than ``np.<function>``, any other name,
subscripts, lambdas, comprehensions, sets, dicts, f-strings, keyword names
starting with an underscore) is refused with a :class:`FormulaRefused` naming
the offending text. What passes can only look up data columns and call the
listed functions, so evaluating it cannot run code from the file.
"""

from __future__ import annotations

import ast
import re

__all__ = ["FormulaRefused", "NUMPY_FUNCTIONS", "TRANSFORMS", "check_formula", "split_strata"]

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
