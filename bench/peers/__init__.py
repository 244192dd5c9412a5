"""The benchmark's peers: the project's hot routes the way two other stacks' users write them.

A user choosing a stack compares it with what they would otherwise pick. Each peer answers the
routes the benchmark measures (the list with its keyset cursor, the filtered list, retrieve,
create, and PATCH with its version-conditional UPDATE) with the project's response bodies, on
the project's tables, served like the project (nginx, Uvicorn, workers, pool size), in the same
run (bench/run.py, role "peer"):

- fastapi_template: the FastAPI full-stack template's way: FastAPI, SQLModel on psycopg 3,
  Pydantic response models, PyJWT, a `get_current_user` dependency that loads the user, sync
  endpoints;
- ninja: a django-ninja user's way: ninja Schemas, its HttpBearer auth class, the Django ORM on
  the project's models, Django's WSGI handler in a2wsgi under Uvicorn as the project is served.

Each is written as its users would, not to lose; bench/README.md ("The peers") says what each
does, skips or does more than the project.
"""
