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
    "test" BOOL,
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
        DROP TABLE IF EXISTS "billing_charges";
        DROP TABLE IF EXISTS "billing_usage_charges";"""


MODELS_STATE = (
    "eJztXW1z3DaS/isofbG0NVFk2XF8zt1VybaS+OJYKUfJbu1qi4MhMRqsOCADkpLm9vLfrx"
    "t855AUSc2MMDS+2BoSDYJPg0C/ofvfB0vPYW5w/Ja7LhfX7xZUXrODN+TfB4Iu8Y/6BhNy"
    "QH0/v40XQjpzFcUsbmrZqq26R2dBKKkdwu05dQMGlxwW2JL7IfcEEl0IRmIC4s0JJcHC8w"
    "kNyK/wP5+viEuDkISe65AoeEOoIPB8EkSzrBPiSSDzBPsq5Es1Qsez4akwki30fyX8SEJ/"
    "+Cp3PFwQHgbEd6mYkCCkYRRMSMigx7lLr+FPyakLnTrEZ5J7zkT9jSRRQGFEABc7xiFHgv"
    "8RMSv0rlm4YBIG/o9/wmUuHHYPSMLPfxzgyLHtDVzF/+PnHfwTG/o31pwz1ylxkKtm6roV"
    "rnx17S2//iDC71VbhGpm2Z4bLUXe3l+FC09kBFyEePWaCSZpyPAJoYyQkSJy3YT1KW/j18"
    "ibxOMv0DhsTiMXpwNSxwPIrx1Y1qeLS+vX80vLOlibKilFgbvJJdsTOM1gqIECQM3kr/7j"
    "9PTFi29PT168ev3Ny2+//eb1yWtoq8a7fuvbP+PB5GjFXSnMPvzw4dMlDsiDuRzPdbzwp6"
    "KhIY2pFJty9FM2lfHH76ge/bR9BX94sSr+KdptDEgv5BzIv79dsGBJ7y2XietwAT+fv2pB"
    "9/ezz+9+PPt8+PzVURniT8mdU3ULwc7Bjb9o67puijdDXKbaDNBPO9NLMJ9+800HnKFVI9"
    "DqXhlpXNv6YJy2H4Rugp2es/jVyw7ovnrZCC7eKmOr/u+Bbdp+hEvEVuZuskP2QDinGCHG"
    "m1+GUdSpkTE8z2VU1COcklTwnQHN/i0QbULDxcVH7HkZBH+4sRRRESE+/fbz23MAXOENjX"
    "hYkixylOnSi0QNzu+ZzZfUrcc5J6og7cRUxwn1qEB/f/7uw89nHw+fv5y8rMCazu+XJ2uy"
    "RCQlE/aqlyRRoBnfTve6wzrxunGZeL22SqAWZDl0VbMUNyojZaKHlZJNrcYn20I4VkpOn7"
    "/89uXrF69eZrpIdqVNBVlfFGJ8mHACi9atDQAL6qtt4BaIq2tEQn2c/rF/M7oFzMsPP5//"
    "enn28y+l9fn92eU53jlVV1eVq4fVbTHrhPz1w+WPBH+Sv198OldoekF4LdUT83aXfz/AMd"
    "Eo9Czh3VnUKWKSXk4v1axQoRUbEZBvfRle34Phus5cVyYiC01EFuxhy77KbgP5+HarragO"
    "NvV95liDRK81WiOBtUtgM+pSYTMrCljdytaGdZXUQN0ONUxN6VF7oez01B8gO9T3YLYSnb"
    "eSIHZ2WLZkiP8Artf3YLiuM9eHc3vjXNbOMAYv6FwId5XMwD1he/KxtIuNvjOQ62VKw3Vd"
    "uF7zsSejL6/wVl+Hb4FodwaWUTh+0ec+v6n1+6Zu+jIbvvck49fiJ7ZSrPgA40a5tQb6JO"
    "7i16SbPWPBn+kcS6/mq5akd1mQQnHqwbvDG7NYcn139uu7s/fnBwrhGbVv7qh0rBLUeMc7"
    "9SpXsrbrt5any+oVKkA5dpK3wDGXo11+Q935wZiYYqtJl8CYWCXvHR7j0NWzNGKkGMqyBM"
    "wkc5LwE9tbLnkIE4XM2BxmWxbhwgNiU9dljoo0WQuO2VjvV+JKTLnDlr4Xom3cumGrKTlE"
    "Tk+y+Bd42hHSBEyEGIYDoCkYPzPbk847JXfAcArdwCfz5kpQIlkoV4TOYVQwOlvSYDGJY3"
    "MCoBUOufPkDZMTcs3CLLwHuppzGcCjRHAHhDhLCIe5CRsBvCb2m1DHr35MpuwWhhZMcZDh"
    "giUDh358fs9cEt+FO9KLrhdkCu8z/Y5MY11/Su4WNISbPLgSCZawhENzL71T6JBR6XIYUz"
    "IfAEYpV03RQHn4T9mEB8+PI4DKoUIhwIi3C4KciRPSM05In1CWp969t2/VG2xM3YwZ9QtE"
    "/CGXRUMQUWc3xR6i3mbSA02iAiAu8D2QS5p/0ZDFe3S/PS2nMZpQz62tYMfnMSDWEA7UEB"
    "tWDGbFU8cM6caFbn6UU72DhnQDdatRQxVNsg/QNaQm2LtrwGyviOSMYHfzGYRD4SBOO4F5"
    "8zGzsRFIKnvHsJiOMq0J6Og0tWkI2ptfJ5Q0SiRFEhOAWJUw8OCcxaT0ZC9FukRl5m63YC"
    "TjyB2ZS6+LIxdN5EMiNXIyE56hj8e2PijHuGyNy/apWbDnLtt33tJ3OXLmMwM8g/CgxmO7"
    "3mjS5rC1s+YgbKv2Hd21dhSE3pLJ4Gvl70mICbv3PRkGZO5J5QOEFvaCijDJIeBE6IYNWb"
    "DuoT0j0/o+p29UT+lN9Ceqh0zILOJuuPaohx2Lyu6GDK76E43jUEvHYej53O4je2cEIzQ+"
    "bf5wdvY59EC4SDNCkLei3BQXtd7iUA3xILFIMzH3aXwG6V7SmwsVQsOBR3OALSl3+/kWqp"
    "Tjs628OD3psPxAq8blR91rgNwHtHrZvtcpxwf55rdVTzogyqZrdt15r//59eJTPeJ1tFUb"
    "B7dD8n/E5cHWtOGD/5xHwlapwZSozUVwjM/77215JFpYgFiV7B0p9Ic/n/2typV3Hy/eVg"
    "0Z2MHbvUybsu9+oGwWD7DxVWlHaNgdk6UP9PsBTM6pDHu1Zq+yFrGBDpoKrTHZ68zp2MTW"
    "R2TJKR4lqOwPT7cikRgHaLOYMmIHqHGQGQeZBizYdwdZYqc4qPOLpfcmre6w1APVzQl2ln"
    "ml1hJtxy1nzEHf1LLO3dWHtNWdlWasqHFo5Y3KR96rJMbppZ3Tq8Ci3ttCTmd2hsEm6t6W"
    "aWOQ7meQVueVrb6poctUO7TC7cb8tp3ToHQA0CUig/NoThXsBt8Xp50WjJb1Yi25Lr2uMd"
    "U3GyTS9sZvsnErReKesutP3rVJJ1VK40F/3LlHK/DZwNOPOekXmEry9ET3vOk6L+4bPgB5"
    "yySHrpymYJDWMgvrxKbgQueCCxqZm/cHf52sy52cOSZR4hfBZjQl9RGQ0/Z6CMj42NEIyA"
    "FjwpKR6G+9KxMa8XioeByshD0s/3OR0Kx4Wq94xm9q/KY6sGDP/aYXaJQ5qHGaxjcmbR7T"
    "2KCj2jzsLsUSw06rx5OHNa7SzmTbdJNOSN6qeAzE+E+N/1Tz5elpJDD9a77uyFq2hRObxj"
    "W9o7NS5oDgE60ecy5AVMTijf0P6dTRmlXlwVVlHrlz7rpLPNk9APRaagP7g7Ab79KWi/J6"
    "IawEvuR2jTjS6ietUBo3aZEDNW5S40z6AmxuvvRsFgSD+FylNZzWmdM22uqw4M2QL7pCaz"
    "itM6eNg/iLYLNxEA9hs3EQj9LAYBzEX8CKZxzExkGsAwvG4CD+yAX7ELLlQZOjOGswedBh"
    "bGVl5npUB0UaVbEz9QcfTuPOuKOKWOaVMOPb3PkuzymrGmGaWHXvWXBUXyN0C894vFM6HY"
    "HxNRtfs+4r3dMIc9kX0gv+IpUBfzD4xln61BwIeejWODcu2X0D8hnBCJxHbfrK+d8u21X3"
    "TF35ePHph7R5VZ8vg/1HRAXgV+Ova5zoRRJTX2lNE7+J1rFsOTMdNx/BzN3BifRbKjltyO"
    "7etjSX6czKPHRlHuJ2Ng7nSTeHs7FnD4F6O/ZsY2gzhjYNWLDnhrZf+D1z31Purs6u4XO7"
    "pmpUa+a2umaTNqObjwSWgxQWTUk6mt5+YZIgXBPy2+U74tAVocIhqgAMwXG9IQvvjsArre"
    "KLgbrvwGrKYckjtsvx4rq5bYP9tprYoGf8T0FoCj5ps4RNWuxpCcvWvXJN+3qdZlXyxe3v"
    "UlYrLZ1dnu/daYudnQjYTmXa/rmOHpfkSDuMn0R/Spd7K1nu+3GgjtowYzAzTJhYM0P2Mz"
    "l5TRBFMnqj2hnVTi8WjEa1+4zqTPSAYpc2mnRV62SBYKBOl54qekOyYi3EXjD7xosS7Qu0"
    "Ky5J8qiuKt2QbrtodNkhKKPVabN6TYxWt0mtbn/OBu5Mu9vw6cA8f0nPuBGjTDxOmSjsVz"
    "18YwWqR3vHdOPDpt1jRl1rnvJGXTPqmlHXjLr2kLq2eqcshwfNulraYtJFUVsVLZEPq2lx"
    "1wHBQ1/Ez5SrdV8ZOcz9Ymh1rgtvv1yw1GlW7bDJAcfuYXik0vWEwA/JMNEHdd3V8ZW4Em"
    "ckCJkPNwImofuw8Chvrn5K7y4gPCRzD9AnhxefyLuLT99//PDukry/IDDhfvzw6Yej71Tb"
    "pJsrES5oSBYAK4yWSqZuCna37gQkPzE/JB4s6ORuwV2WegyTh+O72VTAILnrXgkqJb8FzK"
    "aKLcc/n/3NOv/9/NOldfbD+fRogiSCxDPRUa+HJwPgBRRihxkPJgqlSTKIIzwewMTckzbo"
    "tzMEE/Cz3SjAqI/8MyDeLaayg9cKFldCfZwTMl2bINYNW03J4ZJfwzcPPQRfx9Pq62+sv3"
    "xHLj0Zejxg+FbCw0x4tosA8RCGDxeuBA6AzL4KJWMkXhKIehYwldoLxQbiS2/GFFc8WIHU"
    "28VPnxDAnRIJ88FbEt+lNrxm4EFLYErA/5fhu94tVKNZFKwQjWdBPAd8uoIu4Y3hMYwseR"
    "Aw4M+Zet94CIBSKFdkoWYCJS+/mq1CdiVUAxteUvXMECXkHeAAXcfiPzmkMy8KyYsTgjRB"
    "ecjXAG8Qktcnah4vYZ2F15Q4i1iKRDIf5l4EdGr3C2DO0RgJIpkySwTphMX3Ze5cvXoyFH"
    "hHfD/1YTQZKtbOcaAma45u6GmUMOLS0/n2jD3IePk18/KrvaR2PWgxuBWJDNLNSK/pSk8o"
    "2p/fton18d0OIn0sZ3aT5lGKzIq+xmI2jWUN1RdBQ4DKZQwyJhU8BPnOAekkkd5Sab0gpH"
    "On/hDrNh7S6pBRLZMPABdjEJKW/ppb5t8HOYOKW2iBYqLqyEsWoNCccTKXlO6tIuyW6iSG"
    "P/3g1HDugRPqh/q465+aHT6Lc6MOenSWVrX/07M1Y9CD7UznbHiykTa1lDaLH0rX7aVIY3"
    "aXbvu4kZO2i2++ZNcK8M2ehRLhCB0L++tIUJeMMPwkn1PA/uhpgIgJjPFhsPFBYdZjXqft"
    "Rziln7/qMKOfV1eifELjrWqwvAhBGF3Ht/lsZoHEHM8s7RCbOJ5pTspqwwrJbMZvB4VlVE"
    "iN+KS3+FQ2MPSRodYoTdmWfmVbfECr1/a+Tjk+yDdfusI4z0yskQ4sGEOs0S9MOPE71rsk"
    "0vuTh50SfqHpg16J8zhSBpY/iXErUYjxI2TF4lAddBWI0EuiaLi7Inn6gHXnwyd2l0bedO"
    "3kTdE3wX2GCTifBQSmVcRU7M05hqtA/yyAztwoWBAVD+SoOCRFDC8oAhrLjCpiSL0LxrUE"
    "yWgmxMsjeK7EYSnqaVIIeZpk0SRpFP0kGdstk2ifP0pDSJLX5MnTnCuM/ImDS7iEoSpJjJ"
    "yJ7FVxdCpAxnYpXwYqIGpCQJ5Q3pklSfDJkUEfzJWIJ2nSBl4YX6Twwio2RUX0JN6aII7S"
    "AshVjApgjbE9k/SYDdyFwXnzK0GTkK0gxqwSphXSGwbDEyoMJ4+iAs6oojjH5DM2tL3lEh"
    "rDsKhYXQkVF4/hNKpn1UUey8PT5jA2NWrhkTu4J5dU3sTRWTfcx/frGFdjXBxaujiMTGAC"
    "ajSQBUxAjRaW7SfyIWith20F6DwQpYxy45KbE4xpxd1YUtInOXmp9bTd0cFLrU5d7ksK3T"
    "09TLkteDd9kjJR/vqsBQWS0WUqfnHayXTbYrldKz2MOvMAj0iRzrhDtHaHuHQQhwtkhsFa"
    "MxiLfvfSpTKCHS6QBdPoPgZW0DBkS7+XnF8kMYJTVXBSywuT0pN9Zm6Zanyi/nZMAfqUBz"
    "fbwGa3AV0O9kh+S+3VWeTw+qM9xfuTVj9a3NKiWdOHU6rFJEQymFJBGJA0WifOgZZlPjsU"
    "HnqhAk9Ql6AVvfaovjpa7Ze7JHe0qdc3pNrrJD4NHx/ZV440PP+vvEcLeIqqcRcf9YldZp"
    "G8hW4DMsVrX0vmwMuqinfoRStcU160BZMPpGmzHG8J01uB6vncxj+ygwwmX5tG7oMHPDk5"
    "HzuLdWUyYynveKQi/Uw6RySnBCNEePOhSubk1W6mcbJXDYxvLdMaSU87Sa/kboadvz+Tcy"
    "rDXq3ZmwmXQzS2Cu0GWK2ZwjwmTmPQl0Xnc2Yj+musbj4mskZozouUeL6J8yLC62dVTduP"
    "zus0ujQk0nMiu8FQEd+atNsoVKOOyUfOSNIe04EkVewJ2jFJ3HCmkoKsmyJ60D2+0H0572"
    "yVxJgItDQRmML3T3mM2VT+3l3l7wUVTh3azZtxTjECuHeRCCGkYVTj3Wx3Ikd1zs39R3jz"
    "YTa3TDj9PJ05xejg3coEToQlq296iSqdQbuTzZxe1ywWzfpq2l4PNRWfNxo1VSPvvrEUbc"
    "1SZEqKfBFsNulitFlXsVKDJSPRX8UuEw7SsTVbSZ9GxQ5Wwh605JUIzYqn9YpnTi2bTCY6"
    "sGDfM5nEauzvVHLakF693GLSwcNh3caNe6RZTyjiKMfUgXE4TTvkjgptTNwZz4KsCXdqoj"
    "E30eHjfSP5o4w3xHhDdF/HnkZUK3wjvRhQpjMMMO6ofXBHBTdRL09J3HwEQO/Ejs/tvsfp"
    "M5pHH6bXTO/e9HF6LjCw2pMr648IhCoe1mTZaBZZaolHZN7Y2NlGjYy1miE9JsuFsdUOYf"
    "N2bLXGiGSMSBqwYM+NSJ/VQVPmfHBYvL/XmJHW2kzaDEkyaQ0vq5pz1jlqNqull5BiWeVp"
    "ejHIDsrC9Agwr+lNVoeaBkmR57qY2g30ikd6VRJWVdQac7DOXX69CMkdVq9WuVxVL7jcSi"
    "rIoUqp6yTpbNO8uJi01hPsSJXXVtWPMZVtWkoZegnw0DBRFbOpq/K2Yl1rGFckVRVozPMb"
    "CQcPFs9W6uRxfKAYzypTVzLqYAbauHL0HV0dk5/gowjekKsDldz+6oAcut4dk1/Z+KpHE7"
    "ihUrBfHcQ5a6E75OKzgExdLmB01mw1TWo3X4lDdnx9DCRZxkAkU/We8WiCqrOtXgqLRgPX"
    "nTTLbgp1B+PcDYwX/4fXhzYIvTm/rM8eMGkxx6Wc66ogp+1HeNRzC6GE+efQA+Iy1QiB3v"
    "zB5WzvGnKetkQ6Qhf0AW4wF7AxJgvcnih2yVpsPNL6bCRGmRinMqFQr1EgUm40Kw34Qj1c"
    "ziBN2gsqwmdJLY1jcundMBEoyTqprpGK8N8zKVhIbO6DuIll78jh9C8WE/a0wf28yc5NZQ"
    "WNl6E2ebZ/Kp5NZ+F5WiZs3+tDbZsFAXwa8G3hF9PHk1lHO4bMgLv2ako2ByFqMYwJtcSG"
    "C/25UJ7N9z4HWAdoIC3dGK+Szl6lyoc0eAK09WNmgM4zILA9n9WcrmtefHOKEcSY7HrB1b"
    "8Q0T6H86SVWQBAp2dd2Arh6PDecFkXwZgTWJLB2lJjGX7reS6jomFKV0grUM+AdltYZ1d2"
    "u5K8vbj4WFpJ3n6oLhW//fz2/PPh80ps1XqwD/rrqOsOshNXac3GrPPGDJg+gtfr1IbbOn"
    "Nbo3P1ulmmR+z80Sh003B9Wx+7Gv2a36nZTZJPjxl3XcDIskFuva5T0t4mHXz/02fmqtrT"
    "zX6pt3Fn71RfezghmhxUpQ8qRSwK6DXbKG6/YY/jBk9l8+Xo3bTS6haPg+5d1uHnuL+xIq"
    "eC7SxV897KK7s/DrxfsM/32OVZ2uOXAF9jicth2H3Ouxsvck1FgXtDdo4djRWrhujg4ZDV"
    "BSePBbhesRo5xndsZqk52YzshWCXHvzzML5/ZbNf0r72UjOth7VPVMtK2J8jcVAX2JLcmr"
    "TGtkAjTA7UOQx+Ds8nniRcgFq5hGlNXYKdYEIEjP0GIdiLpM3IYZqWekLigs2TLNg6qAlu"
    "2VjPGA5/FpIlSOQxWSSwIBY5xDCeSdbLEcasJ0Ug8anQTMCfbzCrA5Uhh4fHc4WoGQL/Xg"
    "kMGF/ya6lmJWFi7kFHWBiLHE6xsZWhaWG8/S2bHh1jNL8MPDklX5PpLHJvYP+yYdiBhaHy"
    "U4zbiTtW4em+B1MBhgCjjJbMUYOHORJy2KECMpfesmPkTh62nr6wshvGOVKh7T8OrqUX+S"
    "aJhL5RPkXGdfVSFGlGGFS9+Tqq5mjAFsFd9vSxLcfqWts8tHuSH3vPqyzD06+vWa882QWS"
    "0U3jzZ9pyYSQNYR/++3D+3qEizQViKOIO8dIuYeLcQu08aGseOIWLc3qTSvrAhe16Ura81"
    "Py+vMKxgOolwdQKRLrzG0OxMopTOhr/0gspa15Pov1vZ4lQ2uJx8CFHQRpranJ/dTQWvLd"
    "nYI72RbwT5LIDbk93Am9Tm22GJ23mDkL7QXrafYpEJmvbNhXFvkBHtHrCXyRyiA/DPn4fG"
    "pP4AtEBveBGVppfdxFW3LWlMRgPgzzxKuwjnoj5AWK0YC+sbSKTMp+6lhGMAY9YNfamIl/"
    "bZ7Y+xkJ2Sn5SUjlMK6XKY3aobPasWDAqxl8pQP4XKU1nNaZ03MueLAY9EFXSA2fdeazSV"
    "plklbpwIJ9T1q1Evalt5wFIZqxG4L88gaTB0P9wrRt54C/xNZBvNm/GJY6in+TOzZbeN7N"
    "0RviuQ6TJLbyBnGCWIypc+GnJMsoCFVqWMlu+S0jPKwL/dvKM1qTuZai4pqrLpnQOBMap+"
    "vStvUQI1PESgvT9ABRuUw5QouHEZWNqGxEZSMqF0TlS0lFEJc5qBOUi7dbxeQwb9hZRvbp"
    "Cg+skAKtKhAq4gMq35FpHgSh6oPyMIhvYTmD5N5ZOK2TjTfa9+Orj5ajOYokeKgkbaWebw"
    "6XPLUsYSqUasaQnAHZF9IL/iKVAX8w+Olxwd74VwhHVGxwxxzQ/9zVjs5UbL4gy54cDdpX"
    "eDHNxh2tKVTajG+BZHQAbyf9+tKLRJ3Vo63qbk5kyu4WsV8vu5vmMu0zh4s0o5vEG059Gi"
    "aJjCpyRVvK05TEpDrtkerUpzIu9tdPiCuRGRFusBCtT0CeZvwYk3Xalx5WbhjE5yqt4bTO"
    "nDapRr8INpsy8UPYbMrE77/wYjx/4/T8ZVkAa9x+xQyBzT6/LClhR4/f5YIRBONZgDFqcS"
    "X1N8rx9mvsHyHcmZCAhbBmXQeqfDmmePOjmcttcsNWqm2clJPYVMrVuudvS88wRR81XqEm"
    "LR67bI72TERRpRvD2bMdmCD3xIrORZxpcjd2si0EGSbrVx+JtEhjpNKNS6UwFhaEFuwgfW"
    "Z/mWp0VWY3n/rslskgCUbqinGBZHyr+OY9dWplHGjSqNIa05XWNg32GF6vUxtu68xtl8JG"
    "oxSbAcxeIza81pnXGjmZdLPajDjrg3FFjI3rNR/7WvkVPczhX4ipac0Y3my7XdNZHlkVJ7"
    "XJ/p6rM3v2ETYZzGuK4jzkY0iL3WzZw/Cks3o7/oWN+AzSOdjiOihM0w4eBKv4jTzsSQDO"
    "E3YfMoE0JKElAWOC4OqKh9wTE/7ck4QqjwA5REN/2nbBg9CTq5qSOhvuu/bsUKmcU2qfMK"
    "fotVnmJy0ehSewQOm2kG/bBDXnEtRN/OQGJTyqEI9QnN1f8bXBLjGQ11Vaw2qtWd3ujG3b"
    "wh5wx5oYnvb9rCWGp6WyZO9Anh6FJXXjRVdhuzoRNYvowcRP75nLQeJYNUjnpSYPSefYGF"
    "8QW/Ou2a/Oses0DRVJqFdEMpvBX84bFXHjMCfyVcBNGoPjReHMu68XyNPOlORNaB7Nk/TO"
    "HMLD79Lak1i4Mq5bGUIrWz0hpuSOqnSJUULSu8Nz//mT43GpqKE4ApvY3nKJ4UDq+sJzWf"
    "4yhz5duR51sO6mG8HLHF2JGQONABNpwQODO5D5yOnJyUQ9/c6TN3jBdilfZgU0YQgB3Pd9"
    "d4XPWKqmSypv4l9YhCOroBkAI0vZDKgaF5eEzefMDo8JvlQ2qoD4kYRZQugck33hW0iYpQ"
    "JJv0PCK4EAHJZYcUTgC18FxPXENZPtqQ8sx1vCd6ImDIKMf8QOgsZECAWSdC7gvv1P3CLy"
    "KX4gQPuC6yFb+mFy/4Dd+7APxRpi8hnk2tC9tT5TLScuTp2uUGp494Af/iB//fH88zm+bM"
    "jIf5FnCT+eHfxZGUqcoGHA0+eUu3EC8E4DiJs/ixcOo/Npp/NVZm/n2KYy2Qh1v60EkWXr"
    "SVecM4IRIvz8tMsxS2jVHD52unbUMluoe4BcpBkhzluZyenO0Dv2tEA1umPD2zn77nNrgG"
    "WuQjY6rDdvm0sqtQ5yM1dpTRCJztaaoozek9EVUmOW05rRSg3pJdemBKYmdteI/UQxX0e5"
    "ue5RgWQMccttX8w2Kh8lFoSaqItGpblIYgp3VTNXxDGg9dW7mteKMtUYJvIOpNmqCazn9l"
    "tDbkQtnXdgtPQOCcHPyQx/teZv5LvcxiocPXajMpHZj2r3owykodED1Q7Mh6Tbh9Qj5nab"
    "3tUzJrm9OKhxqiZ3Jm2+VJq3ech/2szYDWch+FKcR49ccUwo4FObdmsCwNtMuv5I0X1+ct"
    "LFLHFy0myXOFnPauoJDAtYR7g5k0CBZPeJBJ5mo9xYyoAn3cz+/H/ZvfK1"
)
