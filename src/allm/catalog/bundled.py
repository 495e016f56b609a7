"""The bundled model catalog: a JSON file of models, checked row by row when it is loaded.

The file (``allm/catalog/models.json``, or any file of the same shape given to
``BundledCatalog.from_file``) is::

    {"format": 1, "updated": "2026-11-24", "currency": "USD",
     "models": [{"provider": "openai", "id": "gpt-4.1", "name": "GPT-4.1",
                 "aliases": ["gpt-4.1-2025-04-14"],
                 "capabilities": {"tools": true, "vision": true, "json_native": true,
                                  "reasoning": false, "prompt_caching": true,
                                  "streaming": true},
                 "limits": {"context": 1047576, "output": 32768},
                 "pricing": {"input": 2, "cached_input": 0.5, "output": 8,
                             "tiers": [{"above_input_tokens": 200000, "input": 4}]},
                 "notes": "..."}]}

Prices are per million tokens. A capability, limit or price a row leaves out is unknown: never a
reason to reject a request, never a cost. Every problem in a file is reported at once, in one
``CatalogError`` naming the file, the row and the offending value.
"""

from __future__ import annotations

import copy
import math
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..data.models import ModelRef
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "AUDIO_CAPABILITY_KEYS",
    "AUDIO_PRICE_KEYS",
    "CAPABILITY_KEYS",
    "IMAGE_CAPABILITY_KEYS",
    "LIMIT_KEYS",
    "PART_CAPABILITY_KEYS",
    "PRICE_KEYS",
    "BundledCatalog",
    "CatalogError",
    "load_catalog",
]

FORMAT = 1
CAPABILITY_KEYS = frozenset(
    {"tools", "vision", "json_native", "reasoning", "prompt_caching", "streaming"}
)
# Image models (design §15.2, image variant): a flag and the operations the model supports.
# ``image_generation`` is the flag allm.execution.images reads; ``images_enabled`` the design's.
IMAGE_CAPABILITY_KEYS = frozenset(
    {"images_enabled", "image_generation", "supported_image_operations"}
)
# Models of the surfaces beside chat say which one they serve; audio models also whether they
# give timestamps (allm.audio reads them).
SURFACE_CAPABILITY_KEYS = frozenset({"embeddings", "moderation"})
AUDIO_CAPABILITY_KEYS = frozenset({"speech", "transcription", "timestamps"})
# Input parts and provider tools: ``documents`` and ``audio_input`` flags, and
# ``provider_tools``, the list of provider tool kinds the model takes.
PART_CAPABILITY_KEYS = frozenset({"documents", "audio_input", "provider_tools"})
_LIST_CAPABILITIES = frozenset({"supported_image_operations", "provider_tools"})
_KNOWN_CAPABILITIES = (
    CAPABILITY_KEYS | IMAGE_CAPABILITY_KEYS | SURFACE_CAPABILITY_KEYS | AUDIO_CAPABILITY_KEYS
) | PART_CAPABILITY_KEYS
# ``dimensions``: an embedding model's vector length (the most ``dimensions=`` may ask for);
# ``batch``: the most inputs one request may carry; ``input_characters``: the longest speech
# input; ``audio_bytes``: the largest audio upload.
LIMIT_KEYS = frozenset(
    {"context", "output", "dimensions", "batch", "input_characters", "audio_bytes"}
)
# Per million tokens, except ``characters`` (per million input characters) and
# ``audio_minute`` (per minute of input audio).
AUDIO_PRICE_KEYS = frozenset({"audio_input", "audio_output", "characters", "audio_minute"})
PRICE_KEYS = frozenset({"input", "cached_input", "cache_write", "output"}) | AUDIO_PRICE_KEYS
_ROW_KEYS = frozenset(
    {"provider", "id", "name", "aliases", "capabilities", "limits", "pricing", "notes", "metadata"}
)
_TOP_KEYS = frozenset({"format", "updated", "currency", "prices", "price_source", "models"})
# Provider names people use for the adapters allm registers.
_PROVIDER_ALIASES = {"google": "gemini", "google-gla": "gemini", "gcp.gemini": "gemini"}
_SNAPSHOT = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_BUNDLED_SOURCE = "allm/catalog/models.json"


class CatalogError(ConfigurationError):
    """A catalog file that cannot be used: ``problems`` lists every bad value, row by row."""

    default_reason = "invalid_catalog"


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_prices(where: str, prices: Mapping[str, Any], problems: list[str]) -> None:
    for key, value in prices.items():
        if key not in PRICE_KEYS:
            problems.append(f"{where}: unknown price {key!r} (known: {sorted(PRICE_KEYS)})")
        elif not _is_number(value):
            problems.append(f"{where}.{key} must be a non-negative number, got {value!r}")


