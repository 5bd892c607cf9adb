"""The WSGI entry point (`coordinator.web.wsgi:app`) for `$MASH_COORDINATOR_CONFIG`."""

from coordinator.web import app_from_environment

app = app_from_environment()
