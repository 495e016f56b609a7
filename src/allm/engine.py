"""The engine: which adapter, model, tools and defaults a call runs with. Immutable and serializable.

Keys never live on an engine; they are resolved at call time (see ``allm.keys``).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Protocol

from . import codec
from ._lazy import lazy_names
from .errors import ConfigurationError
from .retry import RetryPolicy, policy_from

if TYPE_CHECKING:
    from .data.mcp import HttpServer, SseServer, StdioServer
    from .data.tools import Tool
    from .limits import Limits

__all__ = [
    "DEFAULT_FALLBACK_ON",
    "ENGINE_FIELD_KEYS",
    "SURFACE_SLOTS",
    "Engine",
    "EngineResources",
    "add_resources",
    "fallback_on_problems",
    "new_id",
]

# The failures after which the next fallback is tried: the provider could not take the call now.
DEFAULT_FALLBACK_ON = frozenset(
    {"rate_limited", "provider_unavailable", "timeout", "network_error", "quota_exhausted"}
)


def new_id() -> str:
    """A fresh 22-character URL-safe id (16 random bytes)."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


# Call keywords that configure the engine itself; they never reach a provider as parameters.
ENGINE_FIELD_KEYS = frozenset(
    {
        "adapter",
        "adapter_opts",
        "model",
        "tools",
        "tool_executor",
        "tool_result_encoder",
        "image_adapter",
        "embedding_adapter",
        "embedding_model",
        "moderation_adapter",
        "moderation_model",
        "speech_adapter",
        "speech_model",
        "transcription_adapter",
        "transcription_model",
        "params",
        "context",
        "retry",
        "middleware",
        "fallbacks",
        "limits",
        "mcp_servers",
        "metadata",
        "api_key",
        "id",
        "provider_options",
    }
)


# The field types only an engine with tools, MCP servers or limits needs (its checks and the
# codec's type hints), imported on first use: a first call on a plain engine never loads them.
_LAZY = {
    "HttpServer": "allm.data.mcp",
    "SseServer": "allm.data.mcp",
    "StdioServer": "allm.data.mcp",
    "ProviderTool": "allm.data.server_tools",
    "Tool": "allm.data.tools",
    "Limits": "allm.limits",
}

__getattr__ = lazy_names(globals(), _LAZY)


class EngineResources(Protocol):
    """Live resources a room above keeps per engine id (``allm.mcp``'s server sessions): the
    engine stays plain data and closes them through this hook without importing that room."""

    def close(self, engine_id: str) -> None:
        """Close what ``engine_id`` holds, blocking."""

    async def aclose(self, engine_id: str) -> None:
        """Close what ``engine_id`` holds, awaiting."""


_resources: list[EngineResources] = []


def add_resources(owner: EngineResources) -> None:
    """Have ``Engine.close`` / ``aclose`` close what ``owner`` keeps for an engine."""
    if owner not in _resources:
        _resources.append(owner)


# Adapter slots of the surfaces beside chat; each takes a class, an instance or a name.
SURFACE_SLOTS = (
    "image_adapter",
    "embedding_adapter",
    "moderation_adapter",
    "speech_adapter",
    "transcription_adapter",
)
_REF_FIELDS = frozenset({"adapter", "tool_executor", "tool_result_encoder", *SURFACE_SLOTS})


def _check_ref(value: Any, what: str, problems: list[str]) -> None:
    if value is None or isinstance(value, str) or callable(value):
        return
    if isinstance(value, type) or hasattr(value, "stream") or hasattr(value, "generate"):
        return
    if hasattr(value, "execute") or hasattr(value, "encode"):
        return
    if hasattr(value, "embed") or hasattr(value, "moderate"):
        return
    if hasattr(value, "synthesize") or hasattr(value, "transcribe"):
        return
    problems.append(f"{what} must be a class, an instance or a registered name, got {value!r}")


