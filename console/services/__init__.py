"""Use cases. The only code that changes orders; each public function is one transaction."""
