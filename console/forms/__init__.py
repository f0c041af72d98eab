"""Input parsing and validation: WTForms for the browser, a schema walker for the portal's JSON."""

from wtforms.fields.choices import SelectChoice


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(str(value), label) for value, label in pairs]
