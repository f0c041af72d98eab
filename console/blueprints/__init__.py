"""One blueprint per area; endpoints are named ``area.verb``."""
