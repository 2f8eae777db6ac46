"""The admin web dashboard: FastAPI app, sign-in, pages, templates and static files."""
