from datetime import timedelta

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Pixel events at scale: pixel_events partitioned by UTC day of the event's timestamp (the
# existing rows moved over), aggregation by folding what each flush appends to pixel_pending
# (the days the old inbox still owed are recounted first), and pixel_day_clients for exact
# distinct counts (backfilled for the days events can still arrive on).
async def upgrade(db: BaseDBAsyncClient) -> str:
    from datetime import UTC, datetime

    from server.pixel.partitions import create_sql, needed_days

    await db.execute_script(_NEW_TABLES)
    # What the old pipeline still owed: recounted the old way, once, before its inbox goes.
    await db.execute_script(_RECOUNT_OWED_DAYS)
    await db.execute_script(_PARTITIONED_EVENTS)
    rows = await db.execute_query_dict(
        "SELECT min((\"timestamp\" AT TIME ZONE 'UTC')::date) AS first,"
        " max((\"timestamp\" AT TIME ZONE 'UTC')::date) AS last FROM pixel_events_unpartitioned"
    )
    days = set(needed_days(datetime.now(UTC).date()))
    first, last = rows[0]["first"], rows[0]["last"]
    if first is not None:
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    for day in sorted(days):
        await db.execute_script(create_sql(day))
    await db.execute_script(_MOVE_EVENTS)
    return "SELECT 1;"


_NEW_TABLES = """
CREATE TABLE IF NOT EXISTS "pixel_day_clients" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shop_id" BIGINT NOT NULL,
    "day" DATE NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "client_id" VARCHAR(255) NOT NULL,
    CONSTRAINT "uid_pixel_day_c_shop_id_439515" UNIQUE ("shop_id", "day", "name", "client_id")
);
CREATE INDEX IF NOT EXISTS "idx_pixel_day_c_day_f8b69f" ON "pixel_day_clients" ("day");
COMMENT ON TABLE "pixel_day_clients" IS 'Clients seen per shop, day and event name (distinct counts).';
CREATE TABLE IF NOT EXISTS "pixel_pending" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shop_id" BIGINT NOT NULL,
    "day" DATE NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "client_id" VARCHAR(255),
    "events" INT NOT NULL,
    "currency" VARCHAR(8),
    "orders" INT NOT NULL,
    "revenue" DECIMAL(20,4) NOT NULL,
    "version" VARCHAR(32) NOT NULL,
    "first_at" TIMESTAMPTZ NOT NULL,
    "last_at" TIMESTAMPTZ NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "last_error" VARCHAR(255),
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "pixel_pending" IS 'Events stored but not yet folded into the daily aggregates.';
-- Queue tables: rows come and go every second, so their dead rows are vacuumed by count,
-- not by a share of a table that is always small (pixel_pending) or always large
-- (webhook_deliveries, whose pending rows become done).
ALTER TABLE "pixel_pending" SET (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE "webhook_deliveries" SET (autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_cost_delay = 1);
"""

