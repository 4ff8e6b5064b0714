"""Every GraphQL operation the client sends, one module-level constant each.

tests/shopify/test_shopify_schema.py discovers every public (no leading underscore) `str`
constant here and validates it against Shopify's Admin schema, so keep all
operations in this module (and nothing else that looks like one).
"""

from __future__ import annotations

SHOP_INFO = """
query ShopInfo {
  shop {
    id
    name
    myshopifyDomain
    email
    contactEmail
    currencyCode
    ianaTimezone
    url
    plan { publicDisplayName partnerDevelopment shopifyPlus }
  }
}
"""

# --- Selections shared by the paging queries and the bulk documents ---------------------
# One copy of each object's fields: a paging query and the bulk document of the same
# resource read the same fields, so a row looks the same whichever path brought it. They
# are spliced into both as text (bulk documents are not documented to take fragment
# definitions; the text is the same selection either way).

_MONEY = "shopMoney { amount currencyCode }"

_PRODUCT_FIELDS = """
  id legacyResourceId title handle status vendor productType tags createdAt updatedAt
"""
_VARIANT_FIELDS = """
  id title sku barcode price compareAtPrice inventoryQuantity createdAt updatedAt
"""
_ORDER_FIELDS = f"""
  id name email test createdAt updatedAt processedAt cancelledAt currencyCode
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet {{ {_MONEY} }}
  customer {{ id }}
  transactions {{
    id kind status gateway test createdAt processedAt errorCode
    amountSet {{ {_MONEY} }}
    parentTransaction {{ id }}
  }}
"""
_LINE_ITEM_FIELDS = f"""
  id name title quantity sku variant {{ id }} originalUnitPriceSet {{ {_MONEY} }}
"""
_CUSTOMER_FIELDS = """
  id firstName lastName defaultEmailAddress { emailAddress } state tags numberOfOrders
  amountSpent { amount currencyCode } verifiedEmail createdAt updatedAt
"""
_PAGE_INFO = "pageInfo { hasNextPage endCursor }"

# --- Paging queries (server/shopify/paging.py) --------------------------------------------

PRODUCTS_PAGE = f"""
query ProductsPage($first: Int!, $after: String, $query: String, $variantsFirst: Int!) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
      {_PRODUCT_FIELDS}
      variants(first: $variantsFirst) {{ nodes {{ {_VARIANT_FIELDS} }} {_PAGE_INFO} }}
    }}
    {_PAGE_INFO}
  }}
}}
"""

PRODUCT_VARIANTS_PAGE = f"""
query ProductVariantsPage($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{ nodes {{ {_VARIANT_FIELDS} }} {_PAGE_INFO} }}
  }}
}}
"""

ORDERS_PAGE = f"""
query OrdersPage($first: Int!, $after: String, $query: String, $lineItemsFirst: Int!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
      {_ORDER_FIELDS}
      lineItems(first: $lineItemsFirst) {{ nodes {{ {_LINE_ITEM_FIELDS} }} {_PAGE_INFO} }}
    }}
    {_PAGE_INFO}
  }}
}}
"""

ORDER_LINE_ITEMS_PAGE = f"""
query OrderLineItemsPage($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{ nodes {{ {_LINE_ITEM_FIELDS} }} {_PAGE_INFO} }}
  }}
}}
"""

CUSTOMERS_PAGE = f"""
query CustomersPage($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{ {_CUSTOMER_FIELDS} }}
    {_PAGE_INFO}
  }}
}}
"""

_WEBHOOK_FIELDS = """
      id
      topic
      uri
      format
      filter
      includeFields
      metafieldNamespaces
      createdAt
      updatedAt
"""

WEBHOOK_SUBSCRIPTIONS_PAGE = (
    """
query WebhookSubscriptionsPage($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes {"""
    + _WEBHOOK_FIELDS
    + """    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
)

WEBHOOK_SUBSCRIPTION_CREATE = (
    """
mutation WebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription {"""
    + _WEBHOOK_FIELDS
    + """    }
    userErrors { field message }
  }
}
"""
)

WEBHOOK_SUBSCRIPTION_UPDATE = (
    """
mutation WebhookSubscriptionUpdate($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) {
    webhookSubscription {"""
    + _WEBHOOK_FIELDS
    + """    }
    userErrors { field message }
  }
}
"""
)

WEBHOOK_SUBSCRIPTION_DELETE = """
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""

WEB_PIXEL = """
query WebPixel {
  webPixel { id settings }
}
"""

WEB_PIXEL_CREATE = """
mutation WebPixelCreate($webPixel: WebPixelInput!) {
  webPixelCreate(webPixel: $webPixel) {
    webPixel { id settings }
    userErrors { code field message }
  }
}
"""

WEB_PIXEL_UPDATE = """
mutation WebPixelUpdate($id: ID!, $webPixel: WebPixelInput!) {
  webPixelUpdate(id: $id, webPixel: $webPixel) {
    webPixel { id settings }
    userErrors { code field message }
  }
}
"""

WEB_PIXEL_DELETE = """
mutation WebPixelDelete($id: ID!) {
  webPixelDelete(id: $id) {
    deletedWebPixelId
    userErrors { code field message }
  }
}
"""

_BULK_FIELDS = """
      id
      status
      errorCode
      createdAt
      completedAt
      objectCount
      rootObjectCount
      fileSize
      url
      partialDataUrl
"""

