from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "customers" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shopify_id" BIGINT NOT NULL,
    "email" VARCHAR(320),
    "first_name" VARCHAR(255) NOT NULL,
    "last_name" VARCHAR(255) NOT NULL,
    "state" VARCHAR(32) NOT NULL,
    "tags" JSONB NOT NULL,
    "orders_count" BIGINT,
    "amount_spent" DECIMAL(20,4),
    "currency" VARCHAR(8) NOT NULL,
    "verified_email" BOOL,
    "created_at" TIMESTAMPTZ,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "data" JSONB NOT NULL,
    "seen_run_id" BIGINT,
    "synced_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_customers_shop_id_ea284d" UNIQUE ("shop_id", "shopify_id")
);
CREATE INDEX IF NOT EXISTS "idx_customers_shop_id_7c5999" ON "customers" ("shop_id", "updated_at", "shopify_id");
COMMENT ON TABLE "customers" IS 'A customer as Shopify last described them.';
        CREATE TABLE IF NOT EXISTS "orders" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shopify_id" BIGINT NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "email" VARCHAR(320),
    "customer_id" BIGINT,
    "financial_status" VARCHAR(64) NOT NULL,
    "fulfillment_status" VARCHAR(64) NOT NULL,
    "currency" VARCHAR(8) NOT NULL,
    "total_price" DECIMAL(20,4),
    "created_at" TIMESTAMPTZ,
    "processed_at" TIMESTAMPTZ,
    "cancelled_at" TIMESTAMPTZ,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "data" JSONB NOT NULL,
    "seen_run_id" BIGINT,
    "synced_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_orders_shop_id_7c8b75" UNIQUE ("shop_id", "shopify_id")
);
CREATE INDEX IF NOT EXISTS "idx_orders_shop_id_f911d0" ON "orders" ("shop_id", "updated_at", "shopify_id");
CREATE INDEX IF NOT EXISTS "idx_orders_shop_id_35a0a8" ON "orders" ("shop_id", "customer_id");
COMMENT ON TABLE "orders" IS 'An order as Shopify last described it.';
        CREATE TABLE IF NOT EXISTS "order_line_items" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shopify_id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "customer_id" BIGINT,
    "title" TEXT NOT NULL,
    "quantity" INT NOT NULL,
    "sku" VARCHAR(255) NOT NULL,
    "variant_id" BIGINT,
    "price" DECIMAL(20,4),
    "data" JSONB NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_order_line__shop_id_093cfd" UNIQUE ("shop_id", "shopify_id")
);
CREATE INDEX IF NOT EXISTS "idx_order_line__shop_id_1cdba0" ON "order_line_items" ("shop_id", "order_id");
COMMENT ON TABLE "order_line_items" IS 'One line of an order (`order_id` is Shopify''s order id; `customer_id` the order''s).';
        CREATE TABLE IF NOT EXISTS "products" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shopify_id" BIGINT NOT NULL,
    "title" TEXT NOT NULL,
    "handle" VARCHAR(255) NOT NULL,
    "status" VARCHAR(32) NOT NULL,
    "vendor" VARCHAR(255) NOT NULL,
    "product_type" VARCHAR(255) NOT NULL,
    "tags" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "data" JSONB NOT NULL,
    "seen_run_id" BIGINT,
    "synced_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_products_shop_id_9cadd7" UNIQUE ("shop_id", "shopify_id")
);
CREATE INDEX IF NOT EXISTS "idx_products_shop_id_2b702f" ON "products" ("shop_id", "updated_at", "shopify_id");
COMMENT ON TABLE "products" IS 'A product as Shopify last described it.';
        CREATE TABLE IF NOT EXISTS "product_variants" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shopify_id" BIGINT NOT NULL,
    "product_id" BIGINT NOT NULL,
    "title" TEXT NOT NULL,
    "sku" VARCHAR(255) NOT NULL,
    "price" DECIMAL(20,4),
    "inventory_quantity" INT,
    "updated_at" TIMESTAMPTZ,
    "data" JSONB NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_product_var_shop_id_ec7e9a" UNIQUE ("shop_id", "shopify_id")
);
CREATE INDEX IF NOT EXISTS "idx_product_var_shop_id_85bbaf" ON "product_variants" ("shop_id", "product_id");
COMMENT ON TABLE "product_variants" IS 'One variant of a product (`product_id` is Shopify''s product id).';
        CREATE TABLE IF NOT EXISTS "sync_runs" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "resource" VARCHAR(16) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "mode" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "trigger" VARCHAR(64) NOT NULL,
    "group_id" UUID NOT NULL,
    "since" TIMESTAMPTZ,
    "cursor" TEXT,
    "bulk_operation_id" VARCHAR(255),
    "bulk_records_done" BIGINT NOT NULL,
    "max_updated_at" TIMESTAMPTZ,
    "fetched" BIGINT NOT NULL,
    "upserted" BIGINT NOT NULL,
    "deleted" BIGINT NOT NULL,
    "pages" BIGINT NOT NULL,
    "resumed" INT NOT NULL,
    "error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "started_at" TIMESTAMPTZ,
    "heartbeat_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_sync_runs_shop_id_4c6401" ON "sync_runs" ("shop_id", "resource", "status");
