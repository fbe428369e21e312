"""A host name for the Celery worker's processes, as a container would have.

Natively every process shares one machine name, so "this task ran on the worker" cannot be
read from ``task_instance.hostname``. Only the worker process gets
``AIRFLOW__CORE__HOSTNAME_CALLABLE=tests.distributed.worker_identity:hostname`` and
``NEWSROOM_TEST_HOSTNAME``: a task instance carrying that name was started by a process
forked from the worker, exactly as in docker-compose where it would carry the worker
container's host name.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("NEWSROOM_TEST_HOSTNAME") or socket.getfqdn()
