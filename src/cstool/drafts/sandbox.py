"""The sandbox drafted messages are rendered in: Jinja2's SandboxedEnvironment, narrowed.

A template comes from the user's cstool.toml or templates folder, so it is treated as
untrusted code. On top of Jinja2's sandbox (no attributes starting with `_`, no unsafe
callables) this module:

- checks every template when it is compiled, naming the template and its line: no
  `import` / `from` / `include` / `extends` (there is no loader either), no macros or
  `{% call %}` blocks (unbounded recursion), no recursive loops, no attribute or item whose
  name starts with `_`, and no variable that is not one of the documented ones (a typo is
  an error before any message is drafted);
- keeps only harmless filters and string methods, and a `range` capped at MAX_RANGE;
- counts every loop step of a render (at most MAX_STEPS) and stops a render that writes
  more than MAX_OUTPUT_CHARS characters; `*`, `**` and `%` are checked before they run, so
  `'x' * 10**9` or `9 ** 9 ** 9` never allocate.

Every refusal is a ConfigError (exit 2) naming the template and the line.
"""

from __future__ import annotations

import contextvars
import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cstool.errors import ConfigError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT_CHARS = 20_000  # per rendered subject or body
MAX_STEPS = 10_000  # loop iterations per render, all loops together
MAX_RANGE = 1_000
MAX_POWER = 64
MAX_BASE = 10**12

FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "lower",
    "reverse",
    "round",
    "string",
    "title",
    "trim",
    "truncate",
    "upper",
    "wordcount",
)
STRING_METHODS = frozenset(
    {
        "capitalize",
        "endswith",
        "lower",
        "lstrip",
        "rstrip",
        "split",
        "startswith",
        "strip",
        "title",
        "upper",
    }
)
_GUARD = "cstool_loop_guard"
_steps: contextvars.ContextVar[list[int]] = contextvars.ContextVar("cstool_template_steps")


class _Refused(Exception):
    """A template did something the sandbox does not allow (raised while rendering)."""


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every loop's iterable goes through here: each step spends the render's budget."""
    budget = _steps.get()
    for item in iterable:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused(f"loops ran more than {MAX_STEPS} steps")
        yield item


def _range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise _Refused(f"range() of more than {MAX_RANGE} numbers")
    return values


_environment: SandboxedEnvironment | None = None


def environment() -> SandboxedEnvironment:
    """The one sandbox (made once): text mode, StrictUndefined, no loader, few filters."""
    global _environment
    if _environment is not None:
        return _environment
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "%":
                if isinstance(left, str):
                    raise _Refused("string formatting with % is not allowed; join with ~")
                return left % right
            if operator == "**":
                small = _number(left) and _number(right) and abs(left) <= MAX_BASE
                if not small or abs(right) > MAX_POWER:
                    raise _Refused(
                        f"** needs a base up to {MAX_BASE:.0e} and an exponent up to {MAX_POWER}"
                    )
                return left**right
            for seq, times in ((left, right), (right, left)):
                repeated = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if repeated and len(seq) * times > MAX_OUTPUT_CHARS:
                    raise _Refused(f"a repeated text longer than {MAX_OUTPUT_CHARS}")
            return left * right

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            # Only the capped range, the loop guard and a few string methods can be called.
            owner = getattr(__obj, "__self__", None)
            name = getattr(__obj, "__name__", "")
            allowed = __obj is _range or __obj is _counted
            allowed = allowed or (isinstance(owner, str) and name in STRING_METHODS)
            if not allowed:
                raise _Refused(f"calling {name or type(__obj).__name__!r} is not allowed")
            return __context.call(__obj, *args, **kwargs)

    env = Sandbox(
        autoescape=False,
        undefined=StrictUndefined,
        loader=None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        cache_size=0,
    )
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.globals = {"range": _range, _GUARD: _counted}
    _environment = env
    return env


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compile_template(
    source: str, name: str, variables: Iterable[str], *, first_line: int = 1
) -> Template:
    """Parse, check and compile one template; `name` and lines (from `first_line`) in errors."""
    from jinja2 import TemplateSyntaxError, meta, nodes

    env = environment()
    offset = first_line - 1
    try:
        tree = env.parse(source, name=name)
    except TemplateSyntaxError as exc:
        raise ConfigError(
            f"{name}: line {(exc.lineno or 1) + offset}: template syntax error: {exc.message}"
        ) from None

    def refuse(node: nodes.Node, what: str) -> ConfigError:
        return ConfigError(f"{name}: line {node.lineno + offset}: {what}")

    forbidden = {
        nodes.Import: "{% import %} is not allowed",
        nodes.FromImport: "{% from … import %} is not allowed",
        nodes.Include: "{% include %} is not allowed",
        nodes.Extends: "{% extends %} is not allowed",
        nodes.Macro: "{% macro %} is not allowed",
        nodes.CallBlock: "{% call %} is not allowed",
        nodes.Block: "{% block %} is not allowed",
        nodes.NSRef: "namespace assignment is not allowed",
    }
    for kind, what in forbidden.items():
        for node in tree.find_all(kind):
            raise refuse(node, what)
    for attr in tree.find_all(nodes.Getattr):
        if attr.attr.startswith("_"):
            raise refuse(attr, f"attribute {attr.attr!r} is not allowed (names starting with _)")
    for item in tree.find_all(nodes.Getitem):
        key = item.arg
        if isinstance(key, nodes.Const) and isinstance(key.value, str) and key.value[:1] == "_":
            raise refuse(item, f"item {key.value!r} is not allowed (names starting with _)")
    for name_node in tree.find_all(nodes.Name):
        if name_node.name in (_GUARD, "self"):
            raise refuse(name_node, f"{name_node.name!r} is not allowed in a template")
    known = set(variables)
    try:
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as exc:  # an unknown filter or test
        raise ConfigError(
            f"{name}: line {(exc.lineno or 1) + offset}: {exc.message}",
            hint=f"filters: {', '.join(FILTERS)}",
        ) from None
    unknown = sorted(undeclared - known - {"range", "loop"})
    if unknown:
        where = next(n for n in tree.find_all(nodes.Name) if n.name == unknown[0])
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise refuse(where, f"unknown variable {unknown[0]!r}{hint}")
    for loop in tree.find_all(nodes.For):
        if loop.recursive:
            raise refuse(loop, "recursive loops are not allowed")
        guarded = nodes.Call(nodes.Name(_GUARD, "load"), [loop.iter], [], None, None)
        guarded.set_lineno(loop.iter.lineno or loop.lineno)
        guarded.set_environment(env)
        loop.iter = guarded
    try:
        code = env.compile(tree, name=name, filename=_filename(name))
    except TemplateSyntaxError as exc:
        raise ConfigError(
            f"{name}: line {(exc.lineno or 1) + offset}: template error: {exc.message}"
        ) from None
    template = env.template_class.from_code(env, code, env.make_globals(None), None)
    template.cstool_first_line = first_line  # type: ignore[attr-defined]
    # The variables it reads: a render is a function of their values alone (see render_key).
    template.cstool_names = tuple(sorted(undeclared & known))  # type: ignore[attr-defined]
    template.cstool_loops = any(True for _ in tree.find_all(nodes.For))  # type: ignore[attr-defined]
    return template


_KEYED_TYPES = frozenset({str, int, bool, type(None)})


def render_key(template: Template, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What a render of `template` with `values` depends on, as a hashable key (or None).

    A render is a pure function of the variables the template names: the sandbox has no
    clock, no randomness, no loader and no state carried between renders (the loop budget
    restarts each time), and the globals are fixed. So two renders with equal keys give
    the same text, or the same error. Each value is keyed with its type, so 1, 1.0 and True
    (equal in Python, printed differently) differ; a float by its repr (0.0 and -0.0 too).
    None when a value is of another type: then the caller renders without a key.
    """
    names: tuple[str, ...] | None = getattr(template, "cstool_names", None)
    if names is None:  # not made by compile_template
        return None
    key: list[Any] = [id(template)]
    for name in names:
        value = values[name]
        kind = type(value)
        if kind in _KEYED_TYPES:
            key += (kind, value)
        elif kind is float:
            key += (kind, repr(value))
        elif kind is list and all(type(item) is str for item in value):
            key += (kind, tuple(value))
        else:
            return None
    return tuple(key)


