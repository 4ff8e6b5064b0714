# aerich also proposed dropping the pixel tables of migration 2 (their models are not on this
# branch yet); those DROP statements were removed by hand.
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
COMMENT ON TABLE "compliance_requests" IS 'customers/data_request exports for the merchant, with due dates.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "privacy_audit";
        DROP TABLE IF EXISTS "webhook_deliveries";
        DROP TABLE IF EXISTS "compliance_requests";"""


MODELS_STATE = (
    "eJztXOtT2zgQ/1c0+VK4yVEIz2tvbia8Wq6FdCB37fQxRthKosGRXEsGMj3+91vJr/gRNw"
    "4kBNefwNLuSv79pJW0q/hHY8gtYou1Az50bIqZSc7Jd48I2XiFfjQYHhL4Z7JQEzWw48Qi"
    "qkDiK1trmZG44fryuh5fCeliU7XQw7YgUGQRYbrUkZQzregJyYfEFS8tLHGojMidw10pUI"
    "+7SA4IAglzgJlsolsqB8jyCAJ5ItZUKxY3oRnK+spgG13m27x8pS2FlS9E0EgTXXnUlpmm"
    "tGmPUVA2JO8TqHOhgS9fGmLAHVVJbgiTBrUa377BE2UWuSNCiahH59roUWJbCXBBFqp0uS"
    "FHji7bp/0TJo+1rHqZK8PktjdksbwzkgPOIgXKNBl9wogLGKgWpOspbJln2wEjIdz+C8Qi"
    "fi/HdCzSw56tGFLafgfisoZhnHW6xsVR1zAaGfZCjTH8gyKTM8U8dFVoAPqqC7//0Wptbu"
    "621jd39ra3dne399b3QFb3N1u1e+93JkbLN6UxO3lzctZVHeIwvPwhqArutY4iXWtpMmL0"
    "JXeomSXgYIDdfPgjhRQD8GppBkK8iygIC2IO4kmxCBKG+M6wCevLATzubBXg+2/7/OBt+3"
    "xlZ2s1CfJZUNPSVQruGN5oOpRAeFyngiC3trenQBmkJsKs65I4jzu1XLiLPEqO8s/dSw7u"
    "gfdYGtgX6GBiJsK1pDQLKcWagQczQIaY2mU8T1ZzJv+zbCwk3M9ma30K9wNSE92PrpsAuQ"
    "NokZkgjzSrB/njL6vctWArG/pskuNp/r7onOUjnqebwtyipkT/IZuKaZzOTMtt48+ex0yF"
    "q7/Vpkysqfb+asyJkgIKFFbK8lCI7/Y49Cun7U9pVg7ed/Y1ZFzIvqutaAP7KYqExNITZa"
    "ZCrLG4XU/DIcxSsC1kImzsTDERNnYmTgRVlUQ5GsUGllmsDwEtSYckH++0bnoSBMpr4T/P"
    "cOdZAHf35PToots+/ZAY+Yft7pGqaenSUap0JU1NZAR9POm+ReoRfe6cHaUnSCTX/dxQfc"
    "Ke5Abjtwa2xjEJi8Oi5BYXztzlSY61anqXml4dLSKzzeS07iNQvWQbiiox7YfYymxZYo0H"
    "bVSeD6dz2ZGYLsEzzq+EZgUdKewFsNVh9igYJc9kugUDunC2qcB06VjEmNJMcYil43dhgQ"
    "gV5u9d54aawxRBkoZj7hLaZ+/ISFNxAv1WKZMc6IMszEVg5plRcB+OsbA0Hr8uvo3yIuND"
    "D94d3hjWdVV+0L44aB8eNTTCV9i8vsWuZSSgVjW8xVMlkWy2atgapksww30NjnoL1ecA9Q"
    "8uvcHmqO1ZNDc3lqhvFqXFHF/SwJHoTxNigXEUptHgH5PQG2IhzCwU7X7QCuPIgcM9Z9hW"
    "uTC8ms2FdQdYIoycpEl0iydZBShSVpuIg6sECQ+4XfvKvrLugEAZQXIArSDegwYUj/AMjQ"
    "nPvQGzAl2qspcuseBlLxEViMKrjJUhl9+iAXFJcZrNsPgQBpAGNUzG1Gm35XOFzYK0W4rH"
    "qUMkSbU6OzRddqhOctZJzgoM4zrY98vECOpgX6XprYN9vwrTsKUXBu71iFkyTZlRXI4cpW"
    "q2MjlKxmWpZH0ov8D85LygntN2JRP+eZpohY4R5UQpwtjR5OiEOmFNeU23w+KLsS/gIC85"
    "nNxRl18TJhB2iV9i+cECLNAxcRmRyKQOHOcluZNo5fI3gzDzMidM8djGc6IJdaTgOUQKyg"
    "cJHjs+8LQkzP9YhU2TCAFTA+aWmjFZrLswn/KxztOtwgWuoi3Y0adu8Uoc7cDed87ehOLp"
    "5Tl9tO3BOj2YjYRc5ZqF8iwkR/OdQwHWGU4oBWbqw8pSH1aSE2nmAVBkpx4ByzwChMlV/0"
    "s431ijAqeiRTtc/bfE1i6UrwDUC9jYmZ7rwm5gBABaJS/lpxQrh/feFGjvTcR6L400I8RS"
    "V+rBtwxyDouc2wSzCUM6pZqC+gp054V1VLJYT7Lf6bxPeJL9k7Sr+Od0/+h8ZUMTAEJUJg"
    "6LY0dzdVvGtmeKI6d164V5mRdmwPQBXGe1a7aXme36qurkday6V1U9x5qR9aRmzfqysJ4z"
    "2XXvS6RJUknj7PdEUnutwMjxu3NiYw1zdkQUfc/kmQ2MSddq7+eZXvpIrgacXx8Sm94Qd9"
    "TIyTSlRZpFSadbX1jd9lXSlEyZgTpSplGgjQLtUXyPdWVIJFaZBZ0mWn2tv+ViEctz0DUZ"
    "5SedQmv6gpbKLKmcGe2NQvNglsrXyOdf3YvVN1ibSF+Z0zdnfU1q6ZuxbzkAihL9QCsMRP"
    "wPyzh4ZHNsrb4af0J9TgQY1GXa7guBAAjuPuLF2IxKiJpyot/qZNhSJsPqa7P1tdknQnij"
    "NU3MBKQm/3q7lYmb1DdnFzOSwwW2HNJJrcrFAOeTTHeoAYu7CDae00KdUqsc1putqT46U/"
    "DNmYxzdmm/r7ZjMxwX07p1MGh5zod5Wdl4Y1qS6JRqBQMDVSKaexLO+KUyVWMqFdwLPP73"
    "cuDoa1NTfSU1i/Lk7wMmlBb3g/D1eYHsn+VaG1u7W3ubO1vRES4qKTq5ZbNQNhbSiECawU"
    "3lGqgXpWXzVUtyubtNXGoOGjlBt6CmWRRrw7HMz+Jrk4l95NvUv0r06IEeZ3JcaIYTx5Oc"
    "Np73KVpNqhIIB+IVRHdjfZpviILU5J3JevYbopxJwkp9F2pMZfG/DnuahfLRfgf2pIvZ/f"
    "8Ec9jW"
)
