// Stand-in for Polaris web components (https://cdn.shopify.com/shopifycloud/polaris-1.js is
// not reachable from tests): the <s-*> elements the app home uses, as plain custom elements
// drawn well enough to read in a screenshot. Behaviour the page relies on is kept: buttons
// are clickable (not while `disabled`), <s-date-field> has a `value` and fires `change`.
(() => {
  'use strict';
  const style = document.createElement('style');
  style.textContent = `
    s-page { display: block; padding: 20px 28px; background: #f1f1f1; color: #303030;
      font: 14px/1.45 system-ui, sans-serif; min-height: 100vh; box-sizing: border-box; }
    s-page::before { content: attr(heading); display: block; font-size: 20px; font-weight: 700;
      margin-bottom: 14px; }
    s-section { display: block; background: #fff; border-radius: 12px; padding: 16px;
      margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0, 0, 0, .15); }
    s-section::before { content: attr(heading); display: block; font-size: 15px;
      font-weight: 650; margin-bottom: 8px; }
    s-heading { display: block; font-weight: 600; margin: 12px 0 4px; }
    s-paragraph { display: block; margin: 6px 0; }
    s-stack { display: flex; flex-direction: column; gap: 8px; margin: 8px 0; }
    s-stack[direction="inline"] { flex-direction: row; align-items: flex-end; flex-wrap: wrap; }
    s-button { display: inline-block; padding: 6px 12px; border-radius: 8px; cursor: pointer;
      background: #e3e3e3; user-select: none; }
    s-button[variant="primary"] { background: #303030; color: #fff; }
    s-button[tone="critical"] { background: #c70a24; color: #fff; }
    s-button[disabled] { opacity: .5; pointer-events: none; }
    s-badge { display: inline-block; padding: 1px 8px; border-radius: 8px; background: #e3e3e3; }
    s-badge[tone="success"] { background: #cdfee1; }
    s-badge[tone="critical"] { background: #fee9e8; }
    s-badge[tone="info"] { background: #eaf4ff; }
    s-badge[tone="caution"], s-badge[tone="warning"] { background: #fff1e3; }
    s-banner { display: block; padding: 10px 12px; border-radius: 8px; margin: 8px 0;
      background: #eaf4ff; }
    s-banner[tone="warning"] { background: #fff1e3; }
    s-banner[tone="critical"] { background: #fee9e8; }
    s-banner::before { content: attr(heading); display: block; font-weight: 650; }
    s-table { display: table; width: 100%; border-collapse: collapse; margin: 8px 0; }
    s-table-header-row, s-table-row { display: table-row; }
    s-table-body { display: table-row-group; }
    s-table-header, s-table-cell { display: table-cell; padding: 6px 8px;
      border-bottom: 1px solid #e3e3e3; }
    s-table-header { font-weight: 600; }
    s-date-field { display: inline-flex; flex-direction: column; gap: 2px; }
    [hidden] { display: none !important; }
  `;
  document.head.append(style);

  const plain = ['s-page', 's-section', 's-heading', 's-paragraph', 's-stack', 's-text',
    's-badge', 's-banner', 's-table', 's-table-header-row', 's-table-header', 's-table-body',
    's-table-row', 's-table-cell'];
  for (const name of plain) customElements.define(name, class extends HTMLElement {});

  customElements.define('s-button', class extends HTMLElement {
    connectedCallback() {
      this.setAttribute('role', 'button');
      this.tabIndex = 0;
    }
  });

  customElements.define('s-date-field', class extends HTMLElement {
    constructor() {
      super();
      this.input = document.createElement('input');
      this.input.type = 'date';
      this.input.addEventListener('change', () => this.dispatchEvent(new Event('change')));
    }
    connectedCallback() {
      if (this.input.isConnected) return;
      const label = document.createElement('label');
      label.textContent = this.getAttribute('label') || '';
      this.append(label, this.input);
    }
    get value() { return this.input.value; }
    set value(value) { this.input.value = value; }
  });
  window.__polarisStandIn = true;
})();
