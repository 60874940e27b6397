"""The ``omnimall`` command: ``demo``, ``serve``, ``worker`` and ``manage …``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "omnimall-demo"  # noqa: S105 - printed by `omnimall demo`; `serve` refuses it
# A shopper account to try the account pages with (sign-in is by email).
DEMO_SHOPPER_EMAIL = "shopper@omnimall.local"
DEMO_SHOPPER_PHONE = "+86 138 0013 8000"  # its member (omnimall manage load_demo_members)
DEMO_SHOPPER_ADDRESS = {
    "name": "李雷",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "district": "黄浦区",
    "street": "南京东路 300 号 1201 室",
    "postal_code": "200001",
}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnimall.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def demo(port: int, host: str) -> None:
    """Migrate the embedded database, load the demo data once, and serve the shop."""
    from django.conf import settings

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    _setup_django()
    from django.core.management import call_command

    if not settings.SITE_URL:
        # The demo's public URL is where it serves: links in its emails must be absolute
        # (an email written after the request, or from a worker, has no host to go by).
        settings.SITE_URL = _demo_url(host, port)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo")
    _ensure_demo_staff()
    call_command("load_demo_members", verbosity=0)
    # After the members: some of the history's orders are the demo shopper's.
    call_command("load_demo_orders", verbosity=0)
    partner_console = _ensure_demo_partner(_demo_url(host, port))
    periodic = _start_demo_clock()
    print(
        f"\nomnimall demo is ready.\n"
        f"  shop:        http://{host}:{port}/\n"
        f"  back office: http://{host}:{port}/admin/ (orders of the last 14 days to try it on)\n"
        f"  login:       {DEMO_STAFF_USERNAME} / {DEMO_STAFF_PASSWORD}\n"
        f"  shopper:     {DEMO_SHOPPER_EMAIL} / {DEMO_STAFF_PASSWORD} (at /account/login/)\n"
        f"  emails:      {settings.EMAIL_FILE_PATH}/ (order emails, password resets)\n"
        f"  member:      {DEMO_SHOPPER_PHONE} (the shopper's membership: /account/member/)\n"
        f"  text msgs:   {settings.VAR_DIR / 'sms'}/ (one-time codes)\n"
        f"  partner:     {partner_console} (a bank's points mall to exchange points with)\n"
        f"  periodic:    {periodic}\n",
        flush=True,
    )
    call_command("runserver", f"{host}:{port}", use_reloader=False)


def _start_demo_clock() -> str:
    """Run the beat schedule in this process when there is no broker (and so no worker
    and no beat); returns what the banner says about it."""
    from django.conf import settings

    from omnimall.celery import app
    from omnimall.core.demo_clock import DemoClock

    if not app.conf.task_always_eager:
        return "none here: run `omnimall worker -B` beside the demo"
    app.loader.import_default_modules()  # every app's tasks, as a worker loads them
    DemoClock(app, settings.CELERY_BEAT_SCHEDULE).start()
    return "in this process (unpaid orders expire, messages are retried, reminders leave)"


def _ensure_demo_staff() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not user_model.objects.filter(username=DEMO_STAFF_USERNAME).exists():
        user_model.objects.create_superuser(
            username=DEMO_STAFF_USERNAME,
            email="admin@omnimall.local",
            password=DEMO_STAFF_PASSWORD,
        )
    shopper = user_model.objects.filter(username=DEMO_SHOPPER_EMAIL).first()
    if shopper is None:
        shopper = user_model.objects.create_user(
            username=DEMO_SHOPPER_EMAIL,
            email=DEMO_SHOPPER_EMAIL,
            first_name="Li Lei",
            password=DEMO_STAFF_PASSWORD,
        )
    _ensure_demo_address(shopper)


def _demo_url(host: str, port: int) -> str:
    """The address the demo serves on, as a browser on this machine reaches it."""
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104


def _ensure_demo_partner(shop_url: str) -> str:
    """The sandbox points partner, whose requests come back to this server; its console's
    address."""
    from omnimall.core.actors import Actor
    from omnimall.members.partners import sandbox

    sandbox.ensure_partner(shop_url=f"{shop_url}/", actor=Actor.system("demo"))
    return f"{shop_url}/sandbox/partner/"


def _ensure_demo_address(shopper: Any) -> None:
    """A saved address for the demo shopper, so checkout opens filled in as it does for a
    returning customer (only when the address book is empty: one edited by hand stays)."""
    from omnimall.checkout.models import Address
    from omnimall.checkout.services.addresses import save_address

    if Address.objects.filter(user=shopper).exists():
        return
    save_address(user=shopper, data=DEMO_SHOPPER_ADDRESS)


def production_problems(*, tls_in_app: bool = False) -> list[str]:
    """Reasons not to serve in production; empty when the settings are safe.

    ``tls_in_app``: gunicorn itself serves HTTPS (``--certfile`` among its arguments)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    problems = []
    if settings.DEBUG:
        problems.append("debug is on: set OMNIMALL_DEBUG=0")
    if settings.SECRET_KEY == settings.DEMO_SECRET_KEY:
        problems.append("the demo secret key is in use: set OMNIMALL_SECRET_KEY")
    if settings.SANDBOX_PARTNER_ENABLED:
        problems.append("the sandbox points partner is on: set OMNIMALL_SANDBOX_PARTNER=0")
    if not settings.SITE_URL:
        # Emails, the gateway's notify/return URLs and partners' confirmation URLs are
        # absolute: from a worker there is no request to take the host from.
        problems.append("the shop's public URL is not set: set OMNIMALL_SITE_URL")
    elif settings.SITE_URL.startswith("https://") and not settings.PROXY_COUNT and not tls_in_app:
        # HTTPS not served by gunicorn means a proxy in front; without the count every
        # shopper has the proxy's address, and ten failed sign-ins lock everyone out.
        problems.append(
            "the shop is served over HTTPS through a proxy, but OMNIMALL_PROXY_COUNT is 0: "
            "set it to the number of proxies in front of the app"
        )
    staff = get_user_model().objects.filter(is_staff=True, is_active=True)
    on_demo_password = [u.get_username() for u in staff if u.check_password(DEMO_STAFF_PASSWORD)]
    if on_demo_password:
        problems.append(
            "staff accounts still use the demo password: " + ", ".join(sorted(on_demo_password))
        )
    return problems


