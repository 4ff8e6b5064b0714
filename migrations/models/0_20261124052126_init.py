from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "shops" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "domain" VARCHAR(255) NOT NULL UNIQUE,
    "access_token_enc" TEXT,
    "refresh_token_enc" TEXT,
    "access_token_expires_at" TIMESTAMPTZ,
    "refresh_token_expires_at" TIMESTAMPTZ,
    "scopes" TEXT NOT NULL,
    "needs_reauth" BOOL NOT NULL,
    "installed_at" TIMESTAMPTZ,
    "uninstalled_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "shops" IS 'One merchant''s store. Tokens are stored only as Fernet ciphertext (`*_enc`).';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztmG1Tm0AQx78Kw5vGjnUiUWP7LrFpm44JHaUPY6dDL7AJjHCHd5dqpvW79+6AEB5CNV"
    "Ubbd7B3u7d8vvfLbA/9ZC4ELCdU49E+ivtp45RCOIiZ9/WdBRFmVUaOBoFypEJD2VBI8Yp"
    "crgwjlHAQJhcYA71I+4TLF1NDFoI1PEQ5s+YxjihsKNZ5Bww0xCF2OJqBAczDTHtDVAMXH"
    "P8yAPK4Yprje/PbcDO960duaJLHLGkjyf3MfkU+xdTsDmZABceYomv34TZxy5cAUtvo3N7"
    "7EPg5tj5rpxA2W0+i5St60/6mL9RvjL1ke2QYBrizD+acY/geYCPubROAANFHOQKnE4lVT"
    "wNgoR+CjpONnOJs1yIcWGMpoHURkbHCWQ23baHpmWf9izb1ku6pRELtBOTQ7DUXKTKFICJ"
    "TOHFS8NotdpGs3VwuL/Xbu8fNg+Fr8q3PNS+jpPJaMVTKWb9t/2hJRMiYmPF200arlUM4i"
    "iOUmJk9F0SiozKChx5iFbzzyIKGoiHK2qQEl9fEUJ0ZQeAJ9wTt8b+fg3gT52To3edk4bw"
    "2spjHiZDRjwmiWeEkeMAY+JoiLMlT0yZtSXOUzXrqtiVqCdM59BTl4x6VoUeAHsNZav3RW"
    "3ikLGLYBFuY9D5oriHs2Tk2By+Td0XxDg6NrsFDSiMKTBvNREqgzcq3F6F/G6+inyB1Ua8"
    "rMVrgZD7IdzkUOSmKajiJvPspBdPS6P+oHdqdQYfckK97lg9OWLkREqtjYNC6ZpPon3uW+"
    "80eaudmcOeokkYn1C1YuZnnekyJzTlxMbk0kbuIpPUnJrqTuHKG6Buns0OWOcdwBwi879F"
    "8c0i7uZr4yZi6voTKbgYwGU2BaGJV/GRTUgACFdzL4YW6I9E7H3hn1seVoGuaR7nFOj2i4"
    "g/Drq9k8aukkM4+Tz3kb3wSyPWREEA7grFrRi7KWjrXNAE07/Quhy9UXud1XZEPeQrKZ2P"
    "vAOVV6qs9/kjLR7QNXEwS3bgI5E9OSz1ZzxyV1Q9H7lRfV1UrzjsKnvZoxyfL/TJpGGEnP"
    "NLRF27NEIMssy3PBQaYdGCMJoozSRcmWbSRu4A9R1Pr2gwJyPbdS1mlPn8qce8XOc77uf+"
    "L81cY3evvXfYOtib93DnlrrW7Z/btD+AMplSiezyPu1CyMP9Oj3yVm0U3YZw4v4E6e42mz"
    "egK7yW0lVjebpiRQ644iX6/tQcLvlsykKKb0/f4dovLfBZqVY8Ato1cCWM+kZA8Z+/8O6T"
    "E8hGwD99mV3/BsyBUPo="
)
