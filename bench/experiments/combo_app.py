"""Every lever that paid, together (the `combo` variant): the lean read path (lean_asgi's
TaskOut and TaskFilter), lean settings without django-prometheus, under a2wsgi."""

from bench.experiments import lean_asgi  # noqa: F401  (swaps the read path in)
from bench.experiments.a2wsgi_app import application  # noqa: F401
