from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Billing: each shop's charges as Shopify last reported them, and the usage-charge outbox
# (a row per shop, period and day, committed before appUsageRecordCreate is called; its
# idempotency key is what Shopify deduplicates on).
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "billing_charges" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "kind" VARCHAR(16) NOT NULL,
    "charge_gid" VARCHAR(255) NOT NULL UNIQUE,
    "plan" VARCHAR(64),
    "name" VARCHAR(255) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "test" BOOL NOT NULL,
    "amount" DECIMAL(14,4),
    "currency" VARCHAR(8),
    "trial_days" INT NOT NULL,
    "trial_ends_at" TIMESTAMPTZ,
    "current_period_end" TIMESTAMPTZ,
    "usage_line_item_gid" VARCHAR(255),
    "capped_amount" DECIMAL(14,4),
    "balance_used" DECIMAL(14,4),
    "approaching_cap_at" TIMESTAMPTZ,
    "shopify_created_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_billing_cha_shop_id_d9aacd" ON "billing_charges" ("shop_id", "kind", "status");
COMMENT ON TABLE "billing_charges" IS 'One charge of a shop as Shopify last told us: an app subscription or a one-time';
        CREATE TABLE IF NOT EXISTS "billing_usage_charges" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "charge_gid" VARCHAR(255) NOT NULL,
    "line_item_gid" VARCHAR(255) NOT NULL,
    "period_end" DATE NOT NULL,
    "day" DATE NOT NULL,
    "events" BIGINT NOT NULL,
    "billable_events" BIGINT NOT NULL,
    "amount" DECIMAL(14,2) NOT NULL,
    "currency" VARCHAR(8) NOT NULL,
    "idempotency_key" VARCHAR(255) NOT NULL UNIQUE,
    "state" VARCHAR(16) NOT NULL,
    "usage_record_gid" VARCHAR(255),
    "attempts" INT NOT NULL,
    "last_error" VARCHAR(255),
    "created_at" TIMESTAMPTZ NOT NULL,
    "sent_at" TIMESTAMPTZ,
    "shop_id" BIGINT NOT NULL REFERENCES "shops" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_billing_usa_shop_id_7b79fd" UNIQUE ("shop_id", "period_end", "day")
);
CREATE INDEX IF NOT EXISTS "idx_billing_usa_state_5c745e" ON "billing_usage_charges" ("state", "created_at");
COMMENT ON TABLE "billing_usage_charges" IS 'One day''s usage charge of a metered plan, committed before Shopify is called.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "billing_usage_charges";
        DROP TABLE IF EXISTS "billing_charges";"""


MODELS_STATE = (
    "eJztXW1z2ziS/isof4m9pfE4TiaTS+6uykk8M7lJ4qnEmd3a9RYFkZCENQVyQNK2bm/++3"
    "WD7xRJi7QkQwy+JBaJBsGnQaDf0P3vg4XnMDc4fsNdl4vZ2zmVM3bwivz7QNAF/lHfYEQO"
    "qO/nt/FCSCeuopjETS1btVX36CQIJbVDuD2lbsDgksMCW3I/5J5AogvBSExAvCmhJJh7Pq"
    "EB+QL/8+mSuDQISei5DomCV4QKAs8nQTTJOiGeBDJPsO9CvlAjdDwbngoj2UL/V8KPJPSH"
    "r3LLwznhYUB8l4oRCUIaRsGIhAx6nLp0Bn9KTl3o1CE+k9xzRupvJIkCCiMCuNgxDjkS/I"
    "+IWaE3Y+GcSRj4P/4Jl7lw2B0gCT//cYAjx7bXcBX/j5938E9s6F9bU85cp8RBrpqp61a4"
    "9NW1N3z2XoQ/qbYI1cSyPTdaiLy9vwznnsgIuAjx6owJJmnI8AmhjJCRInLdhPUpb+PXyJ"
    "vE4y/QOGxKIxenA1LHA8ivHVjWp4tL68v5pWUdrEyVlKLA3eSS7QmcZjDUQAGgZvJ3/3F6"
    "+uzZj6cnz168/OH5jz/+8PLkJbRV41299eOf8WBytOKuFGbvf37/6RIH5MFcjuc6XvhT0d"
    "CQxlSKTTn6KZvK+ON3VI9+2r6CP7xYFf8U7TYGpBdyDuTf3y5YsKB3lsvELJzDz6cvWtD9"
    "/ezz21/OPh8+fXFUhvhTcudU3UKwc3DjL9qa1U3xZojLVJsB+nFnegnm0x9+WANnaNUItL"
    "pXRhrXti4Yp+17oZtgp+csfvF8DXRfPG8EF2+VsVX/d8A2bT/AJWIrczfZITsgnFMMEOPN"
    "L8Mo6tTIGJ7nMirqEU5JKvhOgGZbAGdXtoBwm9hwcfEBe14EwR9uLEdUhIhPXz++OQfIFe"
    "LQiIcl2SLHmS68SNQg/Y7ZfEHdeqRzogrWTkx1nFDv37rcAvq787fvP559OHz6fPS8Ams6"
    "w5+frEgTkZRM2MtOskSBZnh73cs1VoqXjQvFy5V1AvUgy6HLmsW4UR0pE92vlmxquTjZFs"
    "KxWnL69PmPz18+e/E800ayK21KyOqiEOPDhBNYtG5tAFhQY20Dt0BcXSMS6uP0j/2b0S1g"
    "Xr7/eP7l8uzjb6X1+d3Z5TneOVVXl5Wrh9WNMeuE/PX95S8Ef5K/X3w6V2h6QTiT6ol5u8"
    "u/H+CYaBR6lvBuLeoUMUkvp5dqVqjQis0IyLeuDK/vwXBdZ64rI5GFRiIL9rBFV3W3gXx4"
    "u9VWlAeb+j5zrF6i1wqtkcDaJbAJdamwmRUFrG5la8O6Smqgbocapqb0qD1Xlnrq95Ad6n"
    "swW4nOW0kQuzssWzLEvwfX63swXNeZ6/25vXEua2cagxd0LoS7TGbgnrA9+VjaxUbf6cn1"
    "MqXhui5cr/nYk9GXV3irq8u3QLQ7A8sgXL/odZ9e13p+U0d9mQ0/eZLxmfiVLRUr3sO4UW"
    "6tgT6JvPiSdLNnLPgznWPp1XzVkvQ2C1MoTj14d3hjFkuub8++vD17d36gEJ5Q+/qWSscq"
    "QY13vFOvciVru3prcbqoXqEClGMneQscczne5SvqzvdGxRRbjdYJjYlV8s4BMg5dPkljRo"
    "rBLAvATDInCUCxvcWChzBRyIRNYbZlMS48IDZ1XeaoWJOV8JiN9X4lrsSYO2zheyHaxq1r"
    "thyTQ+T0KIuAgacdIU3ARIiBOACagvEzsz3pvFVyBwyn0A18Mq+uBCWShXJJ6BRGBaOzJQ"
    "3mozg6JwBa4ZBbT14zOSIzFmYBPtDVlMsAHiWCWyDEWUI4zE3YCOA1sd+EOn71YzJmNzC0"
    "YIyDDOcsGTj04/M75pL4LtyRXjSbkzG8z/g1Gce6/pjczmkIN3lwJRIsYQmH5l56p9Aho9"
    "LlMKZkPgCMUi6b4oHyAKCyCQ+eH8cAlYOFQoARbxcEORMppGekkD7BLI+9e2/fqtfbmLoZ"
    "M+o3iPh9LouGMKK13RR7iHqbSQ80iQqAuMB3QC5p/k1DFu/R3fa0nMZoQh23toIdn8eAWH"
    "04UENsWNGbFY8dM6QbF9bzo5zqHTSkG6hbjRqqaJJdgK4hNeHe64bMdopJzgh2N59BOBQO"
    "4rQTmDcfNRsbgaSyd/SL6SjTmoCOtaY2DUF78+uEkkaJpEhiAhCrEgYenbOYlJ7spEiXqM"
    "zcXS8YyThyB+bSW8eRiybyPpEaOZkJz9DHY1sflGNctsZl+9gs2HOX7Vtv4bscOfOZAZ5B"
    "eFDjsV1tNGpz2NpZcxC2Vfs13bV2FITegsnge+XvSYgJu/M9GQZk6knlA4QW9pyKMMki4E"
    "Tohg1ZsOqhPSPj+j7Hr1RP6U30J6qHjMgk4m648qj7HYvK7oYMrvoTjeNQS8dh6Pnc7iJ7"
    "ZwQDND5t/nh29jl0QLhIM0CQt6LcFBe1zuJQDXEvsUgzMfdxfAbpXtKZCxVCw4EHc4AtKH"
    "e7+RaqlMOzrTw7PVlj+YFWjcuPutcAuQ9odbJ9r1IOD/LNb6uedECUTdfsuvNe//Pl4lM9"
    "4nW0VRsHt0Pyf8Tlwda04YP/nEbCVsnBlKjNRXCMz/vvbXkkWliAWJXsHSn0hx/P/lblyt"
    "sPF2+qhgzs4M1eJk7Zdz9QNot72PiqtAM07A7J0gf6fQ8m51SGvVqzV1mLWE8HTYXWmOx1"
    "5nRsYusisuQUDxJU9oenW5FIjAO0WUwZsAPUOMiMg0wDFuy7gyyxUxzU+cXSe6NWd1jqgV"
    "rPCXaWeaVWUm3HLSfMQd/Uos7d1YW01Z2VZqyocWjljcpH3qskxumlndOrwKLO20JOZ3aG"
    "3ibqzpZpY5DuZpBW55Wtrsmhy1Q7tMLtxvy2ndOgtAfQJSKD82BOFewG32enay0YLevFSn"
    "JdOqsx1TcbJNL2xm+ycStF4p6y60/etUknVUrjQX/YuUcr8FnP04856TeYSvL0RPe86Tov"
    "7hs+AHnDJIeunKZgkNZCC6vE/Uou7M8c3mDBBY3MzfuDv07W5bWcOSZR4jfBZjQldRGQ0/"
    "Z6CMj42MEIyAFjwpKR6G69KxMa8biveBwshd0v/3OR0Kx4Wq94xm9q/KY6sGDP/aYXaJQ5"
    "qHGaxjdGbR7T2KCj2tzvLsUiw06rx5OHNa7Stcm26SYdkbxV8RiI8Z8a/6nmy9PjSGD6V3"
    "3dkbVsCyc2jWt6R2elzAHBR1o9plyAqIjFG7sf0qmjNavKvavKNHKn3HUXeLK7B+i11Ab2"
    "e2E33qUtF+X1QlgJfMntGnGk1U9aoTRu0iIHatykxpn0DdjcfOnZLAh68blKazitM6dttN"
    "VhwZs+X3SF1nBaZ04bB/E3wWbjIO7DZuMgHqSBwTiIv4EVzziIjYNYBxYMwUH8gQv2PmSL"
    "gyZHcdZgdK/D2MrKzHWoDoo0qmJn6g8+HMedcUcVscwrYca3ufM6zymrGmGaWHXvSXBUXy"
    "N0C894uFM6HYHxNRtfs+4r3eMIc9kX0gn+IpUBvzf4xln62BwIeejWODcu2V0D8hnBAJxH"
    "bfrK+d8u21X3TF35cPHp57R5VZ8vg/1HRAXgV+Ova5zoRRJTX2lFE7+OVrFsOTMdNx/AzN"
    "3BifQbKjltyO7etjSX6czK3Hdl7uN2Ng7n0XoOZ2PP7gP1duzZxtBmDG0asGDPDW2/8Tvm"
    "vqPcXZ7N4HObUTWqFXNbXbNRm9HNRwLLQQqLpiRrmt5+Y5IgXCPy9fItceiSUOEQVQCG4L"
    "hekbl3S+CVlvHFQN13YDXlsOQR2+V4cdXctsF+W01s0DP+pyA0BZ+0WcJGLfa0hGWrXrmm"
    "fb1Osyr54vZ3KauVls4uz/futMXOTgRspzJt91xHD0typB3Gj6I/pcu9lSz33ThQR22Y0Z"
    "sZJkysmSH7mZy8JogiGb1R7YxqpxcLBqPafUZ1JrpHsUsbjdZV62SBoKdOl54qekWyYi3E"
    "njP72osS7Qu0Ky5J8qh1Vbo+3a6j0WWHoIxWp83qNTJa3Sa1uv05G7gz7W7DpwPz/CUd40"
    "aMMvEwZaKwX3XwjRWoHuwd040Pm3aPGXWtecobdc2oa0ZdM+rafera8q2yHB4062ppi9E6"
    "itqyaIm8X02Luw4IHvoifqZcrfrKyGHuF0Orc114++WcpU6zaodNDjh2B8Mjla5HBH5Iho"
    "k+qOsuj6/ElTgjQch8uBEwCd2HhUd5U/VTercB4SGZeoA+Obz4RN5efPrpw/u3l+TdBYEJ"
    "98v7Tz8fvVZtk26uRDinIZkDrDBaKpm6KdjtqhOQ/Mr8kHiwoJPbOXdZ6jFMHo7vZlMBg+"
    "SueyWolPwGMBsrthx/PPubdf77+adL6+zn8/HRCEkEiWeio14PTwbACyjEDjMejBRKo2QQ"
    "R3g8gImpJ23QbycIJuBnu1GAUR/5Z0C8G0xlB68VzK+E+jhHZLwyQaxrthyTwwWfwTcPPQ"
    "Tfx9Pq+x+sv7wml54MPR4wfCvhYSY820WAeAjDhwtXAgdAJt+FkjESLwlEPQuYSu25YgPx"
    "pTdhiiserEDq7eKnjwjgTomE+eAtiO9SG14z8KAlMCXg/8vwXW/nqtEkCpaIxpMgngM+XU"
    "KX8MbwGEYWPAgY8OdMvW88BEAplEsyVzOBkuffTZYhuxKqgQ0vqXpmiBLyDnCArmPxnxzS"
    "iReF5NkJQZqgPOQZwBuE5OWJmscLWGfhNSXOIpYikcyHqRcBndr9AphzNEaCSKbMEkE6Yf"
    "F9mTtVr54MBd4R3099GE2GipVzHKjJmqMbeholjLj0eL49Yw8yXn7NvPxqL6ldD1oMbkUi"
    "g3Qz0iu60iOK9uc3bWJ9fHcNkT6WM9eT5lGKzIq+xmI2jWUN1RdBQ4DKZQwyJhU8BPnOAe"
    "kkkd5Sab0gpHOn/hDrNh7S6pBRLZMPABdjEJIW/opb5t8HOYOKW2iBYqTqyEsWoNCccTKX"
    "lO6sIuyW6iSGP/3g1HDugBPqh/q465+aHT6Lc6P2enSWVrX707M1o9eD7UznbHiykTa1lD"
    "aLH8q620uRxuwu6+3jRk7aLr75kl0rwDd7FkqEA3Qs7K8jQV0ywvCjfE4B+6OjASImMMaH"
    "3sYHhVmHeZ22H+CUfvpijRn9tLoS5RMab1WD5UUIwugqvs1nMwsk5nhmaYfYxPFMc1JWG1"
    "ZIZjN+0ysso0JqxCe9xaeygaGLDLVCacq2dCvb4gNanbb3VcrhQb750hXGeWZijXRgwRBi"
    "jX5jwonfsd4lkd4f3e+U8AtN7/VKnMeRMrD8SYxbiUKMHyFLFofqoKtAhF4SRcPdJcnTB6"
    "w6Hz6x2zTyZt1OXhV9E9xnmIDzSUBgWkVMxd6cY7gK9M8C6MyNgjlR8UCOikNSxPCCIqCx"
    "zKgihtS7YFxLkIxmRLw8gudKHJainkaFkKdRFk2SRtGPkrHdMIn2+aM0hCR5TZ48zbnCyJ"
    "84uIRLGKqSxMiZyF4VR6cCZGyX8kWgAqJGBOQJ5Z1ZkASfHBn0wVyJeJImbeCF8UUKL6xi"
    "U1RET+KtCeIoLYBcxagA1hjbM0qP2cBdGJw3vRI0CdkKYswqYVohvWYwPKHCcPIoKuCMKo"
    "pzTD5jQ9tbLKAxDIuK5ZVQcfEYTqN6Vl3ksTw8bQ5jU6MWHrmFe3JB5XUcnXXNfXy/NeNq"
    "jItDSxeHkQlMQI0GsoAJqNHCsv1IPgSt9bCtAJ0HopRRblxyc4IhrbgbS0r6KCcvtZ62Oz"
    "p4qdWpy31Jobunhym3Be+mT1Imyl+XtaBAMrhMxc9O1zLdtlhuV0oPo87cwyNSpDPuEK3d"
    "IS7txeECmWGw1gzGot+ddKmMYIcLZME0uo+BFTQM2cLvJOcXSYzgVBWc1PLCpPRkl5lbph"
    "qeqL8dU4A+5cHNNrDZbUCXgz2S31B7eRY5vP5oT/H+qNWPFre0aNb0/pRqMQmRDKZUEAYk"
    "jdaJc6Blmc8OhYdeqMAT1CVoRa89qq+OVvvlLsktber1Fan2OopPw8dH9pUjDc//K+/RHJ"
    "6iatzFR31il1kkb6DbgIzx2veSOfCyquIdetEK15QXbc7kPWnaLMdbwPRWoHo+t/GP7CCD"
    "ydemkfvgHk9Ozse1xboymbGUr3mkIv1M1o5ITgkGiPDmQ5XMyavdTONkr+oZ31qmNZKedp"
    "Jeyd0MO393JudUhr1aszcTLvtobBXaDbBaM4V5SJzGoC+LTqfMRvRXWN18TGSF0JwXKfF8"
    "E+dFhNfNqpq2H5zXaXBpSKTnRHaDoSK+NWq3UahGayYfOSNJe0wHklSxJ2jHJHHDiUoKsm"
    "qK6ED38EL35byzVRJjItDSRGAK3z/mMWZT+Xt3lb/nVDh1aDdvxjnFAODeRSKEkIZRjXez"
    "3Ykc1Tk39x/hzYfZ3DDhdPN05hSDg3crEzgRlqyu6SWqdAbttWzmdFazWDTrq2l7PdRUfN"
    "5g1FSNvPvGUrQ1S5EpKfJNsNmki9FmXcVKDZaMRHcVu0zYS8fWbCV9HBU7WAq715JXIjQr"
    "ntYrnjm1bDKZ6MCCfc9kEquxv1PJaUN69XKL0RoeDusmbtwhzXpCEUc5pg6Mw3HaIXdUaG"
    "PizngSZE24UxONuYkOH+4byR9lvCHGG6L7OvY4olrhG+nEgDKdYYBxR+2DOyq4jjp5SuLm"
    "AwB6J3Z8bnc9Tp/RPPgwvWZ696aP03OBgdWeXFp/RCBU8bAmy0azyFJLPCDzxsbONmpkrN"
    "UM6SFZLoyttg+bt2OrNUYkY0TSgAV7bkT6rA6aMue9w+L9vcaMtNJm1GZIkklreFnVnLO1"
    "o2azWnoJKZZVHqcXg+ygLEyPAPOaXmd1qGmQFHmui6ndQK94pFclYVVFrTEH69Tls3lIbr"
    "F6tcrlqnrB5VZSQQ5VSl0nSWeb5sXFpLWeYEeqvLaqfoypbNNSytBLgIeGiaqYTV2VtxXr"
    "WsO4IqmqQGOe30g4eLB4slQnj+MDxXhWmbqSUQcz0MaVo2/p8pj8Ch9F8IpcHajk9lcH5N"
    "D1bpn8zsZXPRrBDZWC/eogzlkL3SEXnwRk7HIBo7Mmy3FSu/lKHLLj2TGQZBkDkUzVe8aj"
    "CarOtnopLBoNXHfSLLsp1GsY565hvPg/vD60QejN+WV99oBRizku5dy6CnLafoBHPbcQSp"
    "h/Dh0gLlMNEOjNH1zO9q4+52lLpAN0QR/gBnMBG2OywO2JYpesxcYjrc9GYpSJYSoTCvUa"
    "BSLlRrPSgC/UweUM0qQ9pyJ8ktTSOCaX3jUTgZKsk+oaqQj/E5OChcTmPoibWPaOHI7/Yj"
    "Fhjxvcz5vs3FRW0HgZapNnu6fi2XQWnsdlwva9PtS2WRDApwHfFn4xXTyZdbRDyAy4a6+m"
    "ZFMQoub9mFBLbLjQnQvl2Xznc4C1hwbS0o3xKunsVap8SL0nQFs/ZgboPAMC2/NZzem65s"
    "U3pxhAjMmuF1z9CxHtczhPWpkFAHQ61oWtEA4O7w2XdRGMOYElGawtNZbhN57nMioapnSF"
    "tAL1BGi3hXV2ZbcryZuLiw+lleTN++pS8fXjm/PPh08rsVWrwT7or6Ou28tOXKU1G7POGz"
    "Ng+gBer1IbbuvMbY3O1etmmR6w80ej0E3D9W197Gr0K36nZjdJPj0m3HUBI8sGuXVWp6S9"
    "STr46dfPzFW1p5v9Um/izt6qvvZwQjQ5qEofVIpYFNAZ2yhuX7HHYYOnsvly9G5aaXWLh0"
    "H3Nuvwc9zfUJFTwXaWqnlv5ZXdHwbeb9jnO+zyLO3xW4CvscRlP+w+590NF7mmosCdITvH"
    "joaKVUN0cH/I6oKThwJcp1iNHONbNrHUnGxG9kKwSw/+uR/fv7LJb2lfe6mZ1sPaJaplKe"
    "zPkTioC2xJbo1aY1ugESYHWjsMfgrPJ54kXIBauYBpTV2CnWBCBIz9BiHYi6TNyGGalnpE"
    "4oLNoyzYOqgJbtlYzxgOfxaSBUjkMVkksCAWOcQwnlHWyxHGrCdFIPGp0EzAn68wqwOVIY"
    "eHx3OFqBkC/14JDBhf8JlUs5IwMfWgIyyMRQ7H2NjK0LQw3v6GjY+OMZpfBp4ck+/JeBK5"
    "17B/2TDswMJQ+THG7cQdq/B034OpAEOAUUYL5qjBwxwJOexQAZlKb7Fm5E4etp6+sLIbxj"
    "lSoe0/DmbSi3yTRELfKJ8i49b1UhRpBhhUvfk6quZowBbBXXT0sS2G6lrbPLR7kh97z6ss"
    "w9NnM9YpT3aBZHDTePNnWjIhZAXhr1/fv6tHuEhTgTiKuHOMlHu4GLdAGx/Kiidu0dKs3r"
    "SyLnBRm66kPT8lrz+vYDyAenkAlSKxytzmQKycwoS+do/EUtqa57NY3+tYMrSWeAhc2EGQ"
    "1oqa3E0NrSXf3Sm4k20B/yiJ3JDb/Z3Qq9Rmi9F5i5my0J6zjmafApH5yvp9ZZEf4BG9js"
    "AXqQzy/ZCPz6d2BL5AZHDvmaGV1sddtCVnTUkM5v0wT7wKq6g3Ql6gGAzoG0uryKTspo5l"
    "BEPQA3atjZn41+aJvZ+RkGslPwmp7Mf1MqVRO3RWO+YMeDWBr7QHn6u0htM6c3rKBQ/mvT"
    "7oCqnhs858NkmrTNIqHViw70mrlsK+9BaTIEQzdkOQX95gdG+oX5i2XTvgL7F1EG/yL4al"
    "juLf5JZN5p53ffSKeK7DJImtvEGcIBZj6lz4KckiCkKVGlayG37DCA/rQv+28ozWZK6lqL"
    "jmqksmNM6Exum6tG09xMgUsdLCNN1DVC5TDtDiYURlIyobUdmIygVR+VJSEcRlDuoE5eLt"
    "VjE5zBuuLSP7dIkHVkiBVhUIFfEBlddknAdBqPqgPAziW1jOILl3Fo7rZOON9v3w6qPlaI"
    "4iCR4qSVup55vDJY8tS5gKpZoxJGdA9oV0gr9IZcDvDX56XLAz/hXCARUb3DEH9D93taMz"
    "FZsvyLInR4P2FV5Ms3FLawqVNuNbIBkcwNtJv77wIlFn9WirupsTmbK7RexXy+6muUy7zO"
    "EizeAm8YZTn4ZJIqOKXNGW8jQlMalOO6Q69amMi/11E+JKZEaE6y1E6xOQpxk/hmSd9qWH"
    "lRt68blKazitM6dNqtFvgs2mTHwfNpsy8fsvvBjP3zA9f1kWwBq3XzFDYLPPL0tKuKbH73"
    "LOCILxJMAYtbiS+ivlePsS+0cId0YkYCGsWbNAlS/HFG9+NHG5Ta7ZUrWNk3ISm0q5XPX8"
    "bekZpuijxivUqMVjl83RjokoqnRDOHu2AxPknljRuYgzTe7GTraFIMNk/eoikRZpjFS6ca"
    "kUxsKC0IIdpMvsL1MNrsrs5lOf3TAZJMFI62JcIBneKr55T51aGXuaNKq0xnSltU2DPYTX"
    "q9SG2zpz26Ww0SjFpgezV4gNr3XmtUZOJt2sNgPO+mBcEUPjes3HvlJ+RQ9z+Ddialoxhj"
    "fbbld0lgdWxUltsr/n6syefYRNBvOaojj3+RjSYjdb9jA86qzejn9hIz6DdA62uA4K03QN"
    "D4JV/Ebu9yQA5wm7C5lAGpLQkoAxQXB1xUPuiQl/6klClUeAHKKhP20750HoyWVNSZ0N91"
    "17dqhUzim1T5hT9Nos86MWj8IjWKB0W8i3bYKacgnqJn5yvRIeVYgHKM7ur/jaYJfoyesq"
    "rWG11qxud8a2bWH3uGNNDE/7ftYSw9NSWbJzIE+HwpK68WJdYbs6ETWL6MHET++Yy0HiWD"
    "ZI56Um90nn2BhfEFvzdbNfnWPXaRoqklAviWQ2g7+cVyrixmFO5KuAmzQGx4vCiXdXL5Cn"
    "nSnJm9A8mifpnTmEh6/T2pNYuDKuWxlCK1s9Iabkjqp0iVFC0rvFc//5k+NxqaihOAKb2N"
    "5igeFA6vrcc1n+Moc+XboedbDuphvByxxdiQkDjQATacEDg1uQ+cjpyclIPf3Wk9d4wXYp"
    "X2QFNGEIAdz3fXeJz1iopgsqr+NfWIQjq6AZACNL2QyoGheXhE2nzA6PCb5UNqqA+JGEWU"
    "LoFJN94VtImKUCSV8j4ZVAAA5LrDgi8IUvA+J6YsZke+oDy/EW8J2oCYMg4x+xg6AxEUKB"
    "JJ0LuG//E7eIfIofCNC+4HrIFn6Y3D9gdz7sQ7GGmHwGuTZ0Z63OVMuJi1OnK5Qa3h3ghz"
    "/IX385/3yOLxsy8l/kScKPJwd/VoYSJ2jo8fQp5W6cAHytAcTNn8QLh9H5tNP5KrN37dim"
    "MtkAdb+tBJFl68m6OGcEA0T46ek6xyyhVXP42OnKUctsoe4AcpFmgDhvZSanO0Pn2NMC1e"
    "CODW/n7LvPrR6WuQrZ4LDevG0uqdTay81cpTVBJDpba4oyekdGV0iNWU5rRis1pJNcmxKY"
    "mtjrRuwnivkqys11jwokQ4hbbvtitlH5KLEg1ERdNCrNRRJTuKuauSKOAa2v3tW8VpSphj"
    "CRdyDNVk1gHbffGnIjaum8A6Olt08Ifk5m+Ks1fyPf5TZW4eiwG5WJzH5Uux9lIPWNHqh2"
    "YD4k3T6kDjG32/SunjHJ7flBjVM1uTNq86XSvM19/tNmxm44C8G34jx64IpjQgEf27RbEw"
    "DeZtL1B4ru05OTdcwSJyfNdomT1aymnsCwgFWEmzMJFEh2n0jgcTbKjaUMeNTN7M//BwQ5"
    "81A="
)
