"""Command-line tasks: `flask --app server <command>`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from server.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("sync-purge")
    @click.option("--days", default=90, show_default=True, help="Keep tombstones younger than this.")
    def sync_purge(days: int) -> None:
        """Forget old tombstones and evictions, and the photos of records gone; phones that last
        synced before them start over."""
        from datetime import timedelta

        from server.attachments import service as attachments
        from server.records import utcnow
        from server.syncing.changes import purge_tombstones

        older_than = utcnow() - timedelta(days=days)
        purged = purge_tombstones(db.session, older_than=older_than)
        purged.update(attachments.purge(db.session, older_than=older_than))
        db.session.commit()
        click.echo(" ".join(f"{name}={count}" for name, count in purged.items()))

    @app.cli.command("escalate")
    def escalate() -> None:
        """Flag tickets past their service level and tell the supervisors (the notification worker
        does this every ESCALATE_EVERY_SECONDS; this is for cron or by hand)."""
        from server.tickets.sla import Sla, escalate_overdue

        from server.notices.service import publish_due

        tickets = escalate_overdue(db.session, sla=Sla.from_config(app.config))
        db.session.commit()
        notices = publish_due(db.session)  # scheduled notices fallen due: their audiences are told
        db.session.commit()
        click.echo(f"escalated={len(tickets)} notices={len(notices)}")

    @app.cli.command("vapid-keys")
    @click.option("--replace", is_flag=True,
                  help="Make a new key even though one exists; every push subscription dies with the old one.")
    def vapid_keys(replace: bool) -> None:
        """Make the server's VAPID key once (instance/vapid_private.pem); print its public half."""
        import sqlalchemy as sa

        from server.notify import vapid
        from server.notify.models import PushSubscription
        from server.notify.subscriptions import drop

        path = vapid.key_path(app)
        if app.config.get("VAPID_PRIVATE_KEY"):
            if replace:
                raise click.ClickException("the key comes from GUANJIA_VAPID_PRIVATE_KEY: change it there")
        elif path.exists() and not replace:
            vapid.load(app)  # a broken file fails here, loudly
        else:
            existing = list(db.session.scalars(sa.select(PushSubscription.id)))
            if existing and not replace:
                raise click.ClickException(
                    f"{path} is missing but {len(existing)} push subscriptions were made with it: restore "
                    "it from backup, or run with --replace (every phone must then turn push on again)")
            if replace:
                drop(db.session, existing)
                db.session.commit()
                path.unlink(missing_ok=True)
                click.echo(f"removed {len(existing)} push subscriptions made with the old key")
            vapid.create(path)
            click.echo(f"VAPID key written to {path}")
        click.echo(f"public key: {vapid.public_key(vapid.load(app))}")

    @app.cli.command("notify-worker")
    @click.option("--once", is_flag=True, help="Handle what is due now, then stop.")
    def notify_worker(once: bool) -> None:
        """Deliver notifications from the outbox (Web Push, webhooks) and escalate late tickets."""
        import logging
        import signal
        import threading

        from server.notify.worker import Worker

        logging.basicConfig(level=logging.INFO, format="%(asctime)s notify-worker %(levelname)s %(message)s")
        worker = Worker.from_app(app)
        if worker.webpush is None:
            click.echo("推送未开启（没有 VAPID 密钥）：运行 flask --app server vapid-keys。"
                       "No VAPID key: Web Push deliveries wait until one is made.", err=True)
        if once:
            worker.escalate()
            click.echo(" ".join(f"{k}={v}" for k, v in sorted(worker.run_once().items())) or "nothing due")
            worker.close()
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        click.echo(f"notify-worker {worker.name} started")
        try:
            worker.run(stop)
        finally:
            worker.close()

    @app.cli.group("webhook")
    def webhook() -> None:
        """A community's webhook: new and late tickets posted to a group chat (WeCom robot) or any URL."""

    @webhook.command("add")
    @click.argument("community_id")
    @click.argument("url")
    @click.option("--kind", type=click.Choice(["wecom", "json"]), default="wecom", show_default=True)
    def webhook_add(community_id: str, url: str, kind: str) -> None:
        from server.errors import ValidationFailed
        from server.notify.webhooks import add, allowed_hosts, explain

        try:
            hook = add(db.session, community_id=community_id, url=url, kind=kind, hosts=allowed_hosts(app.config))
        except ValidationFailed as exc:
            raise click.ClickException(explain(exc)) from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(hook.id)

    @webhook.command("list")
    def webhook_list() -> None:
        import sqlalchemy as sa

        from server.notify.models import Webhook

        for hook in db.session.scalars(sa.select(Webhook).order_by(Webhook.created_at)):
            click.echo(f"{hook.id} {hook.community_id} {hook.kind} {hook.url.split('?')[0]}")

    @webhook.command("remove")
    @click.argument("webhook_id")
    def webhook_remove(webhook_id: str) -> None:
        from server.notify.webhooks import remove

        if not remove(db.session, webhook_id):
            raise click.ClickException(f"no webhook {webhook_id}")
        db.session.commit()

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
                   "butler1 butler2 butler3 supervisor1 admin1 resident1 resident2 resident3 "
                   "tech1 tech2 tech3 tech4 tech5")

    @app.cli.command("pwa-categories")
    def pwa_categories() -> None:
        """Write pwa/js/ticket-categories.js from the server's list of ticket categories
        (server/tickets/categories.py), after changing that list."""
        from server.pwa import PWA_DIR
        from server.tickets import categories

        path = PWA_DIR / categories.PWA_MODULE
        path.write_text(categories.pwa_module(), encoding="utf-8")
        click.echo(f"wrote {path}")

    @app.cli.command("backup")
    @click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
    def backup(target: Path) -> None:
        """Write the database, the keys that must travel with it and the photos' bytes to one new
        file (docs/backup.md). Safe while the app runs."""
        from server.backup.service import BackupError, make_backup

        try:
            summary = make_backup(app, target)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"备份已写入 Backup written: {target} ({summary.database}, {summary.photos} photos)")
        click.echo("注意：备份含数据密钥和推送密钥，请像保管数据库一样妥善保管此文件。\n"
                   "Warning: the backup holds the data key and the push key: keep the file as safe as the "
                   "database itself.", err=True)

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace a database that holds data already (all of it is lost).")
    def restore(source: Path, force: bool) -> None:
        """Put a backup back: into an empty database (a fresh instance), with its keys and photos.
        Stop every app server and notification worker first; start them again after."""
        from server.backup.service import BackupError, restore as restore_backup

        try:
            summary = restore_backup(app, source, force=force)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"已恢复 Restored: {source} ({summary.database}, {summary.photos} photos, "
                   f"keys: {', '.join(summary.keys)}). 手机下次同步时将重新下载全部数据。"
                   "Phones fetch everything again at their next sync.")