def _check_row(where: str, row: Any, problems: list[str]) -> ModelRef | None:
    if not isinstance(row, Mapping):
        problems.append(f"{where} must be an object, got {row!r}")
        return None
    before = len(problems)
    for key in row:
        if key not in _ROW_KEYS:
            problems.append(f"{where}: unknown field {key!r} (known: {sorted(_ROW_KEYS)})")
    provider, model_id = row.get("provider"), row.get("id")
    for key, value in (("provider", provider), ("id", model_id)):
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            problems.append(
                f"{where}.{key} must be a non-empty string without spaces around it, got {value!r}"
            )
    if isinstance(model_id, str) and model_id and isinstance(provider, str) and provider:
        where = f"{where} ({provider}:{model_id})"
    name = row.get("name")
    if name is not None and not isinstance(name, str):
        problems.append(f"{where}.name must be a string, got {name!r}")
    aliases = row.get("aliases", [])
    if not isinstance(aliases, list) or not all(
        isinstance(alias, str) and alias.strip() for alias in aliases
    ):
        problems.append(f"{where}.aliases must be a list of non-empty strings, got {aliases!r}")
        aliases = []
    capabilities = row.get("capabilities", {})
    if not isinstance(capabilities, Mapping):
        problems.append(f"{where}.capabilities must be an object, got {capabilities!r}")
        capabilities = {}
    for key, value in capabilities.items():
        if key not in _KNOWN_CAPABILITIES:
            problems.append(
                f"{where}: unknown capability {key!r} (known: {sorted(_KNOWN_CAPABILITIES)})"
            )
        elif key in _LIST_CAPABILITIES:
            if not isinstance(value, list) or not all(
                isinstance(item, str) and item for item in value
            ):
                problems.append(
                    f"{where}.capabilities.{key} must be a list of operation names, got {value!r}"
                )
        elif not isinstance(value, bool):
            problems.append(f"{where}.capabilities.{key} must be true or false, got {value!r}")
    limits = row.get("limits", {})
    if not isinstance(limits, Mapping):
        problems.append(f"{where}.limits must be an object, got {limits!r}")
        limits = {}
    for key, value in limits.items():
        if key not in LIMIT_KEYS:
            problems.append(f"{where}: unknown limit {key!r} (known: {sorted(LIMIT_KEYS)})")
        elif not _is_count(value):
            problems.append(f"{where}.limits.{key} must be a positive integer, got {value!r}")
    pricing = row.get("pricing")
    if pricing is not None and not isinstance(pricing, Mapping):
        problems.append(f"{where}.pricing must be an object, got {pricing!r}")
        pricing = None
    if pricing is not None:
        base = {key: value for key, value in pricing.items() if key != "tiers"}
        _check_prices(f"{where}.pricing", base, problems)
        tiers = pricing.get("tiers", [])
        if not isinstance(tiers, list):
            problems.append(f"{where}.pricing.tiers must be a list, got {tiers!r}")
            tiers = []
        for index, tier in enumerate(tiers):
            at = f"{where}.pricing.tiers[{index}]"
            if not isinstance(tier, Mapping):
                problems.append(f"{at} must be an object, got {tier!r}")
                continue
            threshold = tier.get("above_input_tokens")
            if not _is_count(threshold):
                problems.append(
                    f"{at}.above_input_tokens must be a positive integer, got {threshold!r}"
                )
            _check_prices(
                at, {k: v for k, v in tier.items() if k != "above_input_tokens"}, problems
            )
    notes = row.get("notes")
    if notes is not None and not isinstance(notes, str):
        problems.append(f"{where}.notes must be a string, got {notes!r}")
    metadata = row.get("metadata", {})
    if not isinstance(metadata, Mapping):
        problems.append(f"{where}.metadata must be an object, got {metadata!r}")
        metadata = {}
    if len(problems) != before:
        return None
    assert isinstance(provider, str) and isinstance(model_id, str)
    info: dict[str, Any] = dict(metadata)
    if name is not None:
        info["name"] = name
    if aliases:
        info["aliases"] = list(aliases)
    if notes is not None:
        info["notes"] = notes
    return ModelRef(
        provider=provider,
        id=model_id,
        capabilities=dict(capabilities),
        limits=dict(limits),
        pricing=None if pricing is None else copy.deepcopy(dict(pricing)),
        metadata=info,
    )


