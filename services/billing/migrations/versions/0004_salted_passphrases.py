"""Webhook passphrases as salted scrypt hashes: ``passphrase_hash`` replaces ``passphrase_sha256``.

The unsalted digests are wrapped where they lie, without knowing any passphrase:
``scrypt-sha256$…`` holds scrypt of the raw SHA-256, which ingress checks by hashing an alert's
passphrase with SHA-256 first (`libs.common.passphrases`). Billing republishes the
``webhook-tokens`` records from these rows at start-up (its reconciliation), right after this.

Each wrap costs one slow hash (tens of milliseconds), so they run on every core at once.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from alembic import op

from libs.common.passphrases import wrap_sha256

revision = "0004"
down_revision = "0003"

webhooks = sa.table(
    "webhooks",
    sa.column("webhook_id", sa.String),
    sa.column("passphrase_sha256", sa.String),
    sa.column("passphrase_hash", sa.String),
)


def upgrade() -> None:
    op.add_column("webhooks", sa.Column("passphrase_hash", sa.String(200)))
    bind = op.get_bind()
    legacy = bind.execute(
        sa.select(webhooks.c.webhook_id, webhooks.c.passphrase_sha256).where(
            webhooks.c.passphrase_sha256.is_not(None)
        )
    ).all()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # scrypt frees the GIL
        wrapped = list(pool.map(wrap_sha256, [digest for _, digest in legacy]))
    for (webhook_id, _), stored in zip(legacy, wrapped, strict=True):
        bind.execute(
            webhooks.update()
            .where(webhooks.c.webhook_id == webhook_id)
            .values(passphrase_hash=stored)
        )
    op.drop_column("webhooks", "passphrase_sha256")


def downgrade() -> None:
    """Possible only while no webhook has a passphrase: a salted hash cannot be unsalted."""
    count = sa.select(sa.func.count()).where(webhooks.c.passphrase_hash.is_not(None))
    if op.get_bind().execute(count).scalar_one():
        raise RuntimeError(
            "webhook passphrases are stored salted and cannot be turned back into SHA-256: "
            "remove them (or restore a backup) before downgrading below 0003"
        )
    op.add_column("webhooks", sa.Column("passphrase_sha256", sa.String(64)))
    op.drop_column("webhooks", "passphrase_hash")
