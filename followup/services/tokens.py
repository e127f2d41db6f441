"""Personal API tokens: created by their owner, shown once, stored as their SHA-256, revoked by their owner.

A key reads `upx_` and 43 URL-safe characters (32 random bytes). Its first 12 characters are kept as the token's
prefix, so that a person recognises a key in their scripts without the site keeping it.
"""

import datetime
import hashlib
import re
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from followup.models import ApiToken, User

KEY_PREFIX = "upx_"
PREFIX_LENGTH = 12
NAME_MAX = 100
TOKENS_MAX = 50  # live tokens per user: enough for every script, few enough to review
# last_used_at is written at most this often per token: a busy script must not turn every read into a write.
LAST_USED_EVERY = datetime.timedelta(minutes=1)
# The form of a key this site issues (token_urlsafe(32) gives 43 characters); anything else is refused unread.
KEY_FORM = re.compile(r"upx_[A-Za-z0-9_-]{43}")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_well_formed(key: str) -> bool:
    return KEY_FORM.fullmatch(key) is not None


def token_create(*, user: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for the user; returns it with its key, which is never stored nor shown again."""
    name = " ".join((name or "").split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name, to recognise it later (for example “Mid-term report script”)."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"The name has {len(name)} characters: give at most {NAME_MAX}."]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [f"“{str(scope)[:40]}” is not a scope: choose one of {', '.join(ApiToken.Scope.values)}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Serialises one user's creations, so that two at once cannot both pass the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= TOKENS_MAX:
            raise ValidationError(
                {"name": [f"You have {TOKENS_MAX} live tokens, the most one person may hold: revoke one first."]}
            )
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user, name=name, scope=scope, prefix=key[:PREFIX_LENGTH], key_hash=key_hash(key)
        )
    return token, key


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (revoking a revoked token changes nothing). Another person's token is
    not found: ApiToken.DoesNotExist, as an unknown id."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token_id, user=user)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def token_user(key: str) -> tuple[User, ApiToken] | None:
    """The active user a live key belongs to, with its token; None for a malformed, unknown or revoked key, or an
    inactive user. Notes the use (at most once a minute per token)."""
    if not isinstance(key, str) or not key_well_formed(key):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash(key), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens for the token page (a read, kept beside the writes it lists): live ones first, then the
    revoked ones, newest first."""
    return ApiToken.objects.filter(user=user).order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
