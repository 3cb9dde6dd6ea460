/* express-audit-log admin page; plain browser JS, no build step. Audit data reaches the page only
 * through textContent and DOM APIs, never as HTML. Views: `#/?user=x&$page=2`, `#/history/<c>/<id>`. */
'use strict';
(() => {
  const TOKEN_KEY = 'express-audit-log.token';
  const LIST_PARAMS = ['from', 'to', 'user', 'action', 'collectionName', 'statusCode', 'isError', '$term', 'requestId', '$limit', '$page', '$sort'];
  const HISTORY_PARAMS = ['$limit', '$page'];
  const DEFAULT_SORT = '-date';
  const MAX_CHILDREN = 500;

  const meta = document.querySelector('meta[name="audit-base-path"]');
  const BASE = ((meta && meta.getAttribute('content')) || '/auditLog').replace(/\/+$/, '');

  const $ = (id) => document.getElementById(id);
  const ui = {};
  ['message', 'token-view', 'token-form', 'token', 'token-state', 'forget', 'app-view', 'filters', 'reset',
    'history-nav', 'layout', 'results', 'results-title', 'summary', 'entries', 'prev', 'next', 'page-info',
    'detail', 'detail-title', 'detail-body', 'close-detail', 'skip', 'activity', 'chart', 'tops']
    .forEach((id) => { ui[id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = $(id); });
  const tbody = ui.entries.tBodies[0];

  let view = null; // { kind: 'list' | 'history', params: URLSearchParams, collection?, id? }
  let listSeq = 0; // answers to superseded requests are dropped
  let detailSeq = 0;
  let pages = null;
  let openRow = null;

  // -- DOM helpers
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  const show = (n, on) => { n.hidden = !on; };
  const dash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));
  const pad = (n) => String(n).padStart(2, '0');
  function timeEl(iso) {
    const d = new Date(iso);
    if (typeof iso !== 'string' || isNaN(d.getTime())) return el('span', null, dash(iso));
    const t = el('time', null, `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
    t.setAttribute('datetime', iso);
    t.title = iso;
    return t;
  }
  const ms = (v) => (typeof v === 'number' ? `${v} ms` : null);

  // -- token (sessionStorage only)
  function storage(fn) { try { return fn(sessionStorage); } catch (e) { return ''; } }
  const getToken = () => storage((s) => s.getItem(TOKEN_KEY)) || '';
  const setToken = (t) => storage((s) => s.setItem(TOKEN_KEY, t));
  const forgetToken = () => storage((s) => s.removeItem(TOKEN_KEY));

  function showTokenView() {
    show(ui.tokenView, true); show(ui.appView, false); show(ui.forget, false);
    ui.tokenState.textContent = '';
    tbody.replaceChildren();
    closeDetail(false);
    ui.token.value = '';
    ui.token.focus();
  }

  function showMessage(kind, text) {
    ui.message.className = `message ${kind}`;
    ui.message.textContent = text;
    show(ui.message, true);
  }
  const clearMessage = () => { ui.message.textContent = ''; show(ui.message, false); };

  // -- API
  const apiUrl = (path, params) => {
    const qs = params ? params.toString() : '';
    return BASE + path + (qs ? `?${qs}` : '');
  };

  /** Resolves to the JSON body, or to null after telling the person why there is none. */
  async function api(url, quiet) {
    let res;
    let body = null;
    try {
      res = await fetch(url, {
        headers: { Authorization: `Bearer ${getToken()}`, Accept: 'application/json' },
        credentials: 'same-origin', cache: 'no-store',
      });
      const text = await res.text();
      try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    } catch (err) {
      showMessage('error', `Could not reach the audit API at ${BASE || '/'}: ${err && err.message ? err.message : err}`);
      return null;
    }
    if (res.ok && body && typeof body === 'object') return body;
    if (quiet) return null; // the list's own call says what went wrong
    const said = body && typeof body.message === 'string' && body.message ? body.message : '';
    const also = said ? ` The API said: ${said}` : '';
    if (res.ok) {
      showMessage('error', 'The audit API answered with something that is not JSON.');
    } else if (res.status === 401 || res.status === 403) {
      forgetToken();
      showTokenView();
      showMessage('error', res.status === 401
        ? `Your token was rejected (401). It is missing, invalid or expired: enter a valid token.${also}`
        : `Your token lacks the audit scope (403). Ask for a token that has it.${also}`);
    } else if (res.status === 400) {
      showMessage('error', `The query was refused (400): ${said || 'bad request'}`);
    } else {
      showMessage('error', `The audit API answered ${res.status}${said ? `: ${said}` : ` ${res.statusText}`}`);
    }
    return null;
  }

  // -- views and the hash
  const safeDecode = (s) => { try { return decodeURIComponent(s); } catch (e) { return s; } };
  function pick(params, allowed) {
    const out = new URLSearchParams();
    for (const k of allowed) { const v = params.get(k); if (v) out.set(k, v); }
    return out;
  }
  function parseHash() {
    const h = location.hash.replace(/^#/, '');
    const q = h.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
    const m = /^\/history\/([^/]+)\/(.+)$/.exec(q < 0 ? h : h.slice(0, q));
    return m
      ? { kind: 'history', collection: safeDecode(m[1]), id: safeDecode(m[2]), params: pick(params, HISTORY_PARAMS) }
      : { kind: 'list', params: pick(params, LIST_PARAMS) };
  }
  const historyPath = (c, id) => `/history/${encodeURIComponent(c)}/${encodeURIComponent(id)}`;
  function go(v) {
    const qs = v.params.toString();
    const h = `#${v.kind === 'history' ? historyPath(v.collection, v.id) : '/'}${qs ? `?${qs}` : ''}`;
    if (location.hash === h) route(); else location.hash = h;
  }

  function route() {
    view = parseHash();
    if (!getToken()) { showTokenView(); return; }
    show(ui.tokenView, false); show(ui.appView, true); show(ui.forget, true);
    ui.tokenState.textContent = 'Token kept in this tab';
    const history = view.kind === 'history';
    show(ui.filters, !history); show(ui.historyNav, history);
    ui.resultsTitle.textContent = history ? `History of ${view.collection} / ${view.id}` : 'Entries';
    if (!history) fillFilters(view.params);
    markSort();
    closeDetail(false);
    load();
    if (history) show(ui.activity, false); else loadStats();
  }

  // -- filters and sorting
  const inputs = () => ui.filters.querySelectorAll('[data-param]');
  function fillFilters(params) {
    for (const input of inputs()) {
      const v = params.get(input.dataset.param);
      if (input.type === 'checkbox') input.checked = v === 'true';
      else if (input.tagName === 'SELECT') input.value = /^(20|50|100|500)$/.test(v || '') ? v : '20';
      else input.value = v || '';
    }
  }
  function readFilters() {
    const params = new URLSearchParams();
    for (const input of inputs()) {
      const name = input.dataset.param;
      const v = input.type === 'checkbox' ? (input.checked ? 'true' : '') : input.value.trim();
      if (v && !(name === '$limit' && v === '20')) params.set(name, v);
    }
    const sort = view && view.params.get('$sort');
    if (sort) params.set('$sort', sort);
    return params;
  }

  const currentSort = () => (view.kind === 'history' ? DEFAULT_SORT : view.params.get('$sort') || DEFAULT_SORT);
  function markSort() {
    const sort = currentSort();
    for (const th of ui.entries.querySelectorAll('th[data-sort]')) {
      const on = th.dataset.sort === sort.replace(/^-/, '');
      th.setAttribute('aria-sort', on ? (sort[0] === '-' ? 'descending' : 'ascending') : 'none');
      th.querySelector('button').disabled = view.kind === 'history';
    }
  }
  function sortBy(col) {
    if (view.kind !== 'list') return;
    const sort = currentSort();
    let next = col === 'date' ? '-date' : col; // a new column: dates newest first, the rest ascending
    if (sort.replace(/^-/, '') === col) next = sort[0] === '-' ? col : `-${col}`;
    const params = new URLSearchParams(view.params);
    params.set('$sort', next);
    params.delete('$page');
    go({ kind: 'list', params });
  }

  // -- the list
  async function load() {
    const my = ++listSeq;
    const v = view;
    const params = new URLSearchParams(v.params);
    if (v.kind === 'list' && !params.get('$sort')) params.set('$sort', DEFAULT_SORT);
    ui.entries.setAttribute('aria-busy', 'true');
    ui.summary.textContent = 'Loading…';
    const body = await api(apiUrl(v.kind === 'history' ? historyPath(v.collection, v.id) : '', params));
    if (my !== listSeq) return;
    ui.entries.removeAttribute('aria-busy');
    ui.summary.textContent = '';
    if (!body) { tbody.replaceChildren(); renderPager(null, null); return; }
    clearMessage();
    renderRows(Array.isArray(body.docs) ? body.docs : []);
    renderPager(body.pages || null, body.items || null);
  }

  function cell(content, className) {
    const td = el('td', className);
    if (content instanceof Node) td.append(content); else td.textContent = dash(content);
    return td;
  }
  function badge(text, kind) { return el('span', `badge ${kind}`, dash(text)); }
  const statusClass = (c) => (typeof c === 'number' && c >= 100 && c < 600 ? `s${Math.floor(c / 100)}xx` : '');
  const methodClass = (m) => (typeof m === 'string' && /^[a-z]+$/i.test(m) ? `m-${m.toLowerCase()}` : '');

  function renderRows(docs) {
    tbody.replaceChildren();
    openRow = null;
    if (!docs.length) {
      const td = el('td', null, 'No entries match.');
      td.colSpan = 8;
      tbody.appendChild(el('tr', 'empty')).append(td);
      return;
    }
    for (const e of docs) {
      if (!e || typeof e !== 'object') continue;
      const row = el('tr', e.isError ? 'entry is-error' : 'entry');
      row.tabIndex = 0;
      if (typeof e._id === 'string') row.dataset.id = e._id;
      row.append(
        cell(timeEl(e.date), 'c-date'),
        cell(badge(e.method, `method ${methodClass(e.method)}`), 'c-method'),
        cell(e.action, 'c-action'),
        cell(e.collectionName, 'c-collection'),
        cell(e.endpoint, 'c-endpoint'),
        cell(e.user, 'c-user'),
        cell(badge(e.statusCode, `status ${statusClass(e.statusCode)}`), 'c-status'),
        cell(ms(e.durationMs), 'c-duration'),
      );
      row.addEventListener('click', () => openDetail(e, row));
      row.addEventListener('keydown', (ev) => {
        if (ev.target !== row) return;
        const to = { ArrowDown: row.nextElementSibling, ArrowUp: row.previousElementSibling }[ev.key];
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); openDetail(e, row); }
        else if (to) { ev.preventDefault(); to.focus(); }
      });
      tbody.append(row);
    }
  }

  function renderPager(p, items) {
    pages = p;
    ui.pageInfo.textContent = p ? `Page ${p.current || 1} of ${Math.max(p.total || 0, 1)}` : '';
    ui.prev.disabled = !(p && p.hasPrev);
    ui.next.disabled = !(p && p.hasNext);
    if (items && typeof items.total === 'number') {
      ui.summary.textContent = items.total === 0 ? 'No entries.'
        : `Showing ${items.begin}–${items.end} of ${items.total} ${items.total === 1 ? 'entry' : 'entries'}`;
    }
  }
  function turn(to) {
    const params = new URLSearchParams(view.params);
    if (to > 1) params.set('$page', String(to)); else params.delete('$page');
    go({ ...view, params });
  }

  // -- the activity chart and top lists (drawn by chart.js from the stats route)
  const TOPS = [['user', 'Top users'], ['action', 'Top actions'], ['collectionName', 'Top collections']];
  let statsSeq = 0;
  async function loadStats() {
    const my = ++statsSeq;
    const base = new URLSearchParams(view.params);
    for (const k of ['$limit', '$page', '$sort']) base.delete(k);
    const answers = await Promise.all(TOPS.map(([g]) => {
      const p = new URLSearchParams(base);
      p.set('groupBy', g); p.set('top', '5');
      return api(apiUrl('/stats', p), true);
    }));
    if (my !== statsSeq) return;
    // Any answer has the buckets (groupBy=user is refused when user is sealed by encryption).
    const first = answers.find(Boolean);
    const ok = Boolean(first && window.auditCharts);
    show(ui.activity, ok);
    if (!ok) return;
    // `to` is inclusive: the bucket's last millisecond.
    auditCharts.activity(ui.chart, first, (b) => narrow({ from: b.start, to: new Date(Date.parse(b.end) - 1).toISOString() }));
    ui.tops.replaceChildren();
    answers.forEach((a, i) => a && auditCharts.tops(ui.tops, TOPS[i][1], a, (key) => narrow({ [TOPS[i][0]]: key === null ? 'null' : String(key) })));
  }
  function narrow(set) {
    const params = new URLSearchParams(view.params);
    for (const k in set) params.set(k, set[k]);
    params.delete('$page');
    go({ kind: 'list', params });
  }

  // -- the detail panel
  async function openDetail(entry, row) {
    if (openRow) openRow.classList.remove('selected');
    openRow = row;
    row.classList.add('selected');
    const my = ++detailSeq;
    ui.detailTitle.textContent = `Entry ${dash(entry._id)}`;
    ui.detailBody.replaceChildren(el('p', 'muted', 'Loading…'));
    show(ui.detail, true);
    ui.layout.classList.add('has-detail');
    ui.detailTitle.focus();
    // The list may have been projected; the single-entry route has every field.
    const full = typeof entry._id === 'string' ? await api(apiUrl(`/${encodeURIComponent(entry._id)}`)) : entry;
    if (my !== detailSeq) return;
    if (full) renderDetail(full);
    else ui.detailBody.replaceChildren(el('p', 'muted', 'This entry could not be loaded.'));
  }
  function closeDetail(refocus) {
    detailSeq++;
    show(ui.detail, false);
    ui.layout.classList.remove('has-detail');
    ui.detailBody.replaceChildren();
    if (!openRow) return;
    openRow.classList.remove('selected');
    if (refocus && openRow.isConnected) openRow.focus();
  }

  function renderDetail(e) {
    const dl = el('dl', 'facts');
    const fact = (label, value) => {
      const dd = el('dd');
      if (value instanceof Node) dd.append(value); else dd.textContent = dash(value);
      dl.append(el('dt', null, label), dd);
    };
    let request = null;
    if (typeof e.requestId === 'string' && e.requestId) {
      request = el('a', null, e.requestId);
      request.href = `#/?${new URLSearchParams({ requestId: e.requestId })}`;
      request.title = 'Every entry of this request';
    }
    fact('Date', timeEl(e.date));
    fact('Method', e.method);
    fact('Endpoint', e.endpoint);
    fact('Action', e.action);
    if (e.message) fact('Message', e.message); // the registered action's rendered template
    fact('User', e.user);
    if (e.postedBy) fact('Posted by', e.postedBy);
    if (e.tenant) fact('Tenant', e.tenant);
    fact('IP address', e.ipAddress);
    fact('Status', e.statusCode === null || e.statusCode === undefined ? null : `${e.statusCode}${e.isError ? ' (error)' : ''}`);
    fact('Duration', ms(e.durationMs));
    fact('Request ID', request);
    fact('Trace ID', e.traceId);
    fact('Collection', e.collectionName);
    if (e.childCollectionName) fact('Child collection', e.childCollectionName);
    if (e.associationType) fact('Association', e.associationType);
    fact('Response message', e.responseMessage);
    if (e.notes) fact('Notes', e.notes);
    fact('User agent', e.userAgent);
    if (Array.isArray(e.truncated) && e.truncated.length) fact('Truncated', e.truncated.join(', '));

    const docs = Array.isArray(e.documents) ? e.documents : [];
    const list = el('ul', 'documents');
    for (const id of docs) {
      const li = list.appendChild(el('li'));
      li.append(el('code', null, id));
      if (typeof e.collectionName === 'string' && e.collectionName) {
        const link = el('a', null, 'history');
        link.href = `#${historyPath(e.collectionName, String(id))}`;
        link.setAttribute('aria-label', `History of ${e.collectionName} ${id}`);
        li.append(' ', link);
      }
    }
    ui.detailBody.replaceChildren(dl, el('h3', null, 'Documents'), docs.length ? list : el('p', 'muted', 'None'),
      jsonSection('Payload', e.payload), jsonSection('Params', e.params), jsonSection('Result', e.result));
    if (Array.isArray(e.changes)) ui.detailBody.append(changesSection(e.changes));
  }

  function section(title, content) {
    const s = el('details', 'section');
    s.open = true;
    s.append(el('summary', null, title), content);
    return s;
  }
  function jsonSection(title, value) {
    return section(title, value === null || value === undefined ? el('p', 'muted', 'None') : jsonTree(value, undefined, 0));
  }

  /** A collapsible tree: objects and arrays become <details>, leaves typed spans. */
  function jsonTree(value, key, depth) {
    const keyEl = key === undefined ? '' : el('span', 'json-key', `${typeof key === 'number' ? key : JSON.stringify(key)}: `);
    if (value !== null && typeof value === 'object') {
      const isArray = Array.isArray(value);
      const keys = isArray ? value.map((_, i) => i) : Object.keys(value);
      const n = keys.length;
      if (!n) {
        const leaf = el('div', 'json-leaf');
        leaf.append(keyEl, el('span', 'json-meta', isArray ? '[]' : '{}'));
        return leaf;
      }
      const node = el('details', 'json-node');
      node.open = depth < 3;
      const summary = node.appendChild(el('summary'));
      summary.append(keyEl, el('span', 'json-meta', isArray ? `[${n} item${n === 1 ? '' : 's'}]` : `{${n} key${n === 1 ? '' : 's'}}`));
      const ul = node.appendChild(el('ul', 'json-children'));
      for (const k of keys.slice(0, MAX_CHILDREN)) ul.appendChild(el('li')).append(jsonTree(value[k], k, depth + 1));
      if (n > MAX_CHILDREN) ul.append(el('li', 'muted', `… ${n - MAX_CHILDREN} more`));
      return node;
    }
    const type = value === null ? 'null' : typeof value;
    const leaf = el('div', 'json-leaf');
    leaf.append(keyEl, el('span', `json-${type}`, type === 'string' ? JSON.stringify(value) : String(value)));
    return leaf;
  }

  function changesSection(changes) {
    const table = el('table', 'changes');
    const head = table.appendChild(el('thead')).appendChild(el('tr'));
    for (const h of ['Path', 'From', 'To']) { const th = head.appendChild(el('th', null, h)); th.scope = 'col'; }
    const body = table.appendChild(el('tbody'));
    for (const c of changes) {
      if (!c || typeof c !== 'object') continue;
      const tr = body.appendChild(el('tr'));
      tr.append(el('td', 'json-key', dash(c.path)));
      for (const v of [c.from, c.to]) {
        tr.appendChild(el('td')).append(v === undefined ? el('span', 'muted', '(absent)') : jsonTree(v, undefined, 1));
      }
    }
    const wrap = el('div', 'table-wrap');
    wrap.append(table);
    return section(`Changes (${changes.length})`, changes.length ? wrap : el('p', 'muted', 'None'));
  }

  // -- wiring
  ui.tokenForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = ui.token.value.trim().replace(/^Bearer\s+/i, '');
    if (!t) return;
    setToken(t);
    ui.token.value = '';
    clearMessage();
    route();
  });
  ui.forget.addEventListener('click', () => {
    forgetToken();
    showTokenView();
    showMessage('info', 'The token was forgotten.');
  });
  ui.filters.addEventListener('submit', (ev) => { ev.preventDefault(); go({ kind: 'list', params: readFilters() }); });
  ui.reset.addEventListener('click', () => go({ kind: 'list', params: new URLSearchParams() }));
  for (const b of ui.entries.querySelectorAll('th[data-sort] button')) {
    b.addEventListener('click', () => sortBy(b.parentElement.dataset.sort));
  }
  ui.prev.addEventListener('click', () => { if (pages && pages.hasPrev) turn(pages.prev); });
  ui.next.addEventListener('click', () => { if (pages && pages.hasNext) turn(pages.next); });
  ui.closeDetail.addEventListener('click', () => closeDetail(true));
  ui.detail.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closeDetail(true); });
  ui.skip.addEventListener('click', (ev) => { ev.preventDefault(); ui.results.focus(); });
  addEventListener('hashchange', () => { if (location.hash === '' || location.hash[1] === '/') route(); });
  route();
})();
