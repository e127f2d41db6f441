"""What every form page of the site shares: the error summary at the top of a page, and a service's errors put
onto the form that sent its input."""

from django import forms
from django.core.exceptions import ValidationError


def errors_apply(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: a message keyed by one of the form's fields goes to that field,
    any other to the form as a whole."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def error_summary(form: forms.Form | None) -> list[dict[str, str]]:
    """A form's errors for the summary at the top of a page (templates/includes/error_summary.html): each once (an
    error shared by several fields links to the first), linked to its field (the first option of a group of radio
    buttons), prefixed by the field's label unless the message names it already."""
    if form is None or not form.is_bound:
        return []
    summary, seen = [], set()
    for message in form.non_field_errors():
        if message not in seen:
            seen.add(message)
            summary.append({"anchor": "", "message": message})
    for field in form:
        for message in field.errors:
            if message in seen:
                continue
            seen.add(message)
            label = str(field.label or "")
            text = message if not label or label in message else f"{label}: {message}"
            anchor = field.id_for_label or (f"{field.auto_id}_0" if field.auto_id else "")
            summary.append({"anchor": anchor, "message": text})
    return summary