_RECOUNT_OWED_DAYS = """
CREATE TEMPORARY TABLE owed_days ON COMMIT DROP AS
    SELECT DISTINCT shop_id, day,
           (day::timestamp AT TIME ZONE 'UTC') AS lo,
           ((day + 1)::timestamp AT TIME ZONE 'UTC') AS hi
    FROM pixel_pipeline_inbox;
DELETE FROM pixel_daily_aggregates a USING owed_days t
    WHERE a.shop_id = t.shop_id AND a.day = t.day;
INSERT INTO pixel_daily_aggregates (shop_id, day, name, count, distinct_clients, updated_at)
    SELECT t.shop_id, t.day, e.name, count(*), count(DISTINCT e.client_id), now()
    FROM owed_days t JOIN pixel_events e
      ON e.shop_id = t.shop_id AND e."timestamp" >= t.lo AND e."timestamp" < t.hi
    GROUP BY t.shop_id, t.day, e.name;
DELETE FROM pixel_daily_revenue r USING owed_days t
    WHERE r.shop_id = t.shop_id AND r.day = t.day;
INSERT INTO pixel_daily_revenue (shop_id, day, currency, orders, revenue, updated_at)
    SELECT shop_id, day, currency, count(*), coalesce(sum(amount), 0), now() FROM (
        SELECT t.shop_id, t.day,
               coalesce(e.data #>> '{checkout,totalPrice,currencyCode}',
                        e.data #>> '{checkout,currencyCode}') AS currency,
               CASE WHEN jsonb_typeof(e.data #> '{checkout,totalPrice,amount}') = 'number'
                     AND abs((e.data #>> '{checkout,totalPrice,amount}')::numeric) < 1e12
                    THEN (e.data #>> '{checkout,totalPrice,amount}')::numeric
                    WHEN jsonb_typeof(e.data #> '{checkout,totalPrice,amount}') = 'string'
                     AND (e.data #>> '{checkout,totalPrice,amount}') ~ '^-?[0-9]{1,12}(\\.[0-9]{1,4})?$'
                    THEN (e.data #>> '{checkout,totalPrice,amount}')::numeric END AS amount
        FROM owed_days t JOIN pixel_events e
          ON e.shop_id = t.shop_id AND e."timestamp" >= t.lo AND e."timestamp" < t.hi
        WHERE e.name = 'checkout_completed'
    ) c
    WHERE currency ~ '^[A-Z]{3}$'
    GROUP BY shop_id, day, currency;
DROP TABLE IF EXISTS "pixel_pipeline_inbox";
"""

# The old table is renamed (its constraints and indexes too, so the new ones can take
# their names), and the id sequence passes to the new table.
_PARTITIONED_EVENTS = """
ALTER TABLE "pixel_events" RENAME TO "pixel_events_unpartitioned";
ALTER TABLE "pixel_events_unpartitioned" RENAME CONSTRAINT "uid_pixel_event_shop_id_5ed9b3"
    TO "uid_pixel_events_unpartitioned";
ALTER TABLE "pixel_events_unpartitioned" RENAME CONSTRAINT "pixel_events_pkey"
    TO "pixel_events_unpartitioned_pkey";
ALTER INDEX "idx_pixel_events_shop_ts" RENAME TO "idx_pixel_events_unpartitioned_ts";
ALTER INDEX "idx_pixel_events_shop_email" RENAME TO "idx_pixel_events_unpartitioned_email";
ALTER INDEX "idx_pixel_events_shop_client" RENAME TO "idx_pixel_events_unpartitioned_client";
ALTER SEQUENCE "pixel_events_id_seq" OWNED BY NONE;
CREATE TABLE "pixel_events" (
    "id" BIGINT NOT NULL DEFAULT nextval('pixel_events_id_seq'),
    "event_id" VARCHAR(255) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "timestamp" TIMESTAMPTZ NOT NULL,
    "client_id" VARCHAR(255) NOT NULL,
    "seq" BIGINT NOT NULL,
    "type" VARCHAR(16) NOT NULL,
    "context" JSONB NOT NULL,
    "data" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ NOT NULL,
    "customer_email" VARCHAR(320),
    "customer_phone" VARCHAR(64),
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "pixel_events_pkey" PRIMARY KEY ("id", "timestamp"),
    CONSTRAINT "uid_pixel_event_shop_id_cc7a86" UNIQUE ("shop_id", "event_id", "timestamp")
) PARTITION BY RANGE ("timestamp");
ALTER SEQUENCE "pixel_events_id_seq" OWNED BY "pixel_events"."id";
CREATE INDEX "idx_pixel_events_shop_ts" ON "pixel_events" ("shop_id", "timestamp");
CREATE INDEX "idx_pixel_events_shop_email" ON "pixel_events" ("shop_id", "customer_email");
CREATE INDEX "idx_pixel_events_shop_client" ON "pixel_events" ("shop_id", "client_id");
COMMENT ON TABLE "pixel_events" IS
    'One customer event as the pixel posted it (sanitised); partitioned by UTC day of timestamp.';
"""

