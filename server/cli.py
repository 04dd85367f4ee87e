"""Command-line tasks: `flask --app server <command>`."""
from __future__ import annotations

import click
from flask import Flask

from server.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("sync-purge")
    @click.option("--days", default=90, show_default=True, help="Keep tombstones younger than this.")
    def sync_purge(days: int) -> None:
        """Forget old tombstones and evictions; phones that last synced before them start over."""
        from datetime import timedelta

        from server.records import utcnow
        from server.syncing.changes import purge_tombstones

        purged = purge_tombstones(db.session, older_than=utcnow() - timedelta(days=days))
        db.session.commit()
        click.echo(" ".join(f"{name}={count}" for name, count in purged.items()))

    @app.cli.command("escalate")
    def escalate() -> None:
        """Flag tickets past their service level (run by the notification worker, or by cron)."""
        from server.tickets.sla import Sla, escalate_overdue

        tickets = escalate_overdue(db.session, sla=Sla.from_config(app.config))
        db.session.commit()
        click.echo(f"escalated={len(tickets)}")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Seed only when the database holds no community yet.")
    def seed_demo(if_empty: bool) -> None:
        """Create the demo community 翠湖花园 and its users (idempotent)."""
        from server import demo

        if if_empty and demo.has_foreign_data(db.session):
            click.echo("数据库已有数据，跳过演示数据。The database holds data; demo data not added.")
            return
        try:
            created = demo.seed(db.session)
        except demo.NotADemoDatabase as exc:
            raise click.ClickException(str(exc)) from None
        click.echo("演示数据已创建。Demo data created." if created else "演示数据已存在。Demo data already present.")
        click.echo(f"演示账号 Demo logins (password {demo.DEMO_PASSWORD}): "
                   "butler1 butler2 butler3 supervisor1 resident1 resident2")
