"""FakeModeration: deterministic verdicts without a network, for tests and offline examples.

Without a script, an input is flagged when one of its texts contains a word of
``adapter_opts["moderation_flag_words"]`` (case-insensitive; by default ``("flagme",)``): each
flag word is a category, scored 1.0 when present and 0.0 otherwise; images are never flagged.
With ``adapter_opts["moderation_script"]``, each request takes the next
entry (see ``allm.providers.fake.surfaces``): ``ok([ModerationResult(...), ...])`` (one per input
of the request), ``error(reason)``, ``retry_until_call(n)``.
``adapter_opts["moderation_record"]`` sees every request.
"""

from __future__ import annotations

from .adapter import DEFAULT_FLAG_WORDS, FakeModeration, error, ok, retry_until_call

__all__ = ["DEFAULT_FLAG_WORDS", "FakeModeration", "error", "ok", "retry_until_call"]
