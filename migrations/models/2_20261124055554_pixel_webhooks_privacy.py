from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "privacy_audit" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shop_domain" VARCHAR(255) NOT NULL,
    "topic" VARCHAR(64) NOT NULL,
    "event_id" VARCHAR(255) NOT NULL,
    "requested_at" TIMESTAMPTZ NOT NULL,
    "due_at" TIMESTAMPTZ NOT NULL,
    "completed_at" TIMESTAMPTZ,
    "rows_affected" JSONB NOT NULL,
    "note" VARCHAR(255) NOT NULL,
    CONSTRAINT "uid_privacy_aud_shop_do_3f9c5d" UNIQUE ("shop_domain", "topic", "event_id")
);
COMMENT ON TABLE "privacy_audit" IS 'Privacy requests received and completed (no personal data).';
        CREATE TABLE IF NOT EXISTS "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shop_domain" VARCHAR(255) NOT NULL,
    "topic" VARCHAR(128) NOT NULL,
    "event_id" VARCHAR(255) NOT NULL,
    "webhook_id" VARCHAR(255) NOT NULL,
    "api_version" VARCHAR(32) NOT NULL,
    "triggered_at" TIMESTAMPTZ,
    "received_at" TIMESTAMPTZ NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "duplicates" INT NOT NULL,
    "last_duplicate_at" TIMESTAMPTZ,
    CONSTRAINT "uid_webhook_del_shop_do_137e49" UNIQUE ("shop_domain", "topic", "event_id")
);
CREATE INDEX IF NOT EXISTS "idx_webhook_del_shop_do_8b2415" ON "webhook_deliveries" ("shop_domain", "received_at");
COMMENT ON TABLE "webhook_deliveries" IS 'Every webhook delivery received (metadata only); the dedup key.';
        CREATE TABLE IF NOT EXISTS "compliance_requests" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "topic" VARCHAR(64) NOT NULL,
    "event_id" VARCHAR(255) NOT NULL,
    "data_request_id" BIGINT,
    "customer_id" BIGINT,
    "customer_email" VARCHAR(320),
    "customer_phone" VARCHAR(64),
    "orders_requested" JSONB NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "requested_at" TIMESTAMPTZ NOT NULL,
    "due_at" TIMESTAMPTZ NOT NULL,
    "completed_at" TIMESTAMPTZ,
    "export" JSONB,
    "created_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_compliance__shop_id_6bae0d" UNIQUE ("shop_id", "event_id")
);
COMMENT ON TABLE "compliance_requests" IS 'customers/data_request exports for the merchant, with due dates.';
        CREATE TABLE IF NOT EXISTS "pixel_daily_aggregates" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "day" DATE NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "count" BIGINT NOT NULL,
    "distinct_clients" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_pixel_daily_shop_id_639fb9" UNIQUE ("shop_id", "day", "name")
);
COMMENT ON TABLE "pixel_daily_aggregates" IS 'Per shop, UTC day and event name: how many events and distinct clients.';
        CREATE TABLE IF NOT EXISTS "pixel_daily_revenue" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "day" DATE NOT NULL,
    "currency" VARCHAR(8) NOT NULL,
    "orders" BIGINT NOT NULL,
    "revenue" DECIMAL(20,4) NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_pixel_daily_shop_id_596f31" UNIQUE ("shop_id", "day", "currency")
);
COMMENT ON TABLE "pixel_daily_revenue" IS 'Per shop, UTC day and currency: completed checkouts and their revenue.';
        CREATE TABLE IF NOT EXISTS "pixel_events" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
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
    CONSTRAINT "uid_pixel_event_shop_id_5ed9b3" UNIQUE ("shop_id", "event_id")
);
CREATE INDEX IF NOT EXISTS "idx_pixel_events_shop_ts" ON "pixel_events" ("shop_id", "timestamp");
CREATE INDEX IF NOT EXISTS "idx_pixel_events_shop_email" ON "pixel_events" ("shop_id", "customer_email");
CREATE INDEX IF NOT EXISTS "idx_pixel_events_shop_client" ON "pixel_events" ("shop_id", "client_id");
COMMENT ON TABLE "pixel_events" IS 'One customer event as the pixel posted it (sanitised); unique per shop and event id.';
        CREATE TABLE IF NOT EXISTS "web_pixels" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "web_pixel_id" VARCHAR(255),
    "status" VARCHAR(16) NOT NULL,
    "settings" JSONB NOT NULL,
    "ingest_key" VARCHAR(64) NOT NULL UNIQUE,
    "version" VARCHAR(32),
    "activated_at" TIMESTAMPTZ,
    "deactivated_at" TIMESTAMPTZ,
    "last_event_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL UNIQUE REFERENCES "shops" ("id") ON DELETE CASCADE
);
COMMENT ON TABLE "web_pixels" IS 'The shop''s web pixel: its Shopify id, settings and the public key its events carry.';
        CREATE TABLE IF NOT EXISTS "web_pixel_versions" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(32) NOT NULL,
    "first_seen_at" TIMESTAMPTZ NOT NULL,
    "last_seen_at" TIMESTAMPTZ NOT NULL,
    "web_pixel_id" BIGINT NOT NULL REFERENCES "web_pixels" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_web_pixel_v_web_pix_222f91" UNIQUE ("web_pixel_id", "version")
);
COMMENT ON TABLE "web_pixel_versions" IS 'One extension version seen posting events for a shop (the version history).';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "web_pixels";
        DROP TABLE IF EXISTS "privacy_audit";
        DROP TABLE IF EXISTS "web_pixel_versions";
        DROP TABLE IF EXISTS "pixel_events";
        DROP TABLE IF EXISTS "webhook_deliveries";
        DROP TABLE IF EXISTS "pixel_daily_aggregates";
        DROP TABLE IF EXISTS "pixel_daily_revenue";
        DROP TABLE IF EXISTS "compliance_requests";"""


MODELS_STATE = (
    "eJztXetT27gW/1c0+dL0Ti4LgQLL7tyZQOmWuy10aPYxu9sxwlYSDY7kWjaQ6e3/fiX5/Y"
    "xtkuAYfSmNrCPbvyMdnZeOv/Xm1EAm2zmjc8vEkOjoGn11EXN6J+Bbj8A54v8p7jQAPWhZ"
    "URfR4MBbU1LpYXfN9vrL6/CWOTbUxR0m0GSINxmI6Ta2HEyJJHSZQ+fIZj8Y0IEBMUCPFr"
    "UdBibUBs4MAd5Dn0HiDMADdmbAcBHg/RHbEXcxqM5vg8lUDDgCN/lj3pzIkYKLr5h/kwG4"
    "dbHpZG4lh3YJ5sSaQ6eIX7P5Df7+u8dm1BIX0T0ijoaN3pcv/BcmBnpETHQRP607bYKRaS"
    "TA5X35JdmuOQtLtp3i6QVx3sm+4mVuNZ2a7pxE/a2FM6MkJMBEMmOKCLI5BuIOju0KbIlr"
    "mj5HAri9F4i6eE8ZozHQBLqm4JCg9h4gautp2uXVWPt8Pta0XoZ7AUUMf79Jp0Rwnj8qkw"
    "BMxSP8+8fhcH//aLi7f3j85uDo6M3x7jHvK583e+nou/cwEVreUBKzi18uLsfigSifXt4U"
    "FA3fJY1guqSSzIjQd6iF9SwDzmbQzoc/JEhxgL9amgMB3mUsCBoiHkSLYhNMmMNHzURk6s"
    "z4z8ODEnx/H12fvR9d9w8PXidBvvSvDOUlAXcEb7gcaiAcp+kgyMM3byqgzHsVwiyvJXGO"
    "C7VcuMskSg7xcvGSg7svPVoD+wYFTMSJYC+pzYUUoeLAkzmA5hCbdSRPlrKR/GkbFxLiZ3"
    "+4W0H88F6F4kdeK4Dc4mihRpCHlN2DfPXbKrUNrsoGMhvlSJr/fr66zEc8jzaFuYF1B/wP"
    "mJhVETqNttvezxOX6AJXT9XGhO2I+/2ntyaWlLBAYCVGnjP21YxD3/84+jPNlbMPV6cSMs"
    "qcqS1HkQOcpljEHOi4rM5SiCg2p/X0LEQMAdtGFsLeYYWFsHdYuBDEpSTK4SzWoJPF+i1H"
    "y8FzlI93mja9CHzineA/W6h5lsA9vvh4/nk8+vgpMfPfjsbn4spQti5Srf00a8JBwB8X4/"
    "dA/AR/XV2epxdI2G/8V088E3QdqhH6oEEjjknQHDQlVVxuc9dnckSl2Ntq9kpvEWq2ktO0"
    "K2B1yxSKLnHac7HVUVkiiicpKtvD07VoJLqNYMP1laDsoCDlugA0roi58GfJliw3f0KXrj"
    "bhmK7ti4gRNfJDtI6/G3NECDf/5C7X1RyECJJseEdthKfkV7SQrLjgzy1CJjnQ+1GYz/4w"
    "W8aC78EcC1qj+WvDhzAuEp96/N35G/N9XbSfjT6fjd6e9yTCt1C/e4C2oSWgFlfokKZawr"
    "7ZS/PhPN0CCZxKcMRbiGf2Uf+EH5H5FmJzMZry1TmF8qkyIbK8boOyIJklCDRDUGgwIKkY"
    "J/uEbCDgGoDfxmfAgAsAiQGk+xyI5zoBM/oA+CstvEYmrxt8s8Tc9Aa6iUVjNly2wnFLY2"
    "V8ZPFHQqjCZa0RYYOScJnPsqzyUBRZWCzTGLZXlOWhKnb8lNol/2YwK3YDBf1V6Kta6Eun"
    "LsnRaEtDLQGJUm4aR1kCca/54r5myDGHWjGjMTNcy2ho2iUplWnXFtMux5PiP70y7ZRp1y"
    "4WdMa0uxbmjLvEsAs6DaqadXaMoKFNp7u2jYi+OAGhqxvoM6TfUde3vrh1hW3g36qqSddk"
    "2CoWXTCusuraI70GyqpbpVUXTvEMbmW5LhFNB6274wq23XGhZXecn+NSTyxENEq3aWxMxP"
    "arlERAOp5DsyibIqRKCwaPbMcn30I+lImG87OLj6MP/eHuwEvg4vYB9tSaYM4fZNLllLlW"
    "POWVuabMNWWuKXOt3Fw7F3GnXpGd5l0dLDfQvPBVNcvsikQHxfxgGGTydJgcCwhpwe0n7I"
    "A+gwQ7mCHj9U/A4zqwfAMsFkrDRtZOW9dNmp1Z+9aLeBKfDmJv4YtjbvUEAXq0uJBkHKaQ"
    "eZFZ96jFkdbkIB7iwWKST/DIwZc/pMTMv2sqO7/RrcPE/vp3l45qiVKTG3vkJXdWpnErTW"
    "N1gG0zUTwVJV0vvpHIrmlxJAg7aHBsr4GRk0Md7lE1VlKCSC2nasuJoa817TiPQNlwjd1S"
    "ErMa8zro38EpvfpzVPx2DldGs/gWJ+XHSNpxfFDctjPHB4VCWocbQX/FipWzwkY6wvcNjx"
    "gmSJX61G71SRUOUIUD2gT56gsHqBiEikG0gQXbHoOw8T3UFyPXwPlRiPj1QWkcwuupwbDr"
    "8hQxjwQERfVAoGV4OV1hJlefUBERYJRAU1TGg6+z8YbxDDoAAis5JHiARaNyKFKjDgAl5g"
    "LInHq28w/5h4xniLch4Mz4XQCd8BvIqIQjbsZc+54Py8CNaPvBRgZ/2RuAGcD8VWJtwKYP"
    "YIbsJWlnmkH5nkskqEFpNlWEr32icFDiZE/xsaoKkCLroKG/HlewKnmoSh5u/zRWpX9ejG"
    "GuSv90mr2q9M9L4TRX6ZkGJxOk1yxamCFUfu6V+7kJdeqlYPj9N1itcF1Qr0ldybh/nsdb"
    "IX1EOV6KwHdU7J0QFlaN9MigTP4rbsg7lFvuYEzvEGEA2shrMTxnAWTgHbIJcoCOLW7Oi0"
    "Ai6N/8S0NEv8lxU6x68BxvgvIUbIOnoL6TYNX+gedlwvrNKqjriDG+NPjaEismi/WYr6d8"
    "rPNouxCVKVPBzv8cl+/EoQb24eryl6B7entOm7YTvk/PmjEhl1hxoT4XkrP50cIc1gYWSs"
    "kwylhptbGSXEiNJ0DZOGoGtHkGMJ1aKOcIcrHwjSg6YBVtWuC2/wzAthmgeRULOIBGzUyb"
    "FGHn8F5x5QKCkCE+sMFlyyzHWKTURJAUTOkUaQrqW067LqzDls1KktOrqw8JSXJ6kRYVv3"
    "08Pb/u76WO12czxLHIljHNRn7kNK3amNu8MXNMn8DrLLXidpu5rQrXF+9j21kuo0rhelUk"
    "pWtcz1ns8ulrhElSQePs14VTupY/yLtfr5EJJczZGVH2deMtmxhFabWJhVVccr45eAV177"
    "sOX2GprGbYxUpLdhe5qObKEyELq7x0BataMeAI1gd06xUcKcb0iqAx5f8sR/YPdPspGGsr"
    "Nd58WGtEy0MEciLmcXSKo+YhQyqGzkW+vIi0v2KAk3qVfk5kOryI0OPJAmBjABhyHP7+YV"
    "1WYLm3JtbBHVrIvv6nOHRo24u8RP+13EMF0rc0kB7O0ZqZymm6LgQWN1EvYju+BosJF1T4"
    "Hm3G7br6MgaB/MoCXZxaGKdRWYXlQZ0GWYX8WbgtpfEdpM7sT1J1LnNn9adO7pHNfMWuKs"
    "Yxku5J8f1hpcPqJWfVs4lRXDI29EilaZW/uT0uqJzjJugpvM5SK263mdsm5BuNdwCvPrMz"
    "xIrXbea1iiQVb5/bGVNQkaSXyPWiSFL7St28EFdToxCeb4A8MRYQ+GR/j8yZLVuENQICy+"
    "oHBY5+ObvXVz3oWWf1emoHPemEXXoOloQOYtO0QgRBi6+Raofw0KODiKABPi1gCBH55QBR"
    "jsd34U+oHZTl6QtHf9B3hsVRukXBGbwVjp1b0CcRygr8E6qIT2vE/KAkovAMHqi2CfJ1u6"
    "Am2ObmplhyDXTZDHEH1dntVV8L/BINeZ2mVaxuNavLg7FlW9iScKyqz1m+n2XMlkpZNbWL"
    "dNZIqmkbL6oq2+mJ2KZqnRz+GaV3b5GJucaxKNDOE12Waeeis3hB0Rujitr5uRga+NTAp1"
    "5EhTb7c+RAoV/JOhavf5IZOAYyXEsk4ORr5MFo4bfCgnQef3j5sbDMB8IGQNb0S34nTJTu"
    "fE85oCDxHKBPeBfbSweCC5NC4/VJ/BeYUsT4gLJNjvuKAQ4EtVdYuTNDEi+t/kWZBK00CV"
    "RdT1XX85kQ3htWOdTJexVnFw0zBztVac/NzORgg62dmhij6twh5fVU+7Gw1sBxkyLrHNar"
    "d93wu0+nQh1rYM2naVWOQZuNefW5oBfCaOo6Oq1XsSRG0kFdYPX53Nz0NbGefzyx0IZLEm"
    "3OI7a7LpA9W264d3B0cLx/eBCacGFLmeWWLZMhncMhSE29y+kB1KbUNllVIydjnd63EbKx"
    "PuvlON38K4MyXxuM+izzrxUzdsWn1F6K9+iJEkeFip/btstJECqz6fI+8d0FdPd2q3y5kP"
    "cq1kx2s18uFJ+/JfW/mEue6Yu5z7NRruxI2bNuZt//D9YHjTk="
)
