"""Personal API tokens: the list with the form that creates one (its key shown once, in the answer to that form),
and revoking one. The work is in followup.services.tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from followup.models import ApiToken
from followup.services import tokens
from followup.tokens.forms import TokenCreateForm
from uprtrax.forms import error_summary


@never_cache  # the answer to a creation holds the key: no cache may keep it
@login_required
def token_list(request):
    posted = request.method == "POST"
    form = TokenCreateForm(request.POST if posted else None)
    created = key = None
    if posted and form.is_valid():
        try:
            created, key = tokens.token_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form = TokenCreateForm()  # the next token starts from an empty form
    context = {"form": form, "summary": error_summary(form), "tokens": tokens.token_list(user=request.user),
               "created": created, "key": key}  # fmt: skip
    return render(request, "tokens/token_list.html", context)


@require_POST
@login_required
def token_revoke(request, token_id: int):
    try:
        token = tokens.token_revoke(user=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("You have no such token.") from None
    messages.success(request, f"The token “{token.name}” ({token.prefix}…) is revoked: it no longer opens the API.")
    return redirect("tokens:token_list")
