"""Writes the preset transcripts under tests/fixtures/wire/presets/<preset>/ (run it to
regenerate them: ``python -m tests.providers.servers.compose_presets``). Each transcript is
composed from its service's documentation, named in the transcript's ``notes``; nothing here was
recorded from a live service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from allm.providers.presets import PRESETS

OUT = Path(__file__).resolve().parents[2] / "fixtures" / "wire" / "presets"
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}

# What each service's documentation shows: the page, a model, its usage extras, its error body.
DOCS: dict[str, dict[str, Any]] = {
    "groq": {
        "reasoning": {
            "doc": "https://console.groq.com/docs/reasoning (reasoning_format parsed: the "
            "reasoning in message.reasoning and delta.reasoning)",
            "model": "openai/gpt-oss-20b",
            "field": "reasoning",
            "params": {"reasoning_format": "parsed"},
        },
        "doc": "https://console.groq.com/docs/api-reference (chat completions, x_groq usage on "
        "the last stream chunk); https://console.groq.com/docs/errors",
        "model": "llama-3.3-70b-versatile",
        "usage_in": "x_groq",
        "usage_extra": {"queue_time": 0.021, "prompt_time": 0.004, "completion_time": 0.02},
        "error": {
            "error": {
                "message": "Rate limit reached for model `llama-3.3-70b-versatile` in "
                "organization `org_1` on tokens per minute (TPM). Please try again in 2.5s.",
                "type": "tokens",
                "code": "rate_limit_exceeded",
            }
        },
    },
    "openrouter": {
        "doc": "https://openrouter.ai/docs/api-reference/streaming (': OPENROUTER PROCESSING' "
        "comments, errors mid-stream as data events beside choices with finish_reason "
        "'error'); https://openrouter.ai/docs/api/reference/errors-and-debugging "
        "({error: {code, message, metadata}}); reasoning tokens as delta.reasoning",
        "model": "anthropic/claude-sonnet-4",
        "reasoning_field": "reasoning",
        "error": {
            "error": {
                "code": 429,
                "message": "Rate limit exceeded: free-models-per-min.",
                "metadata": {"headers": {"X-RateLimit-Limit": "20"}},
            }
        },
        "comment": True,
        "mid_error_beside_choices": True,
    },
    "deepseek": {
        "doc": "https://api-docs.deepseek.com/guides/reasoning_model (reasoning_content in the "
        "delta and message); https://api-docs.deepseek.com/quick_start/error_codes; usage "
        "prompt_cache_hit_tokens / prompt_cache_miss_tokens",
        "model": "deepseek-reasoner",
        "reasoning_field": "reasoning_content",
        "usage_extra": {"prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": 9},
        "error": {
            "error": {
                "message": "Rate Limit Reached",
                "type": "rate_limit_error",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        },
    },
    "xai": {
        "doc": "https://docs.x.ai/docs/api-reference#chat-completions (reasoning_content for "
        "grok-3-mini, completion_tokens_details.reasoning_tokens); errors as {code, error}",
        "model": "grok-3-mini",
        "reasoning_field": "reasoning_content",
        "error": {
            "code": "Some resource has been exhausted",
            "error": "Your team has reached its requests per second limit.",
        },
    },
    "together": {
        "reasoning": {
            "doc": "https://docs.together.ai/docs/inference/chat/reasoning (a separate "
            "reasoning field beside content, delta.reasoning when streaming)",
            "model": "openai/gpt-oss-20b",
            "field": "reasoning",
        },
        "doc": "https://docs.together.ai/reference/chat-completions-1 (stream usage on the last "
        "chunk); https://docs.together.ai/docs/error-codes",
        "model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "error": {
            "id": "nxQ1-req",
            "error": {
                "message": "You are on tier Free, which offers 6 queries per minute.",
                "type": "rate_limit",
                "param": None,
                "code": None,
            },
        },
    },
    "fireworks": {
        "reasoning": {
            "doc": "https://docs.fireworks.ai/guides/reasoning (reasoning_content in the "
            "message and the delta)",
            "model": "accounts/fireworks/models/deepseek-r1-0528",
            "field": "reasoning_content",
        },
        "doc": "https://docs.fireworks.ai/api-reference/post-chatcompletions; errors as "
        "{error: {object: 'error', type, message}}",
        "model": "accounts/fireworks/models/llama-v3p1-8b-instruct",
        "error": {
            "error": {
                "object": "error",
                "type": "rate_limit_exceeded",
                "message": "Request rate limit exceeded, please try again later",
            }
        },
    },
    "cerebras": {
        "reasoning": {
            "doc": "https://inference-docs.cerebras.ai/capabilities/reasoning (reasoning_format "
            "parsed: message.reasoning and delta.reasoning)",
            "model": "gpt-oss-120b",
            "field": "reasoning",
            "params": {"reasoning_format": "parsed"},
        },
        "doc": "https://inference-docs.cerebras.ai/api-reference/chat-completions (time_info "
        "beside usage); https://inference-docs.cerebras.ai/support/error (flat "
        "{message, type, param, code})",
        "model": "llama3.1-8b",
        "usage_extra": {},
        "chunk_extra": {"time_info": {"queue_time": 0.0001, "total_time": 0.02}},
        "error": {
            "message": "Requests per minute limit exceeded - too many requests sent.",
            "type": "too_many_requests_error",
            "param": "quota",
            "code": "request_quota_exceeded",
        },
    },
    "vllm": {
        "doc": "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html (the "
        "OpenAI wire, reasoning_content with a reasoning parser); errors as "
        "{object: 'error', message, type, param, code}",
        "model": "Qwen/Qwen3-8B",
        "reasoning_field": "reasoning_content",
        "error": {
            "object": "error",
            "message": "The server is overloaded, retry later.",
            "type": "TooManyRequests",
            "param": None,
            "code": 429,
        },
    },
    "llamacpp": {
        "reasoning": {
            "doc": "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md "
            "(--reasoning-format deepseek, the default: thoughts in reasoning_content)",
            "model": "qwen3-8b-q4_k_m.gguf",
            "field": "reasoning_content",
        },
        "doc": "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md "
        "(/v1/chat/completions, 'timings' on the last chunk, errors as "
        "{error: {code, message, type}})",
        "model": "qwen2.5-7b-instruct-q4_k_m.gguf",
        "chunk_extra": {"timings": {"prompt_n": 9, "predicted_n": 3}},
        "error": {
            "error": {"code": 429, "message": "too many pending requests", "type": "server_error"}
        },
    },
    "lmstudio": {
        "reasoning": {
            "doc": "https://lmstudio.ai/docs/app/api-changelog (gpt-oss on "
            "/v1/chat/completions: message.reasoning and delta.reasoning)",
            "model": "openai/gpt-oss-20b",
            "field": "reasoning",
        },
        "doc": "https://lmstudio.ai/docs/app/api/endpoints/openai (the OpenAI wire on "
        "localhost:1234); errors as {error: 'text'}",
        "model": "qwen2.5-7b-instruct",
        "error": {"error": "Too many requests: the model is busy with another request."},
    },
    "litellm": {
        "reasoning": {
            "doc": "https://docs.litellm.ai/docs/reasoning_content (the proxy answers every "
            "provider's reasoning as reasoning_content)",
            "model": "claude-3-7-sonnet",
            "field": "reasoning_content",
        },
        "doc": "https://docs.litellm.ai/docs/proxy/user_keys (the proxy's OpenAI wire); "
        "https://docs.litellm.ai/docs/exception_mapping ({error: {message, type, param, "
        "code}} with the status as a string code)",
        "model": "gpt-4o-mini",
        "error": {
            "error": {
                "message": "litellm.RateLimitError: RateLimitError: OpenAIException - Rate "
                "limit reached for gpt-4o-mini.",
                "type": "throttling_error",
                "param": None,
                "code": "429",
            }
        },
    },
}


def sse(payload: Any) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


class Composer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.facts = DOCS[name]
        self.model = self.facts["model"]
        self.id = f"chatcmpl-{name}-1"

    def chunk(self, delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": 1765000000,
            "model": self.model,
            "choices": []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        payload.update(extra)
        return sse(payload)

    def usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": 9,
            "completion_tokens": 3,
            "total_tokens": 12,
            **self.facts.get("usage_extra", {}),
        }

    def final_usage_chunk(self) -> str:
        if self.facts.get("usage_in") == "x_groq":
            return self.chunk({}, "stop", x_groq={"id": "req_01", "usage": self.usage()})
        return self.chunk({}, "stop") + self.chunk(
            None, usage=self.usage(), **self.facts.get("chunk_extra", {})
        )

    def request(
        self,
        stream: bool,
        tools: bool = False,
        *,
        model: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model or self.model,
            "messages": [{"role": "user", "content": "Say hello"}],
        }
        if tools:
            body["messages"] = [{"role": "user", "content": "Weather in Oslo?"}]
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": "weather", "description": "", "parameters": WEATHER},
                }
            ]
        body.update(params or {})
        if stream:
            body["stream"] = True
        out: dict[str, Any] = {
            "method": "POST",
            "url": PRESETS[self.name].base_url + "/chat/completions",
            "body": body,
        }
        if params:
            out["allm"] = {"params": params}
        return out

    def expect(
        self,
        case: str,
        stream: bool,
        status: int,
        content_type: str,
        *,
        doc: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        expect: dict[str, Any] = {
            "case": case,
            "provider": self.name,
            "stream": stream,
            "http": {"status": status, "headers": {"content-type": content_type}},
            "response_id": None,
            "model": None,
            "output_text": "",
            "reasoning_text": None,
            "tool_calls": [],
            "finish_reason": None,
            "usage": None,
            "error": None,
            "notes": [f"Composed from {doc or self.facts['doc']}."],
        }
        expect.update(fields)
        return expect

    def completion(self, message: dict[str, Any], finish: str, model: str | None = None) -> str:
        """A whole ``chat.completion`` body with usage."""
        completion = {
            "id": self.id,
            "object": "chat.completion",
            "created": 1765000000,
            "model": model or self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self.usage(),
        }
        return json.dumps(completion, indent=1)

    def cases(self) -> dict[str, tuple[dict[str, Any], str, dict[str, Any]]]:
        out: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {}
        reasoning = self.facts.get("reasoning_field")
        head = ": OPENROUTER PROCESSING\n\n" if self.facts.get("comment") else ""
        # 1. text, streamed (with reasoning where the service has it), usage at the end
        body = head + self.chunk({"role": "assistant", "content": ""})
        if reasoning:
            body += self.chunk({reasoning: "The user wants "}) + self.chunk(
                {reasoning: "a greeting."}
            )
        body += self.chunk({"content": "Hello"}) + self.chunk({"content": " there!"})
        body += self.final_usage_chunk() + sse("[DONE]")
        out["text_stream"] = (
            self.request(True),
            body,
            self.expect(
                "text_stream",
                True,
                200,
                "text/event-stream",
                response_id=self.id,
                model=self.model,
                output_text="Hello there!",
                reasoning_text="The user wants a greeting." if reasoning else None,
                finish_reason="stop",
                usage={"input_tokens": 9, "output_tokens": 3, "total_tokens": 12},
            ),
        )
        # 2. a tool call in fragments
        call = {"id": f"call_{self.name}_1", "type": "function"}
        body = self.chunk({"role": "assistant", "content": None})
        body += self.chunk(
            {"tool_calls": [{"index": 0, **call, "function": {"name": "weather", "arguments": ""}}]}
        )
        for part in ('{"ci', 'ty": "Os', 'lo"}'):
            body += self.chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
        body += self.chunk({}, "tool_calls") + sse("[DONE]")
        out["tool_call_stream"] = (
            self.request(True, tools=True),
            body,
            self.expect(
                "tool_call_stream",
                True,
                200,
                "text/event-stream",
                response_id=self.id,
                model=self.model,
                tool_calls=[{"id": call["id"], "name": "weather", "arguments": {"city": "Oslo"}}],
                finish_reason="tool_calls",
            ),
        )
        # 3. a whole completion with usage (the non-streaming wire)
        message: dict[str, Any] = {"role": "assistant", "content": "Hello there!"}
        if reasoning:
            message[reasoning] = "The user wants a greeting."
        out["text_json"] = (
            self.request(False),
            self.completion(message, "stop"),
            self.expect(
                "text_json",
                False,
                200,
                "application/json",
                response_id=self.id,
                model=self.model,
                output_text="Hello there!",
                reasoning_text="The user wants a greeting." if reasoning else None,
                finish_reason="stop",
                usage={"input_tokens": 9, "output_tokens": 3, "total_tokens": 12},
            ),
        )
        # 4. 429 in the service's own error shape
        out["error_429"] = (
            self.request(True),
            json.dumps(self.facts["error"]),
            self.expect("error_429", True, 429, "application/json", error={"kind": "rate_limit"}),
        )
        # 5. an error mid-stream, after some text
        error = {
            "error": {
                "message": "Upstream provider disconnected",
                "type": "server_error",
                "code": 502,
            }
        }
        body = self.chunk({"role": "assistant", "content": "Hel"})
        if self.facts.get("mid_error_beside_choices"):
            body += self.chunk({"content": ""}, "error", **error)
        else:
            body += sse(error)
        out["stream_error"] = (
            self.request(True),
            body,
            self.expect(
                "stream_error",
                True,
                200,
                "text/event-stream",
                response_id=self.id,
                model=self.model,
                output_text="Hel",
                finish_reason="error",
                error={"kind": "server_error"},
            ),
        )
        # 6. a stream the server cut: text, then the body ends (no finish, no [DONE])
        out["stream_truncated"] = (
            self.request(True),
            self.chunk({"role": "assistant", "content": "Hel"}) + self.chunk({"content": "lo"}),
            self.expect(
                "stream_truncated",
                True,
                200,
                "text/event-stream",
                response_id=self.id,
                model=self.model,
                output_text="Hello",
                finish_reason="error",
                error={"kind": "stream_interrupted"},
            ),
        )
        # 7. cut after the role chunk: [DONE] without a finish reason or any output
        out["stream_cut_empty"] = (
            self.request(True),
            self.chunk({"role": "assistant", "content": ""}) + sse("[DONE]"),
            self.expect(
                "stream_cut_empty",
                True,
                200,
                "text/event-stream",
                response_id=self.id,
                model=self.model,
                finish_reason="error",
                error={"kind": "malformed_response"},
            ),
        )
        out.update(self.whole_cases())
        out.update(self.reasoning_cases())
        return out

    def whole_cases(self) -> dict[str, tuple[dict[str, Any], str, dict[str, Any]]]:
        """A tool call and the 429 answered to non-streaming requests."""
        out: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {}
        call_id = f"call_{self.name}_1"
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        }
        out["tool_call_json"] = (
            self.request(False, tools=True),
            self.completion(message, "tool_calls"),
            self.expect(
                "tool_call_json",
                False,
                200,
                "application/json",
                response_id=self.id,
                model=self.model,
                tool_calls=[{"id": call_id, "name": "weather", "arguments": {"city": "Oslo"}}],
                finish_reason="tool_calls",
                usage={"input_tokens": 9, "output_tokens": 3, "total_tokens": 12},
            ),
        )
        out["error_429_json"] = (
            self.request(False),
            json.dumps(self.facts["error"]),
            self.expect(
                "error_429_json", False, 429, "application/json", error={"kind": "rate_limit"}
            ),
        )
        return out

    def reasoning_cases(self) -> dict[str, tuple[dict[str, Any], str, dict[str, Any]]]:
        """Reasoning streamed and whole, for a service whose default model here does not
        reason: its reasoning model, field and request parameters."""
        facts = self.facts.get("reasoning")
        if facts is None:
            return {}
        field, model = facts["field"], facts["model"]
        params = facts.get("params")
        thought = ["The user wants ", "a greeting."]
        body = self.chunk({"role": "assistant", "content": ""})
        body += "".join(self.chunk({field: piece}) for piece in thought)
        body += self.chunk({"content": "Hello"}) + self.chunk({"content": " there!"})
        body += self.final_usage_chunk() + sse("[DONE]")
        body = body.replace(f'"model": "{self.model}"', f'"model": "{model}"')
        fields = {
            "response_id": self.id,
            "model": model,
            "output_text": "Hello there!",
            "reasoning_text": "".join(thought),
            "finish_reason": "stop",
            "usage": {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12},
        }
        message = {"role": "assistant", "content": "Hello there!", field: "".join(thought)}
        return {
            "reasoning_stream": (
                self.request(True, model=model, params=params),
                body,
                self.expect(
                    "reasoning_stream", True, 200, "text/event-stream", doc=facts["doc"], **fields
                ),
            ),
            "reasoning_json": (
                self.request(False, model=model, params=params),
                self.completion(message, "stop", model),
                self.expect(
                    "reasoning_json", False, 200, "application/json", doc=facts["doc"], **fields
                ),
            ),
        }


def main() -> None:
    for name in DOCS:
        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        for case, (request, body, expect) in Composer(name).cases().items():
            (folder / f"{case}.request.json").write_text(json.dumps(request, indent=2) + "\n")
            (folder / f"{case}.response").write_text(body)
            (folder / f"{case}.expect.json").write_text(json.dumps(expect, indent=2) + "\n")


if __name__ == "__main__":
    main()
