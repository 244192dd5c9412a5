from taskapi.core.errors import FieldsInvalid, NotFound


class LabelNotFound(NotFound):
    # One body for "missing" and "someone else's": a difference would confirm the id exists.
    title = "Label not found."
    detail = "No label with this id exists."


class LabelNameTaken(FieldsInvalid):
    field = "name"
    code = "unique"
    message = "You already have a label with this name (names ignore case)."


class LabelLimitReached(FieldsInvalid):
    field = None
    code = "limit"
    message = "You have the most labels allowed (500). Delete one first."
