"""Command line of the local services (wrapped by infra/local/*):

    python -m inrzoo.services SERVICE start|stop|status|env
    python -m inrzoo.services up|down|status|env

Messages go to stderr; `up` and `env` print the client environment as `export` lines on
stdout, so `eval "$(infra/local/up)"` works. Exit codes: 0 success (status: running),
1 error, 3 status: stopped, 4 status: running but not answering.
"""

from __future__ import annotations

import argparse
import sys

from inrzoo.services import SERVICES, build
from inrzoo.services.envfile import client_environment, format_exports, write_env_file
from inrzoo.services.service import Service
from inrzoo.services.settings import ServiceError, ServiceSettings

STATUS_CODES = {"running": 0, "stopped": 3, "unhealthy": 4}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start(service: Service) -> bool:
    record, started = service.start()
    ports = ", ".join(f"{name} {port}" for name, port in service.public_ports().items())
    if started:
        say(f"{service.name}: started (pid {record.pid}, ready in {record.ready_s} s, "
            f"{ports}, log {service.log_path})")
    else:
        say(f"{service.name}: already running (pid {record.pid}, {ports})")
    return started


def stop(service: Service) -> None:
    stopped = service.stop()
    say(f"{service.name}: {'stopped' if stopped else 'not running'}")


def status(services: list[Service]) -> int:
    worst = 0
    for service in services:
        state = service.status()
        record = service.running_record()
        detail = f" (pid {record.pid}, log {service.log_path})" if record else ""
        print(f"{service.name}: {state}{detail}")
        worst = max(worst, STATUS_CODES[state])
    return worst


def refresh_env_file(settings: ServiceSettings, services: list[Service]) -> dict[str, str]:
    env = client_environment(services)
    if settings.state_dir.is_dir():
        write_env_file(settings.state_dir, env)
    return env


def up(settings: ServiceSettings, services: list[Service]) -> None:
    """Start all services in order; on a failure stop the ones this call started."""
    started: list[Service] = []
    try:
        for service in services:
            if start(service):
                started.append(service)
    except ServiceError:
        for service in reversed(started):
            stop(service)
        raise
    env = refresh_env_file(settings, services)
    say(f"environment written to {settings.state_dir / 'env.sh'}")
    sys.stdout.write(format_exports(env))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inrzoo.services", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=[*SERVICES, "up", "down", "status", "env"])
    parser.add_argument("action", nargs="?", choices=["start", "stop", "status", "env"])
    args = parser.parse_args(argv)
    try:
        settings = ServiceSettings.from_env()
        every = [build(name, settings) for name in SERVICES]
        if args.target in SERVICES:
            service = build(args.target, settings)
            action = args.action or "status"
            if action == "status":
                return status([service])
            if action == "env":
                sys.stdout.write(format_exports(client_environment([service])))
                return 0
            start(service) if action == "start" else stop(service)
            refresh_env_file(settings, every)
            return 0
        if args.target == "up":
            up(settings, every)
        elif args.target == "down":
            for service in reversed(every):
                stop(service)
            refresh_env_file(settings, every)
        elif args.target == "status":
            return status(every)
        else:
            sys.stdout.write(format_exports(client_environment(every)))
        return 0
    except ServiceError as exc:
        say(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
