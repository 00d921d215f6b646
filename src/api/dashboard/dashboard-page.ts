/**
 * The dashboard page, rendered on the server from the same summary as the JSON API. No build
 * step and no CDN: plain HTML and CSS, and one small inline script (allowed by a CSP nonce) that
 * draws the revenue chart from JSON embedded in the page; the same figures are in a table for
 * readers without JavaScript.
 */
import type { Money, MetricsSummary, Rate } from '../../metrics/store';
import { localMinuteInZone } from '../../metrics/days';
import { escapeHtml as h } from './html';

export interface PageContext {
  summary: MetricsSummary;
  shops: string[];
  /** Link of a workflow in the Temporal Web UI. */
  workflowUrl: (workflowId: string) => string;
  nonce: string;
}

export function formatMoney(m: Money): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: m.currency }).format(
      Number(m.amount),
    );
  } catch {
    return `${m.amount} ${m.currency}`;
  }
}

export function formatRate(r: Rate): string {
  return r.rate === null ? '–' : `${(r.rate * 100).toFixed(1)}%`;
}

const moneyList = (list: Money[]) =>
  list.length === 0
    ? '<span class="muted">–</span>'
    : list.map((m) => `<span class="money">${h(formatMoney(m))}</span>`).join('<br>');

function card(id: string, label: string, value: string, note = '') {
  return `<div class="card"><div class="label">${h(label)}</div><div class="value" data-metric="${h(id)}">${value}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

function workflowLink(ctx: PageContext, workflowId: string | null, label: string) {
  if (!workflowId) return h(label);
  const url = ctx.workflowUrl(workflowId);
  return `<a href="${h(url)}" target="_blank" rel="noopener noreferrer">${h(label)}</a>`;
}

const CSS = `
:root{--fg:#1d2330;--muted:#687083;--line:#e3e6ee;--accent:#2d6cdf;--good:#1f8a4c;--bg:#f7f8fb}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:12px 24px;display:flex;flex-wrap:wrap;gap:16px;align-items:center;justify-content:space-between}
h1{font-size:18px;margin:0}h2{font-size:15px;margin:0 0 10px}main{padding:20px 24px;max-width:1200px;margin:auto}
form{display:flex;gap:8px;flex-wrap:wrap;align-items:end}label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
input,select,button{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px;background:#fff}button{background:var(--accent);color:#fff;border:0;cursor:pointer}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin-bottom:16px}
.card,section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px}
section{margin-bottom:16px}.label{color:var(--muted);font-size:12px}.value{font-size:22px;font-weight:600;margin-top:4px}.note{color:var(--muted);font-size:12px;margin-top:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:right;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}th:first-child,td:first-child{text-align:left}th{font-size:12px;color:var(--muted);font-weight:600}
.muted{color:var(--muted)}.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.funnel-row{display:grid;grid-template-columns:90px 1fr 110px;gap:8px;align-items:center;margin:6px 0}.bar{height:18px;background:var(--accent);border-radius:4px;min-width:2px}
.caveat{background:#fff8e6;border:1px solid #f0d9a0;border-radius:8px;padding:8px 12px;font-size:12.5px;margin:10px 0 0}
.empty{text-align:center;padding:48px 16px}.empty h2{font-size:18px}.lift{color:var(--good)}
svg text{font-size:11px;fill:var(--muted)}.chart-wrap{overflow-x:auto}
`;

const CHART_SCRIPT = `
(function(){
  var source = document.getElementById('revenue-data'), host = document.getElementById('revenue-chart');
  if (!source || !host) return;
  var data = JSON.parse(source.textContent);
  if (!data.length) { host.setAttribute('data-rendered', '0'); host.textContent = 'No recovered orders yet.'; return; }
  var currencies = Array.from(new Set(data.map(function(d){return d.currency;})));
  var colours = ['#2d6cdf','#1f8a4c','#c2571a','#8a3fc7','#b3245f'];
  currencies.forEach(function(cur, ci){
    var rows = data.filter(function(d){return d.currency===cur;});
    var max = Math.max.apply(null, rows.map(function(r){return Number(r.amount);})) || 1;
    var w = Math.max(320, rows.length * 44 + 60), hgt = 160, ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns,'svg');
    svg.setAttribute('width', w); svg.setAttribute('height', hgt + 40); svg.setAttribute('role','img');
    svg.setAttribute('aria-label','Recovered revenue by order day in ' + cur);
    var title = document.createElementNS(ns,'text'); title.setAttribute('x',0); title.setAttribute('y',12); title.textContent = cur; svg.appendChild(title);
    rows.forEach(function(r, i){
      var bh = Math.round(Number(r.amount) / max * hgt);
      var rect = document.createElementNS(ns,'rect');
      rect.setAttribute('x', 50 + i*44); rect.setAttribute('y', 20 + hgt - bh); rect.setAttribute('width', 30); rect.setAttribute('height', Math.max(bh,1));
      rect.setAttribute('fill', colours[ci % colours.length]); rect.setAttribute('data-day', r.day); rect.setAttribute('data-amount', r.amount);
      var tip = document.createElementNS(ns,'title'); tip.textContent = r.day + ': ' + r.amount + ' ' + cur + ' (' + r.recovered + ' orders)'; rect.appendChild(tip);
      svg.appendChild(rect);
      if (i % Math.ceil(rows.length/10) === 0) { var t = document.createElementNS(ns,'text'); t.setAttribute('x', 50 + i*44); t.setAttribute('y', hgt + 36); t.textContent = r.day.slice(5); svg.appendChild(t); }
    });
    var axis = document.createElementNS(ns,'text'); axis.setAttribute('x',0); axis.setAttribute('y',28); axis.textContent = String(max); svg.appendChild(axis);
    host.appendChild(svg);
  });
  host.setAttribute('data-rendered', currencies.length);
})();
`;

export function renderDashboard(ctx: PageContext): string {
  const s = ctx.summary;
  const f = s.filter;
  const shopOptions = ['<option value="">All shops</option>']
    .concat(
      ctx.shops.map(
        (shop) => `<option value="${h(shop)}"${shop === f.shop ? ' selected' : ''}>${h(shop)}</option>`,
      ),
    )
    .join('');
  const filterForm = `<form method="get" action="/dashboard" aria-label="Filters">
    <label>Shop<select name="shop">${shopOptions}</select></label>
    <label>From<input type="date" name="from" value="${h(f.from)}"></label>
    <label>To<input type="date" name="to" value="${h(f.to)}"></label>
    <button type="submit">Apply</button></form>`;

  let body: string;
  if (s.headline.abandoned === 0) {
    body = `<section class="empty" data-empty-state>
      <h2>No abandoned carts ${f.shop ? `for ${h(f.shop)} ` : ''}between ${h(f.from)} and ${h(f.to)}</h2>
      <p class="muted">Figures appear here once checkouts go quiet and the recovery workflow marks them abandoned.
      Shopify sends <code>checkouts/create</code> and <code>checkouts/update</code> webhooks to <code>/webhooks/shopify</code>;
      each abandoned cart, email, click, open and recovered order is then recorded here. Try a wider date range, or another shop.</p>
    </section>`;
  } else {
    const hl = s.headline;
    const cards = [
      card(
        'abandoned',
        'Carts abandoned',
        String(hl.abandoned),
        s.control ? `${hl.treated} emailable, ${s.control.carts} control` : '',
      ),
      card('emails-sent', 'Emails sent', String(hl.emailsSent), `to ${hl.emailed} carts`),
      card('recovered', 'Recovered carts', String(hl.recovered)),
      card(
        'recovery-rate',
        'Recovery rate',
        formatRate(hl.recoveryRate),
        `${hl.recoveryRate.count} of ${hl.recoveryRate.of} carts`,
      ),
      card('revenue', 'Revenue recovered', moneyList(hl.revenue)),
      card('revenue-per-recipient', 'Revenue per recipient', moneyList(hl.revenuePerRecipient)),
    ];
    if (s.control) {
      const c = s.control;
      cards.push(
        card(
          'lift',
          'Lift vs control group',
          c.liftPoints === null
            ? '–'
            : `<span class="lift">${c.liftPoints >= 0 ? '+' : ''}${c.liftPoints.toFixed(1)} pts</span>`,
          `control recovered ${formatRate(c.recoveryRate)} (${c.recovered} of ${c.carts})${c.incrementalRecoveries !== null ? `; ≈${c.incrementalRecoveries.toFixed(1)} extra carts` : ''}`,
        ),
      );
    }
    const fn = s.funnel;
    const steps: [string, string, number][] = [
      ['abandoned', 'Abandoned', fn.abandoned],
      ['emailed', 'Emailed', fn.emailed],
      ['clicked', 'Clicked', fn.clicked],
      ['recovered', 'Recovered', fn.recovered],
    ];
    const funnel = steps
      .map(([id, label, n]) => {
        const pct = fn.abandoned > 0 ? (n / fn.abandoned) * 100 : 0;
        return `<div class="funnel-row"><span>${label}</span><div class="bar" style="width:${pct.toFixed(1)}%"></div><span data-funnel="${id}">${n} <span class="muted">(${pct.toFixed(1)}%)</span></span></div>`;
      })
      .join('');
    const mpp = `<p class="caveat" data-mpp-note><strong>Opens are inflated by Apple Mail Privacy Protection:</strong> Apple Mail fetches
      images (and the open pixel) for its users whether or not they read the email. “Opens” counts every open Klaviyo reports;
      “Opens (excl. Apple)” leaves out the ones Klaviyo flags as Apple privacy opens. Prefer clicks and recoveries to judge an email.</p>`;
    const segmentRows = s.bySegment
      .map(
        (
          x,
        ) => `<tr data-segment="${h(x.segment)}"><td>${h(x.segment)}</td><td>${x.carts}</td><td data-col="sent">${x.sent}</td>
        <td data-col="open-rate">${formatRate(x.opens)}</td><td>${formatRate(x.humanOpens)}</td><td data-col="click-rate">${formatRate(x.clicks)}</td>
        <td data-col="conversion-rate">${formatRate(x.conversions)}</td><td data-col="revenue">${moneyList(x.revenue)}</td></tr>`,
      )
      .join('');
    const touchRows = s.byTouch
      .map(
        (
          x,
        ) => `<tr data-touch="${x.touch}"><td>Touch ${x.touch}</td><td data-col="sent">${x.sent}</td><td data-col="open-rate">${formatRate(x.opens)}</td>
        <td>${formatRate(x.humanOpens)}</td><td data-col="click-rate">${formatRate(x.clicks)}</td><td data-col="conversion-rate">${formatRate(x.conversions)}</td>
        <td data-col="revenue">${moneyList(x.revenue)}</td></tr>`,
      )
      .join('');
    const revenueRows = s.revenueByDay
      .map(
        (r) =>
          `<tr><td>${h(r.day)}</td><td>${h(r.currency)}</td><td>${r.recovered}</td><td>${h(formatMoney(r))}</td></tr>`,
      )
      .join('');
    const recentRows = s.recentCarts
      .map(
        (
          c,
        ) => `<tr data-cart="${h(c.checkoutToken)}"><td>${workflowLink(ctx, c.workflowId, c.checkoutToken)}</td><td>${h(c.shop)}</td>
        <td>${h(c.segment ?? '–')}${c.controlGroup ? ' <span class="muted">(control)</span>' : ''}</td><td>${h(localMinuteInZone(c.abandonedAt, f.timeZone))}</td>
        <td>${c.cartValue ? h(formatMoney(c.cartValue)) : '–'}</td><td>${c.touchesSent}</td><td>${c.clicked ? 'yes' : '–'}</td>
        <td>${h(c.outcome ?? 'in progress')}</td><td>${c.revenue ? h(formatMoney(c.revenue)) : '–'}</td></tr>`,
      )
      .join('');
    body = `<div class="cards">${cards.join('')}</div>
    <div class="grid2">
      <section><h2>Funnel</h2>${funnel}<p class="note muted">Carts outside the control group. Clicked: any tracked or Klaviyo-reported click.</p></section>
      <section><h2>Recovered revenue by order day</h2><div class="chart-wrap" id="revenue-chart"></div>
        <script type="application/json" id="revenue-data">${JSON.stringify(s.revenueByDay).replace(/</g, '\\u003c')}</script>
        <details><summary class="muted">Table</summary><table><thead><tr><th>Day</th><th>Currency</th><th>Orders</th><th>Revenue</th></tr></thead><tbody>${revenueRows || '<tr><td colspan="4" class="muted">No recovered orders yet</td></tr>'}</tbody></table></details>
      </section>
    </div>
    <section><h2>By segment</h2><table id="by-segment"><thead><tr><th>Segment</th><th>Carts</th><th>Sent</th><th>Open rate</th><th>Opens (excl. Apple)</th><th>Click rate</th><th>Conversion</th><th>Revenue</th></tr></thead><tbody>${segmentRows}</tbody></table>
      <p class="note muted">Rates per email sent; conversion is recovered carts over emailed carts.</p></section>
    <section><h2>By touch</h2><table id="by-touch"><thead><tr><th>Touch</th><th>Sent</th><th>Open rate</th><th>Opens (excl. Apple)</th><th>Click rate</th><th>Conversion</th><th>Revenue</th></tr></thead><tbody>${touchRows || '<tr><td colspan="7" class="muted">No emails sent in this range</td></tr>'}</tbody></table>
      <p class="note muted">Conversion: orders attributed to the touch over emails of that touch sent.</p>${mpp}</section>
    <section><h2>Recent carts</h2><table id="recent-carts"><thead><tr><th>Checkout (Temporal)</th><th>Shop</th><th>Segment</th><th>Abandoned (${h(f.timeZone)})</th><th>Cart</th><th>Emails</th><th>Clicked</th><th>Outcome</th><th>Revenue</th></tr></thead><tbody>${recentRows}</tbody></table></section>`;
  }

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Cart recovery · dashboard</title><style>${CSS}</style></head>
<body><header><h1>Cart recovery</h1>${filterForm}</header>
<main><p class="muted">Carts abandoned ${f.shop ? `at <strong>${h(f.shop)}</strong> ` : ''}from <strong>${h(f.from)}</strong> to <strong>${h(f.to)}</strong> (days in ${h(f.timeZone)}), with everything that followed them. Money is shown per currency, never converted. JSON: <a href="/api/metrics/summary?${h(new URLSearchParams({ ...(f.shop ? { shop: f.shop } : {}), from: f.from, to: f.to }).toString())}">/api/metrics/summary</a></p>
${body}</main>
<script nonce="${h(ctx.nonce)}">${CHART_SCRIPT}</script>
</body></html>`;
}