@dataclass(frozen=True, slots=True)
class Engine:
    """What a call runs with: adapter, adapter options, model, tools and defaults.

    ``adapter`` and the surface slots (``image_adapter``, ``embedding_adapter``,
    ``moderation_adapter``, ``speech_adapter``, ``transcription_adapter``) take a class, an
    instance or a registered name (``"fake"``); ``embedding_model``, ``moderation_model``,
    ``speech_model`` and ``transcription_model`` are those surfaces' default models (a
    ``"provider:id"`` string picks the adapter when the slot is empty; ``model`` is never used).
    ``params`` are default request parameters; unknown names reach the provider as they are.
    ``provider_options`` (``{"anthropic": {...}}``) are body fields per provider name, below the
    request's and the call's (``docs/requests.md``).
    ``context`` is handed to tool handlers. ``retry`` is ``"default"``, ``False``, a dict of
    overrides or a ``RetryPolicy``. ``fallbacks`` are model strings or engines tried in order
    when a call fails before anything was delivered, for the reasons in ``fallback_on`` (default
    ``DEFAULT_FALLBACK_ON``); ``limits`` are ``allm.Limits`` shared per provider and key;
    ``middleware`` items define ``transform_request`` and/or ``wrap_events`` (``allm.middleware``).
    ``mcp_servers`` (``allm.mcp.stdio(...)``, ``http(...)``, ``sse(...)``) add each server's tools
    to every chat call, one session per server opened on first use and kept until ``close()``
    (or ``with engine:``); engines sharing an ``id`` share those sessions.
    Every helper returns a new engine with the same ``id``.
    """

    adapter: Any = None
    adapter_opts: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    tools: tuple[Tool, ...] = ()
    tool_executor: Any = None
    tool_result_encoder: Any = None
    image_adapter: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    retry: Any = "default"
    metadata: dict[str, Any] = field(default_factory=dict)
    embedding_adapter: Any = None
    embedding_model: str | None = None
    moderation_adapter: Any = None
    moderation_model: str | None = None
    speech_adapter: Any = None
    speech_model: str | None = None
    transcription_adapter: Any = None
    transcription_model: str | None = None
    id: str = field(default_factory=new_id)
    fallbacks: tuple[Any, ...] = ()
    fallback_on: tuple[str, ...] | None = None
    limits: Limits | None = None
    middleware: tuple[Any, ...] = ()
    mcp_servers: tuple[StdioServer | HttpServer | SseServer, ...] = ()
    provider_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name in ("tools", "fallbacks", "middleware"):
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if not isinstance(self.tools, tuple):
            object.__setattr__(self, "tools", tuple(self.tools))
        if isinstance(self.fallback_on, list | set | frozenset):
            object.__setattr__(self, "fallback_on", tuple(self.fallback_on))
        problems.extend(fallback_on_problems(self.fallback_on, "fallback_on"))
        problems.extend(self._resilience_problems())
        if self.tools:
            from .data.server_tools import ProviderTool
            from .data.tools import Tool

            for item in self.tools:
                if not isinstance(item, Tool | ProviderTool):
                    problems.append(f"tools must hold Tool or ProviderTool values, got {item!r}")
        if not isinstance(self.mcp_servers, tuple):
            object.__setattr__(self, "mcp_servers", tuple(self.mcp_servers))
        if self.mcp_servers:
            from .data.mcp import HttpServer, SseServer, StdioServer

            for index, server in enumerate(self.mcp_servers):
                if not isinstance(server, StdioServer | HttpServer | SseServer):
                    problems.append(
                        f"mcp_servers[{index}] must be allm.mcp.stdio(...), http(...) or sse(...), "
                        f"got {type(server).__name__}"
                    )
        for name in ("adapter_opts", "params", "context", "metadata", "provider_options"):
            if not isinstance(getattr(self, name), Mapping):
                problems.append(f"{name} must be a mapping, got {getattr(self, name)!r}")
        _check_ref(self.adapter, "adapter", problems)
        for slot in SURFACE_SLOTS:
            _check_ref(getattr(self, slot), slot, problems)
        _check_ref(self.tool_executor, "tool_executor", problems)
        _check_ref(self.tool_result_encoder, "tool_result_encoder", problems)
        from .registry import registered_names

        for name in ("adapter", *SURFACE_SLOTS):
            value = getattr(self, name)
            if isinstance(value, str) and value not in registered_names():
                problems.append(
                    f"unknown {name} name {value!r}; registered: {sorted(registered_names())}"
                )
        if problems:
            raise ConfigurationError("invalid_adapter", problems=problems)
        policy_from(self.retry)  # raises ConfigurationError listing every bad key

    # -- live resources (MCP sessions): closed with the engine ----------------------------------

    def close(self) -> None:
        """Close the MCP sessions this engine's ``id`` opened (a no-op when there are none)."""
        for owner in tuple(_resources):
            owner.close(self.id)

    async def aclose(self) -> None:
        """The async twin of ``close``."""
        for owner in tuple(_resources):
            await owner.aclose(self.id)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _resilience_problems(self) -> list[str]:
        from .model_refs import model_ref_problem, split_model_ref
        from .registry import registered_names

        problems: list[str] = []
        if not isinstance(self.fallbacks, tuple):
            return [f"fallbacks must be a sequence, got {self.fallbacks!r}"]
        for index, item in enumerate(self.fallbacks):
            if isinstance(item, Engine):
                continue
            if not isinstance(item, str):
                problems.append(
                    f"fallbacks[{index}] must be a 'provider:id' string or an Engine, got {item!r}"
                )
                continue
            problem = model_ref_problem(item, strict=True)
            provider = split_model_ref(item)[0] if problem is None else None
            if problem is not None or provider not in registered_names():
                problems.append(
                    f"fallbacks[{index}] {item!r} must name a registered provider as "
                    f"'provider:id' ({problem or 'unknown provider'})"
                )
        if self.limits is not None:
            from .limits import Limits

            if not isinstance(self.limits, Limits):
                problems.append(f"limits must be an allm.Limits, got {self.limits!r}")
        if not isinstance(self.middleware, tuple):
            return [*problems, f"middleware must be a sequence, got {self.middleware!r}"]
        for index, item in enumerate(self.middleware):
            hooks = [getattr(item, name, None) for name in ("transform_request", "wrap_events")]
            if not any(callable(hook) for hook in hooks):
                problems.append(
                    f"middleware[{index}] must define transform_request or wrap_events, "
                    f"got {item!r}"
                )
        return problems

    def fallback_reasons(self, opts: Mapping[str, Any]) -> frozenset[str]:
        """The reasons that switch to the next fallback: call keyword > engine > default."""
        given = opts.get("fallback_on")
        if given is None:
            given = self.fallback_on
        return DEFAULT_FALLBACK_ON if given is None else frozenset(given)

    # -- helpers: each returns a new engine -------------------------------------------------------

    def put_tool(self, tool: Tool) -> Engine:
        """This engine with ``tool`` appended (no de-duplication)."""
        return replace(self, tools=(*self.tools, tool))

    def put_tools(self, tools: Iterable[Tool]) -> Engine:
        """This engine with ``tools`` appended (no de-duplication)."""
        return replace(self, tools=(*self.tools, *tools))

    def put_param(self, name: str, value: Any) -> Engine:
        """This engine with default parameter ``name`` set."""
        return replace(self, params={**self.params, name: value})

    def put_context(self, name: str, value: Any) -> Engine:
        """This engine with context entry ``name`` set."""
        return replace(self, context={**self.context, name: value})

    def with_model(self, model: str | None) -> Engine:
        """This engine with another default model, on the same adapter: an engine whose model
        selected its provider keeps that provider as its ``adapter``, so its ``adapter_opts``
        stay with it when the new model names another provider."""
        return replace(self, model=model, adapter=self._own_adapter())

    def _own_adapter(self) -> Any:
        """The adapter this engine's options belong to: the one it names, else the registered
        provider its model selects, else None."""
        if self.adapter is not None:
            return self.adapter
        from .model_refs import split_model_ref
        from .registry import registered_names

        provider, _ = split_model_ref(self.model)
        return provider if provider in registered_names() else None

    def merge_opts(self, **opts: Any) -> Engine:
        """This engine with ``model``, ``tools`` (merged by name), ``params`` and ``context`` applied."""
        changes: dict[str, Any] = {}
        if "model" in opts:
            changes["model"] = opts["model"]
            changes["adapter"] = self._own_adapter()
        if "tools" in opts:
            changes["tools"] = self.resolve_tools({"tools": opts["tools"]})
        if "params" in opts:
            changes["params"] = {**self.params, **opts["params"]}
        if "context" in opts:
            changes["context"] = {**self.context, **opts["context"]}
        return replace(self, **changes)

    # -- resolution: call keyword > engine --------------------------------------------------------

    def resolve_model(self, opts: Mapping[str, Any]) -> Any:
        """``opts["model"]`` if given, else the engine's model."""
        model = opts.get("model")
        return model if model is not None else self.model

    def resolve_tools(
        self, opts: Mapping[str, Any], base: Iterable[Tool] | None = None
    ) -> tuple[Tool, ...]:
        """The engine's tools (or ``base``), with ``opts["tools"]`` replacing same-named ones in place
        and appending new ones: ``[a, b, c] + [b', d] -> [a, b', c, d]``."""
        current = tuple(self.tools if base is None else base)
        extra = opts.get("tools")
        if not extra:
            return current
        by_name = {item.name: item for item in extra}
        merged = [by_name.pop(item.name, item) for item in current]
        merged.extend(item for item in extra if item.name in by_name)
        return tuple(merged)

    def resolve_params(self, opts: Mapping[str, Any]) -> dict[str, Any]:
        """The engine's params shallow-merged with ``opts`` (call wins), minus engine fields."""
        merged = dict(self.params)
        for key, value in opts.items():
            if key not in ENGINE_FIELD_KEYS:
                merged[key] = value
        return merged

    def retry_policy(self) -> RetryPolicy:
        """The engine's retry setting as a policy."""
        return policy_from(self.retry)

    # -- serialization ----------------------------------------------------------------------------

    def _to_json_data(
        self, encode: Callable[[Any], Any], callable_ref: Callable[[Any, str], str]
    ) -> dict[str, Any]:
        from .registry import name_of

        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _REF_FIELDS:
                data[f.name] = None if value is None else name_of(value, callable_ref)
            elif f.name in ("tools", "fallbacks", "middleware", "mcp_servers"):
                data[f.name] = [encode(item) for item in value]
            else:
                data[f.name] = encode(value)
        return data

    @classmethod
    def _from_json_data(
        cls, data: Mapping[str, Any], decode: Callable[[Any], Any], import_ref: Callable[[str], Any]
    ) -> Engine:
        from .registry import registered_names

        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in _REF_FIELDS:
                if value is None or (isinstance(value, str) and value in registered_names()):
                    kwargs[key] = value
                else:
                    kwargs[key] = import_ref(value)
            elif key in ("tools", "fallbacks", "middleware", "mcp_servers"):
                kwargs[key] = tuple(decode(item) for item in value)
            elif key == "fallback_on":
                kwargs[key] = None if value is None else tuple(decode(value))
            else:
                kwargs[key] = decode(value)
        return cls(**kwargs)


def fallback_on_problems(value: Any, where: str) -> list[str]:
    """What is wrong with a ``fallback_on`` value: a collection of adapter error reasons."""
    from .errors import AdapterError

    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [f"{where} must be a collection of error reasons, got {value!r}"]
    known = AdapterError.legal_reasons()
    unknown = sorted(str(item) for item in value if item not in known)
    if unknown:
        return [f"{where} names unknown reasons {unknown}; known: {sorted(known)}"]
    return []


codec.register(Engine)