def template_globals() -> dict[str, Any]:
    """The names every template sees besides its variables (give them to `render`)."""
    return dict(environment().globals)


def render(template: Template, values: Mapping[str, Any]) -> str:
    """Render with the step and size caps; a refusal or runtime error is a ConfigError.

    `values` holds every variable; when it also holds template_globals() (a caller
    rendering many rows adds them once), no per-render merge is needed.
    """
    from jinja2 import TemplateError

    token = _steps.set([MAX_STEPS])
    size = 0
    parts: list[str] = []
    if _GUARD not in values:
        values = {**template_globals(), **values}
    try:
        context = template.new_context(values, shared=True)  # type: ignore[arg-type]
        output = template.root_render_func(context)
        if getattr(template, "cstool_loops", True):
            # With loops, output grows with steps: stop as soon as it is too long.
            for part in output:
                size += len(part)
                if size > MAX_OUTPUT_CHARS:
                    raise _Refused(f"the text is longer than {MAX_OUTPUT_CHARS} characters")
                parts.append(part)
        else:
            # Without loops, output is bounded by the template's own expressions.
            parts = list(output)
            if sum(map(len, parts)) > MAX_OUTPUT_CHARS:
                raise _Refused(f"the text is longer than {MAX_OUTPUT_CHARS} characters")
    except (
        _Refused,
        TemplateError,
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        RecursionError,
    ) as exc:
        raise _render_error(template, exc) from None
    finally:
        _steps.reset(token)
    return "".join(parts)


def _filename(name: str) -> str:
    return f"<cstool template {name}>"


def _render_error(template: Template, exc: BaseException) -> ConfigError:
    """`name: line N: what went wrong`, the line taken from the template's own frame."""
    from jinja2.exceptions import SecurityError, UndefinedError

    name = template.name or "template"
    filename = _filename(name)
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    first = int(getattr(template, "cstool_first_line", 1))
    where = f"line {line + first - 1}: " if line is not None else ""
    if isinstance(exc, _Refused | SecurityError):
        what = f"refused: {exc}"
    elif isinstance(exc, UndefinedError):
        what = str(exc)
    else:
        what = f"{type(exc).__name__}: {exc}"
    return ConfigError(f"{name}: {where}{what}")