BULK_OPERATION_RUN_QUERY = (
    """
mutation BulkOperationRunQuery($query: String!, $groupObjects: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) {
    bulkOperation {"""
    + _BULK_FIELDS
    + """    }
    userErrors { code field message }
  }
}
"""
)

BULK_OPERATION = (
    """
query BulkOperation($id: ID!) {
  bulkOperation(id: $id) {"""
    + _BULK_FIELDS
    + """  }
}
"""
)

# --- Per-shop sync (server/sync): counts decide between paging and a bulk operation ------

PRODUCTS_COUNT = """
query ProductsCount($limit: Int) {
  productsCount(limit: $limit) { count precision }
}
"""

ORDERS_COUNT = """
query OrdersCount($limit: Int) {
  ordersCount(limit: $limit) { count precision }
}
"""

CUSTOMERS_COUNT = """
query CustomersCount($limit: Int) {
  customersCount(limit: $limit) { count precision }
}
"""

# Bulk query documents (the `query` argument of bulkOperationRunQuery) take no page
# sizes: Shopify walks every connection, and nested connections become their own JSONL
# lines with `__parentId`. They select what the paging queries select.
BULK_SYNC_PRODUCTS = f"""
{{
  products {{
    edges {{
      node {{
        {_PRODUCT_FIELDS}
        variants {{ edges {{ node {{ {_VARIANT_FIELDS} }} }} }}
      }}
    }}
  }}
}}
"""

BULK_SYNC_ORDERS = f"""
{{
  orders {{
    edges {{
      node {{
        {_ORDER_FIELDS}
        lineItems {{ edges {{ node {{ {_LINE_ITEM_FIELDS} }} }} }}
      }}
    }}
  }}
}}
"""

BULK_SYNC_CUSTOMERS = f"""
{{
  customers {{ edges {{ node {{ {_CUSTOMER_FIELDS} }} }} }}
}}
"""

# --- Billing (server/shopify/billing.py) -------------------------------------------------
_MONEY_V2 = "amount currencyCode"
_SUBSCRIPTION_FIELDS = f"""
  id name status test trialDays currentPeriodEnd createdAt
  lineItems {{
    id
    plan {{
      pricingDetails {{
        __typename
        ... on AppRecurringPricing {{ interval price {{ {_MONEY_V2} }} }}
        ... on AppUsagePricing {{
          terms cappedAmount {{ {_MONEY_V2} }} balanceUsed {{ {_MONEY_V2} }}
        }}
      }}
    }}
  }}
"""
_ONE_TIME_FIELDS = f"id name status test createdAt price {{ {_MONEY_V2} }}"

APP_SUBSCRIPTION_CREATE = f"""
mutation AppSubscriptionCreate(
  $name: String!, $lineItems: [AppSubscriptionLineItemInput!]!, $returnUrl: URL!,
  $trialDays: Int, $test: Boolean, $replacementBehavior: AppSubscriptionReplacementBehavior
) {{
  appSubscriptionCreate(
    name: $name, lineItems: $lineItems, returnUrl: $returnUrl, trialDays: $trialDays,
    test: $test, replacementBehavior: $replacementBehavior
  ) {{
    confirmationUrl
    appSubscription {{ {_SUBSCRIPTION_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
"""

APP_PURCHASE_ONE_TIME_CREATE = f"""
mutation AppPurchaseOneTimeCreate(
  $name: String!, $price: MoneyInput!, $returnUrl: URL!, $test: Boolean
) {{
  appPurchaseOneTimeCreate(name: $name, price: $price, returnUrl: $returnUrl, test: $test) {{
    confirmationUrl
    appPurchaseOneTime {{ {_ONE_TIME_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
"""

APP_SUBSCRIPTION_CANCEL = f"""
mutation AppSubscriptionCancel($id: ID!) {{
  appSubscriptionCancel(id: $id) {{
    appSubscription {{ {_SUBSCRIPTION_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
"""

APP_USAGE_RECORD_CREATE = f"""
mutation AppUsageRecordCreate(
  $subscriptionLineItemId: ID!, $price: MoneyInput!, $description: String!,
  $idempotencyKey: String
) {{
  appUsageRecordCreate(
    subscriptionLineItemId: $subscriptionLineItemId, price: $price,
    description: $description, idempotencyKey: $idempotencyKey
  ) {{
    appUsageRecord {{ id idempotencyKey createdAt price {{ {_MONEY_V2} }} }}
    userErrors {{ field message }}
  }}
}}
"""

CURRENT_APP_INSTALLATION = f"""
query CurrentAppInstallation {{
  currentAppInstallation {{
    activeSubscriptions {{ {_SUBSCRIPTION_FIELDS} }}
    oneTimePurchases(first: 25, reverse: true) {{ nodes {{ {_ONE_TIME_FIELDS} }} }}
  }}
}}
"""

# One charge by id (a return URL's charge_id); two queries: the two types' `status` differ.
BILLING_SUBSCRIPTION = f"""
query BillingSubscription($id: ID!) {{
  node(id: $id) {{ __typename ... on AppSubscription {{ {_SUBSCRIPTION_FIELDS} }} }}
}}
"""

BILLING_ONE_TIME_PURCHASE = f"""
query BillingOneTimePurchase($id: ID!) {{
  node(id: $id) {{ __typename ... on AppPurchaseOneTime {{ {_ONE_TIME_FIELDS} }} }}
}}
"""
