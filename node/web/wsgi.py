"""The WSGI entry point (`node.web.wsgi:app`) for the node that `$MASH_NODE_CONFIG` names."""

from node.web import app_from_environment

app = app_from_environment()
