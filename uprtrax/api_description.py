"""The API's description at the head of its OpenAPI schema and docs (/api/docs/), in Markdown. Filled in by
uprtrax/settings.py with the configured rates."""

API_DESCRIPTION = """
uprtrax tracks the recommendations of the UN **Universal Periodic Review** (UPR) and what became of them. This API
gives its data to programs: the reference data (states, regional groups, cycles, sessions, issues), the
recommendations and voluntary pledges with the search page's filters, the follow-up assessments that
organisations publish, the implementation statistics; members of an organisation write their organisation's
assessments, and staff run imports. Everything lives under `/api/v1/`; this schema is at `/api/schema/`.

## Authentication

Reading public data needs no credentials. To read your organisation's unpublished assessments or to write, send a
**personal API token**, created on your profile page (*Account → API tokens*), shown once:

    Authorization: Bearer upx_…

A token's scope is `read` or `write_assessments`. A malformed, unknown or revoked token is refused with `401` (never
read as an anonymous request); a `read` token that writes gets `403`. In the browser the site's session works too
(writes then need the CSRF token in `X-CSRFToken`).

## Rate limits

Anonymous requests: **{rate_anon}** per address. With a token (or a session): **{rate_token}** per token (or per
user). Past the limit the answer is `429` with a `Retry-After` header (seconds). To take all the data, use the bulk
dumps rather than paging through the API.

## Errors

Every error has one shape, whatever the status:

    {{"error": {{"code": "validation_error", "message": "cycle: There is no cycle 9: the cycles are 1, 2, 3, 4.",
               "fields": {{"cycle": ["There is no cycle 9: the cycles are 1, 2, 3, 4."]}}}}}}

`code` is stable and meant for programs (`validation_error`, `parse_error`, `authentication_failed`,
`not_authenticated`, `permission_denied`, `not_found`, `method_not_allowed`, `not_acceptable`, `conflict`,
`payload_too_large`, `unsupported_media_type`, `throttled`, `not_ready`, `server_error`); `message` is a sentence for
a person; `fields` comes with validation errors only and names each field refused, with messages that name the
value. A few errors carry more: a `409` on an assessment gives `current` (the assessment as it now is), a bulk `409`
the `conflicts`, a `429` or `503` `retry_after`. Unknown fields in a write are refused, not ignored. A refused write
writes nothing. Bodies are JSON (imports: multipart), at most {body_max}.

## Pages

Lists come in pages: `{{"next", "previous", "results"}}` (numbered pages add `count`). Follow `next` until it is
`null`; `page_size` chooses the size, up to 100. The large lists (recommendations) page by **cursor**, so that a
page deep in the list costs as much as the first.
"""
