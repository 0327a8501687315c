"""gunicorn settings for production (docs/deployment.md): `gunicorn -c gunicorn.conf.py`.

Every value can be changed from the environment, so one image serves one VM or many app servers behind a load
balancer. The app is stateless (sessions, tokens and SCIM state all live in the database), so any number of app
servers can share one PostgreSQL.
"""

import multiprocessing
import os

wsgi_app = "console.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: SCIM calls are short and database-bound; one request per process keeps memory predictable and
# each worker holds one persistent PostgreSQL connection (CONN_MAX_AGE). (2 x cores) + 1 is gunicorn's advice.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))

# Okta gives up on a SCIM call after 60 s: answer or fail before it does.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "55"))
graceful_timeout = 30
# Keep-alive for a load balancer or an IdP that reuses connections between calls.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Recycle workers now and then so that memory stays flat over weeks; the jitter avoids restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10

# Load the app once in the master and fork: faster start, shared memory pages. No database connection is
# opened before the fork (Django connects on the first query of a request).
preload_app = True

# Behind a load balancer, trust its X-Forwarded-* headers (set FORWARDED_ALLOW_IPS to its address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The request line never holds a secret (tokens travel in the Authorization header, which is not logged).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# gunicorn 25.1+ opens a control socket for `gunicornc` at one path per user ($HOME/.gunicorn/gunicorn.ctl): a
# second app server on the same host would take it from the first. Off, unless GUNICORN_CONTROL_SOCKET names a
# path of this server's own. (Older gunicorn ignores both names.)
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control_socket:
    control_socket = _control_socket
control_socket_disable = not _control_socket
