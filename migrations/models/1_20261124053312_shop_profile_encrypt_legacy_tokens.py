from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    # Data step: rows from before tokens were encrypted at rest get encrypted now.
    from server.security.rotation import encrypt_legacy_plaintext

    await encrypt_legacy_plaintext(db)
    return """
        ALTER TABLE "shops" ADD "name" VARCHAR(255) NOT NULL DEFAULT '';
        ALTER TABLE "shops" ADD "currency_code" VARCHAR(8) NOT NULL DEFAULT '';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "shops" DROP COLUMN "name";
        ALTER TABLE "shops" DROP COLUMN "currency_code";"""


MODELS_STATE = (
    "eJztmVtv0zAUx79KlBcKgmnLLi28taNA0dagLVwEQsGNT5toiR1sl62CfXdsJ2mapA1r2U"
    "ZX+tTm+Bz75Pf3JbZ/mhHFEPKdc5/G5gvjp0lQBPJPwf7UMFEc51ZlEGgQakcuPbQFDbhg"
    "yBPSOEQhB2nCwD0WxCKgRLnaBIwImOcjIh5xgwvKYMdw6AUQbiAGiQUblIQTA3HjFTACwv"
    "CC2Acm4EoYjW9PXCDet8c7qkVMPdlkQEZ3UfmYBN/H4Ao6AiE9ZBNfvkpzQDBcAc8e4wt3"
    "GECIC+wCrCrQdldMYm3rBKMeEa+0r0p94Ho0HEck948nwqdkGhAQoawjIMCQANWCYGNFlY"
    "zDMKWfgU6SzV2SLGdiMAzROFTaqOgkgdxmum7fdtzzruO6ZkW3LGKGdmryKFGay1S5BjBS"
    "KTx7bln7+01rd/+odXjQbB62dlvSV+dbLWpeJ8nktJKqNLPe617fUQlR2bGS7qYM1zoGCZ"
    "REaTFy+phGMqOqAsc+YvP55xElDeTLlTXIiK+vCBG6ckMgI+HLR+vwsAbwh/bZ8Zv2WUN6"
    "PS5i7qdFVlKmiOeEkecB53JoyLGlRkyVtSPH03zW82JXop4ynULPXHLq+Sx0D9hrKDvdT7"
    "oTR5x/D2fhNk7bnzT3aJKWnNj915n7jBjHJ3anpAGDIQPurybC3OCtCsurUOzNV3EgsbpI"
    "VLV4KRGKIIKbDIpCNSVVcFrPTvZnszTqnXbPnfbpu4JQL9tOV5VYBZEya+OoNHVNKzE+9p"
    "w3hno0Ptv9rqZJuRgx3WLu53w2VU5oLKhL6KWL8CyTzJyZ6kbhyh2grp5tD1jnHsA9qvJf"
    "YvLNI27na+MmYprmhky4+neJT7vMfwNQ38OHnTdmTH4NTCRAvBTmSuDG8W7dgHZrIetWmT"
    "QBwNxlIOcWf85mkdIQEFnQpUuhJdQDGXtXrKeW+51JOrZ9UphJOr3yVPH+tNM9a+xpAaRT"
    "IAqbxZmtuWwThSHgFRbpcux2YV7nhVky/Qutq9FbtddZbU/Oh2IlpYuRt6DySjPrXR4IyR"
    "fENgknaQ98ILKng6V+jMd4RdWLkVvV10X1OYNdZ6/O2ocXM+e9yjBA3sUlYtitlFCLLvKt"
    "FkVWVLYggkZaMwVXpZleh7SBBZ5vzrkoSUue1l2VoNznT3cli3W+5XuJ/+VSwto7aB609o"
    "8OpncRU0vdFcSfrxt+AOMqpQrZxbulmZD72yc98CuHOF6GcOq+gXT3dndvQFd6LaSry0r7"
    "fkoEkDmL6Ntzu7/gsykPKa+egSeMX0YY8Mpc8QBo18BVMOoPtMpnV6W1T1WgDrT+6WJ2/R"
    "ulsTJX"
)
