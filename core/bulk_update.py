"""Update many rows, each with its own values, in one statement per batch.

QuerySet.bulk_update writes `SET field = CASE WHEN pk = … THEN … END` for every field and row, and building that
expression costs about a millisecond per row in Python: a 20,000-row payment list would spend most of its
import there. On PostgreSQL this writes `UPDATE … FROM (VALUES …)` instead, with the values adapted by the fields
as the ORM adapts them; on other databases (SQLite for `make run`) it is bulk_update.
"""

from django.db import connections, router
from django.db.models import QuerySet

BATCH = 1000


def update_many(objs, fields, batch_size=BATCH):
    """Save `fields` of the saved model instances `objs` (all of one model); returns the rows updated."""
    objs = list(objs)
    if not objs:
        return 0
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return QuerySet(model, using=using).bulk_update(objs, fields, batch_size=batch_size)
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    alias = [connection.ops.quote_name(f"v_{field.column}") for field in (pk, *columns)]
    assignments = ", ".join(
        f"{connection.ops.quote_name(field.column)} = v.{name}" for field, name in zip(columns, alias[1:], strict=True)
    )
    # The first row's placeholders carry the column types; PostgreSQL infers the others from them.
    typed = ", ".join(f"%s::{field.db_type(connection)}" for field in (pk, *columns))
    plain = ", ".join(["%s"] * (len(columns) + 1))
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            rows = ", ".join([f"({typed})", *[f"({plain})"] * (len(batch) - 1)])
            params = []
            for obj in batch:
                params.append(pk.get_db_prep_value(obj.pk, connection))
                params += [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {rows}) AS v({', '.join(alias)}) "  # noqa: S608
                f"WHERE {table}.{connection.ops.quote_name(pk.column)} = v.{alias[0]}",
                params,
            )
            updated += cursor.rowcount
    return updated


def add_counts(model, keys, rows):
    """Add `rows` ([(key values, {count field: n})]) to the counters of `model`, whose unique constraint is the
    fields `keys`: one INSERT … ON CONFLICT DO UPDATE SET n = n + EXCLUDED.n (PostgreSQL, and SQLite for
    `make run`). A missing counter row starts at zero. The rows are written in key order, so that transactions
    adding to the same counters lock them in the same order (no deadlock)."""
    rows = sorted(rows, key=lambda row: row[0])
    if not rows:
        return
    using = router.db_for_write(model)
    connection = connections[using]
    meta, quote = model._meta, connection.ops.quote_name
    key_fields = [meta.get_field(name) for name in keys]
    counts = sorted({name for _key, values in rows for name in values})
    count_columns = [quote(meta.get_field(name).column) for name in counts]
    columns = [quote(field.column) for field in key_fields] + count_columns
    table = quote(meta.db_table)
    updates = ", ".join(f"{column} = {table}.{column} + EXCLUDED.{column}" for column in count_columns)
    row_sql = f"({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            params = []
            for key, values in batch:
                params += [
                    field.get_db_prep_save(value, connection) for field, value in zip(key_fields, key, strict=True)
                ]
                params += [values.get(name, 0) for name in counts]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(batch))} "  # noqa: S608
                f"ON CONFLICT ({', '.join(columns[: len(key_fields)])}) DO UPDATE SET {updates}",
                params,
            )
