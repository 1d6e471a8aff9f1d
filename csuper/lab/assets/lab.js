/* csuper lab: the page's own JavaScript (no libraries, no network).
 *
 * It reads the payload that csuper.lab.render_page embedded in <script id="lab-data">, draws the
 * three views as SVG sized to their container (1 SVG unit = 1 CSS pixel, so text stays readable
 * on a phone), and redraws when a slider moves or the window is resized. The closed forms of the
 * second view mirror csuper/lab/interference.py; the browser tests compare the two.
 */
(function () {
  "use strict";

  const DATA = JSON.parse(document.getElementById("lab-data").textContent);
  const $ = (id) => document.getElementById(id);
  // the SVG namespace, read from an SVG element the HTML parser created
  const SVGNS = $("v1-corr").namespaceURI;

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, parent, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /* x with d decimals; "n/a" for null or NaN; never "-0.000" */
  function fmt(x, d) {
    if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
    const s = x.toFixed(d);
    return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  }

  function hexRgb(c) {
    return [1, 3, 5].map((j) => parseInt(c.slice(j, j + 2), 16));
  }

  /* a colour ramp through [t, "#rrggbb"] stops, t in [0, 1] */
  function ramp(stops) {
    const pts = stops.map(([t, c]) => [t, hexRgb(c)]);
    return function (t) {
      t = Math.max(0, Math.min(1, t));
      let i = 1;
      while (i < pts.length - 1 && t > pts[i][0]) i++;
      const [t0, c0] = pts[i - 1];
      const [t1, c1] = pts[i];
      const u = (t - t0) / (t1 - t0);
      return "rgb(" + c0.map((v, j) => Math.round(v + u * (c1[j] - v))).join(",") + ")";
    };
  }

  const DIVERGING = ramp([[0, "#2166ac"], [0.25, "#67a9cf"], [0.5, "#f7f7f7"],
    [0.75, "#ef8a62"], [1, "#b2182b"]]);
  const VIRIDIS = ramp([[0, "#440154"], [0.25, "#3b528b"], [0.5, "#21918c"],
    [0.75, "#5ec962"], [1, "#fde725"]]);
  const SHADE = ramp([[0, "#f4f5fa"], [1, "#aab4e3"]]);
  const COLORS = { accent: "#3f51b5", poly: "#d9622b", mono: "#2b7bb9", dead: "#9aa1ad",
    free: "#2e8b57", grey: "#8a93a3" };

  /* feature i of n, most important (i = 0) darkest */
  function featureColor(i, n) {
    return VIRIDIS(n > 1 ? 0.82 * i / (n - 1) : 0);
  }

  /* drawing width in CSS pixels of an SVG's figure, clamped */
  function widthOf(svg, lo, hi) {
    const w = svg.parentNode.getBoundingClientRect().width || hi;
    return Math.max(lo, Math.min(hi, Math.floor(w)));
  }

  function setBox(svg, w, h) {
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
  }

  function arrow(parent, x0, y0, x1, y1, color, attrs) {
    const g = el("g", attrs || {}, parent);
    el("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: color, "stroke-width": 2.5,
      "stroke-linecap": "round" }, g);
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (len > 4) {
      const ux = (x1 - x0) / len, uy = (y1 - y0) / len, s = Math.min(10, 0.4 * len);
      const pts = [[x1, y1], [x1 - s * ux + 0.5 * s * uy, y1 - s * uy - 0.5 * s * ux],
        [x1 - s * ux - 0.5 * s * uy, y1 - s * uy + 0.5 * s * ux]];
      el("polygon", { points: pts.map((p) => p.join(",")).join(" "), fill: color }, g);
    }
    return g;
  }

  /* a colour bar from -vmax to vmax under a heat map */
  function colorBar(svg, x, y, w, vmax, label) {
    const steps = 48;
    for (let j = 0; j < steps; j++) {
      el("rect", { x: x + (j * w) / steps, y: y, width: w / steps + 0.5, height: 9,
        fill: DIVERGING(j / (steps - 1)) }, svg);
    }
    el("rect", { x: x, y: y, width: w, height: 9, fill: "none", stroke: "#b9bfca" }, svg);
    [[-vmax, "start", x], [0, "middle", x + w / 2], [vmax, "end", x + w]].forEach(([v, a, xx]) =>
      el("text", { x: xx, y: y + 22, "text-anchor": a, class: "tick" }, svg, fmt(v, v ? 1 : 0)));
    el("text", { x: x + w / 2, y: y + 36, "text-anchor": "middle", class: "title" }, svg, label);
  }

  /* the slider's value as an index */
  function intValue(input) {
    return parseInt(input.value, 10);
  }

  function onInput(input, fn) {
    input.addEventListener("input", fn);
    input.addEventListener("change", fn);
  }

  // ------------------------------------------------------------------ view 1: neurons
  const NEU = DATA.neurons;

  function heatmap(svg, M, opts) {
    clear(svg);
    const m = M.length, n = M[0].length;
    const W = widthOf(svg, 280, 560);
    const compact = W < 430;
    const L = compact ? 30 : 70, R = compact ? 44 : 66, T = 22;
    const cw = (W - L - R) / n, ch = Math.min(38, Math.max(26, cw * 0.85));
    const H = T + m * ch + 74;
    setBox(svg, W, H);
    const showText = cw >= 30;
    for (let i = 0; i < n; i++) {
      el("text", { x: L + (i + 0.5) * cw, y: T - 7, "text-anchor": "middle", class: "tick" },
        svg, (compact ? "" : "x") + (i + 1));
    }
    for (let k = 0; k < m; k++) {
      const y = T + k * ch;
      el("text", { x: L - 6, y: y + ch / 2 + 4, "text-anchor": "end", class: "tick" }, svg,
        (compact ? "n" : "neuron ") + (k + 1));
      for (let i = 0; i < n; i++) {
        const v = M[k][i];
        const x = L + i * cw;
        const rect = el("rect", { x: x + 0.5, y: y + 0.5, width: cw - 1, height: ch - 1,
          fill: v === null ? "#e3e6eb" : DIVERGING(0.5 + 0.5 * v / opts.vmax),
          class: "cell", "data-neuron": k, "data-feature": i,
          "data-value": v === null ? "null" : String(v) }, svg);
        el("title", {}, rect, "neuron " + (k + 1) + ", feature " + (i + 1) + ": " +
          opts.name + " = " + (v === null ? "undefined (constant)" : fmt(v, 3)));
        if (opts.outline && opts.outline(k, i)) {
          el("rect", { x: x + 2, y: y + 2, width: cw - 4, height: ch - 4, fill: "none",
            stroke: "#111", "stroke-width": 2, class: "drive" }, svg);
        }
        if (showText) {
          const dark = v !== null && Math.abs(v) / opts.vmax > 0.62;
          el("text", { x: x + cw / 2, y: y + ch / 2 + 4, "text-anchor": "middle",
            class: "cell-text", style: "fill:" + (dark ? "#fff" : "#1d2330") }, svg,
          v === null ? "\u2013" : fmt(v, 2));
        }
      }
      const badge = opts.badges[k];
      const bx = L + n * cw + 6, bw = R - 10;
      el("rect", { x: bx, y: y + ch / 2 - 9, width: bw, height: 18, rx: 9,
        fill: COLORS[badge.kind], class: "badge", "data-kind": badge.kind }, svg);
      el("text", { x: bx + bw / 2, y: y + ch / 2 + 4, "text-anchor": "middle",
        style: "fill:#fff;font-size:10.5px;font-weight:700" }, svg,
      compact ? badge.short : badge.label);
    }
    // represented features: filled dots under their columns
    const yr = T + m * ch + 11;
    for (let i = 0; i < n; i++) {
      el("circle", { cx: L + (i + 0.5) * cw, cy: yr, r: 4.5,
        fill: opts.represented[i] ? "#1d2330" : "#fff", stroke: "#1d2330",
        class: opts.represented[i] ? "rep yes" : "rep no" }, svg);
    }
    el("text", { x: L - 6, y: yr + 4, "text-anchor": "end", class: "tick" }, svg,
      compact ? "rep" : "represented");
    colorBar(svg, L, yr + 14, n * cw, opts.vmax, opts.legend);
  }

  function neuronBadges(row) {
    return row.features_per_neuron.map((c, k) => {
      if (row.polysemantic[k]) return { kind: "poly", label: "poly \u00b7 " + c, short: "p" + c };
      if (c === 1) return { kind: "mono", label: "mono", short: "m" };
      return { kind: "dead", label: "none", short: "\u2013" };
    });
  }

  function trend(svg, models, sel, pick) {
    clear(svg);
    const W = widthOf(svg, 280, 1100), H = 230;
    const L = 40, R = 16, T = 30, B = 48;
    setBox(svg, W, H);
    const N = models.length, top = NEU.n_features;
    const x = (j) => L + (j * (W - L - R)) / Math.max(1, N - 1);
    const y = (v) => T + (1 - v / top) * (H - T - B);
    for (let v = 0; v <= top; v += 2) {
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }, svg);
      el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, svg, String(v));
    }
    el("line", { x1: L, x2: W - R, y1: y(NEU.n_dims), y2: y(NEU.n_dims), stroke: "#1d2330",
      "stroke-dasharray": "5 4" }, svg);
    el("text", { x: W - R, y: y(NEU.n_dims) - 5, "text-anchor": "end", class: "tick" }, svg,
      "m = " + NEU.n_dims + " neurons");
    el("line", { x1: x(sel), x2: x(sel), y1: T - 6, y2: H - B, stroke: COLORS.accent,
      "stroke-width": 8, opacity: 0.12, class: "selected" }, svg);
    const series = [["n_represented", COLORS.accent, "features represented"],
      ["n_polysemantic", COLORS.poly, "polysemantic neurons"]];
    series.forEach(([key, color, label], s) => {
      el("polyline", { points: models.map((r, j) => x(j) + "," + y(r[key])).join(" "),
        fill: "none", stroke: color, "stroke-width": 2.5 }, svg);
      models.forEach((r, j) => {
        const c = el("circle", { cx: x(j), cy: y(r[key]), r: j === sel ? 6 : 4, fill: color,
          stroke: "#fff", "stroke-width": 1.5, class: "clickable" }, svg);
        el("title", {}, c, label + " at S = " + fmt(r.sparsity, 3) + ": " + r[key]);
        c.addEventListener("click", () => pick(j));
      });
      const lx = L + 8 + s * 170;
      el("line", { x1: lx, x2: lx + 18, y1: 12, y2: 12, stroke: color, "stroke-width": 3 }, svg);
      el("text", { x: lx + 24, y: 16, class: "tick", style: "fill:#1d2330" }, svg, label);
    });
    const every = Math.ceil(N / Math.max(2, Math.floor((W - L - R) / 44)));
    models.forEach((r, j) => {
      if (j % every === 0 || j === N - 1) {
        el("text", { x: x(j), y: H - B + 16, "text-anchor": "middle", class: "tick" }, svg,
          fmt(r.sparsity, r.sparsity >= 0.99 ? 3 : 2));
      }
    });
    el("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", class: "title" }, svg,
      "sparsity S (grid points; sparser to the right)");
  }

  function initNeurons() {
    const models = NEU.models;
    const slider = $("v1-sparsity");
    slider.min = 0;
    slider.max = models.length - 1;
    slider.value = 0;
    $("v1-n").textContent = NEU.n_features;
    $("v1-m").textContent = NEU.n_dims;
    $("v1-ratio").textContent = NEU.importance_ratio;
    document.querySelectorAll(".v1-threshold").forEach((e) => {
      e.textContent = NEU.represented_threshold;
    });
    function draw() {
      const j = intValue(slider);
      const r = models[j];
      $("v1-s-out").textContent = "S = " + fmt(r.sparsity, 3) + "  (p = " +
        fmt(r.feature_probability, 3) + ")";
      $("v1-represented").textContent = r.n_represented + " of " + NEU.n_features;
      $("v1-polysemantic").textContent = r.n_polysemantic + " of " + NEU.n_dims;
      const regime = $("v1-regime");
      regime.textContent = r.regime;
      regime.className = "v regime-" + r.regime;
      $("v1-regime-text").textContent = NEU.regimes[r.regime] + ".";
      const badges = neuronBadges(r);
      // colour scale of the weights: this model's largest |W[k, i]|, at least 1
      let vmaxW = 1;
      r.W.forEach((row) => row.forEach((v) => {
        vmaxW = Math.max(vmaxW, Math.abs(v));
      }));
      vmaxW = Math.ceil(vmaxW * 2) / 2;
      heatmap($("v1-corr"), r.correlation, { vmax: 1, name: "r", badges: badges,
        represented: r.represented, legend: "Pearson r over " + r.n_samples + " samples" });
      heatmap($("v1-weights"), r.W, { vmax: vmaxW, name: "W", badges: badges,
        represented: r.represented, legend: "weight (outlined: above " +
          NEU.represented_threshold + ")",
        outline: (k, i) => r.W[k][i] > NEU.represented_threshold });
      trend($("v1-trend"), models, j, (q) => {
        slider.value = q;
        draw();
      });
    }
    onInput(slider, draw);
    return draw;
  }

  // ------------------------------------------------------------------ view 2: interference
  /* E[ReLU(c u + b)^2], u ~ U[0, 1]: Simpson's rule on the interval where c u + b > 0 (exact) */
  function expectedReluCost(c, b) {
    let lo, hi;
    if (c === 0) {
      lo = 0;
      hi = b > 0 ? 1 : 0;
    } else {
      const root = -b / c;
      if (c > 0) {
        lo = Math.max(0, root);
        hi = 1;
      } else {
        lo = 0;
        hi = Math.min(1, root);
      }
    }
    if (hi <= lo) return 0;
    const zl = Math.max(c * lo + b, 0), zh = Math.max(c * hi + b, 0);
    return ((hi - lo) * (zl * zl + zl * zh + zh * zh)) / 3;
  }

  /* mirrors csuper.lab.two_feature_interference */
  function interference(angleDeg, b) {
    const c = Math.cos((angleDeg * Math.PI) / 180);
    const z = c + b, a = Math.max(z, 0);
    return { overlap: c, squared: c * c, pre: z, spurious: a, reluError: a * a,
      linearError: z * z, filtered: Math.min(z, 0) ** 2,
      expRelu: expectedReluCost(Math.max(-1, Math.min(1, c)), b),
      expLinear: (c * c) / 3 + c * b + b * b };
  }

  function drawVectors(svg, theta, q) {
    clear(svg);
    // theta is in [0, 180]: w2 lives in the upper half-plane
    const W = widthOf(svg, 260, 420), r = Math.min(W * 0.38, 150), H = r + 80;
    setBox(svg, W, H);
    const cx = W / 2, cy = r + 34;
    el("path", { d: "M " + (cx - r) + " " + cy + " A " + r + " " + r + " 0 0 1 " + (cx + r) +
      " " + cy, fill: "none", stroke: "#cfd4dd", "stroke-dasharray": "3 4" }, svg);
    el("line", { x1: cx - r - 14, x2: cx + r + 14, y1: cy, y2: cy, class: "axis" }, svg);
    const t = (theta * Math.PI) / 180;
    const px = cx + r * Math.cos(t), py = cy - r * Math.sin(t);
    // the overlap: projection of w2 on w1
    const ox = cx + r * q.overlap;
    el("line", { x1: px, y1: py, x2: ox, y2: cy, stroke: "#6b7385",
      "stroke-dasharray": "4 3" }, svg);
    const positive = q.overlap > 0;
    el("line", { x1: cx, y1: cy + 8, x2: ox, y2: cy + 8,
      stroke: positive ? COLORS.poly : COLORS.free, "stroke-width": 6, opacity: 0.85,
      class: "overlap" }, svg);
    el("text", { x: (cx + ox) / 2, y: cy + 28, "text-anchor": "middle", class: "tick",
      style: "font-weight:700;fill:" + (positive ? COLORS.poly : COLORS.free) }, svg,
    "overlap " + fmt(q.overlap, 2));
    // angle arc
    const ar = 30;
    const large = theta > 180 ? 1 : 0;
    el("path", { d: "M " + (cx + ar) + " " + cy + " A " + ar + " " + ar + " 0 " + large +
      " 0 " + (cx + ar * Math.cos(t)) + " " + (cy - ar * Math.sin(t)), fill: "none",
    stroke: "#1d2330" }, svg);
    el("text", { x: cx + (ar + 14) * Math.cos(t / 2), y: cy - (ar + 14) * Math.sin(t / 2) + 4,
      "text-anchor": "middle", class: "tick", style: "fill:#1d2330" }, svg,
    "\u03b8 = " + theta + "\u00b0");
    arrow(svg, cx, cy, cx + r, cy, COLORS.accent, { class: "feature" });
    el("text", { x: cx + r + 4, y: cy - 8, class: "tick", style: "font-weight:700;fill:" +
      COLORS.accent }, svg, "w\u2081");
    arrow(svg, cx, cy, px, py, COLORS.poly, { class: "feature" });
    el("text", { x: cx + (r + 16) * Math.cos(t), y: cy - (r + 16) * Math.sin(t) + 4,
      "text-anchor": "middle", class: "tick", style: "font-weight:700;fill:" + COLORS.poly },
    svg, "w\u2082");
  }

  function drawRelu(svg, q) {
    clear(svg);
    const W = widthOf(svg, 260, 420), H = 250;
    setBox(svg, W, H);
    const L = 40, R = 14, T = 16, B = 44, zmax = 2;
    const x = (z) => L + ((z + zmax) / (2 * zmax)) * (W - L - R);
    const y = (v) => T + (1 - (v + zmax * 0.5) / (zmax * 1.5)) * (H - T - B);
    el("rect", { x: x(-zmax), y: T, width: x(0) - x(-zmax), height: H - T - B,
      fill: COLORS.free, opacity: 0.08 }, svg);
    el("text", { x: (x(-zmax) + x(0)) / 2, y: T + 14, "text-anchor": "middle", class: "tick",
      style: "fill:" + COLORS.free }, svg, "ReLU outputs 0: free");
    for (let v = -1; v <= 2; v++) {
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }, svg);
      el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, svg, String(v));
    }
    for (let z = -2; z <= 2; z++) {
      el("text", { x: x(z), y: H - B + 16, "text-anchor": "middle", class: "tick" }, svg,
        String(z));
    }
    el("line", { x1: x(-zmax), y1: y(-1), x2: x(1), y2: y(1), stroke: COLORS.grey,
      "stroke-dasharray": "5 4" }, svg);
    el("text", { x: x(-1.55), y: y(-0.85), class: "tick" }, svg, "linear");
    el("polyline", { points: [x(-zmax) + "," + y(0), x(0) + "," + y(0), x(zmax * 0.75) + "," +
      y(zmax * 0.75)].join(" "), fill: "none", stroke: "#1d2330", "stroke-width": 2.5 }, svg);
    el("text", { x: x(1.05), y: y(1.35), class: "tick", style: "fill:#1d2330" }, svg, "ReLU");
    const z = Math.max(-zmax, Math.min(zmax * 0.75, q.pre));
    el("line", { x1: x(z), x2: x(z), y1: y(0), y2: y(Math.max(z, 0)), stroke: COLORS.poly,
      "stroke-width": 4 }, svg);
    if (q.pre < 0) {
      el("circle", { cx: x(z), cy: y(z), r: 5, fill: "#fff", stroke: COLORS.grey,
        "stroke-width": 2 }, svg);
    }
    el("circle", { cx: x(z), cy: y(Math.max(z, 0)), r: 6, fill: COLORS.poly, class: "readout" },
      svg);
    el("text", { x: (L + W - R) / 2, y: H - 10, "text-anchor": "middle", class: "title" }, svg,
      "read-out before the ReLU: cos \u03b8 + b = " + fmt(q.pre, 3));
    el("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle", class: "title",
      transform: "rotate(-90 12 " + (T + H - B) / 2 + ")" }, svg, "output x\u0302\u2081");
  }

  function drawCurve(svg, theta, b) {
    clear(svg);
    const W = widthOf(svg, 260, 420), H = 250;
    setBox(svg, W, H);
    const L = 44, R = 14, T = 28, B = 44;
    const ymax = Math.max(0.25, (1 + Math.abs(b)) ** 2);
    const x = (a) => L + (a / 180) * (W - L - R);
    const y = (v) => T + (1 - v / ymax) * (H - T - B);
    const lin = [], rel = [];
    for (let a = 0; a <= 180; a += 2) {
      const q = interference(a, b);
      lin.push([x(a), y(q.linearError)]);
      rel.push([x(a), y(q.reluError)]);
    }
    el("polygon", { points: lin.concat(rel.slice().reverse()).map((p) => p.join(",")).join(" "),
      fill: COLORS.free, opacity: 0.16 }, svg);
    for (let k = 0; k <= 4; k++) {
      const v = (k * ymax) / 4;
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }, svg);
      el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, svg,
        fmt(v, 2));
    }
    for (let a = 0; a <= 180; a += 45) {
      el("text", { x: x(a), y: H - B + 16, "text-anchor": "middle", class: "tick" }, svg,
        a + "\u00b0");
    }
    el("polyline", { points: lin.map((p) => p.join(",")).join(" "), fill: "none",
      stroke: COLORS.grey, "stroke-width": 2, "stroke-dasharray": "5 4" }, svg);
    el("polyline", { points: rel.map((p) => p.join(",")).join(" "), fill: "none",
      stroke: COLORS.poly, "stroke-width": 2.5 }, svg);
    const q = interference(theta, b);
    el("line", { x1: x(theta), x2: x(theta), y1: T, y2: H - B, stroke: COLORS.accent,
      opacity: 0.5 }, svg);
    el("circle", { cx: x(theta), cy: y(q.linearError), r: 4.5, fill: "#fff",
      stroke: COLORS.grey, "stroke-width": 2 }, svg);
    el("circle", { cx: x(theta), cy: y(q.reluError), r: 5, fill: COLORS.poly }, svg);
    const legend = [[COLORS.grey, "linear (cos \u03b8 + b)\u00b2", "5 4"],
      [COLORS.poly, "ReLU(cos \u03b8 + b)\u00b2", ""]];
    legend.forEach(([c, label, dash], k) => {
      const lx = L + 6 + k * Math.min(170, (W - L) / 2);
      el("line", { x1: lx, x2: lx + 18, y1: 12, y2: 12, stroke: c, "stroke-width": 2.5,
        "stroke-dasharray": dash }, svg);
      el("text", { x: lx + 22, y: 16, class: "tick", style: "fill:#1d2330" }, svg, label);
    });
    el("text", { x: (L + W - R) / 2, y: H - 10, "text-anchor": "middle", class: "title" }, svg,
      "angle \u03b8 (green: filtered by the ReLU for free)");
  }

  function initInterference() {
    const cfg = DATA.interference;
    const angle = $("v2-angle"), bias = $("v2-bias");
    angle.value = cfg.angle_deg;
    bias.min = cfg.bias_range[0];
    bias.max = cfg.bias_range[1];
    bias.value = cfg.bias;
    function draw() {
      const theta = intValue(angle), b = parseFloat(bias.value);
      const q = interference(theta, b);
      $("v2-angle-out").textContent = theta + "\u00b0";
      $("v2-bias-out").textContent = "b = " + fmt(b, 2);
      $("v2-overlap").textContent = fmt(q.overlap, 3);
      $("v2-squared").textContent = fmt(q.squared, 3);
      $("v2-pre").textContent = fmt(q.pre, 3);
      $("v2-spurious").textContent = fmt(q.spurious, 3);
      $("v2-relu-error").textContent = fmt(q.reluError, 3);
      $("v2-linear-error").textContent = fmt(q.linearError, 3);
      $("v2-filtered").textContent = fmt(q.filtered, 3);
      $("v2-exp-relu").textContent = fmt(q.expRelu, 4);
      $("v2-exp-linear").textContent = fmt(q.expLinear, 4);
      drawVectors($("v2-vectors"), theta, q);
      drawRelu($("v2-relu"), q);
      drawCurve($("v2-curve"), theta, b);
    }
    onInput(angle, draw);
    onInput(bias, draw);
    return draw;
  }

  // ------------------------------------------------------------------ view 3: packing
  const PACK = DATA.packing;

  const SHORT = { dedicated: "ded", digon: "dig", triangle: "tri", square: "sq",
    pentagon: "pent", hexagon: "hex" };
  const RANK = Object.fromEntries(Object.values(SHORT).map((s, k) => [s, k]));

  /* "2 dig", "dig+ded", "pent": a short name of a model's polytopes for the overview map */
  function shortName(polytopes) {
    const rank = (s) => (s in RANK ? RANK[s] : 99);
    const names = polytopes.map((p) => SHORT[p.name.split(" (")[0]] ||
      p.features.length + "/" + p.n_dims).sort((a, b) => rank(a) - rank(b));
    if (!names.length) return "\u2013";
    if (names.every((s) => s === names[0]) && names.length > 1) return names.length + " " + names[0];
    return names.join("+");
  }

  function describe(p) {
    const f = p.features.map((i) => i + 1);
    const span = f.length > 2 && f.every((v, j) => j === 0 || v === f[j - 1] + 1)
      ? f[0] + "\u2013" + f[f.length - 1] : f.join(", ");
    return p.name + " (feature" + (f.length > 1 ? "s " : " ") + span + ", D = " +
      fmt(p.dimensionality, 2) + ")";
  }

  let packScale = 1;

  function drawArrows(svg, g, r) {
    clear(svg);
    const W = widthOf(svg, 260, 380), H = W;
    setBox(svg, W, H);
    const cx = W / 2, cy = H / 2, R = W * 0.4 / packScale;
    el("circle", { cx: cx, cy: cy, r: R, fill: "none", stroke: "#cfd4dd",
      "stroke-dasharray": "3 4" }, svg);
    el("circle", { cx: cx, cy: cy, r: R * PACK.represented_threshold, fill: "none",
      stroke: "#e4e7ee" }, svg);
    el("text", { x: cx + R * 0.71 + 4, y: cy + R * 0.71 + 14, class: "tick" }, svg, "|w| = 1");
    el("line", { x1: cx - R * packScale, x2: cx + R * packScale, y1: cy, y2: cy,
      class: "grid" }, svg);
    el("line", { y1: cy - R * packScale, y2: cy + R * packScale, x1: cx, x2: cx,
      class: "grid" }, svg);
    const n = g.n_features;
    const P = (i) => [cx + R * r.W[0][i], cy - R * r.W[1][i]];
    // polytope outlines (features in angular order)
    r.polytopes.forEach((p) => {
      if (p.features.length < 3) return;
      const pts = p.features.map(P).sort((a, b2) =>
        Math.atan2(cy - a[1], a[0] - cx) - Math.atan2(cy - b2[1], b2[0] - cx));
      el("polygon", { points: pts.map((q) => q.join(",")).join(" "), fill: COLORS.accent,
        "fill-opacity": 0.06, stroke: COLORS.accent, "stroke-opacity": 0.45,
        class: "polytope" }, svg);
    });
    // dropped features first, so represented ones draw on top
    const order = [...Array(n).keys()].sort((a, b2) => r.represented[a] - r.represented[b2]);
    order.forEach((i) => {
      const [x1, y1] = P(i);
      const rep = r.represented[i];
      const a = arrow(svg, cx, cy, x1, y1, featureColor(i, n),
        { class: rep ? "feature represented" : "feature dropped", opacity: rep ? 1 : 0.3,
          "data-feature": i });
      el("title", {}, a, "feature " + (i + 1) + ": |w| = " + fmt(r.feature_norms[i], 3) +
        ", D = " + fmt(r.feature_dimensionality[i], 3));
      const len = Math.hypot(x1 - cx, y1 - cy);
      if (rep && len > 0) {
        el("text", { x: x1 + ((x1 - cx) / len) * 12, y: y1 + ((y1 - cy) / len) * 12 + 4,
          "text-anchor": "middle", class: "tick", style: "font-weight:700;fill:" +
            featureColor(i, n) }, svg, String(i + 1));
      }
    });
  }

  function fractionLines() {
    // sticky fractions of 2-D polytopes, merged when equal ("digon, square" at 1/2)
    const merged = {};
    Object.entries(PACK.fractions).forEach(([name, v]) => {
      const key = v.toFixed(4);
      merged[key] = merged[key] ? merged[key] + ", " + name : name;
    });
    return Object.entries(merged).map(([k, name]) => [parseFloat(k), name]);
  }

  function drawDims(svg, g, r) {
    clear(svg);
    const W = widthOf(svg, 260, 460), H = 260;
    setBox(svg, W, H);
    const L = 36, R = 112, T = 14, B = 40;
    const n = g.n_features, bw = (W - L - R) / n;
    const y = (v) => T + (1 - v / 1.05) * (H - T - B);
    for (let v = 0; v <= 1.0001; v += 0.25) {
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }, svg);
      el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, svg, fmt(v, 2));
    }
    for (let i = 0; i < n; i++) {
      const D = r.feature_dimensionality[i];
      const rep = r.represented[i];
      const b = el("rect", { x: L + i * bw + bw * 0.15, y: y(D), width: bw * 0.7,
        height: y(0) - y(D), fill: featureColor(i, n), opacity: rep ? 1 : 0.3,
        class: "dim", "data-feature": i, "data-value": String(D) }, svg);
      el("title", {}, b, "D" + (i + 1) + " = " + fmt(D, 3));
      el("text", { x: L + (i + 0.5) * bw, y: y(D) - 4, "text-anchor": "middle",
        class: "tick" }, svg, fmt(D, 2));
      el("text", { x: L + (i + 0.5) * bw, y: H - B + 15, "text-anchor": "middle",
        class: "tick" }, svg, String(i + 1));
    }
    fractionLines().forEach(([v, name]) => {
      el("line", { x1: L, x2: W - R + 4, y1: y(v), y2: y(v), stroke: "#1d2330",
        "stroke-dasharray": "4 3", opacity: 0.55 }, svg);
      el("text", { x: W - R + 8, y: y(v) + 4, class: "tick" }, svg,
        name + " " + fmt(v, 2));
    });
    el("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", class: "title" }, svg,
      "feature i (faint: dropped)");
  }

  /* words greedily joined into lines of at most maxChars characters */
  function wrap(words, maxChars) {
    const lines = [""];
    words.forEach((w) => {
      const last = lines[lines.length - 1];
      if (last && last.length + 3 + w.length > maxChars) lines.push(w);
      else lines[lines.length - 1] = last ? last + " \u00b7 " + w : w;
    });
    return lines;
  }

  function drawMap(svg, ni, si, pick) {
    clear(svg);
    const W = widthOf(svg, 280, 1100);
    const S = PACK.sparsities, G = PACK.grid;
    // narrow screens: sparsity down the rows, n across
    const flip = (W - 54) / S.length < 54;
    const nRows = flip ? S.length : G.length, nCols = flip ? G.length : S.length;
    const L = flip ? 48 : 46, R = 8, T = flip ? 22 : 8, ch = 30;
    const cw = (W - L - R) / nCols;
    const legend = wrap(["shade: share of features represented", "ded dedicated", "dig digon",
      "tri triangle", "sq square", "pent pentagon", "hex hexagon",
      "k/d: k features in d dims, not regular"], Math.floor((W - 20) / 6.2));
    const yAxis = T + nRows * ch;
    const H = yAxis + (flip ? 22 : 38) + 15 * legend.length;
    setBox(svg, W, H);
    const small = cw < 52;
    const nLabel = (g) => "n = " + g.n_features;
    const sLabel = (s) => fmt(s, s >= 0.99 ? 3 : 2);
    G.forEach((g, a) => {
      g.models.forEach((r, j) => {
        const [row, col] = flip ? [j, a] : [a, j];
        const xx = L + col * cw, yy = T + row * ch;
        const c = el("rect", { x: xx + 1, y: yy + 1, width: cw - 2, height: ch - 2, rx: 4,
          fill: SHADE(r.n_represented / g.n_features), class: "mapcell clickable",
          "data-n": g.n_features, "data-sparsity": String(r.sparsity),
          stroke: a === ni && j === si ? "#1d2330" : "none", "stroke-width": 2 }, svg);
        el("title", {}, c, "n = " + g.n_features + ", S = " + r.sparsity + ": " +
          r.n_represented + " represented; " +
          (r.polytopes.map((p) => p.name).join(", ") || "none"));
        c.addEventListener("click", () => pick(a, j));
        el("text", { x: xx + cw / 2, y: yy + ch / 2 + 4, "text-anchor": "middle",
          class: "cell-text", style: small ? "font-size:9px" : "" }, svg,
        shortName(r.polytopes));
      });
    });
    const rowNames = flip ? S.map(sLabel) : G.map(nLabel);
    rowNames.forEach((name, row) => el("text", { x: L - 6, y: T + row * ch + ch / 2 + 4,
      "text-anchor": "end", class: "tick" }, svg, name));
    const colNames = flip ? G.map(nLabel) : S.map(sLabel);
    const every = Math.ceil(nCols / Math.max(2, Math.floor((W - L - R) / 40)));
    colNames.forEach((name, col) => {
      if (col % every === 0 || col === nCols - 1) {
        el("text", { x: L + (col + 0.5) * cw, y: flip ? T - 8 : yAxis + 15,
          "text-anchor": "middle", class: "tick" }, svg, name);
      }
    });
    el("text", { x: flip ? 4 : (L + W - R) / 2, y: flip ? T - 8 : yAxis + 30,
      "text-anchor": flip ? "start" : "middle", class: "title" }, svg, flip ? "S" : "sparsity S");
    legend.forEach((line, k) => el("text", { x: (L + W - R) / 2,
      y: yAxis + (flip ? 18 : 34) + 15 * (k + 1) - 4, "text-anchor": "middle", class: "title" },
    svg, line));
  }

  function initPacking() {
    const nSlider = $("v3-n"), sSlider = $("v3-sparsity");
    nSlider.min = PACK.n_features[0];
    nSlider.max = PACK.n_features[PACK.n_features.length - 1];
    nSlider.value = PACK.n_features.includes(5) ? 5 : PACK.n_features[0];
    sSlider.min = 0;
    sSlider.max = PACK.sparsities.length - 1;
    sSlider.value = PACK.sparsities.length - 1;
    $("v3-ratio").textContent = PACK.importance_ratio;
    $("v3-seeds").textContent = PACK.n_seeds;
    document.querySelectorAll(".v3-threshold").forEach((e) => {
      e.textContent = PACK.represented_threshold;
    });
    PACK.grid.forEach((g) => g.models.forEach((r) => r.feature_norms.forEach((v) => {
      packScale = Math.max(packScale, v);
    })));
    function draw() {
      const a = PACK.n_features.indexOf(intValue(nSlider));
      const j = intValue(sSlider);
      const g = PACK.grid[a], r = g.models[j];
      $("v3-n-out").textContent = "n = " + g.n_features;
      $("v3-s-out").textContent = "S = " + fmt(r.sparsity, 3) + "  (p = " +
        fmt(r.feature_probability, 3) + ")";
      $("v3-represented").textContent = r.n_represented + " of " + g.n_features;
      $("v3-polytopes").textContent = r.polytopes.map(describe).join("; ") || "none";
      $("v3-dstar").textContent = fmt(r.dimensions_per_feature, 3);
      drawArrows($("v3-arrows"), g, r);
      drawDims($("v3-dims"), g, r);
      drawMap($("v3-map"), a, j, (a2, j2) => {
        nSlider.value = PACK.n_features[a2];
        sSlider.value = j2;
        draw();
      });
    }
    onInput(nSlider, draw);
    onInput(sSlider, draw);
    return draw;
  }

  // ------------------------------------------------------------------ view 4: an SAE
  const SAE = DATA.sae;

  function drawPlane(svg, r) {
    clear(svg);
    const W = widthOf(svg, 260, 380), H = W;
    setBox(svg, W, H);
    const cx = W / 2, cy = H / 2;
    let top = 1;
    SAE.points[0].forEach((x, j) => { top = Math.max(top, Math.hypot(x, SAE.points[1][j])); });
    const R = (W * 0.42) / top;
    el("circle", { cx: cx, cy: cy, r: R, fill: "none", stroke: "#cfd4dd",
      "stroke-dasharray": "3 4" }, svg);
    el("line", { x1: cx - W * 0.45, x2: cx + W * 0.45, y1: cy, y2: cy, class: "grid" }, svg);
    el("line", { y1: cy - W * 0.45, y2: cy + W * 0.45, x1: cx, x2: cx, class: "grid" }, svg);
    SAE.points[0].forEach((x, j) => el("circle", { cx: cx + R * x, cy: cy - R * SAE.points[1][j],
      r: 2.2, fill: "#6b7385", opacity: 0.5, class: "point" }, svg));
    const n = SAE.n_features;
    for (let i = 0; i < n; i++) {
      const x = SAE.dictionary[0][i], y = SAE.dictionary[1][i];
      arrow(svg, cx, cy, cx + R * x, cy - R * y, featureColor(i, n),
        { class: "truth", opacity: 0.75 });
      el("text", { x: cx + (R + 12) * x, y: cy - (R + 12) * y + 4, "text-anchor": "middle",
        class: "tick", style: "font-weight:700;fill:" + featureColor(i, n) }, svg, String(i + 1));
    }
    const b = r.b_dec;
    if (Math.hypot(b[0], b[1]) > 0.05) {
      const bx = cx + R * b[0], by = cy - R * b[1];
      el("path", { d: "M " + (bx - 5) + " " + (by - 5) + " L " + (bx + 5) + " " + (by + 5) +
        " M " + (bx - 5) + " " + (by + 5) + " L " + (bx + 5) + " " + (by - 5),
      stroke: COLORS.poly, "stroke-width": 2.5, class: "bias" }, svg);
      el("text", { x: bx + 8, y: by - 6, class: "tick", style: "fill:" + COLORS.poly }, svg,
        "decoder bias");
    }
    for (let j = 0; j < r.width; j++) {
      const x = r.W_dec[0][j], y = r.W_dec[1][j];
      arrow(svg, cx, cy, cx + R * 0.92 * x, cy - R * 0.92 * y, "#1d2330",
        { class: "atom", "stroke-dasharray": "1 0" });
    }
  }

  function drawCosines(svg, r) {
    clear(svg);
    const W = widthOf(svg, 260, 520), H = 230;
    setBox(svg, W, H);
    const L = 40, R = 112, T = 14, B = 40, n = SAE.n_features;
    const bw = (W - L - R) / n;
    // from 0 (or the lowest cosine, rounded down to a half) to 1
    const lo = Math.min(0, Math.floor(Math.min(...r.best_cosine) * 2) / 2);
    const y = (v) => T + ((1 - v) / (1 - lo)) * (H - T - B);
    [-1, -0.5, 0, 0.25, 0.5, 0.75, 1].filter((v) => v >= lo).forEach((v) => {
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "grid" }, svg);
      el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, svg, fmt(v, 2));
    });
    for (let i = 0; i < n; i++) {
      const c = r.best_cosine[i];
      const bar = el("rect", { x: L + i * bw + bw * 0.15, y: Math.min(y(c), y(0)),
        width: bw * 0.7, height: Math.abs(y(c) - y(0)), fill: featureColor(i, n),
        class: "cos", "data-feature": i, "data-value": String(c) }, svg);
      el("title", {}, bar, "feature " + (i + 1) + ": best atom " + (r.best_atom[i] + 1) +
        ", cosine " + fmt(c, 3));
      el("text", { x: L + (i + 0.5) * bw, y: y(Math.max(c, 0)) - 4, "text-anchor": "middle",
        class: "tick" }, svg, fmt(c, 2));
      el("text", { x: L + (i + 0.5) * bw, y: H - B + 15, "text-anchor": "middle",
        class: "tick" }, svg, String(i + 1));
    }
    const t = SAE.recovered_threshold;
    el("line", { x1: L, x2: W - R + 4, y1: y(t), y2: y(t), stroke: "#1d2330",
      "stroke-dasharray": "4 3" }, svg);
    el("text", { x: W - R + 8, y: y(t) + 4, class: "tick" }, svg, "recovered > " + t);
    el("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", class: "title" }, svg,
      "true feature i");
  }

  function initSae() {
    const slider = $("v4-width");
    slider.min = 0;
    slider.max = SAE.widths.length - 1;
    slider.value = SAE.widths.indexOf(5) >= 0 ? SAE.widths.indexOf(5) : 0;
    $("v4-s").textContent = SAE.sparsity;
    $("v4-poly").textContent = SAE.polytopes.join(", ") || "no polytope";
    $("v4-steps").textContent = SAE.n_steps;
    $("v4-seeds").textContent = SAE.n_seeds;
    document.querySelectorAll(".v4-threshold").forEach((e) => {
      e.textContent = SAE.recovered_threshold;
    });
    const group = $("v4-arch");
    SAE.architectures.forEach((a, q) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "v4-arch";
      input.value = String(q);
      input.id = "v4-arch-" + a.name;
      input.checked = q === 0;
      label.appendChild(input);
      label.appendChild(document.createTextNode(a.label));
      group.appendChild(label);
      onInput(input, () => draw());
    });
    function draw() {
      const q = parseInt(group.querySelector("input:checked").value, 10);
      const r = SAE.architectures[q].models[intValue(slider)];
      $("v4-width-out").textContent = r.width + " latents";
      $("v4-recovered").textContent = Math.round(r.recovery_rate * SAE.n_features) + " of " +
        SAE.n_features;
      $("v4-mmcs").textContent = fmt(r.mmcs, 3);
      $("v4-dead").textContent = r.dead_latents + " of " + r.width;
      $("v4-l0").textContent = fmt(r.l0, 2);
      $("v4-fvu").textContent = fmt(r.fvu, 3);
      $("v4-seeds-ok").textContent = r.n_seeds_recovering + " of " + SAE.n_seeds;
      drawPlane($("v4-plane"), r);
      drawCosines($("v4-cos"), r);
    }
    onInput(slider, draw);
    return draw;
  }

  // ------------------------------------------------------------------ start
  const cfg = DATA.config;
  $("provenance").textContent = "Built by csuper " + DATA.csuper_version + " (payload " +
    DATA.format + "). View 1: " + NEU.n_steps + " AdamW steps per model, best of " +
    NEU.n_seeds + " seeds; correlations from about " + cfg.correlation_active +
    " firings of each feature (at most " + cfg.correlation_max_samples + " samples). View 3: " +
    PACK.n_steps + " steps, best of " + PACK.n_seeds + " seeds; toy models: learning rate " +
    cfg.lr + " decayed linearly to 0, batch 1024. View 4: " + SAE.n_samples +
    " activations, SAEs trained with Adam (learning rate 0.01, batch 256).";
  const draws = [initNeurons(), initInterference(), initPacking(), initSae()];
  draws.forEach((d) => d());
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => draws.forEach((d) => d()));
  });
  document.body.setAttribute("data-ready", "1");
})();
