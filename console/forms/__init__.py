"""Input parsing and validation: WTForms for the browser, a schema walker for the portal's JSON."""