CREATE INDEX IF NOT EXISTS "idx_sync_runs_group_i_832ec3" ON "sync_runs" ("group_id");
COMMENT ON TABLE "sync_runs" IS 'A full or incremental sync of one resource (products, orders, customers).';
        CREATE TABLE IF NOT EXISTS "sync_tombstones" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "resource" VARCHAR(16) NOT NULL,
    "shopify_id" BIGINT NOT NULL,
    "deleted_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_sync_tombst_shop_id_b4abf8" UNIQUE ("shop_id", "resource", "shopify_id")
);
COMMENT ON TABLE "sync_tombstones" IS 'A deleted object (delete webhook): older updates arriving later must not revive it.';
        CREATE TABLE IF NOT EXISTS "transactions" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shopify_id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "customer_id" BIGINT,
    "kind" VARCHAR(32) NOT NULL,
    "status" VARCHAR(32) NOT NULL,
    "gateway" VARCHAR(255) NOT NULL,
    "amount" DECIMAL(20,4),
    "currency" VARCHAR(8) NOT NULL,
    "test" BOOL NOT NULL,
    "parent_id" BIGINT,
    "created_at" TIMESTAMPTZ,
    "processed_at" TIMESTAMPTZ,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "data" JSONB NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_transaction_shop_id_96661d" UNIQUE ("shop_id", "shopify_id")
);
CREATE INDEX IF NOT EXISTS "idx_transaction_shop_id_1a21ce" ON "transactions" ("shop_id", "updated_at", "shopify_id");
CREATE INDEX IF NOT EXISTS "idx_transaction_shop_id_f5fa3f" ON "transactions" ("shop_id", "order_id");
COMMENT ON TABLE "transactions" IS 'A payment transaction of an order; `updated_at` is its order''s `updatedAt`.';
        CREATE UNIQUE INDEX IF NOT EXISTS "uniq_sync_runs_active" ON "sync_runs" ("shop_id", "resource") WHERE "status" IN ('pending', 'running');"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "sync_tombstones";
        DROP TABLE IF EXISTS "order_line_items";
        DROP TABLE IF EXISTS "sync_runs";
        DROP TABLE IF EXISTS "transactions";
        DROP TABLE IF EXISTS "orders";
        DROP TABLE IF EXISTS "customers";
        DROP TABLE IF EXISTS "product_variants";
        DROP TABLE IF EXISTS "products";"""


MODELS_STATE = (
    "eJztXW1z27gR/isYfYnTUV1Hdhw31+mM7Pju3Cb2Taxcb+6SoSgSklCTAAOCTjTX/PcCfB"
    "HfaZKRZIreL4kFYEHyWQBc7LNY/jmwmYkt9/DCcwWzMR+8Rn8OqG5j+UeubogGuuPENapA"
    "6DPLb2yErfxSfeYKrhtCVsx1y8WyyMSuwYkjCKOq+RhFAkh30e2SOWS+QpbuChS0nGETiS"
    "W2D1V/JjNkh4Qumot6lHz2sCbYAssy9YB//DFwpZCqdANhjZiDT5/kb0JN/BW76UaeY+oC"
    "m5ouikScO21OsGWmkJOVssov18TK8cvOyeKKih/9tuqRZprBLM+mcXtnJZaMrgUI9S+4wB"
    "RzdQOyTHBPYUk9ywpxj+ANHjNuEjxJQsbEc92zlEaUdHADcdlA065vJtrt5UTTBjltRRIJ"
    "LYRFBqNK0/JWXR+AhbqFv/59NDo+fjU6Oj49e3ny6tXLs6Mz2da/33zVq2/BzcRoBV35mF"
    "39dHU9UTfE5HAKBpoq+ObL6EIPpHyFxegnVNRIC2m5h7URYV+ljqgg1kc8IXqmkFgB2NaJ"
    "lcf+YqnzYuTXAhnQ5aPUAD0c4Z3B3Na/ahamC7GUP49HRxV4/jp+f/Hz+P2BbPU8jep1WD"
    "UK6tIAzwl3heb/aoByWqoV1K3G92CwE6RHL1/WQFq2KkXar0sjrV4rjYFOCQHOdXB2hQSj"
    "CcZrgd7hezyqtWBUrBdZcIW+cPPY/uv25roY26h9BlqTGAL9D1nE3dqrcPCPuUcNhR+aec"
    "QShLqH6nr/3Bb0FVArfFTPtut+tpIQH7wb/5ZF/+LtzbkPGXPFgvu9+B2cZ1TBuCltZIm1"
    "F9gT9a2TrGQr+6Rrr8pHMU90W2GouQ4u0sEbbBBbt4qVkBXNzpBA9jDsY/8UUoHtm8uLq3"
    "fjtwejo+GJP/rlrCACJxelk5yhYnicY2qsmqzsSZneLe5nNdb2s9Kl/SyL7z3mRHZlaiUm"
    "9zljFtZpMdB54QzcMyndqzF8fnPzNrWkn19lVovrD+/OL98fvMiM8PwiYnCc8ApklhBZI4"
    "iNS8Z3SjK7goSih9EfvcJ/cvXu8nYyfvdLSglvxpNLVTPyS1eZ0oPTzHRYd4L+czX5Gamf"
    "6Peb68vs63fdbvL7QN2T7gmmUfZF080kJlFxVJTSctr300TLackNaLlrroU+qVm5kpoYyF"
    "H7bhjI6rK9MZBdjKnGPdrce5cWBPO4rXnsrqjRaslLCcKK1+kVT/m6WznIwTveZn4ppmh+"
    "V8pW5NXwI+OYLOi/8cpXxZW8b13OrgLoQ5buNuxmz1TwLRpjUWm8CnP9y5paSw49+ezyiX"
    "FgmF+Mby/Gby4HPsIz3bj7onNTS0GtatiIZUrWbfNV9sjOluhUX/jgqKdQ9xyifqOcMoMC"
    "0jSoGFYxpoFDx2/zMF1Kkd+8gvEkooAqrS22TZp0iOJWEXUL/Oljv/CBP+2YQmIFNOWbek"
    "s1nZ7UcJednpT6y1QVUNM7paaTC3yj1SMjCPu3tqvHnFBpKhLd0hRH6hUwf1UhAnlZWFUe"
    "XFXmnjUnlmVjxQ01B71QGmB/EHZgl7bLLgkm5ErgcGIUmCOVPGlGEmjSpAYKaFIgk56Az8"
    "3hzMCu20rPWVnQdJc1bShfnWW1m9EZWdB0lzUNBPGTUDMQxG3UDARxLx0MQBA/gRUPCGIg"
    "iLuggj4QxG8JxVcC24MyonjdYPggYaxZsq1GZOOa1PENxUjJIDZHesQHH0yDzog5RWTNDT"
    "9zw2pi/oCmCYf8VJ2nDeqeuc/zPPOWrvH9pHR0B8A1A9fc9ZXucYy59QxpBH9SCsBvDT6Q"
    "pY+tAUGEVUBuTPDXEuTXAj0gj6r2K5e/Taq37uvtytub65+i5tn9fBrsz55OJX4FfF3pQE"
    "+K7G6hOdruGB+9OHl1cnZ8erIe2uuSqhFdsBO/8/JYVpyZDpr3YOTu4ET6vc6JHHuNl+a0"
    "HKzMbVfmNrQzEM7DeoQz+LPbQL0dfzY42sDR1gEV7Lmj7RfOTM/3g+VcbFHVsMq55gSNaq"
    "evC9s3PZBRXw4S14EzDJxh4A3orTdgqVOzCO3y/Wss0QO4d5RUrVkoeo/DzzefVu0eU5Px"
    "JvDGEr2DdysDODSWApga4JyVA7TroA1pAtu8G7fiFIADAU8hxgqCh5+EmsHZ2pl1FYKHH3"
    "uLDcHDT2DFA04DOI0uqKAfnMavQUTBoJzaiFoMazAcWhig0CB8OJTwo3vXBMbBNOowF+Ab"
    "NSFmSazw93b4/dxIfClgQ4AN6fo69lgROOs50kgBaTlQANBR+0BHQSzlNv34EMu3tVg+Qu"
    "8xFYyvtBbx1cXCPXJvbCzWukPO2o4h3SfPBfhq26gZAmP33/AEJ1I/nUg+6gWuo0gb5Q4j"
    "9UANvEQ25sZS2hDPXORKiwIfogm7w9RFOsdBiYkYtVYq9PVHzCkWyCDOEnMh9zPoYPoXDV"
    "NjWuIx2mTnBd6jjJ8IPEKd9AiZzJZ31GSXFktsZqP2uErY/kZNN1SWQTk15NxSM6aJ86FI"
    "tg9Js3ftiOB4Lq2iZTslFAqDFpprIT2avzpEwtpi71fRDWwEu7wRzEyk1gOgqh8YAV0eAa"
    "7B1P03WHxjiR64hXe94MJHT7Zp2EVp7yWAZiOYc4K9w3vDSfMpxqarcSzXlmXBZrHqg8xZ"
    "0XafY26F9bpkbz/ITJT/qWXO7awsvJi7/GKWmH6HrvPSoO0ua7tDR2G65pmWmwvdvKHWKh"
    "yBe6L2cLLA0ZgnpfWCye7ffY53eiSaZEWN9x4dFDElYdWwkiyRjdQBkdoJROby+ohxRKhc"
    "p9S3v3QLqU5UUCyjGElUmccNjA6i1CTDIDuu/D9K/1iUi3djPX+kH+lYIFuqOBDzKHJUXl"
    "/FCw3XvTxXoboOpqa8vrqqbCbfsIvXKrJX54LIiwczB/nzRf77kapMvzZZyEmn6GtM50x2"
    "5CKimBrVWFujqUkUyT2ePj9UyYK5y/gU/Q1NZ551Jw1lQ962q5ny7qaKCAo6NpbYuHOYnC"
    "7yFuRdejY2/ZuX80gQ6skLzTmza1JBcchw9MC+IRqck/+kPm274MxzIJC4u7RRUnF1t71J"
    "md3teHdGHr04rbHpfZF9E8S7XlWV3n7dyedqAnDUHsCtAa7d0Glj99VXs3lo9yRHSviC3V"
    "eU5dUXC9woV0pCpHfDePOfQl0bITmEP3y4elOMcFImA7HnEfNQSe7hYlwBbZDjJxi4ya2L"
    "/6SZdYHQwpD16jPKpDgADlxK3XIp+RuJJsxeLAGxFM2pPX+3xhwc7PcKV6ny90ChcB+0sA"
    "PWL7dNbrYNLRTvTRb+HR/mU9pu79XMS8MrpsuvmDkWxhI3dPskhGCWtZtlnuOqmO+GwCel"
    "APl2yAcHHhoCnxAC3Fue0tcXRVFqlQf0IxHAvB3mIauQR70U8oREb0Df2NFazHmz7dhaoA"
    "/7gF3vxiCgonxg7ye1XiegwhU6b6f1tCRsO7q87VhiqauZnKUt9JyVBU13WdNzQom7bDWh"
    "M6Kg5y7rGbIgQBaELqhg37MgrKgxYfbMFcqNXRLkFzcYPhjqJ6K2tQP+Ql8HYrP/YpXuMv"
    "iNvuDZkrG7568Rs0zMUeDlVYkNOLlXMXWW/MmR7bkCUSYQx/fkHpd8XWwr16jMtpmKiivP"
    "vAmhcRAa19WlbeshRpDItBOu6Ramclqyhx4PMJXBVAZTGUzlhKk84Tp1dSN86pyhnKyuNJ"
    "NF3LD+V3X1lTqwghKyfpJ4GhxQ+QFN4yAIP0c8EW5Q9cxd143FtPDLu5vse5tf51WHSqJW"
    "/vXhcMlj2xKQpb5jCokVsJ4hjeBPSgH4rcGPjgs2xj8j2KOE0zvWQPfPXe3t93335GjQvs"
    "K7kEB80QuS1ZfjmxDpHcDbyedpM48WeT2qvrwQC8GnF5LY5z+9ECXHajKGkzK9G8QbzqUl"
    "sFsweCtzaEUikDurQe4sR5dDssWHnpJiYMK1NqK7E5DXMX30yTvtcKZSAbfSc1YWNN1lTU"
    "PuqiehZvhUUBs1w6eC9t94Aeavn8zfGHNiLAcFpF9YM6zi+/S4zUNMXzmgG/42z1Mhwb7z"
    "KFY5vXWPuRsyvXUdHAmRHoaHbcdN5xQsmuUIh817iO6Lo6M60XdHR+Xhd0d5Lx2jAhd5Qc"
    "tttYTI7s21x7G/N2aY5ayDXb7Mvv0fLD7P7w=="
)
