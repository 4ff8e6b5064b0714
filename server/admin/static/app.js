// The app home inside Shopify's admin. Plain script, no build step: App Bridge (the global
// `shopify`) gives session tokens, Polaris web components (<s-*>) draw the page, and every
// piece of data comes from the app's /api/* routes. Data is only ever put in the page as
// text (never as HTML): customer emails and shop data are not markup.
(() => {
  'use strict';

  const config = JSON.parse(document.getElementById('app-config').textContent);

  // A shop that must install: send the top frame (the admin), not this iframe, to the install.
  // App Bridge turns open(url, '_top') into a navigation of the admin window.
  if (config.redirect) {
    open(new URL(config.redirect, location.origin).href, '_top');
    return;
  }

  const RETRY_HEADER = 'X-Shopify-Retry-Invalid-Session-Request';
  const REAUTH_HEADER = 'X-Shopify-API-Request-Failure-Reauthorize';
  const DAY_MS = 86400000;
  const FUNNEL_LABELS = {
    product_viewed: 'Viewed a product',
    product_added_to_cart: 'Added to cart',
    checkout_started: 'Started checkout',
    checkout_completed: 'Completed checkout',
  };
  const RESOURCE_LABELS = {products: 'Products', orders: 'Orders', customers: 'Customers'};

  // ------------------------------------------------------------------ small DOM helpers

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const $ = (id) => document.getElementById(id);

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function when(value) {
    if (!value) return 'never';
    return new Date(value).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'});
  }

  const number = (value) => Number(value || 0).toLocaleString();
  const percent = (rate) => (rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)} %`);

  function setBusy(button, busy) {
    // Polaris buttons show a spinner with `loading`; both stop a second click.
    button.toggleAttribute('loading', busy);
    button.toggleAttribute('disabled', busy);
  }

  // ------------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(status, problem, retryAfterS) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
      this.retryAfterS = retryAfterS;
    }
  }

  let reauthorizing = false;

  function reauthorize() {
    // Shopify no longer accepts the shop's grant: the install (OAuth) in the top frame.
    if (reauthorizing) return;
    reauthorizing = true;
    showMessage($('page-messages'), {
      tone: 'warning',
      heading: 'Authorize the app again',
      text: 'Shopify asks you to approve the app again. Taking you there…',
    });
    open(new URL(config.installUrl, location.origin).href, '_top');
  }

  async function request(path, method, body, token) {
    const headers = {Authorization: `Bearer ${token}`, Accept: 'application/json'};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
    });
  }

  // Every call: a fresh session token from App Bridge (tokens live a minute); a 401 carrying
  // Shopify's retry header is retried once with a new token; a re-authorization answer sends
  // the top frame through the install; any other error becomes an ApiError.
  async function api(path, {method = 'GET', body} = {}) {
    let response = await request(path, method, body, await shopify.idToken());
    if (response.status === 401 && response.headers.get(RETRY_HEADER) === '1') {
      response = await request(path, method, body, await shopify.idToken());
    }
    if (response.ok) return response;
    let problem = {};
    try {
      problem = await response.json();
    } catch (e) {
      problem = {};
    }
    if (response.status === 403 && response.headers.get(REAUTH_HEADER) === '1') reauthorize();
    const retryAfter = parseInt(response.headers.get('Retry-After') || '', 10);
    throw new ApiError(response.status, problem, Number.isFinite(retryAfter) ? retryAfter : null);
  }

  const json = async (path, options) => (await api(path, options)).json();

  // ------------------------------------------------------------------ messages

  function showMessage(container, {tone, heading, text, actions = []}) {
    const banner = h('s-banner', {tone, heading}, h('s-paragraph', null, text),
      actions.map(([label, onclick]) => h('s-button', {slot: 'secondary-actions', onclick}, label)));
    banner.classList.add('message');
    banner.dataset.tone = tone;
    container.replaceChildren(banner);
    return banner;
  }

  const clearMessage = (container) => container.replaceChildren();

  // What the merchant can do about each failure; `retry` reruns what failed.
  function showError(section, error, retry) {
    const box = section.querySelector('.messages');
    if (!(error instanceof ApiError)) {
      showMessage(box, {
        tone: 'critical',
        heading: 'The app could not be reached',
        text: 'Check your connection, then try again.',
        actions: [['Try again', retry]],
      });
      return;
    }
    const wait = error.retryAfterS || 5;
    switch (error.status) {
      case 401:
        showMessage(box, {
          tone: 'critical',
          heading: 'Your session could not be verified',
          text: 'Reload the app from your Shopify admin to sign in again.',
          actions: [['Reload', () => location.reload()], ['Try again', retry]],
        });
        return;
      case 403:
        showMessage(box, {
          tone: 'warning',
          heading: 'Authorize the app again',
          text: 'Shopify asks you to approve the app again before it can do this.',
          actions: [['Authorize', () => open(new URL(config.installUrl, location.origin).href, '_top')]],
        });
        return;
      case 402:
        showMessage(box, {
          tone: 'warning',
          heading: 'Choose a plan',
          text: 'This needs an active plan. Choose one under Plan above.',
          actions: [['Show plans', () => loadBilling({showPlans: true})]],
        });
        return;
      case 429:
      case 503: {
        const heading = error.status === 429 ? 'Too many requests' : 'Temporarily unavailable';
        const banner = showMessage(box, {
          tone: 'warning',
          heading,
          text: `${error.message} Trying again in ${wait} s.`,
          actions: [['Try again now', retry]],
        });
        banner.dataset.status = String(error.status);
        const timer = setTimeout(() => {
          if (banner.isConnected) retry();
        }, wait * 1000);
        banner.addEventListener('click', () => clearTimeout(timer), {once: true});
        return;
      }
      default:
        showMessage(box, {
          tone: 'critical',
          heading: error.problem.title || 'Something went wrong',
          text: error.message,
          actions: [['Try again', retry]],
        });
    }
  }

  // Runs one section's load or action: busy state, errors shown in the section.
  async function run(section, task, button) {
    if (button) setBusy(button, true);
    section.setAttribute('aria-busy', 'true');
    try {
      await task();
      clearMessage(section.querySelector('.messages'));
    } catch (error) {
      showError(section, error, () => run(section, task, button));
    } finally {
      section.setAttribute('aria-busy', 'false');
      if (button) setBusy(button, false);
    }
  }

  function toast(message) {
    if (shopify.toast) shopify.toast.show(message);
  }

  // ------------------------------------------------------------------ sync

  let syncPoll = null;

  function renderSync(state) {
    const rows = Object.entries(state.resources).map(([resource, info]) => {
      const run = info.last_run;
      const status = run ? run.status : 'never run';
      const tone = {succeeded: 'success', failed: 'critical', running: 'info', pending: 'info'}[status];
      return h('s-table-row', {'data-resource': resource},
        h('s-table-cell', null, RESOURCE_LABELS[resource] || resource),
        h('s-table-cell', {'data-field': 'stored'}, number(info.stored)),
        h('s-table-cell', {'data-field': 'last-success'}, when(info.last_success_at)),
        h('s-table-cell', {'data-field': 'status'},
          h('s-badge', {tone: tone || 'neutral'}, status),
          run && run.error ? h('s-text', {tone: 'critical'}, ` ${run.error}`) : null));
    });
    $('sync-rows').replaceChildren(...rows);
    const running = Object.values(state.resources).some((r) => r.running);
    const next = Object.values(state.resources).map((r) => r.next_run_at).find(Boolean);
    $('sync-summary').textContent = running
      ? 'A sync is running; this updates by itself.'
      : `Your store's data is kept in sync automatically${next ? `; next sync ${when(next)}` : ''}.`;
    clearTimeout(syncPoll);
    if (running) syncPoll = setTimeout(loadSync, 5000);
  }

  const loadSync = () => run($('sync'), async () => renderSync(await json('/api/sync')));

  async function syncNow() {
    await run($('sync'), async () => {
      const started = await json('/api/sync', {method: 'POST'});
      toast(started.runs.some((r) => r.new) ? 'Sync started' : 'A sync is already running');
      renderSync(await json('/api/sync'));
    }, $('sync-now'));
  }

  // ------------------------------------------------------------------ web pixel

  function renderPixel(pixel) {
    const badge = $('pixel-status');
    const labels = {active: 'Active', inactive: 'Inactive', not_created: 'Not activated'};
    badge.textContent = labels[pixel.status] || pixel.status;
    badge.setAttribute('tone', pixel.status === 'active' ? 'success' : 'neutral');
    badge.dataset.status = pixel.status;
    $('pixel-version').textContent = pixel.version || '–';
    $('pixel-last-event').textContent = when(pixel.last_event_at);
    $('pixel-activate').textContent = pixel.status === 'active' ? 'Update settings' : 'Activate';
    $('pixel-deactivate').toggleAttribute('hidden', pixel.status !== 'active');
  }

  const loadPixel = () => run($('pixel'), async () => renderPixel(await json('/api/extension')));

  function pixelAction(action, button, message) {
    return run($('pixel'), async () => {
      renderPixel(await json(`/api/extension/${action}`, {method: 'POST'}));
      toast(message);
    }, button);
  }

  // ------------------------------------------------------------------ billing

  const INTERVALS = {EVERY_30_DAYS: 'every 30 days', ANNUAL: 'a year'};
  let billing = null;

  function money(amount, currency) {
    if (amount === null || amount === undefined) return '–';
    const value = Number(amount).toLocaleString(undefined, {minimumFractionDigits: 2});
    return `${value} ${currency || ''}`.trim();
  }

  // With billing required and no active plan, the dashboard stays hidden: only the plans.
  const gated = () => Boolean(billing && billing.required && !billing.active);

  function planLine(plan) {
    const price = plan.kind === 'one_time'
      ? `${money(plan.amount, plan.currency)} once`
      : `${money(plan.amount, plan.currency)} ${INTERVALS[plan.interval] || ''}`;
    const parts = [`${plan.name}: ${price}`];
    if (plan.trial_days) parts.push(`${plan.trial_days}-day free trial`);
    if (plan.price_per_1000_events) {
      parts.push(`${number(plan.included_events)} events included, then ` +
        `${money(plan.price_per_1000_events, plan.currency)} per 1,000 ` +
        `(at most ${money(plan.usage_capped_amount, plan.currency)} a period)`);
    }
    return parts.join(' · ');
  }

  function choose(handle, button) {
    return run($('billing'), async () => {
      const body = handle ? {plan: handle} : {};
      const answer = await json('/api/billing/subscribe', {method: 'POST', body});
      // Shopify's approval (or plan-selection) page cannot load in our iframe: the top frame.
      open(answer.confirmation_url, '_top');
    }, button);
  }

  function renderPlans(show) {
    const box = $('billing-plans');
    box.toggleAttribute('hidden', !show);
    if (!show) return;
    if (billing.mode === 'managed') {
      box.replaceChildren(h('s-button', {variant: 'primary', onclick: (e) => choose('', e.currentTarget)},
        'Choose a plan on Shopify'));
      return;
    }
    const current = billing.active ? billing.active.plan : null;
    box.replaceChildren(...billing.plans.map((plan) => h('s-stack',
      {direction: 'inline', gap: 'base', alignItems: 'center', 'data-plan': plan.handle},
      h('s-text', null, planLine(plan)),
      plan.handle === current
        ? h('s-badge', {tone: 'success'}, 'Current plan')
        : h('s-button', {variant: 'primary', onclick: (e) => choose(plan.handle, e.currentTarget)},
          plan.kind === 'one_time' ? 'Buy' : 'Choose'))));
  }

  function renderBilling({showPlans = false} = {}) {
    const active = billing.active;
    const summary = $('billing-summary');
    const usageLine = $('billing-usage');
    usageLine.toggleAttribute('hidden', true);
    if (!active) {
      summary.textContent = billing.required
        ? 'Choose a plan to start using the app.'
        : 'You are on the free version. Choose a plan for more.';
    } else {
      const parts = [`Plan: ${active.name || active.plan}${active.test ? ' (test charge)' : ''}`];
      if (active.trial_days_left) parts.push(`trial: ${active.trial_days_left} days left`);
      if (active.current_period_end) parts.push(`current period ends ${when(active.current_period_end)}`);
      summary.textContent = parts.join(' · ');
      const usage = active.usage;
      if (usage) {
        const held = usage.charges.filter((c) => c.state === 'held').length;
        usageLine.textContent = `Usage this period: ${money(usage.balance, usage.currency)} of ` +
          `${money(usage.capped_amount, usage.currency)}` +
          (usage.events_this_period !== null ? ` · ${number(usage.events_this_period)} events` +
            (usage.included_events !== null ? ` (${number(usage.included_events)} included)` : '') : '') +
          (held ? ` · ${held} charge(s) held at the cap: raise the cap on Shopify to continue` : '');
        usageLine.toggleAttribute('hidden', false);
      }
    }
    $('billing-change').toggleAttribute('hidden', !active || showPlans);
    $('billing-cancel').toggleAttribute('hidden', !active || billing.mode === 'managed');
    renderPlans(showPlans || !active);
    $('dashboard').toggleAttribute('hidden', gated());
  }

  const loadBilling = (options) => run($('billing'), async () => {
    billing = await json('/api/billing');
    renderBilling(options);
  });

  function cancelPlan(button) {
    return run($('billing'), async () => {
      billing = await json('/api/billing/cancel', {method: 'POST'});
      renderBilling();
      toast('Plan cancelled');
    }, button);
  }

  // ------------------------------------------------------------------ analytics

  const isoDay = (date) => date.toISOString().slice(0, 10);

  function daysBetween(from, to) {
    const days = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
      days.push(isoDay(new Date(t)));
    }
    return days;
  }

  function renderFunnel(steps) {
    const width = 640;
    const rowHeight = 34;
    const labelWidth = 170;
    const max = Math.max(1, ...steps.map((s) => s.count));
    const chart = svg('svg', {viewBox: `0 0 ${width} ${steps.length * rowHeight}`, class: 'funnel'});
    steps.forEach((step, i) => {
      const y = i * rowHeight;
      const barWidth = Math.round(((width - labelWidth - 150) * step.count) / max);
      const rate = i === 0 ? '' : ` · ${percent(step.conversion_rate)} of previous`;
      chart.append(
        svg('text', {x: 0, y: y + 21, class: 'label'}, FUNNEL_LABELS[step.name] || step.name),
        svg('rect', {x: labelWidth, y: y + 6, width: Math.max(barWidth, 2), height: 20, rx: 3,
          class: `bar step-${i}`, 'data-step': step.name, 'data-count': step.count},
        svg('title', null, `${number(step.count)} (${percent(step.rate_from_first)} of viewers)`)),
        svg('text', {x: labelWidth + Math.max(barWidth, 2) + 8, y: y + 21, class: 'value',
          'data-step-value': step.name}, `${number(step.count)}${rate}`));
    });
    $('funnel-chart').replaceChildren(chart);
  }

  function renderDaily(summary) {
    const days = daysBetween(summary.from, summary.to);
    const byDay = new Map(summary.days.map((d) => [d.day, d.events]));
    const names = Object.keys(FUNNEL_LABELS);
    const stacks = days.map((day) => {
      const events = byDay.get(day) || [];
      const parts = names.map((name) => (events.find((e) => e.name === name) || {count: 0}).count);
      const other = events.reduce((sum, e) => sum + (names.includes(e.name) ? 0 : e.count), 0);
      return {day, parts: [...parts, other], total: parts.reduce((a, b) => a + b, 0) + other};
    });
    const width = 640;
    const height = 180;
    const bottom = 20;
    const max = Math.max(1, ...stacks.map((s) => s.total));
    const step = Math.min(width / stacks.length, 48); // a few days still read as days
    const chart = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'daily'});
    stacks.forEach((stack, i) => {
      let y = height - bottom;
      const group = svg('g', {'data-day': stack.day, 'data-total': stack.total},
        svg('title', null, `${stack.day}: ${number(stack.total)} events`));
      stack.parts.forEach((count, part) => {
        if (!count) return;
        const barHeight = ((height - bottom - 10) * count) / max;
        y -= barHeight;
        group.append(svg('rect', {x: i * step + step * 0.15, y, width: Math.max(step * 0.7, 1),
          height: barHeight, class: `bar step-${part}`}));
      });
      chart.append(group);
    });
    chart.append(
      svg('text', {x: 0, y: height - 4, class: 'axis'}, summary.from),
      svg('text', {x: stacks.length * step, y: height - 4, class: 'axis', 'text-anchor': 'end'},
        stacks.length > 1 ? summary.to : ''));
    const legend = h('div', {class: 'legend'},
      [...names.map((n) => FUNNEL_LABELS[n]), 'Other events'].map((label, i) =>
        h('span', {class: `key step-${i}`}, label)));
    const total = stacks.reduce((sum, s) => sum + s.total, 0);
    $('daily-chart').replaceChildren(chart, legend);
    $('daily-chart').dataset.total = String(total);
  }

  function renderAnalytics(summary) {
    renderFunnel(summary.funnel);
    renderDaily(summary);
    $('revenue').textContent = summary.revenue.length
      ? `Revenue from completed checkouts: ${summary.revenue
        .map((r) => `${Number(r.amount).toLocaleString(undefined, {style: 'currency', currency: r.currency})} (${number(r.orders)} orders)`)
        .join(', ')}`
      : 'No completed checkouts in this range.';
  }

  function loadAnalytics() {
    const from = $('analytics-from').value;
    const to = $('analytics-to').value;
    const query = new URLSearchParams({from, to});
    return run($('analytics'), async () => {
      renderAnalytics(await json(`/api/analytics/summary?${query}`));
    }, $('analytics-apply'));
  }

  // ------------------------------------------------------------------ privacy requests

  let privacyCursor = null;

  function filename(response, fallback) {
    const match = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
    return match ? match[1] : fallback;
  }

  async function download(item, button) {
    await run($('privacy'), async () => {
      const response = await api(item.export_url);
      const url = URL.createObjectURL(await response.blob());
      const link = h('a', {href: url, download: filename(response, `data-request-${item.id}.json`)});
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      toast('Export downloaded');
    }, button);
  }

  function privacyRow(item) {
    const tone = {completed: 'success', pending: 'caution', redacted: 'neutral'}[item.status];
    const customer = item.customer.email || item.customer.phone || (item.customer.id ? `Customer ${item.customer.id}` : 'Redacted customer');
    const button = item.export_url ? h('s-button', {'data-export': item.id}, 'Download') : null;
    if (button) button.addEventListener('click', () => download(item, button));
    return h('s-table-row', {'data-request': item.id},
      h('s-table-cell', null, customer),
      h('s-table-cell', null, item.topic === 'customers/data_request' ? 'Data request' : item.topic),
      h('s-table-cell', {'data-field': 'status'}, h('s-badge', {tone: tone || 'neutral'}, item.status)),
      h('s-table-cell', null, when(item.requested_at)),
      h('s-table-cell', null, when(item.due_at)),
      h('s-table-cell', null, button || h('s-text', {color: 'subdued'}, item.status === 'pending' ? 'Being prepared' : '–')));
  }

  function loadPrivacy({more = false} = {}) {
    return run($('privacy'), async () => {
      const query = more && privacyCursor ? `?cursor=${encodeURIComponent(privacyCursor)}` : '';
      const page = await json(`/api/compliance/requests${query}`);
      const rows = page.items.map(privacyRow);
      if (more) $('privacy-rows').append(...rows);
      else $('privacy-rows').replaceChildren(...rows);
      privacyCursor = page.next_cursor;
      $('privacy-more').toggleAttribute('hidden', !privacyCursor);
      const empty = !$('privacy-rows').children.length;
      $('privacy-empty').toggleAttribute('hidden', !empty);
      $('privacy-table').toggleAttribute('hidden', empty);
    }, more ? $('privacy-more') : null);
  }

  // ------------------------------------------------------------------ start

  function start() {
    const today = new Date();
    $('analytics-to').value = isoDay(today);
    $('analytics-from').value = isoDay(new Date(today.getTime() - 29 * DAY_MS));
    $('sync-now').addEventListener('click', syncNow);
    $('sync-refresh').addEventListener('click', () => run($('sync'), async () => renderSync(await json('/api/sync')), $('sync-refresh')));
    $('pixel-activate').addEventListener('click', (e) => pixelAction('activate', e.currentTarget, 'Web Pixel activated'));
    $('pixel-deactivate').addEventListener('click', (e) => pixelAction('deactivate', e.currentTarget, 'Web Pixel deactivated'));
    $('analytics-apply').addEventListener('click', loadAnalytics);
    $('privacy-more').addEventListener('click', () => loadPrivacy({more: true}));
    $('billing-change').addEventListener('click', () => renderBilling({showPlans: true}));
    $('billing-cancel').addEventListener('click', (e) => cancelPlan(e.currentTarget));
    // The plan first: without one (and billing required) the dashboard is not loaded at all.
    return loadBilling().then(() => {
      if (gated()) return null;
      $('dashboard').removeAttribute('hidden');
      return Promise.all([loadSync(), loadPixel(), loadAnalytics(), loadPrivacy()]);
    }).then(() => {
      document.body.dataset.ready = 'true';
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
