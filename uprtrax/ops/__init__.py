"""Operations: what keeps uprtrax observable and recoverable in production.

The worker heartbeat (heartbeat.py) and the readiness checks behind /readyz (readiness.py), the request log and
request ids (logs.py), and `manage.py backup` (backup.py). A Django app only so that the management command is found.
"""
