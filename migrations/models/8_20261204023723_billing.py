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
    "eJztXW1z2za2/isYf4l9R3UdN21zk92dcRK3zW0bdxK33dn1DgWRkIRrimQB0rbubv/7PQ"
    "fgu0iapCWbYvAlsUgcEHwOCByc138frHyHufL4DXdd7i3eLqlYsINX5N8HHl3hH9UNJuSA"
    "BkF2Gy+EdOYqipluatmqrbpHZzIU1A7h9py6ksElh0lb8CDkvodEFx4jmoD4c0KJXPoBoZ"
    "J8gv/5fE1cKkMS+q5DIvmKUI/A84mMZmknxBdA5nvsi5Cv1Agd34anwkh20P+VF0QC+sNX"
    "ueXhkvBQksCl3oTIkIaRnJCQQY9zly7gT8GpC506JGCC+85E/Y0kkaQwIoCLHeOQI4//ET"
    "Er9BcsXDIBA//nv+Ay9xx2B0jCz38e4Mix7TVcxf/18w7+hQ2Da2vOmesUOMhVM3XdCteB"
    "uvaGL9574XeqLUI1s2zfjVZe1j5Yh0vfSwm4F+LVBfOYoCHDJ4QiQkZ6kevGrE94q18ja6"
    "LHn6Nx2JxGLk4HpNYDyK4dWNaHi0vr0/mlZR1sTJWEIsfd+JLtezjNYKhSAaBm8hf/fXr6"
    "1Vffnp589c3Lr198++3XL09eQls13s1b3/6pB5OhpbtSmL3//v2HSxyQD3NZz3W88KeioS"
    "HVVIpNGfoJm4r443dUjX7SvoQ/vFgZ/wTtJgYkFzIOZN/fY7BgRe8sl3mLcAk/n3/TgO5v"
    "Zx/f/nD28fD5N0dFiD/Ed07VLQQ7A1d/0daiaorXQ1yk2g7QTzvTCzCffv11C5yhVS3Q6l"
    "4RaVzbumCctO+FbozdMGfxNy9aoPvNi1pw8VYRW/V/B2yT9iNcInYyd+MdsgPCGcUIMd7+"
    "MoyiToWM4fsuo141wglJCd8Z0OzfAtEkNFxc/IQ9r6T8w9VSREmE+PDrz2/OAXCFNzTiYU"
    "GyyFCmKz/yKnB+x2y+om41zhlRCWlHUx3H1KMC/d352/c/n/10+PzF5EUJ1mR+vzjZkCUi"
    "IZhnrztJEjma8e10L1usEy9rl4mXG6sEnoIsh64rluLaw0iR6P5DybZW45NdIawPJafPX3"
    "z74uVX37xIzyLplaYjyOaioPFhniMtWrU2ACx4Xm0CN0dcXiNi6uPkj/2b0Q1gXr7/+fzT"
    "5dnPvxTW53dnl+d451RdXZeuHpa3xbQT8vv7yx8I/iT/uPhwrtD0ZbgQ6olZu8t/HOCYaB"
    "T6luffWtTJY5JcTi5VrFChpZUIyLeuDK/uwXB9yFxXKiILVUQW7GGrrofdGvLx7VY7OTrY"
    "NAiYY/USvTZojQTWLIHNqEs9m1mRZFUrWxPWZVIDdTPUMDWFT+2l0tPToIfsUN2D2UqGvJ"
    "VIbeywbMEQ/x5cr+7BcH3IXO/P7a1zeXCKMXhB58Jz1/EM3BO2xx9Ls9gYOD25XqQ0XB8K"
    "1ys+9nj0xRXe6mrwzRE9noJlFIZftLnPryvtvomZvsiG73zB+ML7ka0VK97DuFFurYA+9r"
    "v4FHezZyz4M5ljydVs1RL0NnVSyE89eHd4Y6Yl17dnn96evTs/UAjPqH19S4VjFaDGO/6p"
    "X7qStt28tTpdla9QDw7HTvwWOOait8uveHa+1ycm32rSxjFGH8k7u8c4dP0s8RjJu7KsAD"
    "PBnNj9xPZXKx7CRCEzNofZlnq4cEls6rrMUZ4mG84xW+v9yrvyptxhq8APUTduXbP1lBwi"
    "pyep/ws87QhpJPNCdMMB0BSMH5ntC+etkjtgOLlu4JN5deVRIlgo1oTOYVQwOltQuZxo3x"
    "wJtJ5Dbn1xzcSELFiYuvdAV3MuJDzKk7dAiLOEcJibsBHAa2K/MbV+9WMyZTcwNDnFQYZL"
    "Fg8c+gn4HXOJvgt3hB8tlmQK7zN9Tab6rD8lt0sawk0ur7wYS1jCobmf3Ml1yKhwOYwpng"
    "8AoxDrOm+gzP2nqMKD52sPoKKrUAgw4u2cIGf8hIbpJzQcV5an3r13r9XrrUzdjhr1M0T8"
    "PpNFjRNRazPFHqLepNKDk0QJQFzgOyAXN/+sIdN7dLc9LaMxJ6GOW1tOj881IFYfDlQQG1"
    "b0ZsVT+wwNjQvt7Cinw3YaGhqoO/UaKp0kuwBdQWqcvds6zHbySE4JHm8+g3DoOYjTo8C8"
    "fZ9ZrQQSSt/Rz6ejSGscOlpNbRrC6S2oEkpqJZI8iXFALEsYGDhnMSF80ekgXaAyc7edM5"
    "Ix5I7MpNfGkIsq8j6eGhmZcc8YjsW22inHmGyNyfapWbDnJtu3/ipwOXLmIwM8ZXhQYbHd"
    "bDRpMtjaaXMQtlX7luZaO5Khv2JCfqnsPTExYXeBL0JJ5r5QNkBoYS+pF8Y5BJwIzbAhk5"
    "sW2jMyre5z+kr1lNxEe6J6yITMIu6GG4+637Co9G7I4LI90RgOB2k4DP2A211k75RghMqn"
    "7Qdnp59DB4TzNCMEeSeHm/yi1lkcqiDuJRYNTMx9GptBspd05kKJ0HDgwRxgK8rdbraFMu"
    "X4dCtfnZ60WH6gVe3yo+7VQB4AWp1035uU44N8+9uqLxwQZZM1uyre638+XXyoRryKtqzj"
    "4HZI/kNcLnd2Gj74yzzybJUaTIna3JPH+Ly/7coi0cACxKqg70igP/z57O9lrrz96eJNWZ"
    "GBHbzZy7Qp+24HSmdxDx1fmXaEit0xafrgfN+DyRmVYe+g2au0RayngaZEa1T2Q+a0VrF1"
    "EVkyigcJKvvD051IJMYAWi+mjNgAagxkxkA2ABbsu4Es1lMcVNnFknuTRnNYYoFqZwQ7S6"
    "1SG4m2dcsZc9A2taoyd3UhbTRnJRkrKgxaWaNiyHuZxBi9Bmf0yrGo87aQ0ZmdobeKurNm"
    "2iikuymkVbyy1TU1dJHqEbVwj6N+2000KO0BdIHI4DyaqILHwfer01YLRsN6sZFcly4qVP"
    "X1ComkvbGbbF1LEZun7OrIuybppExpLOgPi3u0ZMB6Rj9mpJ9hKsnTk6HnTR/y4r7lAMgb"
    "Jjh05dQ5gzSWWdgkNgUXWhdcGJC6eX/wH5J2uZUxxyRK/CzYjKqkLgJy0n4YAjI+djQCsm"
    "TMs0TkddfeFQmNeNxXPJZrz+6X/zlPaFa8Qa94xm5q7KZDYMGe202/c/3bM7Udf4y8gwrj"
    "abHBpMmCOnfxE1ZtcR9raUg9h1PcOrWC4uOI7oNAH0Qwm/Eb5uhAQIc5UUCu2VqVGMYrfh"
    "TO/LvqpK+lvl4TPWcI/MRbzySZZqMF3kzJoSKBVQqrRumwRXyIBEgId45U9tdLuCCgVZw6"
    "VQ9AD++WzUggfJtJGeeS1W1ul3CIJUmc5CE0CZgIOZOEe7YbwVsdXXlxylmepHGV5PTkRN"
    "dSpnHaV2K7lK+SlK3KMRiHMsG301f1+8CbLYHOZeLKQ/oVFdcSe3Z8gIV72UsBbzypiTqV"
    "aLYcH47caj4kHFLpV3GFzmbegcfuMExfZRiJ76OzGAAs4Ynp7MyszndWeRJZTqQWjWS1OF"
    "BdwLjxB/n9h/OP56ooNSN/Jc9iUJ7pr8lYtgdp2c7Nnda2kiKZiTpsZ5PSi0AXoDMKg3HL"
    "lEv5HaQL1BuEJntbB7xh6Nzj6s9esG/Qj05Rv5tMx3Tt+rQC8EvYk6sBz5GMYk1pOkSf//"
    "2yWZ+UnqF/uvjwfdK8rGQqh1Bl8tUG7PdFUBVIjUZj2BqNffAg2fN4RJMg0SRI3Ne9t3yY"
    "7rgZVJAb0+2Q9wNU1vSJqM3IDH8Hzd8ocLmNGdE67EZFIrMfVdomnkaVfuFhAZ1L/5pVKt"
    "LztydNanRfNbRCbNlSh/4ppPM5WbHVjAn5jOgeyJmz4h45++U90X2Rw++Y8FhIbB4smQhh"
    "Qziqik6Sud6eyaQ3aiu9tuqqqqcJBjPpu+wOs/EtGFnQG9RoK705hm9mBcLg9YnHmC4bBu"
    "+miPFm/uGoY79mQfgqV+ksknjdmWAvV556nk4LyIW2CkjbhylyTFBPj43hLnJiQpSTmGri"
    "+jZ1YQyCEc/HR/oiLhzXGGyFvZnUgXuja07Y1YkFOSJjIe7voKzWCr2EWcyrSOBYry+qoj"
    "WKox6KI7UmMtlDhCxSGrXRoMVItd91+cBSghGovB/7m6JS+jZXfrFqp+gMfm0HhhndmWGr"
    "WCLLv/VYhfqpMXRgg7Zf5EAvBqRX9jd2wEcEgDCs0vs1Al8mNbjvZ8zG0Lb0EacIMjEcY+"
    "N6hWAXj944OBsH52GxYM8dnC8w6vygSh+rbkwaNbEqYr2dCvbMI6p5Q0onHlZoW1uT7TIP"
    "1IRkrfJ57k2CqGGqNk2CqCdWcHZNqDPaXDo7KEljcm89UjEIUwHliVaPOfdAVOTUtbpXIa"
    "iiNavKvavKPHLn3HVXWLqqB+iV1Ab2e2E36XN2mz4n9ENYCQLB7QpxpDERVInS5IHKc6Ai"
    "D9RwNK/7g/TAVW6bmtY4eLcXn8u0htND5rSNujrX7fdFl2gNp4fMaWM9+SzYbDJg9WGzyY"
    "A1SgWDyYD1Gax4xkBsDMRDYMEYDMQ/cY+9D9nqoM5QnDaY3GswtlT4DofGLU3HmKtKhdj4"
    "c0ITe/DhVHeGaam4zAXA6NvceU2mOYX8VCejwnvPZEVUz46e8XCjdDICY2s2tuahr3RPI8"
    "ylX0gn+PNUBvze4Btj6VNzIORhVQ6z+hCLlGAExqPHDqn4I6Ie4Fdhr6ud6HkSE4++cRK/"
    "jjaxbEjpo5uPYOY+QkKUGyo4zL3OS3ORzqzMfVfmPmZnY3CetDM4G312H6h3o882ijajaB"
    "sAC/Zc0fYLv2PuO8rd9dkCPrcFVaPaULdVNZs0Kd0CJLAcpLBoQtJS9fYLEwThmpBfL98S"
    "h+oUMuyGeaHKGvOKLP1bAq+01heluu/AasphySO2y/Hiprpti/02qtigZ/xPQWjS0gxmCZ"
    "s06NNilm1a5er29aqTVcEWt79LWaW0dHZ5vnfRFo8WEbCTg1SPYq4Pq+I6OIyf5PyULPdW"
    "vNx340AVtWFGb2YYN7F6hpgge3O0M0c7c7RrcbT7iMeZ6J6DXdJo0vZYJ3IEPc90SVTRK6"
    "zMFSBucG3J7Gs/ik9fcLrigsSPanuk69NtmxNdGgRlTnWDWb0m5lS3zVPd/sQGPtrpbsvR"
    "gVn+ko5+I+Yw8bDDRG6/6mAby1E92Do2ND5s2zxmjmv1U94c18xxzRzXzHHtvuPa+q3SHB"
    "7Un9WSFpM2B7V1XhN5/zFNdy0JBn2RID1cbdrKyGFmF0Otc5V7OxZ7sKs7rDPAsTssO1Hq"
    "eoIVmQXDRB/UddeqcAUWxGAB3JBMxAWdk0f5c/VT+LeqvPLcB/TJ4cUH8vbiw3c/vX97Sd"
    "5dEJhwP7z/8P3Ra9U27ubKU9UulgArjBYrUeBNj91uGgHJjywIsQoHls/gLksshvHD8d1s"
    "6sEgueteeVQIfgOYTRVbjn8++7t1/tv5h0vr7Pvz6ZEqm+ERPROduC6HrmeNiB2mPJjERT"
    "P0II4wPIB5c1/YcL6dIZhY5MONsIwzyT4D4t9gKjt4Lbm88tTHOSHTjQliXbP1lByu+AK+"
    "eSwE/aWeVl9+bf3Xa3Lpi9DnkuFbYXkOEH5cqipjw/DhwpWHAyCzL0LBWFLTWz0LmErtpW"
    "ID1uGeMcUVH1Yg9Xb66RMCuFMiYD74KxK41IbXlD60BKZI/n8M31XVKYFnRHKNaDyTeg4E"
    "dI01u2FkcMYnKy4lVho5U++rhwAohWJNlmomUPLii9k6ZFeeamDDS6qeGaKEvAMcoGst/p"
    "NDOvOjkHx1QpBGFoe8AHhlSF6eqHm8wkrhwA2cRSxBIp4Pcz8COrX7SZhzVCOBhdRRLSGT"
    "CYvvy9y5evV4KFh7ZS31h9G6GjieZE3oxjCVEkZcejrbntEHGSv/wKz8ai/pWC67QGSQrk"
    "d646z0hKL9+U2TWK/vthDptZzZTppHKTIJeYrFbKplDdUXQUWAymUMMibFwuuSOSCdxNJb"
    "Iq3nhHTuVAex7uIhjQYZ1TL+AHAxBiFpFWyYZf59kDEov4XmKCaqsJJgEoXmlJOZpHRn5W"
    "G3VCca/uSDU8O5A06oH+rjrn5qGnymc6P2enSaVrX709M1o9eD7fTMWfNkI20OUtrMfyht"
    "t5c8jdldWtaBNnLSTvHNluxKAb7eslAgHKFhYX8NCeqSEYaf5HOS7I+OCghNYJQPvZUPCr"
    "MO8zppP8Ip/fybFjP6eXklyiY03io7y3tY73oT3/rYzByJCc8s7BDbCM80kbKDYYVgNuM3"
    "vdwySqRGfBq2+FRUMHSRoTYoTdmWbmVbAkCr0/a+STk+yLdfusIYz4yv0RBYMAZfo1+Y5+"
    "h3rDZJJPcn9xslglzTe60S59pTBpY/gX4rUYj+I2TNtKsOmgq80I+9aLi7Jln6gE3jwwd2"
    "m3jetO3kVd42wQOGCTifSQLTKmLK9+Yc3VWgfyahMzeSS6L8gRzlh6SI4QU9SbXMqDyG1L"
    "ugX4uMRzMhfubBc+UdFryeJjmXp0nqTZJ40U/isd0wgfr5o8SFJH5NHj/NuULPH+1cwgUM"
    "VUli5MxLXxVHpxxkbJfylVQOURMC8oSyzqxIjE+GDNpgrjw9SeM28ML4IrkXVr4pyqMntt"
    "ZI7aUFkCsfFcAafXsmSZgN3IXB+fMrj8YuW1JjVnLTCuk1g+F5yg0n86ICzqiiOMfkIza0"
    "/dUKGsOwqLe+8pRfPLrTqJ5VF5kvD0+aw9jUqD2f3MI9saLiWntnXfMA36+lX40xcQzSxG"
    "FkAuNQMwBZwDjUDEKz/UQ2hEGfw3YCdOaIUkS5dsnNCMa04m4tKemTRF4Oeto+UuDloKIu"
    "9yWF7p4GU+4K3m1HUsaHvy5rQY5kdJmKvzptpbpt0NxulB7GM3MPi0iezphDBm0OcWkvDu"
    "fIDIMHzWAs+t3pLJUSPOICmVON7qNjBQ1Dtgo6yfl5EiM4lQUntbwwIXzRZeYWqcYn6u9G"
    "FTCc8uBmG9juNjCUwB7Bb6i9PoscXh3ak78/abSj6ZYWTZven1JNkxDBYErJUJLEW0fnQE"
    "sznx16PlqhpO9Rl6AWvTJUX4VWB8UuyS2t6/UVKfc60dHwOmRfGdIw/l9Zj5bwFFXjTof6"
    "aJNZJG6gW0mmeO1LwRx4WVXxDq1ouWvKirZk4p40bZbjr2B6K1D9gNv4RxrIYPK1Dch8cI"
    "8lJ+Nja7GuSGY05S1DKpLPpLVHckIwQoS376pkIq8eZxrHe1VP/9YirZH0BifpFczNsPN3"
    "Z3JGZdg7aPamwmWfE1uJdgusHtiBeUycRqcvi87nzEb0N1hdHyayQWjiRQo830a8iOd306"
    "om7UdndRpdGhLhO5Fdo6jQtybNOgrVqGXykTMSt8d0IHEVe4J6TKIbzlRSkE1VRAe6hxe6"
    "L+adLZMYFcEgVQSm8P1ThjGbyt+PV/l7ST2nCu36zTijGAHcj5EIIaRhVGHdbDYiR1XGzf"
    "1HePtuNjfMc7pZOjOK0cG7kwkcC0tW1/QSZTqDdiudOV1ULBb159Wk/TCOqfi80RxTB2Td"
    "N5qinWmKTEmRz4LNJl3MYNZVrNRgicjrfsQuEvY6Yw9sJX2aI7Zce3avJa9AaFa8Qa94Jm"
    "rZZDIZAgv2PZOJPsb+RgWnNenViy0mLSwc1o1u3CHNekyhvRwTA8bhNOmQO8q1MTZnPJNp"
    "E+5UeGNuo8OH20ayRxlriLGGDH0dexpRLfeNdGJAkc4wwJij9sEcJa+jTpYS3XwEQD+KHp"
    "/bXcPpU5oHB9MP7Ny97XB67qFjtS/W1h8RCFU8rMiyUS+yVBKPSL2xtdjGASlrB4b0mDQX"
    "Rlfbh8270dUaJZJRIg2ABXuuRPqoAk2Z895hen+vUCNttJk0KZJE3BpeVjXnrLXXbFpLLy"
    "bFssrT5KJMA2VhekjMa3qd1qGmMi7yXOVTu4VeMaRXJWFVRa0xB+vc5YtlSG6xerXK5ap6"
    "weVWUI8cqpS6TpzONsmLi0lrfY8dqfLaqvoxprJNSilDLxKDhomqmE1dlbcV61rDuCKhqk"
    "Bjnt/IczCweLZWkcc6oBhjlakrGHUwA62uHH1L18fkR/go5CtydaCS218dkEPXv2XiCxtf"
    "9WgCN1QK9qsDnbMWukMuPpNk6nIPRmfN1tO4dvOVd8iOF8dAkmYMRDJV7xlDE1SdbfVSWD"
    "QauO4kWXYTqFso565hvPg/vD60QehN/PJw9oBJgzou4VzbA3LSfoShnjtwJcw+hw4QF6lG"
    "CPT2A5fTvatPPG2BdIQm6APcYC5gY4wXuD052MVrsbFID2cjMYeJcR4mFOoVB4iEG/WHBn"
    "yhDiZnkCbtJfXCZ3EtjWNy6V8zTyrJOq6ukYjw3zHhsZDYPABxE8vekcPpf1nMs6c15udt"
    "dm4qKwx4GWqSZ7un4tl2Fp6nZcLurT7UtpmU8GnAt4VfTBdLZhXtGDIDPrZVU7A5CFHLfk"
    "yoJDZc6M6F4my+CzjA2uME0tCNsSoN2apU+pB6T4CmfswMGPIMkLYfsIrouvrFN6MYgY/J"
    "Yy+4wy9EtM/uPEllFgDQ6VgXtkQ4Ory3XNbFY8yRlmCwtlRoht/4vsuoVzOlS6QlqGdAuy"
    "us0yuPu5K8ubj4qbCSvHlfXip+/fnN+cfD5yXfqk1nH7TXUdftpScu05qNecgbM2D6AF5v"
    "UhtuD5nbA4qrH5pmesTGnwG5bhqu7+pjV6PfsDvVm0my6THjrgsYWTbIrYuqQ9qbuIPvfv"
    "zIXFV7ut4u9UZ39lb1tYcTos5AVfigEsQiSRdsq7j9ij2OGzyVzZejddNKqls8DLq3aYcf"
    "dX9jRc73sJ691n49ELML1ZUy+40VLeWaaDmUu2uLLmBhXcALPhC2X7DPd9jlWdLj5wBfbU"
    "HQfth9zLobL3J1JZQ7Q3aOHY0Vqxpf6v6QVblyjwW4Tp4tGca3bGapOVmP7AXuBfDP/fj+"
    "zma/JH3t5Tm+GtYuPkBrz/4Y4aM33YDiW5NGTyBohKmUWgcNzOH5xBeEe3AIX8G0pi7BTj"
    "B9BHrKw5HBj4TNyGGSxHtCdHnrSeqaLitcgbbWMwYPnIVkBecXTRZ5WD6MHKLT0yTt5Qg9"
    "/OOSmfhUaObBn68wBwYVIYeH67lC1AyBf688dK9f8YVQs5Iwb+5DR1hGjBxOsbGVomlhdM"
    "INmx4dY+yDkL6Yki/JdBa517B/2TBsaWFgwRS9nHTHypk/8GEqwBBglNGKOWrwMEdCDjuU"
    "JHPhr1r6OWVO/skLKy2rzigLbf95sBB+FJiUG8P1icozrq1NJ08zQhf07VedNYEUOwR31d"
    "EiuRqrIXL70O5JNvE9r0kNT18sWKes4jmS0U3j7UcApULIBsK//vr+XTXCeZoSxFHEnWOk"
    "3MPFuAFaHcKmJ25eL6/etLQucK8yuUtzNk9eHd1h7KXDspeqg8Qmc+vd1jIK4yjc3W9Nnd"
    "b8gOnzXscCq5XEY+DCI7i0bRyTux1DK8kfL2bwZFfAP0naO+R2f5P9JrXZYoa8xcxZaC9Z"
    "R7VPjsh8Zf2+siiQGNDYEfg8lUG+H/I6mrcj8Dkig3vPfLa02kulKZVtQmIw74d5bFXYRL"
    "0W8hzFaEDfWhJKJkS341hKMIZzwGOfxoy3cP3E3k+/0VapYkIq+nG9SGmOHUM+diwZ8GoG"
    "X2kPPpdpDaeHzOk597hc9vqgS6SGz0Pms0nxZVJ8DYEF+57ia+3Zl/5qJkNUY9c4+WUNJv"
    "e6+oVJ29YOf7Gug/iz/2VYGEr/JrdstvT966NXxHcdJojW8kqdThd96lz4KcgqkqFKpCvY"
    "Db9hhIdVrn87eUZj6tuCV1x9jSrjGmdc44a6tO3cxciU/BqEarqHqFykHKHGw4jKRlQ2or"
    "IRlXOi8qWgntRFIaoE5fztRjE5zBq2lpEDusaAFZKjVeVUPR2g8ppMMycIVU2Vh1LfwuIP"
    "8b2zcFolG2+174fXai16c+RJMKgkaaWeb4JLnlqWMPVcB8aQXPh88oV0gj9PZcDvDX4SLt"
    "gZ/xLhiEozPjIHhh939UgxFdsvX7MnoUH7Ci+m2bilFWVd6/HNkYwO4N0kq1/5kVel9Wiq"
    "UZwRmSLFeew3ixQnmV+7zOE8zegm8ZYTxYZx2qeSXNGUIDYhMYlhOySGDajQpRG7CXEFMi"
    "PC9Raih+OQNzB+jEk7HQgf61z04nOZ1nB6yJw2iVk/CzajSnCTwVjzvcaWGLcvs5XbIfkP"
    "cfnuMlwe/GUeeVrhPYu4G3JPHuNj/7YrobCBzYhPgcMbLu1l7/US67CDsku7sfwZy98QWL"
    "Dnlr80C2CF2S+fIbDe5pcmJWxp8btcMoJgPJPoo6brzr9ShrdP2j5CuDMhkoWwZi2kKvaO"
    "Kd6CaOZym1yztWqrk3ISmwqx3rT87egZpkTmgFeoSYPFLp2jHRNRlOnGEHv2CCrIPdGic0"
    "9nmnwcPdkOnAzj9auLRJqnMVLp1qVSGAuToQU7SJfZX6QaXU3e7ac+u2FCxs5IbTHOkYxv"
    "Fd++pU6tjD1VGmVao7oatE6DPYTXm9SG20Pmtktho1EHmx7M3iA2vB4yrwdkZBqa1mbEWR"
    "+MKWJsXK/42DfKrwxDHf6ZqJo2lOH1utuNM8sDq+IkOtnfsuPMnn2EdQrziqI499kYkmI3"
    "O7YwPOms3o19YSs2g2QONpgOctO0hQXByn8j91sSgPOE3YXMQxoS0xLJmEdwdcUg91iFP/"
    "cFocoiQA5R0Z+0XXIZ+mJdUVJny31Xxg4Vyjkl+gkTRT+YZX7SYFF4Ag3U0BbyXaug5lzA"
    "cRM/uV4Jj0rEIxRn91d8rdFL9OR1mdawetCsbjbGNm1h95hjjQ9P837W4MPTUFmysyNPh8"
    "KSQ+NFW2G7PBEH5tGDiZ/eMZeDxLGukc4LTe6TzrExviC25m2zX51j10kaKhJTr4lgNoO/"
    "nFfK48ZhThQoh5vEB8ePwpl/Vy2QJ50pyZvQzJsn7p05hIevk9qTWLhS160MoZWtnqApua"
    "MqXaKXkPBvMe4/e7Iel/Ia0h7YxPZXK3QHUteXvsuylzkM6Nr1qYN1N90IXuboypsxOBFg"
    "Ii14oLwFmY+cnpxM1NNvfXGNF2yX8lVaQBOGIOF+ELhrfMZKNV1Rca1/YRGOtIKmBEYWsh"
    "lQNS4uCJvPmR0eE3ypdFSSBJGAWULoHJN94VsImKUekr5GwisPATgssOKIwBe+lsT1vQUT"
    "zakPLMdfwXeiJgyCjH9oA0FtIoQcSTIXcN/+F24R2RQ/8OD0BddDtgrC+P4BuwtgH9InxP"
    "gzyE5Dd9bmTLUcXZw6WaHU8O4AP/xBfv/h/OM5vmzIyF/Js5gfzw7+LA1FJ2jo8fQ55a5O"
    "AN5qALr5M71wmDPf4M58pdnb2repSDbCs99OnMjS9aQtzinBCBF+ftomzBJa1buPnW6EWq"
    "YLdQeQ8zQjxHknMznZGTr7nuaoRhc2vJvY94BbPTRzJbLRYb193VxcqbWXmblMa5xIhqyt"
    "ycvoHRldIjVquUEzWh1DOsm1CYGpid3WYz8+mG+iXF/3KEcyBr/lpi9mF5WPYg1ChddF7a"
    "E5T2IKd5UzV2gf0OrqXfVrRZFqDBP5EaTZsgqs4/ZbQW5ErSHvwKjp7eOCn5EZ/g6av1Hg"
    "churcHTYjYpEZj+q3I9SkPp6D5Q7MB/S0D6kDj63u7SunjHB7eVBhVE1vjNpsqXSrM199t"
    "N6xm45C8HnYjx64IpjXAGfWrVb4QDepNINRoru85OTNmqJk5N6vcTJZlZT30O3gE2E6zMJ"
    "5EgeP5HA02yUW0sZ8KSb2Z//D8jTtwY="
)
