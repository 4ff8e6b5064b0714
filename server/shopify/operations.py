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

_VARIANT_FIELDS = """
      id
      title
      sku
      barcode
      price
      compareAtPrice
      inventoryQuantity
      createdAt
      updatedAt
"""

PRODUCTS_PAGE = (
    """
query ProductsPage($first: Int!, $after: String, $query: String, $variantsFirst: Int!) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id
      legacyResourceId
      title
      handle
      status
      vendor
      productType
      tags
      createdAt
      updatedAt
      variants(first: $variantsFirst) {
        nodes {"""
    + _VARIANT_FIELDS
    + """        }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
)

PRODUCT_VARIANTS_PAGE = (
    """
query ProductVariantsPage($id: ID!, $first: Int!, $after: String) {
  product(id: $id) {
    variants(first: $first, after: $after) {
      nodes {"""
    + _VARIANT_FIELDS
    + """      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
)

_LINE_ITEM_FIELDS = """
          id
          name
          title
          quantity
          sku
          variant { id }
          originalUnitPriceSet { shopMoney { amount currencyCode } }
"""

ORDERS_PAGE = (
    """
query OrdersPage($first: Int!, $after: String, $query: String, $lineItemsFirst: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id
      name
      email
      test
      createdAt
      updatedAt
      processedAt
      cancelledAt
      currencyCode
      displayFinancialStatus
      displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      customer { id }
      lineItems(first: $lineItemsFirst) {
        nodes {"""
    + _LINE_ITEM_FIELDS
    + """        }
        pageInfo { hasNextPage endCursor }
      }
      transactions {
        id
        kind
        status
        gateway
        test
        createdAt
        processedAt
        errorCode
        amountSet { shopMoney { amount currencyCode } }
        parentTransaction { id }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
)

ORDER_LINE_ITEMS_PAGE = (
    """
query OrderLineItemsPage($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      nodes {"""
    + _LINE_ITEM_FIELDS
    + """      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
)

CUSTOMERS_PAGE = """
query CustomersPage($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id
      firstName
      lastName
      defaultEmailAddress { emailAddress }
      state
      tags
      numberOfOrders
      amountSpent { amount currencyCode }
      verifiedEmail
      createdAt
      updatedAt
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

_WEBHOOK_FIELDS = """
      id
      topic
      uri
      format
      filter
      includeFields
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

BULK_OPERATION_CANCEL = (
    """
mutation BulkOperationCancel($id: ID!) {
  bulkOperationCancel(id: $id) {
    bulkOperation {"""
    + _BULK_FIELDS
    + """    }
    userErrors { field message }
  }
}
"""
)

# Bulk query documents (the `query` argument of bulkOperationRunQuery) take no page
# sizes: Shopify walks every connection, and nested connections become their own JSONL
# lines with `__parentId`.
# Per-shop sync (server/sync): object counts decide between paging and a bulk operation,
# and the bulk documents select what the paging queries select.
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

BULK_SYNC_PRODUCTS = """
{
  products {
    edges {
      node {
        id
        legacyResourceId
        title
        handle
        status
        vendor
        productType
        tags
        createdAt
        updatedAt
        variants {
          edges {
            node {
              id title sku barcode price compareAtPrice inventoryQuantity createdAt updatedAt
            }
          }
        }
      }
    }
  }
}
"""

BULK_SYNC_ORDERS = """
{
  orders {
    edges {
      node {
        id
        name
        email
        test
        createdAt
        updatedAt
        processedAt
        cancelledAt
        currencyCode
        displayFinancialStatus
        displayFulfillmentStatus
        totalPriceSet { shopMoney { amount currencyCode } }
        customer { id }
        transactions {
          id kind status gateway test createdAt processedAt errorCode
          amountSet { shopMoney { amount currencyCode } }
          parentTransaction { id }
        }
        lineItems {
          edges {
            node {
              id name title quantity sku variant { id }
              originalUnitPriceSet { shopMoney { amount currencyCode } }
            }
          }
        }
      }
    }
  }
}
"""

BULK_SYNC_CUSTOMERS = """
{
  customers {
    edges {
      node {
        id
        firstName
        lastName
        defaultEmailAddress { emailAddress }
        state
        tags
        numberOfOrders
        amountSpent { amount currencyCode }
        verifiedEmail
        createdAt
        updatedAt
      }
    }
  }
}
"""
