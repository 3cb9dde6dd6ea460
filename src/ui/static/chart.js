/* express-audit-log admin page: the activity chart (inline SVG, no library) and the top lists, drawn
 * from `GET {basePath}/stats` answers. Text reaches the page only through textContent. */
'use strict';
(() => {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 800, H = 140, PAD = 22;
  function svgEl(tag, attrs) {
    const n = document.createElementNS(NS, tag);
    for (const k in attrs) n.setAttribute(k, String(attrs[k]));
    return n;
  }
  const pad = (n) => String(n).padStart(2, '0');
  function label(iso, intervalMs) {
    const d = new Date(iso);
    const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return intervalMs >= 86400000 ? day : `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

  /** Bars per bucket, errors stacked at the bottom in their own color; a click or Enter picks the bucket. */
  function activity(host, stats, onPick) {
    const buckets = Array.isArray(stats.buckets) ? stats.buckets : [];
    const max = Math.max(1, ...buckets.map((b) => b.count));
    const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'group' });
    const sum = `${label(stats.from, 0)} to ${label(stats.to, 0)}, per ${stats.interval}: ${stats.count === 1 ? '1 entry' : `${stats.count} entries`}, ${plural(stats.errors, 'error')}`;
    svg.setAttribute('aria-label', `Activity ${sum}`);
    const caption = Object.assign(document.createElement('p'), { className: 'hint', textContent: `${sum}. Pick a bar to see its entries.` });
    const inner = H - PAD * 2;
    const step = (W - PAD * 2) / Math.max(buckets.length, 1);
    const y = (n) => PAD + inner - (n / max) * inner;
    svg.append(svgEl('line', { x1: PAD, x2: W - PAD, y1: H - PAD, y2: H - PAD, class: 'axis' }));
    const maxText = svgEl('text', { x: PAD, y: PAD - 6, class: 'tick' });
    maxText.textContent = String(max);
    svg.append(maxText);
    buckets.forEach((b, i) => {
      const x = PAD + i * step;
      const g = svgEl('g', { class: b.errors ? 'bucket has-errors' : 'bucket', tabindex: 0, role: 'button' });
      const text = `${label(b.start, stats.intervalMs)}: ${b.count === 1 ? '1 entry' : `${b.count} entries`}, ${plural(b.errors, 'error')}`;
      g.setAttribute('aria-label', text);
      g.dataset.start = b.start;
      const title = svgEl('title', {});
      title.textContent = text;
      // A full-height hit area, so an empty bucket can be picked too.
      g.append(title, svgEl('rect', { x, y: PAD, width: step, height: inner, class: 'hit' }));
      const w = Math.max(step - 1, 1);
      if (b.count) g.append(svgEl('rect', { x, y: y(b.count), width: w, height: H - PAD - y(b.count), class: 'bar' }));
      if (b.errors) g.append(svgEl('rect', { x, y: y(b.errors), width: w, height: H - PAD - y(b.errors), class: 'bar-err' }));
      const pick = () => onPick(b);
      g.addEventListener('click', pick);
      g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
      svg.append(g);
    });
    // Three time labels: first (left-aligned), middle, last (right-aligned, so it stays inside).
    const ticks = [[0, 'start'], [Math.floor(buckets.length / 2), 'middle'], [buckets.length - 1, 'end']];
    ticks.forEach(([i, anchor], n) => {
      const b = buckets[i];
      if (!b || (n > 0 && i <= ticks[n - 1][0])) return;
      const t = svgEl('text', { x: PAD + (i + (anchor === 'end' ? 1 : anchor === 'middle' ? 0.5 : 0)) * step, y: H - 6, class: 'tick', 'text-anchor': anchor });
      t.textContent = label(b.start, stats.intervalMs);
      svg.append(t);
    });
    host.replaceChildren(caption, svg);
  }

  /** One "top" list: a value, its count and errors, as a button that filters the table by it. */
  function tops(host, title, stats, onPick) {
    const box = document.createElement('div');
    box.className = 'top-list';
    const h = box.appendChild(document.createElement('h3'));
    h.textContent = title;
    const ol = box.appendChild(document.createElement('ol'));
    const groups = Array.isArray(stats.groups) ? stats.groups : [];
    for (const g of groups) {
      const li = ol.appendChild(document.createElement('li'));
      const b = li.appendChild(document.createElement('button'));
      b.type = 'button';
      b.textContent = g.key === null ? '(none)' : String(g.key);
      const n = li.appendChild(document.createElement('span'));
      n.className = g.errors ? 'n has-errors' : 'n';
      n.textContent = g.errors ? `${g.count} (${g.errors} err)` : String(g.count);
      b.addEventListener('click', () => onPick(g.key));
    }
    if (!groups.length) ol.append(Object.assign(document.createElement('li'), { className: 'muted', textContent: 'None' }));
    host.append(box);
  }

  window.auditCharts = { activity, tops };
})();
