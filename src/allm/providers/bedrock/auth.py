"""Bedrock credentials and signing: a Bedrock API key (Bearer), or SigV4 through botocore with
explicit credentials, a named profile, or the standard AWS credential chain.

botocore is imported here only, when a call is signed (``import allm`` never imports it). Every
credential found is remembered as a secret, so no error, log line or telemetry carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import _secrets
from ...errors import ConfigurationError, EngineError
from .settings import SERVICE

_EXPLICIT = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def _botocore() -> Any:
    """The botocore package with its session, credentials, auth and request modules loaded."""
    try:
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        import botocore.session
    except ImportError as exc:  # pragma: no cover - the extra is installed in development
        raise ImportError(
            "Bedrock SigV4 signing needs botocore: pip install 'allm-py[bedrock]'"
        ) from exc
    return botocore


def remember(*values: str | None) -> None:
    """Treat explicit credentials as secrets from the moment they are given."""
    for value in values:
        _secrets.remember(value)


def credentials(settings: Mapping[str, Any]) -> Any:
    """Frozen botocore credentials: explicit keys, else the ``profile``'s, else the default
    chain (environment, shared files, SSO, container and instance roles). Missing ones are an
    ``EngineError("missing_key")`` before any request is sent."""
    botocore = _botocore()
    access, secret, token = (settings.get(name) for name in _EXPLICIT)
    remember(secret, token)
    if access or secret:
        if not (access and secret):
            raise ConfigurationError(
                "invalid_option",
                problems=["aws_access_key_id and aws_secret_access_key go together"],
            )
        found: Any = botocore.credentials.Credentials(access, secret, token)
        where = "the aws_access_key_id= and aws_secret_access_key= options"
    else:
        profile = settings.get("profile")
        try:
            session = botocore.session.Session(profile=profile)
            found = session.get_credentials()
        except Exception as exc:  # botocore raises many kinds (a missing profile, a bad file)
            raise EngineError(
                "missing_key",
                f"no AWS credentials for Bedrock: {type(exc).__name__}: {_secrets.scrub(str(exc))}",
                provider="bedrock",
            ) from None
        where = f"the AWS profile {profile!r}" if profile else "the AWS credential chain"
    frozen = found.get_frozen_credentials() if found is not None else None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise EngineError(
            "missing_key",
            "no AWS credentials for Bedrock; looked at the api_key= call keyword, "
            "AWS_BEARER_TOKEN_BEDROCK, the aws_* options, the profile and the AWS credential "
            f"chain ({where})",
            provider="bedrock",
        )
    remember(frozen.secret_key, frozen.token)
    return frozen


def region_of_profile(profile: str | None) -> str | None:
    """The region a profile (or the default configuration) names, if any."""
    botocore = _botocore()
    try:
        region = botocore.session.Session(profile=profile).get_config_variable("region")
    except Exception:  # a missing profile: no region from it
        return None
    return region if isinstance(region, str) and region else None


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    creds: Any,
    region: str,
) -> dict[str, str]:
    """The SigV4 headers (``authorization``, ``x-amz-date``, ``x-amz-security-token``) for one
    request, computed by botocore's own signer."""
    botocore = _botocore()
    request = botocore.awsrequest.AWSRequest(
        method=method, url=url, data=body, headers=dict(headers)
    )
    botocore.auth.SigV4Auth(creds, SERVICE, region).add_auth(request)
    signed = {}
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
        value = request.headers.get(name)
        if value is not None:
            signed[name.lower()] = str(value)
    return signed
