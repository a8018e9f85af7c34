"""The HTTP routes, one router per resource."""

from lmrec.service.routes import (
    app,
    audit,
    catalog,
    events,
    experiments,
    ops,
    recommend,
    users,
    versions,
)

ROUTERS = [recommend.router, events.router, catalog.router, users.router, versions.router,
           audit.router, experiments.router, ops.router, app.router]  # fmt: skip

__all__ = ["ROUTERS"]
