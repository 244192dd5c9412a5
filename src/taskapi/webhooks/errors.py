from taskapi.core.errors import FieldsInvalid, NotFound


class WebhookNotFound(NotFound):
    # One body for "missing" and "someone else's": a difference would confirm the id exists.
    title = "Webhook not found."
    detail = "No webhook with this id exists."


class WebhookLimitReached(FieldsInvalid):
    field = None
    code = "limit"
    message = "You have the most webhooks allowed (10). Delete one first."
