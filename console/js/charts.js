// Small inline-SVG charts (no chart library): stacked progress bars, plain bars and a gauge.
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) if (child) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const COLORS = ['#2f7d32', '#f0a020', '#c8ccd4', '#1f6fb2', '#8e44ad', '#d35400'];

function legend(series) {
  const box = document.createElement('div');
  box.className = 'chart-legend';
  series.forEach((s, i) => {
    const item = document.createElement('span');
    item.innerHTML = `<i style="background:${s.color || COLORS[i]}"></i>`;
    item.append(s.label);
    box.append(item);
  });
  return box;
}

// rows: [{label, values: [n, ...]}]; series: [{label, color}] — one bar per row, stacked.
export function stackedBars(title, rows, series) {
  const rowHeight = 26;
  const labelWidth = 120;
  const width = 520;
  const height = rows.length * rowHeight + 10;
  // read out with its figures: a screen reader gets what the bars show, not only the title
  const said = rows.map((row) => `${row.label} ${series.map((s, k) => `${s.label}${row.values[k]}`).join('，')}`).join('；');
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `${title}：${said || '暂无数据'}` });
  rows.forEach((row, i) => {
    const y = 5 + i * rowHeight;
    const total = row.values.reduce((a, b) => a + b, 0);
    chart.append(svg('text', { x: labelWidth - 6, y: y + 16, 'text-anchor': 'end', class: 'chart-label' }, row.label));
    let x = labelWidth;
    const barWidth = width - labelWidth - 60;
    if (!total) chart.append(svg('rect', { x, y: y + 3, width: barWidth, height: 18, fill: '#eef0f3' }));
    row.values.forEach((value, k) => {
      if (!total || !value) return;
      const w = (barWidth * value) / total;
      chart.append(svg('rect', { x, y: y + 3, width: w, height: 18, fill: series[k].color || COLORS[k] },
        svg('title', {}, `${row.label} ${series[k].label}：${value}`)));
      x += w;
    });
    chart.append(svg('text', { x: labelWidth + barWidth + 6, y: y + 16, class: 'chart-value' }, total ? `${row.values[0]}/${total}` : '0'));
  });
  return figure(title, chart, legend(series));
}

// items: [{label, value}] with value a share in [0, 1] or a count (max taken from the items).
export function bars(title, items, { format = (v) => v, max } = {}) {
  const rowHeight = 24;
  const labelWidth = 150;
  const width = 380;
  const top = max || Math.max(1, ...items.map((i) => i.value));
  const said = items.map((item) => `${item.label} ${format(item.value)}`).join('，');
  const chart = svg('svg', { viewBox: `0 0 ${width} ${items.length * rowHeight + 10}`, class: 'chart', role: 'img', 'aria-label': `${title}：${said || '暂无数据'}` });
  items.forEach((item, i) => {
    const y = 5 + i * rowHeight;
    const w = ((width - labelWidth - 70) * item.value) / top;
    chart.append(svg('text', { x: labelWidth - 6, y: y + 15, 'text-anchor': 'end', class: 'chart-label' }, item.label));
    chart.append(svg('rect', { x: labelWidth, y: y + 3, width: Math.max(w, 1), height: 16, fill: item.color || COLORS[3] },
      svg('title', {}, `${item.label}：${format(item.value)}`)));
    chart.append(svg('text', { x: labelWidth + w + 6, y: y + 15, class: 'chart-value' }, format(item.value)));
  });
  return figure(title, chart);
}

// A half-ring gauge for one rate in [0, 1].
export function gauge(title, rate, caption) {
  const r = 70;
  const angle = Math.PI * Math.min(Math.max(rate, 0), 1);
  const x = 100 - r * Math.cos(angle);
  const y = 90 - r * Math.sin(angle);
  const chart = svg('svg', { viewBox: '0 0 200 110', class: 'chart gauge', role: 'img', 'aria-label': `${title} ${(100 * rate).toFixed(1)}%` },
    svg('path', { d: `M 30 90 A ${r} ${r} 0 0 1 170 90`, stroke: '#eef0f3', 'stroke-width': 18, fill: 'none' }),
    rate > 0 ? svg('path', { d: `M 30 90 A ${r} ${r} 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`, stroke: COLORS[0], 'stroke-width': 18, fill: 'none' }) : null,
    svg('text', { x: 100, y: 86, 'text-anchor': 'middle', class: 'gauge-value' }, `${(100 * rate).toFixed(1)}%`));
  return figure(title, chart, caption ? Object.assign(document.createElement('p'), { className: 'chart-caption', textContent: caption }) : null);
}

function figure(title, chart, extra) {
  const node = document.createElement('figure');
  node.className = 'chart-figure';
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  node.append(caption, chart);
  if (extra) node.append(extra);
  return node;
}
