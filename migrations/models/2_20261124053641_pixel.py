from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
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
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_pixel_event_shop_id_5ed9b3" UNIQUE ("shop_id", "event_id")
);
CREATE INDEX IF NOT EXISTS "idx_pixel_events_shop_ts" ON "pixel_events" ("shop_id", "timestamp");
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
        DROP TABLE IF EXISTS "pixel_daily_aggregates";
        DROP TABLE IF EXISTS "web_pixels";
        DROP TABLE IF EXISTS "pixel_events";
        DROP TABLE IF EXISTS "pixel_daily_revenue";
        DROP TABLE IF EXISTS "web_pixel_versions";"""


MODELS_STATE = (
    "eJztXVtv2zYU/iuEX5YOXuA4aZJ1wwDn0i1rExeJe0GLQaMl2iYiU6pINzG6/PeR1J26xF"
    "JsR3b5ktgUD0V95/Dw3Ch/b00dC9l09x2+R/YZxPa8Nx57aAwZar0C31sETsWHsm5t0IKu"
    "G3cSDQwObUnnCgLDEhQGDElkFzikzIMm471G0KaIN1mImh52GXaIoH2HPEAnjtsG7wenwI"
    "JzAIkF0DdEGBDzegUmzh2YQjL3G6m8bmHKMDEZMG0sGnfFzSzH5HfDZLzkcWcEf50hgzlj"
    "xCbI46N/+dISY8ubwrn4JyH85x/+CRML3fOn573EV/fWGGFkWymgsSVoZLvB5q5sO8HjC8"
    "Jey75i3KFhOvZsSuL+7pxNHBIRYMJE6xgR5HG8xR2YNxMQk5ltB7wJUfefIe7izzJBY6ER"
    "nNmCUYLan0Dc1jKMq/7AuDkfGEYrw8SQIoF/0GQ6RAgAnyqVAIzFFH75tdvd3z/qdvYPj1"
    "8eHB29PO4c875yvtlLRw/+ZGK0/KEkZhd/XlwNxIQcLmW+MIqGB0kDGfSpJDNi9AOWpeE/"
    "4xDmgx90V9DnoyOGp2jXCpZHkg8h6mWMCBtiTsQrZA2sKEH1rDc4lxDGkMn/GcxOJ9DLxy"
    "zsr4DGJ7CBULWm8N6wERmzCf/affmyBLsPvevTv3rXO7zXi7RcXgWXuv61NL6mM/NX8+I6"
    "ISJ5XC1sAsZr1AwJTRCoeyNQ99U4kEetmVGbGTNXqFLLgDkL4SzQtvmMSFOWKWrxYRMZ4i"
    "Fo9Yk9D/brEqwHF5fnN4Pe5TtxuymlX+1QpYsrXdk6V1p3DhVdFQ0CPl4M/gLiK/jcvzqX"
    "8DqUcROPpvoNPrfEnOCMOQZx7gxoJTEKm+PZx1wXdpRR1R5KEOkFV2nBCZN0dJtrFoUWbZ"
    "oNrx0P4TF5g+aSFRd83pCYeZt74D3cBMNsGAseQhkLW1uRaezBu8iGT4oef3b+xIj5tlDv"
    "5rR3xu0mgfAQmrd30LOMFNTiitN1lJaob/bStDtVWyCBYwmOeAox54zPdi3cmdkjjl3Yqb"
    "2oW+clCGr6dObM8xAx56+A6UxdgRtvmyDz1pkF3hf3rrAHglst6tLVGXYRjy4cV3t1zdFe"
    "be3VLdOri0Q8g1uxZ5ek2ULv7ngB3+640LM7Vv06x7OQV9GtiGm0bVPbmUjsV4pGQCaeQj"
    "sf+gSVqhh8st2AfAP5UKYazk8vLntvd7qd9oGUbe4fYN+sCWX+oKOKtnbXikVeu2vaXdPu"
    "mnbXyt21c5F3ahX5af7V9uMOmp++Wswz6xPEHSbKnCn3pfxkGKTCQQJyLCC0BfefMAM7FB"
    "LMMEXWi9+Az3XgBg5YIpWGrayftqqblHptsqfgtOqufW/FPEmKg9hb+OKYui1BgO5driQp"
    "hyliXuzW3RtJpA05iI94uJjkDO45+PLLg3YRG+kiRjJSwd9J0myhv7OSbJbOFq4W31h1Vb"
    "S8U4RbaHhvrqEtm9LBGZlUrKitUkR6OS22nCj6WtGf8Qm0L1M7PCMxqyDXYf8tFOm9wwUk"
    "ek/VRLFAi0tqMQlh3BjN4vv3Tf+qqJgkIlG3BWwy8B+wMV2ZdLd+H82IKVAEwxm2GSZ0V9"
    "z2j9b6twkBUWqHCIHeuex9Unlw+rZ/oqp+McCJWmbCDdIq3Aj7a1YsnRUeMhH+VitsqZBq"
    "86nR5pMOVOpAZRNYsOGBSol6Togy5EZxcFI8UIWo5BR55gQS9hMFlHHZ2AUD5xYRCqCH/B"
    "YLOMSei1Dia+QRxICJ3QnyhN0Cdv792UDE/PdFfjRymYPnRCF1gUhT1FC7JPpnOVM+oype"
    "R0yxHL/jeZmwekcamiailC8NvrbEisliPeDrKR/rPNpaqAeYNkz/59pU558G5QZuZFK97V"
    "/9GXZXrV7VwB1xK2pSjwm5xJoL1bmQluZ7F3NYa7gcJcMswf3YIB5tmvehLKTaAlA2jpaA"
    "JksANR0X5VT+FSvfmGJ9Uc7WM8R1VqJwm59yXBnU6zieGBT9cgCtSjBnCLcO7yUXDBOELG"
    "p4iOuWSY6z6Dg2gqRApBVSBeohp10V1lHLejXJSb//NqVJTi5UVfH+8uT8emdPqWrNJqSw"
    "iD/Zdq3AsEqrN+Ymb8wc0yfwOkutud1kbptcH9arUk9TbmG2Z0Or1IPFUr7G9dmELeN60d"
    "mETN6pOE0Si0fx+4oUcysY5/Wba2RDiXRWKMpfmrRh0lGUrUqtroJzwcvALnEueXuRiwv2"
    "nwhZdERgW7CqlMmMYb1DQ79CvxjTPkEDh/95HNmPaPguHGsj7bZ8WCvkfCMEcvK+SXSKc7"
    "8RQxZMAA8mSJ75+IkCTuofE3kFMKNA5JnxaA6w1QYUMcafPzrUD9zZ0MYmuEVz2Td4j5sJ"
    "PW+ezQOv6B46Hbyh6eBIRiuWWKt025AeW0eRNYNslrPpFQMdU6wxaIgJV1T4G1pP8HD5tb"
    "+h/soCXVxumqTRJaflqYkaJad8Logyg+8gVaQ/TbV19SeHBwtI/uFBoeSLS2mYvyGPBobd"
    "ohgnSLZPi+93F0B4v1uIsLikFjVwzVgzrqLS6qhpcwIp2fiZhZ7C6yy15naTuW1DvtH455"
    "yrMztDrHndZF7rfEjx9rmZkXGdD/kRuV6UD2neEagfJNRUKxEVOCBPzAWEMdkPsTuzYYuw"
    "QkLgsXNlYaB/xafKnlWqV3Om7EnnxFQZLEkdJMR0gQyCkVwjix0lQ/cMEUEDAlpAESLytV"
    "Mc1TCEP3I8AP03Te2IQH/Yd4LFgbB5wUmyJY6d+zqrVCorjE/oNxA3Rs23SzIKzxCBapoi"
    "X3UIaoQ97m6KJVfDls0Qb6E5u7nma0FcoiavVVrN6kazujwZW7aFPZKO1e9tKN/PSt7bUF"
    "JVU/nlDRWKaprGi0WNbVUQm/QWhx7ysDnJM8qDK6W2OIz7PGZ/F6O65DqZH8Wk7e4dHB0c"
    "7x8eRCs/ailb8NpYbUbVi1hUFRAOum8hunudziKlLp1Oca1LJ/MTBPKtdXm/m/jIi+5yfz"
    "dxDaUuz2MMLq2opUKIc/mb2cP/YjGnvA=="
)
