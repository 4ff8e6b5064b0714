// Stand-in for Shopify's App Bridge (cdn.shopify.com is not reachable from tests), served
// by the browser test in place of https://cdn.shopify.com/shopifycloud/app-bridge.js.
// It checks what the real one requires of the page and offers what the app home uses:
// shopify.idToken() (a session token the test signs), shopify.toast.show(), shopify.config.
(() => {
  'use strict';
  const meta = document.querySelector('meta[name="shopify-api-key"]');
  if (!meta || !meta.content) throw new Error('App Bridge needs <meta name="shopify-api-key">');
  if (document.querySelector('script') !== document.currentScript) {
    throw new Error('App Bridge must be the first script of the page');
  }
  const shop = new URLSearchParams(location.search).get('shop');
  const toasts = [];
  window.shopify = {
    config: {apiKey: meta.content, shop},
    async idToken() {
      const response = await fetch(
        `https://cdn.shopify.com/__test/id-token?shop=${encodeURIComponent(shop || '')}`);
      return response.text();
    },
    toast: {show(message) { toasts.push(String(message)); }},
  };
  // Inside the admin's iframe a page may not navigate the admin window itself (browsers
  // refuse it without a click): App Bridge carries open(url, '_top') to the admin, which
  // navigates. The admin stand-in of the browser test listens for this message.
  const nativeOpen = window.open.bind(window);
  window.open = (url, target, features) => {
    if (target === '_top' && window.top !== window) {
      window.top.postMessage({appBridgeStandIn: 'navigate', url: String(url)}, '*');
      return null;
    }
    return nativeOpen(url, target, features);
  };
  window.__appBridgeStandIn = {apiKey: meta.content, toasts};
})();