def gunicorn_argv(*, bind: str, workers: int) -> list[str]:
    """The production gunicorn command line (shared with benchmarks/harness.py)."""
    return [
        sys.executable, "-m", "gunicorn", "omnimall.wsgi:application",
        "--config", "python:omnimall.gunicorn_conf",
        "--bind", bind, "--workers", str(workers),
    ]  # fmt: skip


def serve(bind: str, workers: int, extra: list[str]) -> None:
    """Production server: gunicorn, refusing unsafe settings."""
    _setup_django()
    problems = production_problems(tls_in_app=any(a.startswith("--certfile") for a in extra))
    if problems:
        print("omnimall serve refuses to start:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(2)
    # Static files are served by WhiteNoise from STATIC_ROOT; collecting is idempotent and
    # quick, and doing it here means an upgrade can never serve stale or missing CSS.
    _manage("collectstatic", "--noinput", "--verbosity", "0")
    argv = gunicorn_argv(bind=bind, workers=workers)
    os.execvp(sys.executable, [*argv, "--access-logfile", "-", *extra])  # noqa: S606


def worker(extra: list[str]) -> None:
    os.execvp(  # noqa: S606
        sys.executable, [sys.executable, "-m", "celery", "-A", "omnimall", "worker", *extra]
    )


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="omnimall", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="migrate, load demo data once, serve the shop")
    p_demo.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p_demo.add_argument("--host", default="127.0.0.1")
    p_serve = sub.add_parser("serve", help="production server (gunicorn)")
    p_serve.add_argument("--bind", default=os.environ.get("OMNIMALL_BIND", "127.0.0.1:8000"))
    p_serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2)))
    sub.add_parser("worker", help="background worker (celery)")
    sub.add_parser("manage", help="any Django management command", add_help=False)

    if argv and argv[0] == "manage":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnimall.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["omnimall manage", *argv[1:]])
        return
    args, extra = parser.parse_known_args(argv)
    if args.command == "demo":
        demo(args.port, args.host)
    elif args.command == "serve":
        serve(args.bind, args.workers, extra)
    elif args.command == "worker":
        worker(extra)


if __name__ == "__main__":
    main()
