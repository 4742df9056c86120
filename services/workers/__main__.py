"""Run the worker: `python -m services.workers`."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys

from services.config import get_settings
from services.mail import Mailer
from services.store.session import create_engine, create_session_factory
from services.temporal import connect_temporal, ensure_portfolio_schedule
from services.workers.review.review_policy import PolicyFileError, ReviewPolicy
from services.workers.worker import build_worker, worker_stages

log = logging.getLogger("accord.worker")


async def run() -> None:
    settings = get_settings()
    # Refuse to start on a broken review policy rather than fail every submission.
    ReviewPolicy.load(settings.review_policy_file)
    client = await connect_temporal(settings)
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    activities = worker_stages(sessions, settings, Mailer(settings))
    await ensure_portfolio_schedule(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = build_worker(client, settings.task_queue, activities)
    gc.freeze()  # start-up's objects live as long as the process; see services/api/app.py
    async with worker:
        log.info(
            "worker polling task queue %s on %s", settings.task_queue, settings.temporal_address
        )
        await stop.wait()
        log.info("worker shutting down")
    await engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    code = 0
    try:
        asyncio.run(run())
    except PolicyFileError as err:
        log.error("%s", err)
        code = 2
    except Exception:
        log.exception("worker failed")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal runtime's threads can crash interpreter finalization (sdk-python #300).
    os._exit(code)


if __name__ == "__main__":
    main()
