/* logitfit explain page: the linked views. All arithmetic comes from math.js (LogitfitMath).
 * Text from the data (column names) is only ever set with textContent, never as markup. */
"use strict";
(function () {
  const M = window.LogitfitMath;
  const D = JSON.parse(document.getElementById("logitfit-data").textContent);
  const n = D.names.length; // parameters: intercept + 1 or 2 features
  const X = D.y.map((_, i) => [1.0, ...D.x.map((col) => col[i])]);
  const Y = D.y.map(Number);
  const SVGNS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const fmt = (v, p = 6) => (v === null || v === undefined ? "undefined"
    : Number.isFinite(v) ? Number(v.toPrecision(p)).toString() : String(v));
  const theta = D.start.slice();
  // how a parameter is named on the page: θ0 (intercept), θ1 (name), ...
  const pname = (j) => (j === 0 ? "θ0 (intercept)" : `θ${j} (${D.names[j]})`);
  const opt = D.optimum; // {theta, cost} or null (no finite optimum)

  // ------------------------------------------------------------------ small SVG helpers
  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, attrs = {}) {
    const t = el("text", { x, y, ...attrs }, parent);
    t.textContent = s;
    return t;
  }
  function lin(d0, d1, r0, r1) {
    const f = (v) => r0 + (v - d0) * (r1 - r0) / (d1 - d0);
    f.inv = (p) => d0 + (p - r0) * (d1 - d0) / (r1 - r0);
    return f;
  }
  function span(values, pad = 0.05) {
    const v = values.filter(Number.isFinite);
    let lo = Math.min(...v), hi = Math.max(...v);
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const p = (hi - lo) * pad;
    return [lo - p, hi + p];
  }
  const W = 340, H = 270, PAD = { l: 48, r: 12, t: 12, b: 36 };
  function frame(svg, sx, sy, xlab, ylab) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    el("rect", { x: PAD.l, y: PAD.t, width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b,
      class: "frame" }, svg);
    for (const [v, lab] of ticks(sx)) {
      el("line", { x1: sx(v), x2: sx(v), y1: H - PAD.b, y2: H - PAD.b + 4, class: "tick" }, svg);
      text(svg, sx(v), H - PAD.b + 15, lab, { class: "ticklab", "text-anchor": "middle" });
    }
    for (const [v, lab] of ticks(sy)) {
      el("line", { x1: PAD.l - 4, x2: PAD.l, y1: sy(v), y2: sy(v), class: "tick" }, svg);
      text(svg, PAD.l - 6, sy(v) + 3, lab, { class: "ticklab", "text-anchor": "end" });
    }
    text(svg, (PAD.l + W - PAD.r) / 2, H - 4, xlab, { class: "axlab", "text-anchor": "middle" });
    text(svg, 12, (PAD.t + H - PAD.b) / 2, ylab, { class: "axlab", "text-anchor": "middle",
      transform: `rotate(-90 12 ${(PAD.t + H - PAD.b) / 2})` });
    const clip = "c" + Math.random().toString(36).slice(2);
    const defs = el("defs", {}, svg);
    el("rect", { x: PAD.l, y: PAD.t, width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b },
      el("clipPath", { id: clip }, defs));
    return el("g", { "clip-path": `url(#${clip})` }, svg);
  }
  function ticks(s) {
    const a = s.inv(PAD.l), b = s.inv(W - PAD.r);
    const lo = Math.min(a, b), hi = Math.max(a, b);
    const a2 = s.inv(H - PAD.b), b2 = s.inv(PAD.t);
    const [l, h] = s.vertical ? [Math.min(a2, b2), Math.max(a2, b2)] : [lo, hi];
    const step = Math.pow(10, Math.floor(Math.log10((h - l) / 4)));
    if (!(h > l) || !(step > 0) || !Number.isFinite(h - l)) return [];
    const k = (h - l) / step > 20 ? 5 : (h - l) / step > 8 ? 2 : 1;
    const out = [];
    for (let v = Math.ceil(l / (step * k)) * step * k; v <= h + 1e-12 * Math.abs(h) && out.length < 30;
      v += step * k) {
      out.push([v, s.log ? fmt(Math.pow(10, v), 2) : fmt(Math.abs(v) < step * 1e-6 ? 0 : v, 4)]);
    }
    return out;
  }
  const xs = (lo, hi) => lin(lo, hi, PAD.l, W - PAD.r);
  const ys = (lo, hi) => { const s = lin(lo, hi, H - PAD.b, PAD.t); s.vertical = true; return s; };
  const path = (pts) => pts.filter((p) => p.every(Number.isFinite))
    .map((p, i) => (i ? "L" : "M") + p[0].toFixed(2) + " " + p[1].toFixed(2)).join(" ");

  // ------------------------------------------------------------------ sliders and status
  const sliders = [];
  function buildSliders() {
    const box = $("sliders");
    D.names.forEach((name, j) => {
      const row = document.createElement("div");
      row.className = "slider";
      const lab = document.createElement("label");
      lab.textContent = pname(j);
      lab.title = pname(j);
      lab.htmlFor = `theta${j}`;
      const input = document.createElement("input");
      Object.assign(input, { type: "range", id: `theta${j}`, min: D.ranges[j][0],
        max: D.ranges[j][1], step: (D.ranges[j][1] - D.ranges[j][0]) / 1000, value: theta[j] });
      const out = document.createElement("output");
      out.id = `theta${j}-value`;
      input.addEventListener("input", () => { theta[j] = Number(input.value); update(); });
      row.append(lab, input, out);
      box.appendChild(row);
      sliders.push([input, out]);
    });
  }
  function setTheta(t) {
    for (let j = 0; j < n; j++) theta[j] = t[j];
    update();
  }

  // ------------------------------------------------------------------ data and boundary
  const dataRange = D.x.map((col) => span(col));
  function drawData() {
    const svg = $("data-plot");
    if (n === 3) {
      const sx = xs(...dataRange[0]), sy = ys(...dataRange[1]);
      const g = frame(svg, sx, sy, D.names[1], D.names[2]);
      D.drawn.forEach((i) => el("circle", { cx: sx(D.x[0][i]), cy: sy(D.x[1][i]), r: 3,
        class: D.y[i] ? "pos" : "neg" }, g));
      const line = (t, cls) => {
        if (t[2] === 0 && t[1] === 0) return;
        const [a, b] = dataRange[0], [c, d] = dataRange[1];
        const pts = Math.abs(t[2]) >= Math.abs(t[1])
          ? [[a, -(t[0] + t[1] * a) / t[2]], [b, -(t[0] + t[1] * b) / t[2]]]
          : [[-(t[0] + t[2] * c) / t[1], c], [-(t[0] + t[2] * d) / t[1], d]];
        el("path", { d: path(pts.map(([u, v]) => [sx(u), sy(v)])), class: cls }, g);
        return pts;
      };
      if (opt) line(opt.theta, "boundary-opt");
      const pts = line(theta, "boundary");
      if (pts) { // the normal (theta1, theta2), drawn from the boundary's midpoint toward h > 1/2
        const mx = (pts[0][0] + pts[1][0]) / 2, my = (pts[0][1] + pts[1][1]) / 2;
        const px = sx(mx), py = sy(my);
        let vx = theta[1] * (sx(1) - sx(0)), vy = theta[2] * (sy(1) - sy(0));
        const len = Math.hypot(vx, vy) || 1;
        vx *= 36 / len; vy *= 36 / len;
        el("line", { x1: px, y1: py, x2: px + vx, y2: py + vy, class: "normal",
          "marker-end": "url(#arrow)" }, g);
      }
      arrowDef(svg);
    } else {
      const sx = xs(...dataRange[0]), sy = ys(-0.1, 1.1);
      const g = frame(svg, sx, sy, D.names[1], `P(${D.target} = ${D.positive})`);
      D.drawn.forEach((i) => el("circle", { cx: sx(D.x[0][i]), cy: sy(D.y[i]), r: 3,
        class: D.y[i] ? "pos" : "neg" }, g));
      const curve = (t, cls) => {
        const pts = [];
        for (let k = 0; k <= 200; k++) {
          const u = dataRange[0][0] + (dataRange[0][1] - dataRange[0][0]) * k / 200;
          pts.push([sx(u), sy(M.sigmoid(t[0] + t[1] * u))]);
        }
        el("path", { d: path(pts), class: cls }, g);
      };
      if (opt) curve(opt.theta, "boundary-opt");
      curve(theta, "sigmoid");
      if (theta[1] !== 0) {
        const b = sx(-theta[0] / theta[1]);
        el("line", { x1: b, x2: b, y1: PAD.t, y2: H - PAD.b, class: "boundary" }, g);
      }
    }
  }
  function arrowDef(svg) {
    const mk = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
      markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" }, el("defs", {}, svg));
    el("path", { d: "M0 0 L10 5 L0 10 z", class: "arrowhead" }, mk);
  }
  // The sigmoid along the boundary's normal: signed distance d = theta^T x / |w| (w the feature
  // weights), h = sigmoid(|w| d); the labels sit at 0 and 1.
  function drawNormal() {
    const svg = $("normal-plot");
    const w = Math.hypot(...theta.slice(1));
    const z = M.linear(theta, X);
    const dist = w > 0 ? z.map((v) => v / w) : z.map(() => 0);
    const [a, b] = span(dist.concat([0]));
    const sx = xs(a, b), sy = ys(-0.1, 1.1);
    const g = frame(svg, sx, sy, "signed distance to the boundary, θᵀx / |w|", "h = σ(θᵀx)");
    el("line", { x1: sx(0), x2: sx(0), y1: PAD.t, y2: H - PAD.b, class: "boundary" }, g);
    D.drawn.forEach((i) => el("circle", { cx: sx(dist[i]), cy: sy(Y[i]), r: 3,
      class: Y[i] ? "pos" : "neg" }, g));
    const pts = [];
    for (let k = 0; k <= 200; k++) {
      const u = a + (b - a) * k / 200;
      pts.push([sx(u), sy(M.sigmoid(w * u))]);
    }
    el("path", { d: path(pts), class: "sigmoid" }, g);
  }

  // ------------------------------------------------------------------ contour plot
  const pairs = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) pairs.push([a, b]);
  let pair = pairs[pairs.length - 1]; // the two feature weights (or theta0, theta1)
  // J on a GRID x GRID lattice, bilinear between: at most about 0.6 million loss terms a redraw
  const GRID = Math.max(21, Math.min(49, Math.floor(Math.sqrt(6e5 / Y.length))));
  const CW = 340, CH = 340, CP = { l: 56, r: 10, t: 10, b: 40 };
  let gridKey = null, image = null, levels = null;
  const cx = () => lin(D.ranges[pair[0]][0], D.ranges[pair[0]][1], CP.l, CW - CP.r);
  const cy = () => lin(D.ranges[pair[1]][0], D.ranges[pair[1]][1], CH - CP.b, CP.t);
  const PALETTE = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function colour(u) {
    const t = Math.min(Math.max(u, 0), 1) * (PALETTE.length - 1);
    const i = Math.min(Math.floor(t), PALETTE.length - 2), f = t - i;
    return PALETTE[i].map((c, k) => Math.round(c + f * (PALETTE[i + 1][k] - c)));
  }
  function buildImage() {
    const [a, b] = pair;
    const held = theta.map((t, j) => (j === a || j === b ? 0 : t));
    const key = pair.join() + "|" + held.join();
    if (key === gridKey) return;
    gridKey = key;
    const ra = D.ranges[a], rb = D.ranges[b];
    const lattice = [];
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        const t = theta.slice();
        t[a] = ra[0] + (ra[1] - ra[0]) * c / (GRID - 1);
        t[b] = rb[0] + (rb[1] - rb[0]) * r / (GRID - 1);
        lattice.push(t);
      }
    }
    const J = M.costs(lattice, X, Y);
    const G = [];
    for (let r = 0; r < GRID; r++) G.push(J.slice(r * GRID, (r + 1) * GRID).map(Math.log));
    const flat = G.flat().filter(Number.isFinite);
    const lo = Math.min(...flat), hi = Math.max(...flat);
    const NL = 14;
    levels = Array.from({ length: NL + 1 }, (_, k) => lo + (hi - lo) * k / NL);
    const w = CW - CP.l - CP.r, h = CH - CP.t - CP.b;
    image = new ImageData(w, h);
    for (let py = 0; py < h; py++) {
      const gr = (h - 1 - py) / (h - 1) * (GRID - 1);
      const r0 = Math.min(Math.floor(gr), GRID - 2), fr = gr - r0;
      for (let px = 0; px < w; px++) {
        const gc = px / (w - 1) * (GRID - 1);
        const c0 = Math.min(Math.floor(gc), GRID - 2), fc = gc - c0;
        const v = (1 - fr) * ((1 - fc) * G[r0][c0] + fc * G[r0][c0 + 1])
          + fr * ((1 - fc) * G[r0 + 1][c0] + fc * G[r0 + 1][c0 + 1]);
        const band = Math.min(Math.floor((v - lo) / (hi - lo) * NL), NL - 1);
        const col = colour(1 - band / (NL - 1));
        const o = 4 * (py * w + px);
        image.data[o] = col[0]; image.data[o + 1] = col[1]; image.data[o + 2] = col[2];
        image.data[o + 3] = 255;
      }
    }
  }
  function drawContour() {
    buildImage();
    const cv = $("contour");
    const ctx = cv.getContext("2d");
    ctx.clearRect(0, 0, CW, CH);
    ctx.putImageData(image, CP.l, CP.t);
    const sx = cx(), sy = cy();
    ctx.strokeStyle = "#333"; ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
    ctx.strokeRect(CP.l, CP.t, CW - CP.l - CP.r, CH - CP.t - CP.b);
    const axis = (s, lo, hi, vertical) => {
      const fake = lin(lo, hi, vertical ? H - PAD.b : PAD.l, vertical ? PAD.t : W - PAD.r);
      fake.vertical = vertical;
      for (const [v, lab] of ticks(fake)) {
        if (vertical) { ctx.textAlign = "right"; ctx.fillText(lab, CP.l - 4, s(v) + 3); }
        else { ctx.textAlign = "center"; ctx.fillText(lab, s(v), CH - CP.b + 14); }
      }
    };
    axis(sx, ...D.ranges[pair[0]], false);
    axis(sy, ...D.ranges[pair[1]], true);
    ctx.textAlign = "center";
    ctx.fillText(pname(pair[0]), (CP.l + CW - CP.r) / 2, CH - 6);
    ctx.save(); ctx.translate(12, (CP.t + CH - CP.b) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(pname(pair[1]), 0, 0); ctx.restore();
    ctx.save();
    ctx.beginPath(); ctx.rect(CP.l, CP.t, CW - CP.l - CP.r, CH - CP.t - CP.b); ctx.clip();
    // the descent path
    if (run.path.length > 1) {
      ctx.strokeStyle = run.diverging ? "#d62728" : "#000"; ctx.lineWidth = 1.5;
      ctx.beginPath();
      run.path.forEach((t, i) => {
        const p = [sx(t[pair[0]]), sy(t[pair[1]])];
        if (p.every(Number.isFinite)) (i ? ctx.lineTo(...p) : ctx.moveTo(...p));
      });
      ctx.stroke();
      ctx.fillStyle = "#000";
      ctx.fillRect(sx(run.path[0][pair[0]]) - 3, sy(run.path[0][pair[1]]) - 3, 6, 6);
    }
    if (opt) { // the optimum: a star (its other coordinates may differ from the held values)
      const ox = sx(opt.theta[pair[0]]), oy = sy(opt.theta[pair[1]]);
      ctx.fillStyle = "#ff7f0e"; ctx.beginPath();
      for (let k = 0; k < 10; k++) {
        const r = k % 2 ? 3 : 8, an = -Math.PI / 2 + k * Math.PI / 5;
        ctx.lineTo(ox + r * Math.cos(an), oy + r * Math.sin(an));
      }
      ctx.fill();
    }
    // the current point and -grad J (the step gradient descent takes), at a fixed length
    const px = sx(theta[pair[0]]), py = sy(theta[pair[1]]);
    const g = state.grad;
    let vx = -g[pair[0]] * (sx(1) - sx(0)), vy = -g[pair[1]] * (sy(1) - sy(0));
    const len = Math.hypot(vx, vy);
    if (len > 0 && Number.isFinite(len)) {
      vx *= 40 / len; vy *= 40 / len;
      ctx.strokeStyle = "#d62728"; ctx.fillStyle = "#d62728"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(px, py); ctx.lineTo(px + vx, py + vy); ctx.stroke();
      const an = Math.atan2(vy, vx);
      ctx.beginPath(); ctx.moveTo(px + vx, py + vy);
      ctx.lineTo(px + vx - 8 * Math.cos(an - 0.4), py + vy - 8 * Math.sin(an - 0.4));
      ctx.lineTo(px + vx - 8 * Math.cos(an + 0.4), py + vy - 8 * Math.sin(an + 0.4));
      ctx.fill();
    }
    ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.arc(px, py, 5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    ctx.restore();
    const held = theta.map((t, j) => (pair.includes(j) ? null : `θ${j} = ${fmt(t, 4)}`))
      .filter((s) => s !== null);
    $("contour-note").textContent = `Yellow: low J. log J in ${levels.length - 1} bands from ${fmt(Math.exp(levels[0]), 3)} `
      + `to ${fmt(Math.exp(levels[levels.length - 1]), 3)}` + (held.length ? `; held: ${held.join(", ")}` : "")
      + `. Arrow: −∇J (direction only; |∇J| = ${fmt(Math.hypot(...g), 4)}).`;
  }
  function contourEvents() {
    const cv = $("contour");
    let dragging = false;
    const move = (ev) => {
      const r = cv.getBoundingClientRect();
      const a = cx().inv((ev.clientX - r.left) * CW / r.width);
      const b = cy().inv((ev.clientY - r.top) * CH / r.height);
      const clamp = (v, j) => Math.min(Math.max(v, D.ranges[j][0]), D.ranges[j][1]);
      theta[pair[0]] = clamp(a, pair[0]);
      theta[pair[1]] = clamp(b, pair[1]);
      update();
    };
    cv.addEventListener("mousedown", (ev) => { dragging = true; move(ev); });
    window.addEventListener("mousemove", (ev) => { if (dragging) move(ev); });
    window.addEventListener("mouseup", () => { dragging = false; });
    const sel = $("pair");
    pairs.forEach(([a, b], k) => {
      const o = document.createElement("option");
      o.value = k;
      o.textContent = `${pname(a)} and ${pname(b)}`;
      sel.appendChild(o);
    });
    sel.value = pairs.length - 1;
    sel.addEventListener("change", () => { pair = pairs[Number(sel.value)]; gridKey = null; update(); });
  }

  // ------------------------------------------------------------------ log loss vs squared error
  let sliceK = n - 1;
  function drawSlice() {
    const k = sliceK, [lo, hi] = D.ranges[k], N = 121;
    const t = theta.slice(), ts = [], J = [], E = [], cJ = [], cE = [];
    for (let i = 0; i < N; i++) {
      t[k] = lo + (hi - lo) * i / (N - 1);
      const s = M.sliceCosts(t, X, Y, k);
      ts.push(t[k]); J.push(s.J); E.push(s.E); cJ.push(s.curvJ); cE.push(s.curvE);
    }
    const panel = (id, vals, curv, name) => {
      const svg = $(id);
      const sx = xs(lo, hi), sy = ys(...span(vals));
      const g = frame(svg, sx, sy, `${pname(k)}, others held`, name);
      let start = null, count = 0;
      for (let i = 0; i <= N; i++) { // shade the stretches where the curvature is negative
        const neg = i < N && curv[i] < 0;
        if (neg && start === null) start = i;
        if (!neg && start !== null) {
          const x0 = sx(ts[Math.max(start - 0.5, 0) | 0]), x1 = sx(ts[Math.min(i, N - 1)]);
          el("rect", { x: x0, y: PAD.t, width: Math.max(x1 - x0, 1), height: H - PAD.t - PAD.b,
            class: "nonconvex" }, g);
          start = null; count++;
        }
      }
      el("path", { d: path(ts.map((v, i) => [sx(v), sy(vals[i])])), class: "curve" }, g);
      el("line", { x1: sx(theta[k]), x2: sx(theta[k]), y1: PAD.t, y2: H - PAD.b, class: "current" }, g);
      return count;
    };
    const nJ = panel("slice-log", J, cJ, "log loss J");
    const nE = panel("slice-sq", E, cE, "squared error E");
    $("slice-note").textContent = `Shaded: second derivative along θ${k} below zero (not convex). `
      + `Log loss: ${nJ} stretch(es); squared error of the sigmoid: ${nE} stretch(es).`;
  }

  // ------------------------------------------------------------------ derivation tables
  function buildTables() {
    const box = $("derivations");
    for (let j = 0; j < n; j++) {
      const tbl = document.createElement("table");
      tbl.className = "derivation";
      const cap = tbl.createCaption();
      cap.id = `deriv-cap-${j}`;
      const head = tbl.createTHead().insertRow();
      for (const h of ["#", "step", "formula", "value", "compared with", "difference", "relative"]) {
        const th = document.createElement("th"); th.textContent = h; head.appendChild(th);
      }
      const body = tbl.createTBody();
      D.steps.forEach(([name, formula], k) => {
        const r = body.insertRow();
        r.insertCell().textContent = String(k + 1);
        r.insertCell().textContent = name;
        const f = r.insertCell(); const code = document.createElement("code");
        code.textContent = formula; f.appendChild(code);
        for (let c = 0; c < 4; c++) r.insertCell().className = "num";
      });
      box.appendChild(tbl);
    }
  }
  function updateTables() {
    const tables = document.querySelectorAll("table.derivation");
    for (let j = 0; j < n; j++) {
      const res = M.derivation(X, Y, theta, j, D.fd_step_factor);
      state.derivations[j] = res;
      tables[j].caption.textContent = `dJ/dθ${j}, ${pname(j)}, on m = ${Y.length} rows; relative = `
        + `|difference| / ${fmt(res.scale)} (the mean |(h − y) x_j|)`
        + (res.defined ? "" : "; rows 1-3 undefined: some h rounds to 0 or 1");
      res.rows.forEach((row, k) => {
        const cells = tables[j].tBodies[0].rows[k].cells;
        cells[3].textContent = row.value === null ? "undefined" : row.value.toPrecision(17);
        cells[4].textContent = row.against === null ? "" : `row ${row.against + 1}`;
        cells[5].textContent = row.against === null ? "" : row.diff.toExponential(2);
        cells[6].textContent = row.against === null ? "" : row.rel.toExponential(2);
      });
    }
  }

  // ------------------------------------------------------------------ gradient descent
  const run = { path: [], costs: [], diverging: false, rises: 0, timer: null, st: null };
  function resetRun() {
    pause();
    const start = $("start").value === "zeros" ? theta.map(() => 0) : theta.slice();
    run.path = [start];
    run.costs = [M.cost(start, X, Y)];
    run.diverging = false; run.rises = 0;
    run.st = { v: start.map(() => 0), s: start.map(() => 0), k: 0 };
    setTheta(start);
  }
  // Moving theta by hand between steps starts a new run from there.
  function movedByHand() {
    const last = run.path[run.path.length - 1];
    return last.every(Number.isFinite) && last.some((t, j) => t !== theta[j]);
  }
  function finished() {
    const last = run.path[run.path.length - 1];
    return !last.every(Number.isFinite) || run.costs.length > Number($("iters").value);
  }
  function stepRun() {
    if (!run.path.length) resetRun();
    else if (movedByHand()) { $("start").value = "current"; resetRun(); }
    const last = run.path[run.path.length - 1];
    if (!last.every(Number.isFinite) || run.costs.length > Number($("iters").value)) { pause(); return false; }
    const lr = Number($("lr").value);
    const g = M.gradient(last, X, Y);
    const next = M.descentStep($("optimizer").value, last, g, run.st, lr, D.descent);
    const c = next.every(Number.isFinite) ? M.cost(next, X, Y) : Infinity;
    if (c > run.costs[run.costs.length - 1]) run.rises++;
    run.path.push(next);
    run.costs.push(c);
    // landscape.DescentRun.diverged: the cost is above where it started, or overflowed
    run.diverging = !Number.isFinite(c) || c > run.costs[0];
    if (next.every(Number.isFinite)) setTheta(next); else update();
    return true;
  }
  function play() {
    if (run.timer) return;
    if (!run.path.length || finished()) resetRun();
    run.timer = setInterval(() => { if (!stepRun()) pause(); }, Number($("speed").value));
    $("play").disabled = true; $("pause").disabled = false;
  }
  function pause() {
    if (run.timer) clearInterval(run.timer);
    run.timer = null;
    $("play").disabled = false; $("pause").disabled = true;
  }
  function drawRun() {
    const svg = $("cost-plot");
    const finite = run.costs.filter((c) => Number.isFinite(c) && c > 0);
    const its = Math.max(run.costs.length - 1, 1);
    const logs = finite.map(Math.log10).concat(opt && opt.cost > 0 ? [Math.log10(opt.cost)] : []);
    const sx = xs(0, its), sy = ys(...span(logs.length ? logs : [-1, 0]));
    sy.log = true;
    const g = frame(svg, sx, sy, "iteration", "cost J (log scale)");
    if (opt && opt.cost > 0) {
      el("line", { x1: PAD.l, x2: W - PAD.r, y1: sy(Math.log10(opt.cost)), y2: sy(Math.log10(opt.cost)),
        class: "optline" }, g);
    }
    el("path", { d: path(run.costs.map((c, i) => [sx(i), c > 0 ? sy(Math.log10(c)) : NaN])),
      class: run.diverging ? "curve diverging" : "curve" }, g);
    const status = $("descent-status");
    const k = run.costs.length - 1;
    status.className = run.diverging ? "flag" : "";
    status.textContent = !run.path.length ? "not started"
      : `iteration ${k}: J = ${fmt(run.costs[k], 8)}` + (run.rises ? `; the cost rose at ${run.rises} step(s)` : "")
      + (run.diverging ? " — DIVERGING: the cost is above where it started (lower the learning rate)" : "");
  }

  // ------------------------------------------------------------------ the status line
  const state = { cost: NaN, grad: theta.map(() => NaN), derivations: [], pending: 0 };
  function update() {
    state.cost = M.cost(theta, X, Y);
    state.grad = M.gradient(theta, X, Y);
    sliders.forEach(([input, out], j) => { input.value = theta[j]; out.textContent = fmt(theta[j], 6); });
    $("cost").textContent = fmt(state.cost, 10);
    $("grad").textContent = "[" + state.grad.map((v) => fmt(v, 6)).join(", ") + "]";
    $("gap").textContent = opt ? fmt(state.cost - opt.cost, 6) : "no finite optimum";
    // the figures are redrawn once per animation frame, however often theta moves in between
    if (!state.pending) state.pending = requestAnimationFrame(render);
  }
  function render() {
    state.pending = 0;
    drawData(); drawNormal(); drawContour(); drawSlice(); updateTables(); drawRun();
  }

  function init() {
    $("summary").textContent = D.summary;
    if (n === 2) {
      $("data-note").textContent = "Filled: y = 1; open: y = 0. Curve: h = σ(θ0 + θ1 x); black: the "
        + "boundary x = −θ0/θ1, where h = 1/2; dashed orange: the curve at θ*.";
    }
    $("opt-cost").textContent = opt ? fmt(opt.cost, 10) : "none (the data are separable)";
    $("opt-theta").textContent = opt ? "[" + opt.theta.map((v) => fmt(v, 6)).join(", ") + "]" : "none";
    buildSliders();
    contourEvents();
    buildTables();
    const sk = $("slice-param");
    D.names.forEach((name, j) => {
      const o = document.createElement("option"); o.value = j; o.textContent = pname(j);
      sk.appendChild(o);
    });
    sk.value = sliceK;
    sk.addEventListener("change", () => { sliceK = Number(sk.value); drawSlice(); });
    $("lr").value = D.lr.small;
    for (const [id, v] of [["lr-small", D.lr.small], ["lr-big", D.lr.diverging]]) {
      $(id).textContent = `${id === "lr-small" ? "safe" : "too large"}: ${fmt(v, 3)}`;
      $(id).addEventListener("click", () => { $("lr").value = v; resetRun(); });
    }
    $("play").addEventListener("click", play);
    $("pause").addEventListener("click", pause);
    $("step").addEventListener("click", () => { pause(); stepRun(); });
    $("reset").addEventListener("click", resetRun);
    for (const id of ["optimizer", "start"]) $(id).addEventListener("change", resetRun);
    $("to-opt").disabled = !opt;
    $("to-opt").addEventListener("click", () => opt && setTheta(opt.theta));
    fromHash();
    update();
    render();
  }
  // A state in the address: #theta=v0,v1,v2&optimizer=adam&lr=0.01&steps=100 sets theta, then
  // plays that many descent steps at once (the figures in the documentation are made this way).
  function fromHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    const t = (h.get("theta") || "").split(",").map(Number);
    if (t.length === n && t.every(Number.isFinite)) for (let j = 0; j < n; j++) theta[j] = t[j];
    if (["gd", "momentum", "adam"].includes(h.get("optimizer"))) $("optimizer").value = h.get("optimizer");
    if (Number(h.get("lr")) > 0) $("lr").value = Number(h.get("lr"));
    const steps = Math.min(Number(h.get("steps")) || 0, 10000);
    if (steps > 0) {
      $("start").value = "current";
      $("iters").value = Math.max(steps, Number($("iters").value));
      resetRun();
      for (let k = 0; k < steps; k++) stepRun();
    }
  }
  init();
  // For tests and the curious: the page's own functions and state.
  window.logitfit = { math: M, X, y: Y, theta, state, run, setTheta, play, pause, step: stepRun,
    reset: resetRun, update, render, data: D,
    draw: { data: drawData, normal: drawNormal, contour: drawContour, slice: drawSlice,
      tables: updateTables, run: drawRun } };
})();
