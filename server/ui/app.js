// vigil web UI. One script for every page: the last segment of the path
// names the page. All URLs are relative, so the pages work under any
// --web.route-prefix. Content is built with DOM calls (never parsed as markup),
// so label values cannot inject markup.
'use strict';

(function () {
  const main = document.getElementById('main');

  // ---- DOM helpers ----
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, ...children);
    return el;
  }
  function append(el, ...children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children.flat()) el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }
  function td(label, ...children) { return h('td', { 'data-label': label }, ...children); }
  function table(headers, rows, cls) {
    return h('table', { class: 'stack ' + (cls || '') },
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows));
  }
  function badge(text, cls) { return h('span', { class: 'badge ' + (cls || text) }, text); }
  function chips(labels) {
    const keys = Object.keys(labels || {}).sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : a > b ? 1 : 0));
    return h('span', { class: 'chips' }, keys.map((k) => h('span', { class: 'chip' }, k + '="' + labels[k] + '"')));
  }
  function errorBox(msg) { return h('p', { class: 'error notice', role: 'alert' }, msg); }

  // ---- URLs and the API ----
  const params = new URLSearchParams(location.search);
  function pageName() {
    const seg = location.pathname.split('/').pop();
    return seg === '' ? 'alerts' : seg;
  }
  function link(page, q) {
    const s = q ? new URLSearchParams(q).toString() : '';
    return page + (s ? '?' + s : '');
  }
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  // The API's own message on failure: v1's {"error": ...}, v2's JSON
  // string or {"message": ...}, or the plain text body.
  async function api(path, opts) {
    let resp;
    try {
      resp = await fetch(path, Object.assign({ headers: { Accept: 'application/json' }, credentials: 'same-origin' }, opts || {}));
    } catch (e) {
      throw new ApiError(0, 'vigil did not answer: ' + e.message);
    }
    const text = await resp.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!resp.ok || (body && body.status === 'error')) {
      let msg = text.trim() || ('HTTP ' + resp.status);
      if (typeof body === 'string') msg = body;
      else if (body && typeof body.error === 'string') msg = body.error;
      else if (body && typeof body.message === 'string') msg = body.message;
      throw new ApiError(resp.status, msg);
    }
    return body;
  }
  function postJSON(path, obj) {
    return api(path, { method: 'POST', body: JSON.stringify(obj), headers: { 'Content-Type': 'application/json', Accept: 'application/json' } });
  }

  // ---- time ----
  function pad(n, w) { return String(n).padStart(w || 2, '0'); }
  function fmtTime(t) {
    if (t === undefined || t === null || t === '') return '';
    const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
    if (isNaN(d.getTime()) || d.getUTCFullYear() < 1971) return '';
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function fmtDuration(sec) {
    sec = Math.max(0, Math.round(sec));
    if (sec === 0) return '0s';
    const parts = [];
    for (const [u, n] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
      if (sec >= n) { parts.push(Math.floor(sec / n) + u); sec %= n; }
    }
    return parts.slice(0, 2).join('');
  }
  function ago(t) {
    const d = new Date(t);
    if (isNaN(d.getTime())) return '';
    const s = (Date.now() - d.getTime()) / 1000;
    return s >= 0 ? fmtDuration(s) + ' ago' : 'in ' + fmtDuration(-s);
  }
  // "1h30m", "2d", "90s", "1.5h" -> seconds; NaN when not a duration.
  function parseDuration(s) {
    s = String(s).trim();
    if (!s) return NaN;
    const re = /(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)/g;
    const units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
    let total = 0, used = 0, m;
    while ((m = re.exec(s)) !== null) { total += parseFloat(m[1]) * units[m[2]]; used += m[0].length; }
    return used === s.length ? total : NaN;
  }
  // A time field: RFC 3339, unix seconds, "now", or a duration back from now ("1h").
  function parseTimeInput(s) {
    s = String(s).trim();
    if (!s) return null;
    if (s === 'now') return new Date();
    if (/^\d+(\.\d+)?$/.test(s)) return new Date(parseFloat(s) * 1000);
    const back = parseDuration(s.replace(/^-/, '').replace(/ ago$/, ''));
    if (!isNaN(back)) return new Date(Date.now() - back * 1000);
    const d = new Date(s);
    return isNaN(d.getTime()) ? undefined : d;
  }

  // ---- matchers ({a="b", c=~"d.*"}, as the API's filter takes them) ----
  function splitMatchers(s) {
    s = s.trim();
    if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
    const out = [];
    let cur = '', quoted = false;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (quoted && c === '\\' && i + 1 < s.length) { cur += c + s[++i]; continue; }
      if (c === '"') quoted = !quoted;
      if (c === ',' && !quoted) { if (cur.trim()) out.push(cur.trim()); cur = ''; continue; }
      cur += c;
    }
    if (cur.trim()) out.push(cur.trim());
    return out;
  }
  function parseMatcher(s) {
    const m = /^\s*("(?:[^"\\]|\\.)*"|[^=!~\s]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(s);
    if (!m) throw new Error('"' + s + '" is not a matcher (expected name="value", name!="value", name=~"regex" or name!~"regex")');
    let name = m[1], value = m[3];
    if (name.startsWith('"')) name = JSON.parse(name);
    if (value.startsWith('"')) {
      try { value = JSON.parse(value); } catch (e) { throw new Error('the value of "' + s + '" is not a well-quoted string'); }
    }
    return { name: name, value: value, isRegex: m[2] === '=~' || m[2] === '!~', isEqual: m[2] === '=' || m[2] === '=~' };
  }
  function matcherString(m) {
    const op = (m.isEqual === false ? '!' : '=') + (m.isRegex ? '~' : '');
    return m.name + (op === '!' ? '!=' : op) + JSON.stringify(m.value);
  }
  function matchersOfLabels(labels) {
    return Object.keys(labels).sort().map((k) => k + '=' + JSON.stringify(labels[k]));
  }
  function silenceLink(labels) {
    return link('silences', { 'new': '1', matchers: '{' + matchersOfLabels(labels).join(', ') + '}' });
  }

  // ---- pages ----
  const pages = {};

  // Alerts: /api/v2/alerts/groups, by receiver, then by group labels.
  pages.alerts = async function () {
    const filter = params.get('filter') || '';
    const receiver = params.get('receiver') || '';
    const showSilenced = params.get('silenced') !== 'false';
    const showInhibited = params.get('inhibited') !== 'false';
    const form = h('form', { class: 'bar', role: 'search', onsubmit: (e) => {
      e.preventDefault();
      const q = { filter: form.filter.value };
      if (form.receiver.value) q.receiver = form.receiver.value;
      if (!form.silenced.checked) q.silenced = 'false';
      if (!form.inhibited.checked) q.inhibited = 'false';
      location.href = link('alerts', q);
    } },
      h('label', { class: 'grow' }, 'Filter (matchers)',
        h('input', { type: 'search', name: 'filter', value: filter, placeholder: '{alertname="X", severity=~"crit.*"}', autocomplete: 'off', spellcheck: 'false' })),
      h('label', {}, 'Receiver (regex)', h('input', { type: 'text', name: 'receiver', value: receiver, autocomplete: 'off', spellcheck: 'false', size: 12 })),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'silenced', checked: showSilenced }), 'Silenced'),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'inhibited', checked: showInhibited }), 'Inhibited'),
      h('button', { type: 'submit' }, 'Apply'));
    const out = h('div', { id: 'alert-groups', 'aria-live': 'polite' });
    const updated = h('p', { class: 'muted', id: 'alerts-updated' });
    append(clear(main), h('h1', {}, 'Alerts'), form, updated, out);

    const q = new URLSearchParams();
    let matchers;
    try { matchers = splitMatchers(filter); matchers.forEach(parseMatcher); } catch (e) { out.appendChild(errorBox(e.message)); return; }
    matchers.forEach((m) => q.append('filter', m));
    if (receiver) q.set('receiver', receiver);
    q.set('silenced', String(showSilenced));
    q.set('inhibited', String(showInhibited));
    const load = async () => {
      let groups;
      try { groups = await api('api/v2/alerts/groups?' + q.toString()); } catch (e) { append(clear(out), errorBox(e.message)); return; }
      clear(out);
      updated.textContent = 'Updated ' + fmtTime(new Date().toISOString()) + '; refreshed every 30 s.';
      const byFp = {};
      for (const g of groups) for (const a of g.alerts) byFp[a.fingerprint] = a;
      const byReceiver = new Map();
      for (const g of groups) {
        const r = (g.receiver && g.receiver.name) || '';
        if (!byReceiver.has(r)) byReceiver.set(r, []);
        byReceiver.get(r).push(g);
      }
      if (groups.length === 0) out.appendChild(h('p', { class: 'muted' }, 'No alerts' + (filter || receiver ? ' match this filter.' : '.')));
      for (const r of [...byReceiver.keys()].sort()) {
        const section = h('section', { 'aria-label': 'Receiver ' + r }, h('h2', {}, 'Receiver: ', h('code', {}, r)));
        for (const g of byReceiver.get(r)) section.appendChild(alertGroup(g, byFp));
        out.appendChild(section);
      }
    };
    await load();
    // Refreshed in place, unless the reader is busy in the page (a control
    // has the focus) or has scrolled away from the top.
    setInterval(() => {
      const busy = document.activeElement && document.activeElement !== document.body && document.activeElement !== main;
      if (!busy && window.scrollY < 50 && !document.hidden) load();
    }, 30000);
  };

  function alertGroup(g, byFp) {
    const hasLabels = Object.keys(g.labels || {}).length > 0;
    return h('article', { class: 'card alert-group' },
      h('div', { class: 'row spread' },
        h('div', {}, hasLabels ? chips(g.labels) : h('span', { class: 'muted' }, 'no group labels'),
          ' ', h('span', { class: 'muted' }, g.alerts.length + (g.alerts.length === 1 ? ' alert' : ' alerts'))),
        hasLabels ? h('a', { class: 'button secondary', href: silenceLink(g.labels) }, 'Silence group') : null),
      g.alerts.map((a) => alertItem(a, byFp)));
  }

  function alertItem(a, byFp) {
    const st = a.status || {};
    const silencedBy = st.silencedBy || [];
    const inhibitedBy = st.inhibitedBy || [];
    const ann = a.annotations || {};
    return h('div', { class: 'alert-item', 'data-fingerprint': a.fingerprint },
      h('div', { class: 'row' }, badge(st.state || 'unknown', 'state ' + (st.state || 'unknown')), chips(a.labels)),
      ann.summary ? h('p', { class: 'annot' }, ann.summary) : null,
      ann.description ? h('p', { class: 'annot muted' }, ann.description) : null,
      h('div', { class: 'row muted' },
        h('span', {}, 'since ', h('time', { datetime: a.startsAt, title: a.startsAt }, fmtTime(a.startsAt)), ' (' + ago(a.startsAt) + ')'),
        a.generatorURL ? h('a', { href: a.generatorURL, class: 'source' }, 'Source') : null,
        h('a', { href: silenceLink(a.labels), class: 'silence-alert' }, 'Silence')),
      silencedBy.length ? h('div', { class: 'silenced-by' }, 'Silenced by ',
        silencedBy.map((id, i) => [i ? ', ' : '', h('a', { href: link('silences', { id: id }) }, id)])) : null,
      inhibitedBy.length ? h('div', { class: 'inhibited-by' }, 'Inhibited by ',
        inhibitedBy.map((fp, i) => {
          const src = byFp[fp];
          return [i ? ', ' : '', src ? chips(src.labels) : h('code', {}, fp)];
        })) : null);
  }

  // Silences: the list, the form (new / edit), the preview of what the matchers mute.
  pages.silences = async function () {
    const editing = params.get('edit');
    const creating = params.get('new') !== null;
    const focusId = params.get('id');
    clear(main);
    main.appendChild(h('div', { class: 'row spread' }, h('h1', {}, 'Silences'),
      editing || creating ? null : h('a', { class: 'button', href: link('silences', { 'new': '1' }) }, 'New silence')));
    const filter = params.get('filter') || '';
    if (!editing && !creating) {
      const form = h('form', { class: 'bar', role: 'search', onsubmit: (e) => {
        e.preventDefault();
        location.href = link('silences', form.filter.value ? { filter: form.filter.value } : null);
      } },
        h('label', { class: 'grow' }, 'Filter (matchers on the silences\' matchers)',
          h('input', { type: 'search', name: 'filter', value: filter, placeholder: '{alertname="X"}', autocomplete: 'off', spellcheck: 'false' })),
        h('button', { type: 'submit' }, 'Apply'));
      main.appendChild(form);
    }
    const q = new URLSearchParams();
    try { splitMatchers(filter).forEach((m) => { parseMatcher(m); q.append('filter', m); }); } catch (e) { main.appendChild(errorBox(e.message)); return; }
    let silences;
    try { silences = await api('api/v2/silences' + (filter ? '?' + q.toString() : '')); } catch (e) { main.appendChild(errorBox(e.message)); return; }
    if (editing || creating) {
      let base = null;
      if (editing) {
        base = silences.find((s) => s.id === editing);
        if (!base) { main.appendChild(errorBox('No silence with id ' + editing)); return; }
      }
      main.appendChild(silenceForm(base, params.get('matchers') || ''));
    }
    const order = ['active', 'pending', 'expired'];
    for (const state of order) {
      const list = silences.filter((s) => s.status.state === state)
        .sort((a, b) => (state === 'expired' ? b.endsAt.localeCompare(a.endsAt) : a.endsAt.localeCompare(b.endsAt)));
      const section = h('section', { id: 'silences-' + state }, h('h2', {}, state[0].toUpperCase() + state.slice(1) + ' (' + list.length + ')'));
      if (list.length === 0) section.appendChild(h('p', { class: 'muted' }, 'None.'));
      for (const s of list) section.appendChild(silenceCard(s, s.id === focusId));
      main.appendChild(section);
    }
    const focused = focusId && document.getElementById('silence-' + focusId);
    if (focused) focused.scrollIntoView();
  };

  function silenceCard(s, highlight) {
    const state = s.status.state;
    const expire = async (e) => {
      e.target.disabled = true;
      try { await api('api/v2/silence/' + encodeURIComponent(s.id), { method: 'DELETE' }); location.href = link('silences', { id: s.id }); } catch (err) {
        e.target.parentNode.appendChild(errorBox(err.message));
        e.target.disabled = false;
      }
    };
    return h('article', { class: 'card silence' + (highlight ? ' highlight' : ''), id: 'silence-' + s.id, 'data-state': state },
      h('div', { class: 'row' }, badge(state), h('span', { class: 'chips' }, s.matchers.map((m) => h('span', { class: 'chip' }, matcherString(m))))),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Starts'), h('dd', {}, fmtTime(s.startsAt)),
        h('dt', {}, 'Ends'), h('dd', {}, fmtTime(s.endsAt), ' (' + ago(s.endsAt) + ')'),
        h('dt', {}, 'Created by'), h('dd', {}, s.createdBy),
        h('dt', {}, 'Comment'), h('dd', {}, s.comment),
        h('dt', {}, 'ID'), h('dd', {}, h('code', {}, s.id))),
      h('div', { class: 'row' },
        state === 'expired'
          ? h('a', { class: 'button secondary', href: link('silences', { 'new': '1', matchers: '{' + s.matchers.map(matcherString).join(', ') + '}' }) }, 'Recreate')
          : h('a', { class: 'button secondary', href: link('silences', { edit: s.id }) }, 'Edit'),
        state === 'expired' ? null : h('button', { type: 'button', class: 'danger expire', onclick: expire }, 'Expire')));
  }

  function isoNoMillis(d) { return d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }

  function silenceForm(base, prefill) {
    const now = new Date();
    // An edit keeps the start, so an active silence is updated in place
    // rather than replaced (the API replaces it when the start moves).
    const starts = base ? new Date(base.startsAt) : now;
    const ends = base ? new Date(base.endsAt) : new Date(now.getTime() + 2 * 3600 * 1000);
    const matchers = base ? '{' + base.matchers.map(matcherString).join(', ') + '}' : prefill;
    const status = h('div', { id: 'silence-form-status', 'aria-live': 'polite' });
    const preview = h('div', { id: 'silence-preview', 'aria-live': 'polite' });
    const field = (label, input, wide) => h('label', { class: wide ? 'wide' : '' }, label, input);
    const form = h('form', { class: 'stack card', id: 'silence-form', novalidate: true },
      h('h2', { class: 'wide' }, base ? 'Edit silence ' + base.id : 'New silence'),
      field('Matchers', h('input', { type: 'text', name: 'matchers', value: matchers, placeholder: '{alertname="X", instance=~"db.*"}', autocomplete: 'off', spellcheck: 'false' }), true),
      field('Starts at', h('input', { type: 'text', name: 'startsAt', value: base ? base.startsAt : isoNoMillis(starts) })),
      field('Duration', h('input', { type: 'text', name: 'duration', value: fmtDuration((ends - starts) / 1000) })),
      field('Ends at', h('input', { type: 'text', name: 'endsAt', value: isoNoMillis(ends) })),
      field('Created by', h('input', { type: 'text', name: 'createdBy', value: base ? base.createdBy : (localStorage.getItem('vigil.createdBy') || ''), autocomplete: 'username' })),
      field('Comment', h('input', { type: 'text', name: 'comment', value: base ? base.comment : '' }), true),
      h('div', { class: 'row wide' }, h('button', { type: 'submit' }, base ? 'Update' : 'Create'),
        h('a', { class: 'button secondary', href: 'silences' }, 'Cancel')),
      h('div', { class: 'wide' }, status),
      h('div', { class: 'wide' }, h('h3', {}, 'Alerts these matchers mute now'), preview));

    const startOf = () => parseTimeInput(form.startsAt.value);
    form.duration.addEventListener('input', () => {
      const d = parseDuration(form.duration.value), s = startOf();
      if (!isNaN(d) && s) form.endsAt.value = isoNoMillis(new Date(s.getTime() + d * 1000));
    });
    form.endsAt.addEventListener('input', () => {
      const e = parseTimeInput(form.endsAt.value), s = startOf();
      if (e && s) form.duration.value = fmtDuration((e - s) / 1000);
    });

    let timer = null, seq = 0;
    const refreshPreview = async () => {
      const mine = ++seq;
      clear(preview);
      let ms;
      try { ms = splitMatchers(form.matchers.value); ms.forEach(parseMatcher); } catch (e) { preview.appendChild(errorBox(e.message)); return; }
      if (ms.length === 0) { preview.appendChild(h('p', { class: 'muted' }, 'Enter at least one matcher.')); return; }
      const q = new URLSearchParams();
      ms.forEach((m) => q.append('filter', m));
      try {
        const alerts = await api('api/v2/alerts?' + q.toString());
        if (mine !== seq) return;
        preview.appendChild(h('p', { class: 'preview-count' }, alerts.length + (alerts.length === 1 ? ' alert' : ' alerts')));
        preview.appendChild(h('ul', {}, alerts.slice(0, 50).map((a) => h('li', {}, badge(a.status.state, 'state ' + a.status.state), ' ', chips(a.labels)))));
      } catch (e) { if (mine === seq) preview.appendChild(errorBox(e.message)); }
    };
    form.matchers.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refreshPreview, 250); });
    setTimeout(refreshPreview, 0);

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(status);
      let ms;
      try { ms = splitMatchers(form.matchers.value).map(parseMatcher); } catch (err) { status.appendChild(errorBox(err.message)); return; }
      const s = startOf(), en = parseTimeInput(form.endsAt.value);
      if (s === undefined) { status.appendChild(errorBox('Starts at: not a time (RFC 3339, e.g. 2026-12-07T10:00:00Z)')); return; }
      if (en === undefined) { status.appendChild(errorBox('Ends at: not a time (RFC 3339, e.g. 2026-12-07T12:00:00Z)')); return; }
      const body = { matchers: ms, startsAt: s ? s.toISOString() : '', endsAt: en ? en.toISOString() : '',
        createdBy: form.createdBy.value, comment: form.comment.value };
      if (base) body.id = base.id;
      try {
        const res = await postJSON('api/v2/silences', body);
        if (form.createdBy.value) localStorage.setItem('vigil.createdBy', form.createdBy.value);
        location.href = link('silences', { id: res.silenceID });
      } catch (err) {
        status.appendChild(errorBox(err.message));
      }
    });
    return form;
  }

  // Rules: groups with their evaluation, each rule with its alerts.
  pages.rules = async function () {
    const only = params.get('type') || '';
    clear(main);
    main.appendChild(h('div', { class: 'row spread' }, h('h1', {}, 'Rules'),
      h('nav', { class: 'tabs', 'aria-label': 'Rule types' },
        [['', 'All'], ['alert', 'Alerting'], ['record', 'Recording']].map(([t, label]) =>
          h('a', { class: 'button' + (t === only ? '' : ' secondary'), href: link('rules', t ? { type: t } : null), 'aria-current': t === only ? 'page' : null }, label)))));
    let data;
    try { data = (await api('api/v1/rules' + (only ? '?type=' + only : ''))).data; } catch (e) { main.appendChild(errorBox(e.message)); return; }
    const groups = data.groups || [];
    if (groups.length === 0) main.appendChild(h('p', { class: 'muted' }, 'No rule groups are loaded.'));
    for (const g of groups) {
      const bad = g.rules.filter((r) => r.health === 'err').length;
      main.appendChild(h('section', { class: 'card rule-group' },
        h('div', { class: 'row spread' }, h('h2', {}, g.name), bad ? badge(bad + ' failing', 'err') : badge('ok')),
        h('dl', { class: 'kv' },
          h('dt', {}, 'File'), h('dd', {}, h('code', {}, g.file)),
          h('dt', {}, 'Interval'), h('dd', {}, fmtDuration(g.interval)),
          h('dt', {}, 'Last evaluation'), h('dd', { class: 'last-evaluation' }, fmtTime(g.lastEvaluation), g.lastEvaluation ? ' (' + ago(g.lastEvaluation) + ')' : 'never'),
          h('dt', {}, 'Evaluation time'), h('dd', { class: 'evaluation-time' }, (g.evaluationTime * 1000).toFixed(3) + ' ms')),
        g.rules.map(ruleBlock)));
    }
  };

  function ruleBlock(r) {
    const alerts = r.alerts || [];
    const firing = alerts.filter((a) => a.state === 'firing').length;
    const pending = alerts.filter((a) => a.state === 'pending').length;
    return h('div', { class: 'alert-item rule', 'data-rule': r.name },
      h('div', { class: 'row' },
        h('strong', {}, r.type === 'alerting' ? 'alert: ' : 'record: ', r.name),
        badge(r.health, r.health === 'ok' ? 'ok' : r.health === 'err' ? 'err' : 'unknown'),
        r.type === 'alerting' ? badge(r.state || 'inactive') : null,
        firing ? h('span', { class: 'muted' }, firing + ' firing') : null,
        pending ? h('span', { class: 'muted' }, pending + ' pending') : null),
      h('div', {}, h('a', { href: link('graph', { 'g0.expr': r.query, 'g0.tab': 'table' }), class: 'rule-query' }, h('code', {}, r.query))),
      r.duration ? h('div', { class: 'muted' }, 'for ' + fmtDuration(r.duration) + (r.keepFiringFor ? ', keep firing for ' + fmtDuration(r.keepFiringFor) : '')) : null,
      r.labels && Object.keys(r.labels).length ? h('div', {}, chips(r.labels)) : null,
      r.lastError ? h('p', { class: 'error rule-error' }, r.lastError) : null,
      h('div', { class: 'muted' }, 'evaluated ', fmtTime(r.lastEvaluation), ' in ', ((r.evaluationTime || 0) * 1000).toFixed(3), ' ms'),
      alerts.length ? table(['Labels', 'State', 'Active since', 'Value'], alerts.map((a) => h('tr', {},
        td('Labels', chips(a.labels)), td('State', badge(a.state)),
        td('Active since', fmtTime(a.activeAt), a.activeAt ? ' (' + ago(a.activeAt) + ')' : ''),
        td('Value', h('code', {}, a.value))))) : null);
  }

  // Query (/graph?g0.expr=..., Prometheus' generatorURL form): the instant
  // result as a table, the range result as a plot.
  pages.graph = async function () {
    const expr = params.get('g0.expr') || '';
    const range = params.get('g0.range_input') || '1h';
    const form = h('form', { class: 'bar', id: 'query-form', onsubmit: (e) => {
      e.preventDefault();
      location.href = link(pageName(), { 'g0.expr': form.expr.value, 'g0.range_input': form.range.value, 'g0.tab': params.get('g0.tab') || 'table' });
    } },
      h('label', { class: 'grow' }, 'Expression (Enter runs it; Shift+Enter for a new line)',
        h('textarea', { name: 'expr', rows: 2, spellcheck: 'false', autocomplete: 'off' }, expr)),
      h('label', {}, 'Range', h('input', { type: 'text', name: 'range', value: range, size: 6 })),
      h('button', { type: 'submit' }, 'Execute'));
    form.expr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
    });
    const tableOut = h('div', { id: 'query-table' });
    const plotOut = h('div', { id: 'query-plot' });
    append(clear(main), h('h1', {}, 'Query'), form, h('h2', {}, 'Result now'), tableOut, h('h2', {}, 'Over the last ' + range), plotOut);
    if (!expr) { tableOut.appendChild(h('p', { class: 'muted' }, 'Enter a PromQL expression.')); return; }
    const rangeSec = parseDuration(range);
    api('api/v1/query?' + new URLSearchParams({ query: expr }).toString())
      .then((r) => tableOut.appendChild(resultTable(r.data)))
      .catch((e) => tableOut.appendChild(errorBox(e.message)));
    if (isNaN(rangeSec) || rangeSec <= 0) { plotOut.appendChild(errorBox('Range: not a duration (e.g. 1h, 30m)')); return; }
    const end = Date.now() / 1000, start = end - rangeSec;
    const step = Math.max(1, Math.ceil(rangeSec / 250));
    api('api/v1/query_range?' + new URLSearchParams({ query: expr, start: start.toFixed(3), end: end.toFixed(3), step: String(step) }).toString())
      .then((r) => plotOut.appendChild(plot(r.data.result || [], start, end)))
      .catch((e) => plotOut.appendChild(errorBox(e.message)));
  };
  pages.query = pages.graph;

  function seriesName(metric) {
    const m = Object.assign({}, metric);
    const name = m.__name__ || '';
    delete m.__name__;
    const inner = Object.keys(m).sort().map((k) => k + '=' + JSON.stringify(m[k])).join(', ');
    return name + (inner || !name ? '{' + inner + '}' : '');
  }

  function resultTable(data) {
    const t = data.resultType;
    if (t === 'scalar' || t === 'string') {
      return table(['Type', 'Value'], [h('tr', {}, td('Type', t), td('Value', h('code', {}, data.result[1])))], 'result');
    }
    const rows = data.result || [];
    if (rows.length === 0) return h('p', { class: 'muted empty-result' }, 'Empty result.');
    return table(['Series', 'Value'], rows.map((s) => h('tr', {},
      td('Series', h('code', {}, seriesName(s.metric))),
      td('Value', t === 'matrix'
        ? (s.values || []).map((v) => h('div', {}, h('code', {}, v[1] + ' @' + v[0])))
        : h('code', {}, s.value ? s.value[1] : (s.histogram ? 'histogram' : ''))))), 'result');
  }

  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) { hi = lo + 1; lo = lo - 1; }
    const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }
  function fmtValue(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toPrecision(3) + 'G';
    if (a >= 1e6) return (v / 1e6).toPrecision(3) + 'M';
    if (a >= 1e3) return (v / 1e3).toPrecision(3) + 'k';
    return String(+v.toPrecision(4));
  }

  function plot(series, start, end) {
    const W = 800, H = 260, L = 56, R = 10, T = 10, B = 26;
    let lo = Infinity, hi = -Infinity;
    const lines = series.slice(0, 50).map((s) => ({ name: seriesName(s.metric), pts: (s.values || []).map((v) => [v[0], parseFloat(v[1])]).filter((p) => isFinite(p[1])) }));
    for (const l of lines) for (const p of l.pts) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
    if (!isFinite(lo)) return h('p', { class: 'muted empty-result' }, 'No samples in this range.');
    const ticks = niceTicks(lo, hi, 4);
    lo = Math.min(lo, ticks[0]); hi = Math.max(hi, ticks[ticks.length - 1]);
    if (hi === lo) { hi += 1; lo -= 1; }
    const x = (t) => L + ((t - start) / (end - start)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    const g = svg('svg', { class: 'plot', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Plot of ' + lines.length + ' series' });
    for (const v of ticks) {
      g.appendChild(svg('line', { class: 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      g.appendChild(svg('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end' }, fmtValue(v)));
    }
    for (let i = 0; i <= 4; i++) {
      const t = start + (i / 4) * (end - start), d = new Date(t * 1000);
      g.appendChild(svg('text', { x: x(t), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, pad(d.getHours()) + ':' + pad(d.getMinutes())));
    }
    lines.forEach((l, i) => {
      // A gap longer than three steps breaks the line.
      let seg = [], prev = null;
      const flush = () => { if (seg.length) g.appendChild(svg('polyline', { class: 's' + (i % 10), points: seg.join(' ') })); seg = []; };
      const gap = l.pts.length > 1 ? 3 * Math.min(...l.pts.slice(1).map((p, j) => p[0] - l.pts[j][0])) : Infinity;
      for (const p of l.pts) {
        if (prev && p[0] - prev[0] > gap) flush();
        seg.push(x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1));
        prev = p;
      }
      if (seg.length === 1) seg.push((parseFloat(seg[0]) + 2).toFixed(1) + ',' + seg[0].split(',')[1]);
      flush();
    });
    return h('div', {}, g, h('ul', { class: 'legend' }, lines.map((l, i) => h('li', {}, h('span', { class: 'swatch s' + (i % 10) }), l.name))),
      series.length > 50 ? h('p', { class: 'muted' }, 'The first 50 of ' + series.length + ' series are drawn.') : null);
  }

  // Status: version, cluster, the last reload, the configuration (secrets
  // are <secret> in what the API sends).
  pages.status = async function () {
    clear(main);
    main.appendChild(h('h1', {}, 'Status'));
    let st, rt = null;
    try { st = await api('api/v2/status'); } catch (e) { main.appendChild(errorBox(e.message)); return; }
    try { rt = (await api('api/v1/status/runtimeinfo')).data; } catch (e) { rt = null; }
    const v = st.versionInfo || {};
    const c = st.cluster || {};
    main.appendChild(h('section', { class: 'card', id: 'status-runtime' }, h('h2', {}, 'Runtime'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Version'), h('dd', { id: 'status-version' }, v.version || ''),
        h('dt', {}, 'Revision'), h('dd', {}, v.revision || ''),
        h('dt', {}, 'Build date'), h('dd', {}, v.buildDate || ''),
        h('dt', {}, 'Up since'), h('dd', {}, fmtTime(st.uptime), ' (' + fmtDuration((Date.now() - new Date(st.uptime)) / 1000) + ')'),
        rt ? [h('dt', {}, 'Rules evaluated'), h('dd', {}, rt.mode === 'embedded' ? 'embedded store' : 'through the datasource'),
          h('dt', {}, 'Last reload'), h('dd', { id: 'status-reload' }, rt.reloadConfigSuccess ? badge('success', 'ok') : badge('failed', 'err'),
            ' ', rt.reloadConfigFailures ? rt.reloadConfigFailures + ' failed so far; ' : '', 'last good at ', fmtTime(rt.lastConfigTime)),
          h('dt', {}, 'External URL'), h('dd', {}, rt.externalURL),
          h('dt', {}, 'Route prefix'), h('dd', {}, rt.routePrefix)] : null)));
    main.appendChild(h('section', { class: 'card', id: 'status-cluster' }, h('h2', {}, 'Cluster'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Status'), h('dd', {}, badge(c.status || 'disabled', c.status === 'ready' ? 'ok' : 'unknown')),
        h('dt', {}, 'Name'), h('dd', {}, c.name || ''),
        h('dt', {}, 'Peers'), h('dd', {}, (c.peers || []).length ? (c.peers || []).map((p) => h('div', {}, h('code', {}, p.name + ' ' + p.address))) : 'none'))));
    main.appendChild(h('section', { id: 'status-config' }, h('h2', {}, 'Configuration'),
      h('pre', {}, (st.config && st.config.original) || '')));
  };

  // Notification history: /api/v1/notifications, newest first.
  pages.history = async function () {
    const fields = ['receiver', 'alert', 'status', 'outcome', 'since', 'until', 'limit'];
    const v = {};
    for (const f of fields) v[f] = params.get(f) || '';
    const select = (name, opts) => h('select', { name: name }, opts.map(([val, label]) => h('option', { value: val, selected: v[name] === val }, label)));
    const form = h('form', { class: 'bar', id: 'history-form', onsubmit: (e) => {
      e.preventDefault();
      const q = {};
      for (const f of fields) if (form[f].value) q[f] = form[f].value;
      location.href = link('history', q);
    } },
      h('label', {}, 'Receiver', h('input', { type: 'text', name: 'receiver', value: v.receiver, autocomplete: 'off' })),
      h('label', { class: 'grow' }, 'Alert (name or matchers)', h('input', { type: 'search', name: 'alert', value: v.alert, placeholder: 'HighLatency or {alertname="X"}', autocomplete: 'off', spellcheck: 'false' })),
      h('label', {}, 'Status', select('status', [['', 'any'], ['firing', 'firing'], ['resolved', 'resolved']])),
      h('label', {}, 'Outcome', select('outcome', [['', 'any'], ['success', 'success'], ['failure', 'failure']])),
      h('label', {}, 'Since', h('input', { type: 'text', name: 'since', value: v.since, placeholder: '24h or RFC 3339', size: 12 })),
      h('label', {}, 'Until', h('input', { type: 'text', name: 'until', value: v.until, placeholder: 'now', size: 12 })),
      h('label', {}, 'Limit', h('input', { type: 'text', name: 'limit', value: v.limit, placeholder: '100', size: 5, inputmode: 'numeric' })),
      h('button', { type: 'submit' }, 'Search'));
    const out = h('div', { id: 'history' });
    append(clear(main), h('h1', {}, 'Notification history'), form, out);

    const q = new URLSearchParams();
    if (v.receiver) q.set('receiver', v.receiver);
    if (v.alert) {
      // A bare word is an alert name; matchers go one per filter parameter,
      // as /api/v2/alerts takes them.
      const text = v.alert.trim();
      try {
        const ms = /[=~]/.test(text) ? splitMatchers(text) : ['alertname=' + JSON.stringify(text)];
        ms.forEach((m) => { parseMatcher(m); q.append('filter', m); });
      } catch (e) { out.appendChild(errorBox(e.message)); return; }
    }
    if (v.status) q.set('status', v.status);
    if (v.outcome) q.set('outcome', v.outcome);
    for (const f of ['since', 'until']) {
      if (!v[f]) continue;
      const t = parseTimeInput(v[f]);
      if (!t) { out.appendChild(errorBox(f[0].toUpperCase() + f.slice(1) + ': not a time (RFC 3339, unix seconds, or a duration back from now such as 24h)')); return; }
      q.set(f, t.toISOString());
    }
    if (v.limit) q.set('limit', v.limit);
    let data;
    try { data = (await api('api/v1/notifications?' + q.toString())).data; } catch (e) {
      out.appendChild(errorBox(e.status === 404 ? 'This vigil keeps no notification history (api/v1/notifications is not served).' : e.message));
      return;
    }
    const entries = data.entries || [];
    out.appendChild(h('p', { class: 'muted', id: 'history-count' }, entries.length + ' shown of ' + (data.total !== undefined ? data.total : entries.length) + ' matching.'));
    if (entries.length === 0) return;
    out.appendChild(table(['Time', 'Receiver', 'Group', 'Status', 'Alerts', 'Outcome', 'Duration'], entries.map((e) => h('tr', { class: 'history-entry' },
      td('Time', h('time', { datetime: e.time, title: e.time, class: 'nowrap' }, fmtTime(e.time))),
      td('Receiver', h('code', {}, e.receiver), h('div', { class: 'muted nowrap' }, e.integration + '[' + e.integrationIndex + ']')),
      td('Group', chips(e.groupLabels || {})),
      td('Status', badge(e.status)),
      td('Alerts', (e.alerts || []).map((a) => h('div', {}, badge(a.status), ' ', chips(a.labels)))),
      td('Outcome', badge(e.outcome), e.attempts > 1 ? ' after ' + e.attempts + ' attempts' : '', e.error ? h('div', { class: 'error' }, e.error) : null),
      td('Duration', e.durationSeconds >= 1 ? e.durationSeconds.toFixed(2) + ' s' : (e.durationSeconds * 1000).toFixed(1) + ' ms'))), 'history'));
  };

  // ---- start ----
  const name = pageName();
  for (const a of document.querySelectorAll('header nav a[data-page]')) {
    if (a.dataset.page === name || (name === 'query' && a.dataset.page === 'graph')) a.setAttribute('aria-current', 'page');
  }
  const page = pages[name];
  document.title = (name === 'graph' || name === 'query' ? 'Query' : name[0].toUpperCase() + name.slice(1)) + ' · vigil';
  if (!page) { append(clear(main), errorBox('No page named "' + name + '".')); return; }
  page().catch((e) => main.appendChild(errorBox(e.message)));
})();
