"""FakeEmbeddings: deterministic vectors without a network, for tests and offline examples.

Without a script, each input's vector comes from a SHA-256 of the model, the input type and the
text: the same input always gives the same unit-length vector (``dimensions`` long, 8 by
default). With ``adapter_opts["embedding_script"]``, each request (one
batch) takes the next entry (see ``allm.providers.fake.surfaces``): ``ok([[...], [...]])`` (one
vector per input of the batch), ``error(reason)``, ``retry_until_call(n)``.
``adapter_opts["embedding_record"]`` sees every request. ``FakeEmbeddings(max_batch_size=n)``
sets the per-request limit (2,048 by default, as OpenAI's).
"""

from __future__ import annotations

from .adapter import FakeEmbeddings, error, fake_vector, ok, retry_until_call

__all__ = ["FakeEmbeddings", "error", "fake_vector", "ok", "retry_until_call"]
