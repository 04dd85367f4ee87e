"""How gunicorn serves the app: read by `make run` and by the load test (bench/load), so the two
never drift apart. `gunicorn -c gunicorn.conf.py --bind HOST:PORT 'server:create_app()'`.

Open apps wait on a long poll (GET /api/v1/notifications) of up to 25 s. Under the `gthread` worker
class each waiting app holds one thread, so `workers × threads` is the most apps that can be open
at once before other requests queue behind them; under `gevent` each waits in a greenlet and
`worker_connections` is the limit. Every setting can be overridden from the environment.
"""
import os

worker_class = os.environ.get("GUANJIA_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUANJIA_WORKERS", "2"))
threads = int(os.environ.get("GUANJIA_THREADS", "32"))  # gthread only
worker_connections = int(os.environ.get("GUANJIA_WORKER_CONNECTIONS", "1000"))  # gevent only
accesslog = os.environ.get("GUANJIA_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
