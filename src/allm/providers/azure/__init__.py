"""Azure OpenAI: both OpenAI wires at an Azure resource, the model being the deployment name
(``docs/design/providers-azure-mistral-ollama.md``)."""

from __future__ import annotations

from .adapter import AzureOpenAI
from .errors import azure_error
from .settings import azure_url

__all__ = ["AzureOpenAI", "azure_error", "azure_url"]
