"""Import of session data: read -> map columns -> normalise -> validate -> preview -> commit (see service.py)."""