_MOVE_EVENTS = """
INSERT INTO "pixel_events" SELECT * FROM "pixel_events_unpartitioned";
DROP TABLE "pixel_events_unpartitioned";
-- Distinct clients of the days events can still arrive on (older days are final).
INSERT INTO "pixel_day_clients" (shop_id, day, name, client_id)
    SELECT DISTINCT shop_id, ("timestamp" AT TIME ZONE 'UTC')::date, name, client_id
    FROM "pixel_events" WHERE "timestamp" >= now() - interval '32 days'
    ON CONFLICT DO NOTHING;
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    raise NotImplementedError(
        "4_pixel_at_scale cannot be undone in place: restore the backup taken before it"
    )


MODELS_STATE = (
    "eJztPWtz27aWfwWjL5F3eF3HSdNssrszjuO23iZ2x3Efc+s7NExCEq4pkAVJ25pu//vigO"
    "+nSVqSIQZfEovEAclzgIPzPn9Nlq5NHH//2F16DsXMIhfkz5D4weQd+mvC8JKIP5oHGWiC"
    "PS8bAhcCfONIKCsdbvJovLyPb/yAYwueMMOOT8Qlm/gWp15AXSYBQz9wl4T739g4wAkwIg"
    "+eywMfzVyOggVBYoS1wCww0D0NFsgOCRLjib8PT7FdSzyGsjlMeISu6+e8fidnSm6+8OOH"
    "GOgmpE5QeZScOmRUAJuBOyfiHhcP+OOPib9wPbhJ7ggLTGpP/vUv8YsymzwQH4bAT+/WnF"
    "Hi2AXkirHilrxuBitPXvtA56cs+F6OhY+5MS3XCZcsG++tgoXLUgDKJDHmhBEucABPCHgI"
    "uGWh48QUSdAdfUA2JHrLHIxNZjh0gEIAHb1Adm1immfnl+aXk0vTnFSol0Dk8B9fslwGlB"
    "ev6ksEzOEV/vGfh4evXn13ePDqzdtvX3/33bdvD96KsfJ9q7e++zt6mQxb0VQSZ6c/nJ5d"
    "wgu5YnlFSxAu/C1hgOgSShIjw37getSqEuB4gXk9+lOAEgXEp5UpkOC7jQTJhYwG2abYBh"
    "GW+MF0CJsHC/HzzesW/P56dHH849HF9M3rvSKSz+I7h/IWoDtDb7odemA4DzNCJB9++20H"
    "LItRjWiW94p4zjO1WnS3cZQa4MfZSw3eY+6hDNq3yGAySiRnSW8qlAA1BZ5MAbLE1OnDea"
    "qQg/iPalQosJ9Xhwcd2I8Y1ch+5L0GlHsCW2QQylPI8aF8/ceqy20hyiY8m9Rwmv/9cn5W"
    "j/E62BLObWoF6P+QQ/0uTGfQcTv5r1nILMBrJGpT5u/D8/5nsiGStJAAcAUzL33/TyeP+u"
    "nno9/LVDn+dP5Bosz1gzmXs8gJPpRI5Ac4CP0+WyGD2J7UM/EIswFtW9kIL9902Agv3zRu"
    "BLhVxHK6ik0cVHH9UWAroEtSj+8ybHkTxMD7yR87KHm2oPvy9PPJl8ujzz8XVv7Ho8sTuH"
    "Mor65KV6dl0qSToN9OL39E8BP98/zspLxB0nGX/5zAO+EwcE3m3pvYzuMkuZxcKoq4Qufu"
    "T+QMSpNXafJKaxEZtpPLsGsgtWICxZgoHZnY+ogsGcSTBJXdoelGJBKLEzxwfxUgR8hIhS"
    "yA7XPmrOJVsiPbLV7QrbsNDNO9bRE5oEF2COXouzVDBJj5Z7e1pubERVAkw/cuJ3TOfiIr"
    "SYpT8d7gMqlBfeyF+RJPs2Mk+DtZY8nVbP1yfJ/6RfJLT3y7+GJxrsP146Mvx0cfTyYSwz"
    "fYur3H3DYLqIY77qFbupKOrd5aHi7LVzDDc4kc+Ap458T3FdspJnV+seSe0eoOSzxQ3Zxg"
    "R6lXCmEfAdHpbIUc7AcoGnlDbPBNLevcXX1AW91ZfgRc59DKBoWenTseyiDa6aWc0ytHot"
    "7HQganT4bBJurelmltkO5nkJ5R7gem/NUDy0WoLVrhtmN+24jnEY6V3oguAGk8d8EzWId7"
    "4TgFGB1+Xx12Yhgt/KKM3ADPa0z1zQaJZLz2m6zdShG7pyw3ZDV2ijbppAypPehDxRO8BB"
    "yavkfqaPCRWHSJnXoilEHLOySC3Y/n2D2CtOD248nx6eejT9PDAyPy5YpdQSPlNdkXr2s8"
    "55wTZq36cPY8zOiY+9sOvP1tI2t/W8bvHeFUTGU3BYN8cF2HYFaP6CpwCd03AnpUa/jD+f"
    "mnAkv/cFriFme/fP5wcjF9WVrhNWE46pibdwf/KlmXOzlzirafPlQuQo7QqTAmMoMpqY+A"
    "nIxXQ0CGx45GQPYJYSYPWX/rXRFQi8dDxWN/xaxBLK8AqDme0hxP+02131QFEuy43/QcjD"
    "KTGqdpdMNo85hGBh055nF3KUNyeIvHkwY1rtLOYJt0kxooG5VPA9H+U+0/VZw9PY8E1tff"
    "NFpX0wYyNrVreku5UjpB8Jm4x4wyISpS7Jj9k3TqYDVXeZSrzEJnRh1nCZndA5BeC63R/i"
    "jatXdps96lwA0EJ/A4tWrEkVY/aQlSu0nzFKhxk2pn0ldgc/O4axHfH0TnMqymtMqUtsBW"
    "5zjDdnQJVlNaZUprB/FXQWbtIB5CZu0gHqWBQTuIvwKOpx3E2kGsAgnG4CD+RBk5Dchy0u"
    "QoTgcYjzqMTUeMNakY3NF1fM4IAhjkzhBO/MHT62gyal8jmvqGX/jxbWq/z2rKykFQJlbe"
    "e+HvVf3MG3rG053SyRtoX7P2NavO6Z5HmEt3SC/056E08gcjXztLn5sCAQ2cGufGJXlowH"
    "wKMALnUZu+cvL7Zbvqnqorn87PfkiGl/X5IrL/DDET+Kvx1zUu9DzI9hjNwWbX+OHL19+9"
    "fvvqzet0aadX2lZ0jSZ+G1Zx2ZIzHQ0fwcrdQkb6HeYUN1R3b2PNRTjNmYdy5iFuZ+1wNr"
    "o5nLU9ewiqN2PP1oY2bWhTgAQ7bmj7mT4Q5yOmzupoLrbbHMu3qpjb6oYZbUY3DwBMGyBM"
    "nIB0NL39TDgCdBnol8tjZOMVwsxGsgEMgvd6hxbuPRKftIou+vK+LbgpFSwPWQ6Fi1Vz2x"
    "rnbTWxiZnhP4lC3fBJGRZmtNjTYpJVvXJN53qdZlXwxe0uK6uVlo4uT3Yu22JrGQEbUaQG"
    "1Dp6WpEj5XD8LPpTwu7NmN33o0AdtCbGYGLoMLFmguxmcfKaIIr47bVqp1U7tUgwGtXuAt"
    "SZ8BHFLhlkdFXreA5goE6XZBW9Q2mzFmQtiHXrhrH2JbQrylH8qK4q3ZBpu2h0aRKU1uqU"
    "4V6G1urWqdXtTm7g1rS7NWcHZvVLesaNaGXiacpE7rzq4RvLQT3ZO6YaHdbtHtPqWvOS1+"
    "qaVte0uqbVtcfUtdWxtBxOmnW1ZITRRVFb5S2Rj6tp0dQ+gqQv5KXKVdVXhqaZXwysznXh"
    "7ZcLkjjNyhM2OeDIg3g9VJraQOIHJ1DoAzvOav+KXbEj5AfEEzd8wsX0Qe5R7kz+5O69j2"
    "iAZq7APpqen6Hj87PvP50eX6KP50gsuB9Pz37Yey/HxtNcsWCBA7QQaBVvizmRNxm5rzoB"
    "0U/EC5ArGDq6X1CHJB7D+OHwbRZm4iWp41wxzDm9Ezi7lmTZ/3z0u3ny68nZpXn0w8n1ng"
    "EgDEUr0W7XRuOFm3cxwk6Qb1Uf0w9DdRi/mgqqPjqfz8+jbQPa46uYxzfl4j2QXADSmG7G"
    "dEVufkYx7+SuTcSL7nYQ7yKZo5tkB7mGaQPQSOTCkdwk50KgFMq6tmjqY0YD6hNbSEfRok"
    "glt5zARu36hMZNPKTVOC9HxhsAmLFQb5ZeRRD6a5IRKH+E5iAM2VNcKMa+wFlKyUxSejDz"
    "aDflJBH6kw0nX+dBUEL+kJu7/qlpIlJUJ3PQo9MSm/2fnomLQx5spfpHw5O1tKmktJnfKF"
    "2PlzyMPl26neNaTtosfjOWXSvAN1uZC4AjNDLvrlFZXtLC8LNsJ5/82dMAEQFo48Ng44PE"
    "WY91nYwf4ZJ++abDin5Z5kTZgoZb5cBpFghhtIrf5jy9HIhO1SucEOtI1dNZk8qQghOL0L"
    "tBLvoSqBaf1BafigaGPjJUBVK38OjXwsMT2Op1vFchx4fy9bcx0M4zHXeiAgnGEHfyM2F2"
    "9I31LonkvvG4U8LLDX3UK3ESRU0I9seJLWSuADE3QCsShW2Aq4AFbhxRQZ0VylLJq86HM3"
    "KfRGF0neRd3jdBPQLFGF/4SCyrkMgwkxNsLQT4nPhiMif0F0jGhtgyJkUCiw9kPo5kRhk9"
    "Ir8FIk/8+G0MJJg6hKOAg+OKTQsRMEYu/MWIo0uMNIHBiN/tjnCwz+8l4SXxZ9L4afYVm7"
    "lc3plRLl5VSmLoiKWfCm8nA2YsB9OlL4NjDCTkCemdWaIYPxlmwAdzxaJFGo8RHwwfkvtg"
    "A/kuIoCi2FvjRxE7AuUykEfg2hU73khSLsRd8XLu7IrhOHzHj3BWCtkJ8C0Rr8fErDwXUS"
    "MoIxuk7KMLGGi5y6UYLF4Ls9UVkzHS71E8s5wC3YvJ5SQ0GS7eTb41c9G9uMeXmN9GkTq3"
    "1IPva/I36YwPVQ4iQwfUqEMKHVCjA2qUtWw/kw9BaT1sI4jOAlGKWG5kuRnAmDju2gpUPk"
    "sWntLLdktJeEpl4O1KOdUdTazbFHrXnVUXK399eEEOZHRVa18ddjLdtlhuK21oQWce4BHJ"
    "w2l3iNLuEAcPonAOTBNYaQJDA+heulQKsEUGmTON7mJgBQ4CsvR6yfl5EC04lQUnyV4I5y"
    "7vs3KLUOMT9TdjClCnVbQ+BtZ7DKiS2MPpHbZWR6FN61N78veNVj9aNNLE6dDHy2tFIIgT"
    "saT8wEdJtE5UDyutgjVlLnihfJdhB4EVvTZtGwcII684JbrHTbO+Q+VZjSgzOkrflo40yA"
    "WX3qOFeIrsdxal+kQus5DfiWl9dA3XvuHEFh8ru5+BFy13TXrRFoQ/UrLLtN2lWN4Sqa5H"
    "LfgjTWTQtbsUch884snJ6NhZrCuCaUt5x5SKZJt0jkhOAEaI4fWHKunMq+0s4/isGhjfWo"
    "TVkp5ykl7B3SxO/v5EzqA0eZUmbypcDtHYSrBrILViCvOYKA1BXyaezYgF2K+QujlNpAKo"
    "80UKNF9Hvghz+1lVk/Gj8zqNrgwJd+3QajBURLeMdhuFHNSx+MgRisdDOZC4ozkCOyaKBt"
    "7IoiBVU0QPuKc3PS/WIC2DaBOBkiYC3QT9OdOYdRfo7XWBXmBm12G7+TDOIEaA7m0UQghw"
    "ENZ4N9udyGGdc3P3Mbz+MJs7wux+ns4MYnTo3cgCjoUls295iTKcxnYnmzme1zCLZn01Ga"
    "+GmgrPG42aqpB3X1uKNmYp0u0lvgoy63IxyvBVqNpv8pD1V7GLgIN0bMU46fOo2P6KWYNY"
    "XgFQczylOZ7OWtaVTFQgwa5XMonU2F8xp7ihvHpxhNHBw2HeRYN7lFmPIaIox8SBMb1OJq"
    "S2DG2M3Rkv/HQItWuiMdcx4dN9I9mjtDdEe0NU52PPI6rl9kgvAhThNAG0O2oX3FH+bdjL"
    "UxINHwGit2LHp1bfdPoU5snJ9Irp3etOp6cMAqtdvjL/DIVQRYOaKhvNIkst8IjMG2vLbV"
    "TIWKsYpsdkudC22iFk3oytVhuRtBFJARLsuBHpQiaaEvvUJtH5XmNGqowx2gxJPB4tPlYO"
    "p6Rz1GzaSy8GXSGMrpOLfpooK5aHD3VNb9OexNgXIxfYX9TF1K5hVkjplUVYZYNjqME6c+"
    "h8EaB76GQsa7nKWYDdcszQVJbUteNytkldXCha6zKyJ1stWwti3UIpWzwXqwaK2C6ID0nD"
    "SHZPxo6s2yrmgvcKBQCN6vyGzIbE4puVzDyOEoohVxk7nGAbKtBCFvEVu8erffST2BT+O3"
    "Q1kcXtryZo6rj3hP/Dgk/dM8QNWYL9ahLVrBXTARVf+OjaoUy8nXmzukYR+7xiU7I/3xcg"
    "acVAAINvv4HUBIFfHH2UG0JFXvH1cZXdBNUdjHO34n3hf/H5YgygXucvq3MGGC3muIRyXR"
    "XkZPwIUz03EEqYbYceKC5CjRDR609cTs+uIfm0BdARuqAncMCci4MxZnA7otjFvFh7pNU5"
    "SLQyMU5lQmK9RoFIqNGsNMAH9XA5C2nSWmAWvIh7aeyjS/eWMF9K1nF3jUSE/55wRgJkUU"
    "+Im9D2Dk2v/8MkzLpucD+vc3LdWUFhNtQmz/YvxbPuKjzPS4TNe32wZRHfF1tD7C3YMX08"
    "mXWwY6gMuG2vJiczIUQthhGhFlhToT8Viqv5waMCrQM0kJZptFdJZa9SaSMNXgBt8+gVoP"
    "IK8C3XIzXZdc3MN4MYQYzJthmu+o2IdjmcJ+nMIhBo9+wLWwIcHb7X3NaFEWL7JieCt9RY"
    "hj+4rkMwa1jSJdASqm8E7KZwnV7ZLif5cH7+qcBJPpyWWcUvnz+cXExflmKrqsE+4K/Djj"
    "PITlyG1QezygezwOkTaF2F1tRWmdoK5dWrZpkesfNHodBNTfVNbXb59hW/U7ObpFSalYK7"
    "yUzaDdTIWvEk3/90QRzZf7rZN3WcTngRzbeDC6PJUVWM65cN0mUTcjNrtf005Mn27B9hyq"
    "Nkxq8BfY09B4fh7iKbbryYa+rS2htlJzDRWHHVEK45HGV10aJjQVwv53mG43tyY8o12YzZ"
    "c0YuXfHP4/j9jdz8nMy1k6pCPVr7hBmsmHURskldpEF8y2gNNhCDoFpL57jkmXg+cjmiTM"
    "j5S7GssYNgEshQh2BcIZW4IbcImiZ1gg0UddA10uhXvybaYG0zQ3zyUYCWQkSKwEIGHYrQ"
    "FOIqjHSWPQgijrvywVPFMKGhzt9Bmj3mARUPj9YKkitE/HvFIIJ3SedcrkpE2MwVE0GnIj"
    "S9hsFmik0TAqDvyPXePoRXc9/l1+gbdH0TOrfi/LLEa/smxC5fQyBFNLGMF/ZcsRTEK4i3"
    "DJfEli8v1khAxQnloxl3lx1DKbI44uSDpSEnKlopxv4xmXM39HRWv7phF3nCdTUb52FGGO"
    "W6/saWOlZ7g8hd9nR6LMfq61g/anekYPGOt70VT5/PSa/CxTmQ0S3j9ScZpEJIBcO//HL6"
    "sR7DeZgSisOQ2vsAuYPMuAW1UZZMtHDzpj/5pSW+QFlt/Yj2goG0PoBcu2TUcslIRaJK3O"
    "bImAxCxyL2D42R2prrkUjf69nDsRZ4DFTYQtRMRU3up4bWgo+mBf2WK2sBtYd7BavQ+ohR"
    "+YiZkcBakJ5mnxyQ3mXDdlno+ZAz1RPxeSiN+WGYjxIGeyI+B6TxPrBkJp7XetfaqmUmIB"
    "rnw3AeexWqWG9EeQ5iNEhfW507wnk/dSwFGIMesG1tTAckNi/s3QxN61SNIsB8GNWLkFrt"
    "UFntWBBBqxuxSwfQuQyrKa0ypWeUUX8xaEOXQDWdVaazriKkqwipQIJdryK0Ytalu7zxAz"
    "BjNwT5ZQOMR0P9gmRs54C/2NaB3Jt/E+g9E/1G9+Rm4bq3e++Q69iEo8jK60cVOyGmzhE/"
    "OVqGfiBrdXJyR+8IokFd6N9GntFaXbMQFdfcBkeHxunQOFVZ28ZDjHRXISVM0wNE5SLkCC"
    "0eWlTWorIWlbWonBOVLzlmflR3vk5Qzt9uFZODbGBnGdnDK0hYQTlY2bGRRQkq79F1FgQh"
    "GzbSwI9uQX35+N5RcF0nG6917qe3gyxGc+RBIKkkGSWfr5NLnluW0C0jFSNIRoB0h/RCfx"
    "5KI38w8pN0wd74LwGOqPvblimgft7VlnIq1t8hY0dSg3YVvVBm4x7XdI5sxm8OZHQI3kw9"
    "7KUbsjqrR1sb1AxI90HN477aBzUpLtlnDedhRreI11yLMogLGZXkirYalAmIrj3Zo/akh3"
    "nUfa2fEFcA0yLcYCFanYA8xegxJuu0x10opT+IzmVYTWmVKa1rP34VZNZ9u4eQWfft3n3h"
    "RXv+xun5S6sA1rj98hUCm31+aVHCjh6/ywVBgIwXPsSoRa2t30nH25fIP4KobSCfBIJnzX"
    "3ZTxpKvHnhjUMtdEtWcmxUlBNZmPNV1fO3oWfoLnwKcyijxWOXrtGehSjKcGPIPduCCXJH"
    "rOiURZUmt2Mn20CQYcy/+kikeRgtla5dKhXvQvzAFCdIn9VfhBpd28/1lz67I9yPg5G64j"
    "gHMj4uvn5PneSMA00aZVhtulLapkGeQusqtKa2ytR2sDhopGIzgNgVYE1rlWmtkJNJNavN"
    "iKs+aFfE2Khes9kr7VfUMId/JaamijG82XZb0Vme2BUnscn+mqkzO7YJmwzmNU1xHvMxJM"
    "1uNuxheNZVvRn/wlp8BskabHEd5JZpBw+Cmd8jj3sSBOUReQgIAxgUwyKfEIaAu0KSe2zC"
    "n7kcYekRQFMw9CdjF9QPXL6qaamz5rlrc4cK7ZwS+4TOoleGzRstHoVnsECpxsg3bYKaUS"
    "7UTdhygwoelYBHKM7urvjaYJcYSOsyrCa10qRud8a2HWGPuGN1DE/7edYSw9PSWbJ3IE+P"
    "xpKq0aKrsF1eiIpF9EDhp4/EoULiWDVI54Uhj0nnMBg+EEbTrtWvTmDqpAwViqFXiBOLiL"
    "/sdzLixiZ26MmAmyQGxw2DG/ehXiBPJpOSN8JZNE88O7ERDd4nvSehcWXUtzIQoyz5hAiS"
    "2rLTJUQJcfce8v6zJ0fvJaOGoghsZLnLJYQDyesL1yHZx0w9vHJcbEPfTScUH7N3xW6I0A"
    "igkJZ4oH8vZD50eHBgyKffu/wWLlgOpsu0gaZ4BV/c9zxnBc9YyqFLzG+jX9CEI+2g6QtC"
    "FqoZYPlelCMymxEr2EfwUelb+cgLuVglCM+g2Bd8BRerlAHoewC8YoCAaYEUe0js8JWPHJ"
    "fNCW8vfWDa7lLsE7lgAMnwR+QgaCyEkANJ1gKc2/+CIyJb4hMmtC9xPSBLL4jvT8iDJ86h"
    "SEOMt0GmDT2Y1ZVq2lFz6oRDydd7EPiDH+i3H08uTuBjA4L+G72I6fFi8nfpVaICDQOePs"
    "PUiQqAd3qBaPiLiHFonU85na+0ejvHNhXBRqj7bSSILOUnXfGcAowQwy8Pu6RZilHN4WOH"
    "lVTLlFH3QHIeZoR43shKTk6G3rGnOajRpQ1vJvfdo+YAy1wJbHS4Xr9tLu7UOsjNXIbVQS"
    "QqW2vyMnpPQpdAtVlOaUJLNaSXXJsA6J7YXSP2Y8W8iuXmvkc5kDHELbftmE10PootCDVR"
    "F41Kcx5EN+4qV66IYkDru3c184oi1BgW8hak2bIJrOfxWwOuRS2VT2Cw9A4Jwc/ANH2Vpm"
    "/oOdSCLhw9TqMikD6Pas+jFElDowfKE+iNpNpG6hFzu0nv6hHh1FpMapyq8R2jzZeKszGP"
    "+U+bCbvmKgRfi/PoiRxHhwI+t2m3JgC8zaTrjRS7Lw8OupglDg6a7RIH1aqmLoOwgCqGmy"
    "sJ5EC2X0jgeQ7KtZUMeNbD7O//BxpIroY="
)
