"""Bedrock constants: the host, stop reasons, error types, and which options go where."""

from __future__ import annotations

from ...data.response import FinishReason

SERVICE = "bedrock"
HOST_TEMPLATE = "https://bedrock-runtime.{region}.amazonaws.com"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
BEARER_VARIABLE = "AWS_BEARER_TOKEN_BEDROCK"
EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"

# The ``ReasoningCompleted.id`` of a Converse reasoning block, so the next turn can send it back;
# a redacted block keeps its opaque bytes (base64) as the signature.
REASONING_ID = "bedrock:reasoning"
REDACTED_REASONING_ID = "bedrock:redacted_reasoning"

# Every documented ``stopReason`` (ConverseStream ``messageStop`` and Converse alike).
STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "tool_use": FinishReason.TOOL_CALLS,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "guardrail_intervened": FinishReason.CONTENT_FILTER,
    "content_filtered": FinishReason.CONTENT_FILTER,
    "malformed_model_output": FinishReason.ERROR,
    "malformed_tool_use": FinishReason.ERROR,
}

# Error types (the ``x-amzn-ErrorType`` header, the ``:exception-type`` of a stream frame, or a
# body's ``__type``), lower-cased, to allm reasons.
ERROR_TYPES: dict[str, str] = {
    "throttlingexception": "rate_limited",
    "toomanyrequestsexception": "rate_limited",
    "modelnotreadyexception": "provider_unavailable",
    "serviceunavailableexception": "provider_unavailable",
    "internalserverexception": "provider_unavailable",
    "modelerrorexception": "provider_unavailable",
    "modelstreamerrorexception": "provider_unavailable",
    "modeltimeoutexception": "timeout",
    "validationexception": "invalid_request",
    "resourcenotfoundexception": "invalid_request",
    "conflictexception": "invalid_request",
    "accessdeniedexception": "authentication_failed",
    "unrecognizedclientexception": "authentication_failed",
    "expiredtokenexception": "authentication_failed",
    "invalidsignatureexception": "authentication_failed",
    "incompletesignatureexception": "authentication_failed",
    "servicequotaexceededexception": "quota_exhausted",
}
CONTEXT_PHRASES = (
    "too long",
    "context window",
    "context length",
    "maximum context",
    "too many tokens",
)

# Converse's own top-level fields, by the names a caller may give them (snake or camel case).
TOP_LEVEL = {
    "guardrail_config": "guardrailConfig",
    "guardrailConfig": "guardrailConfig",
    "performance_config": "performanceConfig",
    "performanceConfig": "performanceConfig",
    "prompt_variables": "promptVariables",
    "promptVariables": "promptVariables",
    "request_metadata": "requestMetadata",
    "requestMetadata": "requestMetadata",
    "additional_model_response_field_paths": "additionalModelResponseFieldPaths",
    "additionalModelResponseFieldPaths": "additionalModelResponseFieldPaths",
    "service_tier": "serviceTier",
    "serviceTier": "serviceTier",
}
# inferenceConfig fields a caller may pass as options (the neutral ones come from the request).
INFERENCE = {
    "top_p": "topP",
    "topP": "topP",
    "stop": "stopSequences",
    "stop_sequences": "stopSequences",
    "stopSequences": "stopSequences",
    "max_tokens": "maxTokens",
    "maxTokens": "maxTokens",
    "temperature": "temperature",
}
ADDITIONAL = frozenset({"additional_model_request_fields", "additionalModelRequestFields"})
INFERENCE_CONFIG = frozenset({"inference_config", "inferenceConfig"})
# Options that are never body fields (the runner may pass them through as params), and the
# adapter's own settings.
NOT_BODY = frozenset(
    {
        "stream",
        "metadata",
        "region",
        "profile",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    }
)
# The neutral fields Converse has no field for.
UNSUPPORTED_NEUTRAL = ("seed", "parallel_tool_calls", "logprobs")
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
