/**
 * The auth status as HTML: a self-contained card (inline CSS scoped to `.akc`, inline SVG, no
 * script, no external asset) and a full page around it. Every value is HTML-escaped.
 */
import type { AuthHealth, AuthStatus, HourlyCount } from './status.js';

/** Options of {@link renderAuthCard}. */
export interface AuthCardOptions {
  /** Prefix for the element ids (SVG title/description); make it unique when a page shows several cards. Default `akc`. */
  readonly idPrefix?: string;
  /** The card heading. Default `Authentication`. */
  readonly title?: string;
}

/** Options of {@link renderAuthDashboard}. */
export interface AuthDashboardOptions extends AuthCardOptions {
  /** The page `<title>`. Default `Auth status`. */
  readonly pageTitle?: string;
  /** Reload the page every N seconds (a `<meta http-equiv="refresh">`, no script). Default: never. */
  readonly refreshSeconds?: number;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML content and quoted attributes.
 *
 * @example
 * ```ts
 * escapeHtml('<b>"x" & y</b>'); // "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;"
 * ```
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const HEALTH_LABEL: Readonly<Record<AuthHealth, string>> = { healthy: 'Healthy', warning: 'Warning', unhealthy: 'Unhealthy' };

function healthOf(status: unknown): AuthHealth {
  return status === 'healthy' || status === 'warning' ? status : 'unhealthy';
}

const numberFormat = new Intl.NumberFormat('en-US');

function formatCount(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? numberFormat.format(value) : '—';
}

function formatTime(iso: unknown): string {
  const date = new Date(typeof iso === 'string' ? iso : NaN);
  if (Number.isNaN(date.getTime())) return 'unknown time';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function hourLabel(iso: string): string {
  return `${iso.slice(11, 13)}:00`;
}

/** A scale top that reads well and halves into a whole number: 1, 2, 4, 6, 8, 10, 12, 16, 20, 30… at or above `max`. */
function niceCeiling(max: number): number {
  if (max <= 1) return 1;
  if (max <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 1.2, 1.6, 2, 3, 4, 5, 6, 8, 10]) {
    const top = Math.round(step * magnitude);
    if (top >= max && top % 2 === 0) return top;
  }
  return 10 * magnitude;
}

const CSS = `
.akc{--akc-bg:#fff;--akc-fg:#1f2328;--akc-muted:#59636e;--akc-line:#d1d9e0;--akc-soft:#f6f8fa;--akc-bar:#e5534b;--akc-bar-now:#b42318;--akc-zero:#d1d9e0;
  --akc-accent:#1a7f37;--akc-accent-bg:#dafbe1;
  box-sizing:border-box;max-width:760px;margin:0 auto;background:var(--akc-bg);color:var(--akc-fg);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif;
  border:1px solid var(--akc-line);border-top:4px solid var(--akc-accent);border-radius:12px;
  box-shadow:0 1px 2px rgba(31,35,40,.06),0 8px 24px rgba(31,35,40,.06);overflow:hidden}
.akc *,.akc *::before,.akc *::after{box-sizing:inherit}
.akc.akc--warning{--akc-accent:#9a6700;--akc-accent-bg:#fff8c5}
.akc.akc--unhealthy{--akc-accent:#cf222e;--akc-accent-bg:#ffebe9}
.akc header{display:flex;align-items:flex-start;justify-content:space-between;gap:16px;padding:18px 22px 14px}
.akc h2{margin:0;font-size:18px;font-weight:650;letter-spacing:-.01em}
.akc .akc-message{margin:4px 0 0;color:var(--akc-fg)}
.akc .akc-checked{margin:2px 0 0;color:var(--akc-muted);font-size:12px}
.akc .akc-badge{flex:none;display:inline-flex;align-items:center;gap:7px;padding:4px 12px;border-radius:999px;
  background:var(--akc-accent-bg);color:var(--akc-accent);font-weight:650;font-size:13px;white-space:nowrap}
.akc .akc-dot{width:9px;height:9px;border-radius:50%;background:var(--akc-accent)}
.akc .akc-stats{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));margin:0;border-top:1px solid var(--akc-line);border-bottom:1px solid var(--akc-line)}
.akc .akc-stat{margin:0;padding:14px 22px;border-left:1px solid var(--akc-line)}
.akc .akc-stat:first-child{border-left:0}
.akc dt,.akc .akc-label{color:var(--akc-muted);font-size:12px;font-weight:500}
.akc .akc-stat dd{margin:2px 0 0;font-size:28px;font-weight:650;letter-spacing:-.02em;font-variant-numeric:tabular-nums;line-height:1.2}
.akc .akc-stat.akc-alert dd{color:var(--akc-bar-now)}
.akc section{padding:14px 22px;border-bottom:1px solid var(--akc-line)}
.akc section:last-child{border-bottom:0}
.akc h3{margin:0 0 8px;font-size:13px;font-weight:650;display:flex;justify-content:space-between;gap:12px}
.akc h3 span{color:var(--akc-muted);font-weight:500}
.akc svg{display:block;width:100%;height:auto;overflow:visible}
.akc svg text{fill:var(--akc-muted);font-size:11px;font-family:inherit}
.akc .akc-facts{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin:0}
.akc .akc-facts dd{margin:2px 0 0;font-weight:600;font-variant-numeric:tabular-nums}
.akc .akc-ok{color:#1a7f37}.akc .akc-bad{color:#cf222e}
.akc ul{margin:0;padding:0;list-style:none}
.akc .akc-chips{display:flex;flex-wrap:wrap;gap:6px}
.akc .akc-chips li{padding:3px 10px;border-radius:999px;background:var(--akc-soft);border:1px solid var(--akc-line);font-size:12px}
.akc .akc-issues li{position:relative;padding:6px 10px 6px 28px;margin-top:6px;border-radius:8px;background:#fff8c5;color:#6b4b00}
.akc .akc-issues li::before{content:"!";position:absolute;left:9px;top:6px;width:13px;height:13px;margin-top:3px;border-radius:50%;
  background:#9a6700;color:#fff;font-size:10px;font-weight:700;line-height:13px;text-align:center}
.akc .akc-none{margin:0;color:var(--akc-muted)}
@media (max-width:560px){.akc .akc-stats,.akc .akc-facts{grid-template-columns:repeat(2,minmax(0,1fr))}
  .akc .akc-stat:nth-child(3){border-left:0}.akc .akc-stat:nth-child(n+3){border-top:1px solid var(--akc-line)}}
@media (prefers-color-scheme:dark){.akc{--akc-bg:#151b23;--akc-fg:#f0f6fc;--akc-muted:#9198a1;--akc-line:#3d444d;--akc-soft:#212830;--akc-zero:#3d444d;--akc-bar-now:#ff7b72}
  .akc{--akc-accent:#3fb950;--akc-accent-bg:rgba(46,160,67,.15)}
  .akc.akc--warning{--akc-accent:#d29922;--akc-accent-bg:rgba(187,128,9,.15)}
  .akc.akc--unhealthy{--akc-accent:#f85149;--akc-accent-bg:rgba(248,81,73,.15)}
  .akc .akc-issues li{background:rgba(187,128,9,.15);color:#e3b341}.akc .akc-ok{color:#3fb950}.akc .akc-bad{color:#f85149}}
`
  .replace(/\n\s*/g, '')
  .trim();

function renderChart(buckets: readonly HourlyCount[], id: string): string {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    return '<p class="akc-none">No data: the event log could not be read.</p>';
  }
  const counts = buckets.map((b) => (typeof b?.count === 'number' && Number.isFinite(b.count) ? Math.max(0, b.count) : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const peak = Math.max(...counts);
  const peakIndex = counts.indexOf(peak);
  const top = niceCeiling(peak);
  const width = 700;
  const height = 132;
  const left = 30;
  const right = 4;
  const plotTop = 8;
  const plotBottom = height - 22;
  const plotHeight = plotBottom - plotTop;
  const slot = (width - left - right) / buckets.length;
  const barWidth = Math.max(2, slot * 0.72);
  const y = (v: number) => plotBottom - (v / top) * plotHeight;
  const parts: string[] = [];
  for (const tick of top === 1 ? [0, 1] : [0, top / 2, top]) {
    const ty = y(tick).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${ty}" y2="${ty}" stroke="var(--akc-line)" stroke-width="1"${tick === 0 ? '' : ' stroke-dasharray="3 3"'}/>`,
      `<text x="${left - 6}" y="${ty}" dy="0.32em" text-anchor="end">${escapeHtml(numberFormat.format(tick))}</text>`,
    );
  }
  buckets.forEach((bucket, i) => {
    const hour = typeof bucket?.hour === 'string' ? bucket.hour : '';
    const count = counts[i];
    const x = left + i * slot + (slot - barWidth) / 2;
    const isNow = i === buckets.length - 1;
    const barHeight = count === 0 ? 2 : Math.max(3, plotBottom - y(count));
    const fill = count === 0 ? 'var(--akc-zero)' : isNow ? 'var(--akc-bar-now)' : 'var(--akc-bar)';
    const label = `${hourLabel(hour)}–${hourLabel(new Date(Date.parse(hour) + 3_600_000).toISOString())} UTC: ${numberFormat.format(count)} failed login${count === 1 ? '' : 's'}${isNow ? ' (this hour so far)' : ''}`;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${(plotBottom - barHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${barHeight.toFixed(1)}" rx="2" fill="${fill}" data-hour="${escapeHtml(hour)}" data-count="${count}"><title>${escapeHtml(label)}</title></rect>`,
    );
    if (i % 6 === 0 || isNow) {
      const text = isNow ? 'now' : hourLabel(hour);
      parts.push(
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${height - 5}" text-anchor="${isNow ? 'end' : 'middle'}"${isNow ? ` dx="${(barWidth / 2).toFixed(1)}"` : ''}>${escapeHtml(text)}</text>`,
      );
    }
  });
  const summary =
    total === 0
      ? 'No failed logins in the last 24 hours.'
      : `${numberFormat.format(total)} failed logins in 24 hourly buckets; the busiest hour, ${hourLabel(buckets[peakIndex]?.hour ?? '')} UTC, had ${numberFormat.format(peak)}.`;
  return (
    `<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-chart-title ${id}-chart-desc" preserveAspectRatio="xMidYMid meet">` +
    `<title id="${id}-chart-title">Failed logins per hour, last 24 hours (UTC)</title>` +
    `<desc id="${id}-chart-desc">${escapeHtml(summary)}</desc>` +
    parts.join('') +
    '</svg>'
  );
}

function chartSummary(buckets: readonly HourlyCount[]): string {
  if (buckets.length === 0) return 'UTC';
  let total = 0;
  let peak = buckets[0];
  for (const bucket of buckets) {
    const count = typeof bucket?.count === 'number' && Number.isFinite(bucket.count) ? bucket.count : 0;
    total += count;
    if (count > (peak?.count ?? 0)) peak = bucket;
  }
  if (total === 0) return 'UTC · none in 24 h';
  return `UTC · ${numberFormat.format(total)} in 24 h · peak ${numberFormat.format(peak.count)} at ${hourLabel(String(peak.hour))}`;
}

function stat(label: string, metric: string, value: unknown, alert = false): string {
  const shown = formatCount(value);
  return (
    `<div class="akc-stat${alert ? ' akc-alert' : ''}"><dt>${escapeHtml(label)}</dt>` +
    `<dd data-metric="${escapeHtml(metric)}" data-value="${typeof value === 'number' ? value : ''}">${escapeHtml(shown)}</dd></div>`
  );
}

function fact(label: string, metric: string, valueHtml: string): string {
  return `<div><dt>${escapeHtml(label)}</dt><dd data-metric="${escapeHtml(metric)}">${valueHtml}</dd></div>`;
}

/**
 * Renders an {@link AuthStatus} as a self-contained HTML fragment: the status colour, the counts,
 * a bar chart of failed logins per hour (inline SVG with a title, a description and a tooltip per
 * bar), the token check, the security features and the configuration issues. Inline CSS scoped to
 * the `.akc` class, no script, no external asset; every value HTML-escaped. Values carry
 * `data-metric` attributes for tests and scrapers.
 *
 * @example
 * ```ts
 * res.end(`<main>${renderAuthCard(await getAuthStatus(auth))}</main>`);
 * ```
 */
export function renderAuthCard(status: AuthStatus, options: AuthCardOptions = {}): string {
  const id = /^[A-Za-z][\w-]{0,40}$/.test(options.idPrefix ?? '') ? (options.idPrefix as string) : 'akc';
  const health = healthOf(status?.status);
  const m = (status?.metadata ?? {}) as Partial<AuthStatus['metadata']>;
  const features = Array.isArray(m.securityFeatures) ? m.securityFeatures : [];
  const issues = Array.isArray(m.configurationIssues) ? m.configurationIssues : [];
  const buckets = Array.isArray(m.failedLoginsByHour) ? m.failedLoginsByHour : [];
  const tokenOk = m.tokenValidation === 'ok';
  const responseTime = typeof status?.responseTimeMs === 'number' ? `${status.responseTimeMs} ms` : '';
  const checked = [`Checked ${formatTime(status?.checkedAt)}`, responseTime].filter(Boolean).join(' · ');

  return [
    `<style>${CSS}</style>`,
    `<article class="akc akc--${health}" aria-labelledby="${id}-title" data-status="${health}" data-checked-at="${escapeHtml(status?.checkedAt ?? '')}">`,
    '<header><div>',
    `<h2 id="${id}-title">${escapeHtml(options.title ?? 'Authentication')}</h2>`,
    `<p class="akc-message" data-metric="message">${escapeHtml(status?.message ?? '')}</p>`,
    `<p class="akc-checked">${escapeHtml(checked)}</p>`,
    '</div>',
    `<span class="akc-badge" role="status" data-metric="status"><span class="akc-dot" aria-hidden="true"></span>${HEALTH_LABEL[health]}</span>`,
    '</header>',
    '<dl class="akc-stats">',
    stat('Total users', 'totalUsers', m.totalUsers),
    stat('Active users', 'activeUsers', m.activeUsers),
    stat('Failed logins (24 h)', 'failedLogins24h', m.failedLogins24h, typeof m.failedLogins24h === 'number' && m.failedLogins24h > 0),
    stat('Active sessions', 'activeSessions', m.activeSessions),
    '</dl>',
    '<section>',
    `<h3>Failed logins per hour <span>${escapeHtml(chartSummary(buckets))}</span></h3>`,
    renderChart(buckets, id),
    '</section>',
    '<section><dl class="akc-facts">',
    fact(
      'Token validation',
      'tokenValidation',
      `<span class="${tokenOk ? 'akc-ok' : 'akc-bad'}">${tokenOk ? '✓ ok' : '✗ failed'}</span>`,
    ),
    fact('Algorithm', 'jwtAlgorithm', escapeHtml(m.jwtAlgorithm ?? '—')),
    fact('Access-token lifetime', 'avgTokenLifetime', escapeHtml(m.avgTokenLifetime ?? '—')),
    fact('Database', 'database', escapeHtml(m.database ?? '—')),
    '</dl></section>',
    '<section>',
    '<h3>Security features</h3>',
    features.length
      ? `<ul class="akc-chips" data-metric="securityFeatures">${features.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`
      : '<p class="akc-none" data-metric="securityFeatures">None reported</p>',
    '</section>',
    '<section>',
    `<h3>Configuration issues <span>${issues.length}</span></h3>`,
    issues.length
      ? `<ul class="akc-issues" data-metric="configurationIssues">${issues.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`
      : '<p class="akc-none" data-metric="configurationIssues">None</p>',
    '</section>',
    '</article>',
  ].join('');
}

/**
 * Renders a full HTML page (doctype, charset, viewport, title) around {@link renderAuthCard}.
 * Serve it with `Content-Type: text/html; charset=utf-8`; it needs no script and loads nothing,
 * so `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'` fits.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
 * res.end(renderAuthDashboard(await getAuthStatus(auth), { refreshSeconds: 30 }));
 * ```
 */
export function renderAuthDashboard(status: AuthStatus, options: AuthDashboardOptions = {}): string {
  const refresh =
    Number.isSafeInteger(options.refreshSeconds) && (options.refreshSeconds as number) > 0
      ? `<meta http-equiv="refresh" content="${options.refreshSeconds}">`
      : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    refresh,
    `<title>${escapeHtml(options.pageTitle ?? 'Auth status')} · ${HEALTH_LABEL[healthOf(status?.status)]}</title>`,
    '<style>html{color-scheme:light dark}body{margin:0;padding:32px 16px;background:#f6f8fa}',
    '@media (prefers-color-scheme:dark){body{background:#0d1117}}</style>',
    '</head><body><main>',
    renderAuthCard(status, options),
    '</main></body></html>',
  ].join('');
}
