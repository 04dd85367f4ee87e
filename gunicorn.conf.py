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

# Seconds a kept-alive connection may sit idle before the server closes it. gunicorn's 2 s suits
# phones that reach the servers directly. Behind a load balancer that keeps its connections to the
# servers open, make it longer than the balancer's idle time (nginx upstream: 60 s, so 75): else the
# server closes a connection just as the balancer sends a request down it, and the phone gets a 502.
keepalive = int(os.environ.get("GUANJIA_KEEPALIVE", "2"))

# gunicorn (27 here) opens a control socket for `gunicornc` at one path per user
# (~/.gunicorn/gunicorn.ctl), so each app server on a machine took it from the one before. The app does not use it: it is opened
# only where GUANJIA_CONTROL_SOCKET names a path of its own for each server.
if os.environ.get("GUANJIA_CONTROL_SOCKET"):
    control_socket = os.environ["GUANJIA_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# Python's cyclic garbage collector, tuned once a worker has loaded the app. A sync batch makes
# hundreds of thousands of short-lived objects, and with the default thresholds (700 new objects)
# the collector ran every few hundred of them and walked the whole app's objects each time it
# reached the oldest generation: a fifth of a push's CPU. The app's own objects (modules, mappers,
# compiled statements) never become garbage: frozen, the collector leaves them out; and it runs
# after every 10,000 new objects rather than 700. Garbage without cycles is freed at once as before.
GC_THRESHOLDS = (10_000, 20, 20)


def post_worker_init(worker):
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