def parse_catalog(data: Any, source: str) -> tuple[tuple[ModelRef, ...], dict[str, Any]]:
    """Check a decoded catalog document; the models and the document's other fields.

    Raises ``CatalogError`` listing every problem (each names the row and the value).
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise CatalogError(
            "invalid_catalog",
            f"catalog {source}: expected an object with a 'models' list, got {type(data).__name__}",
            problems=[f"the document must be an object, got {data!r:.80}"],
            metadata={"source": source},
        )
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"unknown top-level field {key!r} (known: {sorted(_TOP_KEYS)})")
    if data.get("format", FORMAT) != FORMAT:
        problems.append(f"format must be {FORMAT}, got {data.get('format')!r}")
    rows = data.get("models")
    if not isinstance(rows, list):
        problems.append(f"models must be a list, got {rows!r:.80}")
        rows = []
    models: list[ModelRef] = []
    seen: dict[tuple[str, str], str] = {}
    for index, row in enumerate(rows):
        where = f"models[{index}]"
        ref = _check_row(where, row, problems)
        if ref is None:
            continue
        for name in (ref.id, *ref.metadata.get("aliases", ())):
            key = (ref.provider, name.lower())
            if key in seen:
                problems.append(
                    f"{where} ({ref.provider}:{ref.id}): {name!r} is already used by {seen[key]}"
                )
            else:
                seen[key] = f"{where} ({ref.provider}:{ref.id})"
        models.append(ref)
    if problems:
        raise CatalogError(
            "invalid_catalog",
            f"catalog {source} has {len(problems)} problem(s): " + "; ".join(problems),
            problems=problems,
            metadata={"source": source},
        )
    info = {key: value for key, value in data.items() if key != "models"}
    return tuple(models), info


def _read(path: str | Path, source: str) -> Any:
    import json  # loading a catalog is rare: keep ``import allm.catalog`` light

    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        raise CatalogError(
            "invalid_catalog",
            f"catalog {source} cannot be read: {exc.strerror or exc}",
            problems=[f"cannot read {source}"],
            metadata={"source": source},
            cause=exc,
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            "invalid_catalog",
            f"catalog {source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            problems=[f"line {exc.lineno} column {exc.colno}: {exc.msg}"],
            metadata={"source": source},
            cause=exc,
        ) from exc


_bundled_lock = threading.Lock()
_bundled: tuple[tuple[ModelRef, ...], dict[str, Any]] | None = None


def _bundled_models() -> tuple[tuple[ModelRef, ...], dict[str, Any]]:
    global _bundled
    with _bundled_lock:
        if _bundled is None:
            path = os.path.join(os.path.dirname(__file__), "models.json")
            _bundled = parse_catalog(_read(path, _BUNDLED_SOURCE), _BUNDLED_SOURCE)
        return _bundled


def _candidates(model_id: str) -> list[str]:
    """The names to try for ``model_id``: as given, without a ``models/`` prefix, without a
    dated snapshot suffix (``-20250929``, ``-2025-08-07``)."""
    name = model_id.strip().lower()
    names = [name]
    if name.startswith("models/"):
        name = name[len("models/") :]
        names.append(name)
    undated = _SNAPSHOT.sub("", name)
    if undated != name and undated:
        names.append(undated)
    return names


class BundledCatalog:
    """A ``ModelCatalog`` over a list of models: the bundled file by default.

    ``lookup(provider, model_id)`` matches the id or an alias (case-insensitive), also with a
    ``models/`` prefix or a dated snapshot suffix the table does not list. With ``provider=None``
    it answers only when exactly one provider has the model.
    """

    def __init__(
        self,
        models: Iterable[ModelRef] | None = None,
        *,
        source: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        if models is None:
            models, bundled_info = _bundled_models()
            info = bundled_info if info is None else info
            source = source or _BUNDLED_SOURCE
        self.source = source or "<models>"
        self.info: dict[str, Any] = dict(info or {})
        self._models = tuple(models)
        self._index: dict[tuple[str, str], ModelRef] = {}
        self._by_name: dict[str, list[ModelRef]] = {}
        for ref in self._models:
            if not isinstance(ref, ModelRef):
                raise TypeError(f"a catalog holds ModelRef values, got {ref!r}")
            for name in (ref.id, *ref.metadata.get("aliases", ())):
                key = name.lower()
                self._index.setdefault((ref.provider, key), ref)
                entries = self._by_name.setdefault(key, [])
                if ref not in entries:
                    entries.append(ref)

    @classmethod
    def from_file(cls, path: str | Path) -> BundledCatalog:
        """A catalog from a JSON file of the bundled file's shape; ``CatalogError`` if bad."""
        source = os.fspath(path)
        models, info = parse_catalog(_read(source, source), source)
        return cls(models, source=source, info=info)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str = "<data>") -> BundledCatalog:
        """A catalog from an already decoded document; ``CatalogError`` if bad."""
        models, info = parse_catalog(data, source)
        return cls(models, source=source, info=info)

    @property
    def updated(self) -> str | None:
        """The date the file says its data was last checked."""
        value = self.info.get("updated")
        return value if isinstance(value, str) else None

    def models(self, provider: str | None = None) -> tuple[ModelRef, ...]:
        """Every model, or one provider's."""
        if provider is None:
            return self._models
        provider = _PROVIDER_ALIASES.get(provider, provider)
        return tuple(ref for ref in self._models if ref.provider == provider)

    def lookup(self, provider: str | None, model_id: str) -> ModelRef | None:
        """The model, or None when the catalog does not know it."""
        if not isinstance(model_id, str) or not model_id.strip():
            return None
        if provider is not None:
            provider = _PROVIDER_ALIASES.get(provider, provider)
        for name in _candidates(model_id):
            if provider is not None:
                ref = self._index.get((provider, name))
                if ref is not None:
                    return ref
                continue
            entries = self._by_name.get(name)
            if entries:
                return entries[0] if len(entries) == 1 else None
        return None

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self) -> Iterator[ModelRef]:
        return iter(self._models)

    def __repr__(self) -> str:
        return f"BundledCatalog({len(self._models)} models from {self.source})"


def load_catalog(path: str | Path | None = None) -> BundledCatalog:
    """The bundled catalog, or the one in ``path``."""
    return BundledCatalog() if path is None else BundledCatalog.from_file(path)
