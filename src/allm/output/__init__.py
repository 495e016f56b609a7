"""Structured output into Python types: specs, per-wire schemas, validation, partial values and
the re-ask loop. Providers call ``native_format`` / ``anthropic_output_config``; the execution
layer calls ``resolve`` (pre-flight) and wraps the adapter's plans with ``typed_stream`` /
``typed_generate``. See ``docs/design/structured-output.md``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_names
from ..data.request import Request
from ..errors import ConfigurationError, ValidationError
from .spec import MODES, OutputSpec, as_spec, is_typed_output, output

if TYPE_CHECKING:
    from .check import validate_answer
    from .plan import output_tool_name, typed_generate, typed_stream

__all__ = [
    "DEFAULT_OUTPUT_RETRIES",
    "MODES",
    "OutputSpec",
    "anthropic_output_config",
    "as_spec",
    "is_typed_output",
    "native_format",
    "output",
    "output_retries",
    "output_tool_name",
    "resolve",
    "resolve_mode",
    "typed_generate",
    "typed_stream",
    "validate_answer",
]

DEFAULT_OUTPUT_RETRIES = 1
# Adapters list the modes they serve, best first; one that says nothing gets the generic two.
_GENERIC_MODES = ("prompted", "tool")


def _flag(capabilities: Mapping[str, Any], name: str) -> Any:
    value = capabilities.get(name)
    return value.get("enabled") if isinstance(value, Mapping) else value


def resolve_mode(spec: OutputSpec, adapter: Any, model_ref: Any) -> str:
    """The mode ``spec`` runs in: its own, or for ``"auto"`` the adapter's best that the catalog
    does not rule out. A mode the adapter or the model cannot serve is a ``ValidationError``."""
    offered = tuple(getattr(adapter, "output_modes", _GENERIC_MODES))
    capabilities = getattr(model_ref, "capabilities", None) or {}
    ruled_out = set()
    if _flag(capabilities, "json_native") is False:
        ruled_out.add("native")
    if _flag(capabilities, "tools") is False:
        ruled_out.add("tool")
    allowed: list[str] = [str(m) for m in (*offered, "prompted") if m not in ruled_out]
    if spec.mode == "auto":
        return allowed[0]
    if spec.mode in allowed:
        return spec.mode
    by_model = spec.mode in ruled_out
    raise ValidationError(
        "unsupported_capability" if by_model else "invalid_request",
        f"output mode {spec.mode!r} is not available for "
        + (f"{model_ref}" if by_model else f"adapter {getattr(adapter, 'name', adapter)!r}"),
        errors=[(("response_format", "mode"), "unsupported_option")],
    )


def resolve(request: Request, adapter: Any, model_ref: Any) -> tuple[Request, OutputSpec | None]:
    """Pre-flight: the request as the typed output's mode sends it, and the resolved spec
    (``None`` when the request asks for no typed output)."""
    spec = as_spec(request.response_format)
    if spec is None:
        return request, None
    from .check import check_available
    from .plan import typed_request

    check_available(spec)
    spec = replace(spec, mode=resolve_mode(spec, adapter, model_ref))
    return typed_request(request, spec), spec


def output_retries(value: Any) -> int:
    """The ``output_retries`` option checked: a non-negative int (default 1)."""
    if value is None:
        return DEFAULT_OUTPUT_RETRIES
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            "invalid_option", problems=[f"output_retries must be an int >= 0, got {value!r}"]
        )
    return int(value)


def native_format(response_format: Any, wire: str) -> Any:
    """A native-mode spec as the wave-1 ``json_schema`` dict with the wire's schema (``wire`` is
    ``"openai"`` or ``"gemini"``); ``None`` for a spec in another mode; anything else unchanged."""
    if not isinstance(response_format, OutputSpec):
        return response_format
    spec = response_format
    if spec.mode != "native":
        return None
    from .schema import gemini_schema, openai_schema

    if wire == "gemini":
        return {"type": "json_schema", "name": spec.name, "schema": gemini_schema(spec)}
    schema, strict = openai_schema(spec)
    return {"type": "json_schema", "name": spec.name, "schema": schema, "strict": strict}


def anthropic_output_config(response_format: Any) -> dict[str, Any] | None:
    """Anthropic's ``output_config`` for a native-mode spec, else ``None``."""
    if not isinstance(response_format, OutputSpec) or response_format.mode != "native":
        return None
    from .schema import anthropic_native_schema

    return {"format": {"type": "json_schema", "schema": anthropic_native_schema(response_format)}}


# The typed-output machinery loads on first use: a call without a typed output never needs it.
_LAZY = {
    "validate_answer": "allm.output.check",
    "output_tool_name": "allm.output.plan",
    "typed_generate": "allm.output.plan",
    "typed_stream": "allm.output.plan",
}

__getattr__ = lazy_names(globals(), _LAZY)


class _CallableModule(types.ModuleType):
    """``allm.output`` is both this package and the ``output()`` constructor: whichever of the
    two an import left on ``allm``, calling it builds a spec."""

    def __call__(
        self, type_or_schema: Any, name: str | None = None, strict: bool = True, mode: str = "auto"
    ) -> OutputSpec:
        return output(type_or_schema, name, strict, mode)


sys.modules[__name__].__class__ = _CallableModule
