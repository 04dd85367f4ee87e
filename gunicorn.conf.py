"""How gunicorn serves the app: read by `make run` and by the load test (bench/load), so the two
never drift apart. `gunicorn -c gunicorn.conf.py --bind HOST:PORT 'server:create_app()'`.

Open apps wait on a long poll (GET /api/v1/notifications) of up to 25 s. Under the `gevent` worker
class (the default) each waits in a greenlet, a socket and not a thread, and `worker_connections`
is the most connections one worker holds; gunicorn patches the worker with gevent before it loads
the app. Under `gthread` each waiting app would hold a thread, so `workers × threads` open apps
would stop every other request. Every setting can be overridden from the environment.
"""
import os

worker_class = os.environ.get("GUANJIA_WORKER_CLASS", "gevent")
workers = int(os.environ.get("GUANJIA_WORKERS", "2"))
threads = int(os.environ.get("GUANJIA_THREADS", "32"))  # gthread only
worker_connections = int(os.environ.get("GUANJIA_WORKER_CONNECTIONS", "2000"))  # gevent only
accesslog = os.environ.get("GUANJIA_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
