from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Durable intake: webhook deliveries become the outbox (payload, state, attempts); the pixel
# pipeline owes its work in pixel_pipeline_inbox.


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "pixel_pipeline_inbox" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "shop_id" BIGINT NOT NULL,
    "day" DATE NOT NULL,
    "version" VARCHAR(32) NOT NULL,
    "first_at" TIMESTAMPTZ NOT NULL,
    "last_at" TIMESTAMPTZ NOT NULL,
    "seq" BIGINT NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "last_error" VARCHAR(255),
    "claimed_until" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "uid_pixel_pipel_shop_id_da75c6" UNIQUE ("shop_id", "day", "version")
);
COMMENT ON TABLE "pixel_pipeline_inbox" IS 'Pixel pipeline work owed per shop, day and version (no customer data).';
        ALTER TABLE "webhook_deliveries" ADD "last_error" VARCHAR(255);
        ALTER TABLE "webhook_deliveries" ADD "attempts" INT NOT NULL DEFAULT 0;
        ALTER TABLE "webhook_deliveries" ADD "next_attempt_at" TIMESTAMPTZ;
        ALTER TABLE "webhook_deliveries" ADD "payload" TEXT;
        ALTER TABLE "webhook_deliveries" ADD "state" VARCHAR(16) NOT NULL DEFAULT 'pending';
        ALTER TABLE "webhook_deliveries" ADD "done_at" TIMESTAMPTZ;
        -- Deliveries from before the outbox were handed to the broker: count them done.
        UPDATE "webhook_deliveries" SET
            "state" = CASE "outcome" WHEN 'ignored' THEN 'ignored' ELSE 'done' END,
            "done_at" = "received_at";
        ALTER TABLE "webhook_deliveries" DROP COLUMN "outcome";
        -- Not expressible in the model: the retention purge reads only rows still
        -- holding a payload, whatever the table holds.
        CREATE INDEX IF NOT EXISTS "idx_webhook_deliveries_payload" ON "webhook_deliveries"
            ("received_at") WHERE "payload" IS NOT NULL;
        CREATE INDEX IF NOT EXISTS "idx_webhook_deliveries_due" ON "webhook_deliveries" ("next_attempt_at") WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS "idx_webhook_deliveries_failed" ON "webhook_deliveries" ("id") WHERE state = 'failed';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_webhook_deliveries_failed";
        DROP INDEX IF EXISTS "idx_webhook_deliveries_due";
        DROP INDEX IF EXISTS "idx_webhook_deliveries_payload";
        ALTER TABLE "webhook_deliveries" ADD "outcome" VARCHAR(16) NOT NULL DEFAULT 'queued';
        UPDATE "webhook_deliveries" SET "outcome" = 'ignored' WHERE "state" = 'ignored';
        ALTER TABLE "webhook_deliveries" DROP COLUMN "last_error";
        ALTER TABLE "webhook_deliveries" DROP COLUMN "attempts";
        ALTER TABLE "webhook_deliveries" DROP COLUMN "next_attempt_at";
        ALTER TABLE "webhook_deliveries" DROP COLUMN "payload";
        ALTER TABLE "webhook_deliveries" DROP COLUMN "state";
        ALTER TABLE "webhook_deliveries" DROP COLUMN "done_at";
        DROP TABLE IF EXISTS "pixel_pipeline_inbox";"""


MODELS_STATE = (
    "eJztXetz2za2/1cw+hL7jtZ1nDTNJvfeGSdxt75N4o7jtjtbd2iIhCSsKZAFSMua3v7viw"
    "ffAmmSlmSIwZfEIvEDyXPwOC+c8+doEXjIZ0fvg0XoY0hcdIn+iBGLRm/AnyMCF4j/Ud9o"
    "DEYwDPMm4kIEJ75EuVlzh6r28j6csIhCVzxhCn2G+CUPMZfiMMIBkcCYRcECUfaNByOYgg"
    "G6DwMaMTANKIjmCPAW7hySaAyWOJoDL0aAt0fsSDzFC1z+GExmosNTcKPv8+aN7Cm9+Ywl"
    "DxmDSYz9aO1RsuuYYA52omCG+D3KH/DbbyM2D0JxE90hEjnYG/3+O/+FiYfuERNNxM/w1p"
    "li5Hsl4vK2/Ja87kSrUF57h2fnJPpethUfM3HcwI8XJG8frqJ5QDIAJpIZM0QQ5TQQT4ho"
    "LGhLYt9POJKSW31A3kS9ZQHjoSmMfcEhgVYvkF8bOc7niyvny9mV44zWuJciCvRPLrkBEZ"
    "znr8okAWbiFf7295OTFy++Ozl+8er1ty+/++7b18eveVv5vuu3vvtLvUxOLdWVpNn5P84/"
    "X4kXCvjwUkNQXPhLYgTTJUoyI6d+FITYXWfA+zmkevJngAoH+KdVOZDSu4kF6YWcB/mk2A"
    "UTFvDe8RGZRXP+89XLBvr+cnr5/ofTy4NXLw/LRP6c3DmRtwS5c/Jm06EDhYuYARL55Ntv"
    "W1CZt6ols7xXpnNxUdOSu2lF0YAfXl40dE9WD2PIvsMFJudEupd05kIFaDnwaA6gBcR+l5"
    "VnHdlr/TGNC6Xl58XJcYvlh7eqXX7kvRqSh5xaqBfJM+TwSL75bTWgHhdl0zUbaVaa//ty"
    "8VlPcR22QnMPuxH4f+Bj1mbR6bXdjv57GhNX0FWJ2piwI/G8/x1tiSUNLBC0Ej0vGPvDL5"
    "L+4NPpP6tcef/x4p0kWcCiGZW9yA7eVVjEIhjFrMtUyBG7k3pGISKeINtOJsLzVy0mwvNX"
    "tRNB3CpTORvFDozWaf2BUyvCC6SndxVbnQQJ+Cj9Yw8lzwZyX51/Ovtydfrpp9LI/3B6dS"
    "bunMirq8rVgyprsk7Ar+dXPwDxE/zr4vNZdYJk7a7+NRLvBOMocEiwdKBXpEl6Ob1UFnG5"
    "zt2dyTnKstdo9kprEeo3k6vYDbDaMIFiSJxWJrYuIkuOeJSgsj883YpE4lIEe86vEnKACy"
    "mXBaB3QfxVMkr2ZLolA7pxtgnDdGdbRAHUyw5hHH93ZogQZv7prdbUnLoIymz4PqAIz8iP"
    "aCVZcc7fW7hMNKRPvDBfkm72jAV/pWMsvZqPXwqXmV+kOPT4t/Mv5vu6uP7+9Mv70w9nI0"
    "nhCXRvl5B6TonU4k5wElSuZG3Xby1OFtUrkMCZJI74CvHOqe8rsVOMdH6x9N640R2WeqDa"
    "OcFOM68UgAwIpuPpCviQRUC1nCBP+KYWOndXF2ijO4spsM6hlTeKQ6+wPVQh1ullnNOrwK"
    "LO20KOsztDbxN1Z8u0NUh3M0hPMWWRI391oHIZtUMr3G7Mb1vxPIptpTOhSyBL5zZ0Ftbh"
    "TjTOAIOj74uTVgtGw3pRJW4EZxpTfb1BIm1v/SYbt1Ik7ik3iInGTtEknVSR1oPeVzyBC0"
    "FDh4VIx4MPyMUL6OuZUIVWZ4jCHiV97B9DGmj74ez9+afTjwcnx2Ply+WzAivlNZ0XLzWe"
    "c0oRcVddVvYiZnCL++sWa/vr2qX9dZW+d4hi3pVXFwzyLgh8BIme0OvgCrknHD2oMfzu4u"
    "JjaUl/d15ZLT7//Ond2eXB88oI14ThmGNu3h/6m2RdbuXMKdt+unC5jBygU2FIbBampC4C"
    "ctreDAFZPHYwAjJDiDg0Jt2td2WgFY/7isdsRdxeS14JaFc8o1c86ze1flMTWLDnftMLYZ"
    "QZaZym6sa4yWOqDDqyzcPuUgJk8waPJ440rtLWsG26Sccgb1U8BmL9p9Z/avjy9DQSWFd/"
    "02BdTVs4sWld0zs6K2UPCD7R6jHFhIuKGPpO90M6OqxdVR5cVaaxP8W+vxAnu3sQXYu2ZH"
    "+Q7Na7tF3vUhREfCUIKXY14kijn7SCtG7SIgc0blLrTPoKbG4hDVzEWC8+V7GW0yZz2hW2"
    "Ot/vN6MrWMtpkzltHcRfBZutg7gPm62DeJAGBusg/gpWPOsgtg5iE1gwBAfxR0zQeYQWoz"
    "pHcdZg/KDD2PF5Wwfzxi1dxxcEAYEBwRTA1B98cKM6w94NwJlv+BlLbmPvbZ5TVjYSaWLl"
    "vWfscN3PvKVnPN4pnb6B9TVbX7PpK93TCHPZDOlE/iLKEr838a2z9Kk5EOHI1zg3rtB9De"
    "UzwACcR036ytk/r5pV90xd+Xjx+R9p86o+Xyb2HzEknH4af13tQC9CdrfQHG93jJ88f/nd"
    "y9cvXr3MhnZ2pWlEazTx23idlg1nplXzAYzcHZxIv4MUw5rs7k1LcxlnV+a+K3Mft7N1OI"
    "/bOZytPbsPqbdjz7aGNmtoM4AFe25o+wnfI/8DxP7qdMan2wzKt1ozt+majZuMbqEAOJ5A"
    "ODCFtDS9/YQoEOQag5+v3gMPrgAkHpAFYIB4rzdgHiwB/6SVusjkfY+vppgvecD1sbi4bm"
    "7bYL+NJjbes/hPktAWfDJmCRs32NMSlq175er2dZ1mVfLF7e9SppWWTq/O9u60xc5OBGxF"
    "keqR6+hxSY6Mo/GT6E/pcu8ky303DujQlhm9mWHDxOoZsp/JyTVBFMnbW9XOqnZmsWAwqt"
    "2lUGfiBxS7tNG4rVpHC4CeOl16qugNyIq1AHeO3NsgTrQvrl1hCpJHtVXp+nTbRqPLDkFZ"
    "rc6Y1WtstbpNanX7czZwZ9rdhk8H5vlLOsaNWGXiccpEYb/q4BsroB7tHTOND5t2j1l1rX"
    "7IW3XNqmtWXbPqWrO6dib8TqM6PU3dHT+soCn3VTvNTAShZ5WhlDMMMhlULvsCYrWQCc/A"
    "AYMER5gh7/AtUFwHYaKAFVxp2NNHum/jIY1am2ypC3T/c5TzpDgcxN7CJ8ciFMnXRH1Jvk"
    "gyTqaMeblad+8UKe3IThTF08kk3+CeE1/+kCum/qmV+vK9Hp2lW+r+dGmoThLOdX+wgjc8"
    "2arGRqrG2dxY40FDTq8CZoB63la8eNZLul365kt2R42jBBygwrG/Coa8VDZKZXtUh5lUAt"
    "np1LKeGPqjox6nAFaH63+URtCsw7hO2w9wSD9/1WJEP6+uRPmAFreqQTQk4sLoOn3rY7YL"
    "EBu2XdohNhG2bSPojWEFRS7Cd73MtRWoFZ/MFp/KBoYuMtQa0qZz7pbOOeTU6rS9ryOHR/"
    "LNp7S1PgjrgzCBBUPwQfyEQySy0pyTSXA/qvNFlFuNH/ZJhAnAwRni4agx5RxIkGAZ0FsQ"
    "LJGXeQTGWczXHaLCbA0OSJB7GoT0qMm786vop+B8SPvnXbM3gC+7gAZL+YyDUnDZOAEkzz"
    "oESxzNAUHL5LzQ0TW5Jr9SHEWIAEzkIxinHR8CkDCohMnE75GcMDpggfB6sJjecYFKBKfx"
    "6cBfU7aZ0OAW0WviBwyxw7fyWnqYSnTFIhQCLouJsH/Vq3xJcYV66kJKFkEiWcJGPveaCL"
    "FsrM43ycGnWovPjomPGAM3XLO/AYuAS3mcImCBIFnOsY/AwYLP5fT1Xf51DyQdSoZ5ElyV"
    "vI+NoDNnMR83uAnsvvp0B1Fs8GLX4MV0cekgbhcgg8vv8eKklWLToNesFezAlEU97AVFnD"
    "UWGG0sEEJCDw4XYJbBRjPYfBfP80Ht46I0UScLUAbY4YYUIuIJ0u1kX9q8mwdyjWsR6g7r"
    "1o7qIsRmSKsOWrmcI0oD2mXkllHDs1tu55y/D/mm6Dlch9cZ5x+oelIF27InJu+9BhWssi"
    "LWZtm8ZhJ/IgsuxXfQXZ3GHtbHkRfvjxuttqqlA7OmD5trFQRQxIcUixhI/cTqVG52FlfY"
    "aEOueAcE+nU22qs5jAAEYblLsIR1vXJSVHodg4D4K6DMo9I2eyVSpRMElIlVZF1XceWReF"
    "hmg70R176hyOMfK3OwY/4phWvSTDpH9IGDw44XLPjwlkQNQuyKP2pD0q3901z7Z87H1iJ8"
    "GTbAUK3tBPOm06R1LFwKGCCFt1DE28b872QYJ3tVz8iqMtZKesZJeiUnDd/5uzM5R1n2Gs"
    "3eTLjso7FVsFYzN5nTXKRnDpxOkSuov8bq+gDlNaCNVC7xfBORyiToZkFP2w/Oo7sxccUY"
    "a0XgxW6NoULdGjfbKGSjlifdT0HSXsRgJXXVVFCUajiRJ9DXTREdcI8vvVbOhFKFWBOBkS"
    "YCW4rtKQ/Q2VpUu6tFNYfE01G7fjPOEQMg9y6O4EYwijWe7OaAgVjnyN5/Cm8+hO0OEa+b"
    "VztHDI68WxnAibDkdD3YXMVZareymcOZZrGo11fT9maoqeJ5g1FTDfLuW0vR1ixFNsnlV8"
    "Fmm6jAmHWVIUQcGpPuKnYZaIuK9o5hXhG315JXAtoVz+gVz571s2foTWDBvp+hV2rsL6qe"
    "9ajetZG2GLfwcDhJeewOOX0ThIpyTB0YBzdph9iToY2JO+MZy5pgTxONuYkOH+8byR9lvS"
    "HWG2L6OvZU9d+zOdKJAWWcZYB1R+2DO4rdxp08Jar5AAi9Ezs+drtWy8kwj66VY5je3ZSI"
    "ok+pHExEYHVAV84fMReqcKRJ9lEvsmjBAzJvbOwcq0HGWsMoPSTLhbXV9mHzdmy11ohkjU"
    "gGsGDPjUiX8qAp8s49pPZ3jRlprc24yZBEk9b8Y2VzjFpHzWbpFBPoCkBwk15k2UFZPjwY"
    "8sbgFoWROnkLGW85h2yui6ndQK/iSO9lsGSARdj3RcbFqY9n8wgs50hlX1S9iOWWQgIO+N"
    "CMRfZImcVRpTAcg2lAxaHgQwApUmWCkXfN+cJHDYtEL0wcGuZ3xVFkPtRYAHhf4r1iDsAM"
    "kCACMfHEweLJSp48VgeKxVll6IvCfyvRAY7YNVnC1RH4kU8K9gZcj2Ra5esROPCDJaJ/c8"
    "WnHo75DZn893qkMjTy7gQXnzFw42PC386ZrG6AWj6vyQE6mh1xSFbvQsCS7JFLxukLs9rH"
    "gHPdA1Egb6ekbmGcu+XvK/7nn8/bCNLb88vm7AHjBnNcyrm2CnLafoBHPbcQSphPhw4kLq"
    "MGSOjNH1zO9q4+52lL0AG6oPe0smyyFluPtDkbiVUmhqlMSKprFIiUG/VKg/igDi5nLk26"
    "c0iiZ0Ii52PjCFwFt4gwKVnLK14mwn+PKEERcHHIxU1RcAkc3PyXg4h7U+N+3mTnGmnXyr"
    "OmLENN8mz3VDybzsLztEzYvtcHui5ijE8NPrfEjOniydRhh5AFctdeTYqmXIia92OCFmy5"
    "0J0L5dF8H2JO1h4aSEM31qtkslepMpF6D4CmfuwIMHkEMDcIkeZ0Xf3imyMGEGOy6wXX/F"
    "rp+xzO48aUcmlgxQnodaxIWAEOjt6vW1D7dS2tX1cpTRDymEMRX1s0luF3QeAjSGqGdAVa"
    "IfWEY7dF6+zKbleSdxcXH0srybvz6lLx86d3Z5cHzyuxVevBPsJfB32/l524irUbs8kbM6"
    "fpI3i9jrbcNpnbBp2rN80yPWDnj0Ghm5br25rs8u3X/E71bpJKalYs3E1OWm5AI2slnXz/"
    "4yXyZc3Uet/U+6zDS9XfHg6MOkdVOa5fluP1IPZXTlpNVqfldiGeLNT7QXR5mvb4NZCPih"
    "iyWKNN9aPdZd7dcCmnwu42QLIz0dFQaVUTrtmfZLpo0aEQrpPzPKfxEk0cOSbrKXtB0FXA"
    "/3mYvr+iyU9pX3upKujJ2iXMYEXcy5iMdJEGya1xY7ABbySytbSOS57y54OAAky4nL/gwx"
    "r6QHQiTqjLIu6IBTF1EThI8wSPeXMPUf5/FmisiTbYWM8iPvk0AgsuIilYTIpV5dNeDkUQ"
    "cVKBUTyVN+Ma6uyNOGYPaYT5w9VYAXKE8H+viYjgXeAZVYXgEZkGvCNRqQgc3IjGTkZNRw"
    "RA36GbwyMRXk1ZQG/AN+BmEvu3TlIp3hGxyzcikEJ1LOOFw4APBf4K/C3jBfLky/MxEmG+"
    "QzEwpcGiZShFHkecfrA05Kiklbztb6MZDeLQnuo3N+yiyLi2ZuMiZoBRrpsvYmpjtbdI3E"
    "VHp8diqL6OzZN2TxIW73mJY/702Qx1SlxcgAxuGG/+kEEmhKxR+Oefzz/oKVzEVEgcx9g7"
    "Esg9XIwbSKtOyaiBWzT9yS+trAuYaPNHNCcMxPoAcuuSMcslIxWJdebWR8bkCBuL2D00Rm"
    "prQYiUvtexhqMWPAQu7CBqZk1N7qaGauG7O5Z0vC3CP0lmLcHt/l7BdbTdYkzeYqYocueo"
    "o9mnALKzrN8si0Mmzkx1JHwRZSnfj/LqwGBHwhdAlu49U2bCmda71pQtM4VYmvejeeJVWK"
    "d6LckLiMEQfWN57hCl3dSxDDAEPWDX2pgNSKwf2PsZmtYqG0UEaT+ul5FW7TBZ7ZgjzqsJ"
    "n6U9+FzFWk6bzOkpJpjNe03oCtTy2WQ+2yxCNouQCSzY9yxCK+JeBYsJi4QZuybIL28wfj"
    "DUL0rbtg74S2wdIJj8G4naM+o3WKLJPAhuD9+AwPcQBcrKy1TGThFT5/OfFCxiFslcnRTd"
    "4TsEcKQL/dvKMxqza5ai4urL4NjQOBsaZ+rStvUQI1tVyAjTdA9RuYwcoMXDispWVLaish"
    "WVC6LyFYWEqbzzOkG5eLtRTI7yhq1l5BCuxIEVUMDKio1EHVB5C27yIAhZsBFHTN0S+eWT"
    "e6fRjU423mjfjy8HWY7mKELEoZK0lXy+PVzy1LKELRlpGENyBmQzpBP5iyhL/N7ET48Ldq"
    "Z/BTig6m875oD55652dKZi8xUy9uRo0L6SV6TZWEJN5ch6+hYggyPwdvJhL4KY6KweTWVQ"
    "c5Ctg1qk/Xod1DS5ZJcxXMQMbhBvOBdllCQyqsgVTTkoU4jNPdkh92QIqaq+1k2IK8GsCN"
    "dbiDYnIM8wfgzJOh3SQKTS78XnKtZy2mRO29yPXwWbbd3uPmy2dbv3X3ixnr9hev6yLIAa"
    "t18xQ2C9zy9LStjS43c1R0AQ4xkTMWqqtPUb6Xj7ovwjAHtjwFDE16wZk/WkRYq3MJ742A"
    "W3aCXbqqScwIWUrtY9f1t6hq3CZ/AKNW7w2GVjtGMiiipuCGfPdmCC3BMrOiYq0+Ru7GRb"
    "CDJM1q8uEmkRY6XSjUul/F0Qixy+g3QZ/WXU4Mp+bj712R2iLAlGakvjAmR4q/jmPXVyZe"
    "xp0qhirenKaJsGegyv19GW2yZz24d8o5GKTQ9mr4Etr03mtUFOJtOsNgPO+mBdEUPjumay"
    "r5VfMcMc/pWYmtaM4fW22zWd5ZFVcVKb7C+5OrNnk7DOYK4pivOQjyEtdrNlD8OTjurt+B"
    "c24jNIx2CD66AwTFt4EJziHHnYk8A5D9B9hIjAgAQLGEIEiNVVHHJPTPjTgAIoPQLgQBj6"
    "07ZzzKKArjQldTbct/bsUKmcU2qfsKfojVnmxw0ehSewQJm2kG/bBDXFlKubYsr1SnhUAQ"
    "9QnN1f8bXGLtGT11WsZbXRrG52xjZtYQ+4Y20MT/N+1hDD01BZsnMgT4fCkqbxoq2wXR2I"
    "hkX0iMRPH5CPucSxqpHOS00eks5FY/GBojVum/3qTHSdpqECCXoFKHIR/8t7IyNuPOTFoQ"
    "y4SWNwgjiaBPd6gTztTEreAObRPEnvyAM4epvWnhSFK1Xdyoi3cuUTFBJ7stKliBKiwVKc"
    "+8+frN5LRg2pCGzgBouFCAeS1+eBj/KPOQjhyg+gJ+pu+jH/mMNrMkFcIxCJtPgD2ZLLfO"
    "Dk+Hgsn74M6K244PoQL7ICmvwVGL8fhv5KPGMhmy4gvVW/RBGOrIIm44wsZTOA8r0wBWg6"
    "RW50BMRHZW/FQBhTPkoAnIpkX+IrKB+lREDfCuA1EQQ4KLHiEPAZvmLAD8gM0ebUB44XLP"
    "g8kQNGEFn8oRwEtYkQCpB0LIh9+3exReRDfES49sWvR2gRRsn9EboP+T6kNMRkGuTa0L2z"
    "PlIdTxWnTlco+Xr3nH7iB/j1h7PLM/GxEQL/A54l/Hg2+qvyKipBQ4+nTyH2VQLwVi+gmj"
    "9TC4fV+YzT+Sqjt3VsUxk2QN1vK0Fk2XrSls4ZYIAUfn7S5pglb1UfPnaydtQyW6g7ELmI"
    "GSCdtzKS052hc+xpATW4Y8PbOfseYqeHZa4CGxytN2+bSyq19nIzV7E2iMRka01RRu/I6A"
    "rUmuWMZrRUQzrJtSnA1sRuG7GfKObrVK6ve1SADCFuuWnGbKPyUWJB0ERd1CrNRYgt3FXN"
    "XKFiQPXVu+rXijJqCAN5B9Js1QTWcfvVwK2oZfIOLCy9fULwc5jlr9H8jUMfu6IKR4fdqA"
    "yy+5F2P8qI1Dd6oNqBnUimTaQOMbfb9K6eIord+UjjVE3ujJt8qTBv85D/tJ6xG85C8LU4"
    "jx654thQwKc27WoCwJtMuuFAqfv8+LiNWeL4uN4ucbye1TQgIixgncL1mQQKkN0nEniajX"
    "JjKQOedDP76z9fPbHg"
)
