// The gradient-decay widget on the static site (course_lib.site_widget): the same plot as the notebook's
// Python widget, redrawn in the browser from curves measured at build time (gradient_grid.js). Clipping is
// computed here from the unclipped curve, exactly as course_lib.site_widget.clipped does in Python.
(function () {
  "use strict";
  const GRID = window.COURSE_GRADIENT_GRID;
  const COLORS = { measured: "#1f77b4", reference: "#ff7f0e", bound: "rgba(0,0,0,0.35)", horizon: "rgba(214,39,40,0.7)",
                   sv: ["#1f77b4", "#ff7f0e", "#2ca02c"] };

  function clipped(norms, clip) {               // norms: linear values by distance k
    if (clip === null) return norms.slice();
    const out = new Array(norms.length);
    let a = 1.0;
    for (let k = 0; k < norms.length; k++) {
      let n = a * norms[k];
      if (n > clip) { a *= clip / n; n = clip; }
      out[k] = n;
    }
    return out;
  }

  function horizon(norms) {
    for (let k = 0; k < norms.length; k++) if (norms[k] < 1e-3 * norms[0]) return k;
    return null;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text) e.textContent = text;
    return e;
  }

  function control(box, label, input, show) {
    const row = el("label", { class: "cgw-row" });
    row.appendChild(el("span", { class: "cgw-label" }, label));
    row.appendChild(input);
    const value = el("output", { class: "cgw-value" });
    row.appendChild(value);
    box.appendChild(row);
    return (v) => { value.textContent = show(v); };
  }

  function select(options, value) {
    const s = el("select");
    options.forEach((o) => { const opt = el("option", { value: o }, o); if (String(o) === String(value)) opt.selected = true; s.appendChild(opt); });
    return s;
  }

  function range(min, max, step, value) {
    return el("input", { type: "range", min: min, max: max, step: step, value: value });
  }

  // a log-scale panel: x from 0 to xmax, y from 10^ylo to 10^yhi
  function panel(ctx, box, xmax, ylo, yhi, title, xlabel, ylabel) {
    const [x0, y0, w, h] = box;
    ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.strokeRect(x0, y0, w, h);
    ctx.fillStyle = "#222"; ctx.font = "12px sans-serif"; ctx.textAlign = "center";
    ctx.fillText(title, x0 + w / 2, y0 - 8);
    ctx.fillText(xlabel, x0 + w / 2, y0 + h + 30);
    ctx.save(); ctx.translate(x0 - 44, y0 + h / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(ylabel, 0, 0); ctx.restore();
    ctx.font = "10px sans-serif";
    const X = (x) => x0 + (x / xmax) * w;
    const Y = (lg) => y0 + h - ((Math.min(Math.max(lg, ylo), yhi) - ylo) / (yhi - ylo)) * h;
    const ystep = (yhi - ylo) > 12 ? 4 : 1;
    ctx.textAlign = "right";
    for (let e = Math.ceil(ylo); e <= yhi; e += ystep) {
      ctx.fillText("1e" + e, x0 - 4, Y(e) + 3);
      ctx.strokeStyle = "#eee"; ctx.beginPath(); ctx.moveTo(x0 + 1, Y(e)); ctx.lineTo(x0 + w - 1, Y(e)); ctx.stroke();
    }
    ctx.textAlign = "center";
    const xstep = xmax > 60 ? 20 : 10;
    for (let x = 0; x <= xmax; x += xstep) ctx.fillText(String(x), X(x), y0 + h + 14);
    return { X, Y };
  }

  function line(ctx, pts, color, width, dash) {
    ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = width; ctx.setLineDash(dash || []);
    ctx.beginPath(); let started = false;
    pts.forEach(([x, y]) => { if (y === null || !isFinite(y)) { started = false; return; }
      if (!started) { ctx.moveTo(x, y); started = true; } else ctx.lineTo(x, y); });
    ctx.stroke(); ctx.restore();
  }

  function legend(ctx, x, y, items) {
    ctx.font = "11px sans-serif"; ctx.textAlign = "left";
    items.forEach(([label, color, dash], i) => {
      line(ctx, [[x, y + i * 15], [x + 22, y + i * 15]], color, 2, dash);
      ctx.fillStyle = "#222"; ctx.fillText(label, x + 27, y + i * 15 + 4);
    });
  }

  function build(root) {
    if (!GRID) { root.textContent = "The widget's data (gradient_grid.js) did not load."; return; }
    root.innerHTML = "";
    const d = root.dataset;
    const state = { cell: d.cell || "rnn", activation: d.activation || "tanh", rho: parseFloat(d.rho || "1"),
                    init: d.init || "orthogonal", T: parseInt(d.t || "100", 10), bias: parseFloat(d.memory_bias || "0"),
                    clipExp: 6 };
    const controls = el("div", { class: "cgw-controls" });
    const readout = el("div", { class: "cgw-readout", "aria-live": "polite" });
    const canvas = el("canvas", { class: "cgw-canvas", role: "img" });
    const top = el("div", { class: "cgw-top" });
    top.appendChild(controls); top.appendChild(readout);
    root.appendChild(top); root.appendChild(canvas);

    const cell = select(["rnn", "lstm", "gru"], state.cell);
    const act = select(GRID.activations, state.activation);
    const rho = range(0, GRID.rnn_rhos.length - 1, 1, 0);
    const init = select(GRID.inits, state.init);
    const T = select(GRID.lengths, state.T);
    const bias = range(0, GRID.biases.length - 1, 1, Math.max(0, GRID.biases.indexOf(state.bias)));
    const clip = range(-2, 6, 0.25, 6);
    const showCell = control(controls, "cell", cell, () => "");
    const showAct = control(controls, "activation (RNN)", act, () => "");
    const showRho = control(controls, "spectral radius ρ", rho, (v) => v.toFixed(2));
    control(controls, "initialisation", init, () => "");
    control(controls, "sequence length T", T, () => "");
    const showBias = control(controls, "gate bias (f / z)", bias, (v) => (v === null ? "n/a (RNN)" : String(v)));
    const showClip = control(controls, "clip", clip, (v) => (v === null ? "off" : v.toPrecision(3)));
    [cell, act, rho, init, T, bias, clip].forEach((c) => c.addEventListener("input", redraw));
    [cell, act, init, T].forEach((c) => c.addEventListener("change", redraw));

    function rhos() { return cell.value === "rnn" ? GRID.rnn_rhos : GRID.gated_rhos; }
    function setRhoSlider(value) {
      const list = rhos();
      let best = 0;
      list.forEach((r, i) => { if (Math.abs(r - value) < Math.abs(list[best] - value)) best = i; });
      rho.max = list.length - 1; rho.value = best;
    }
    setRhoSlider(state.rho);
    let lastCell = cell.value;

    function current() {
      if (cell.value !== lastCell) { setRhoSlider(rhos()[parseInt(rho.value, 10)] || 1); lastCell = cell.value; }
      const gated = cell.value !== "rnn";
      const r = rhos()[parseInt(rho.value, 10)];
      const b = gated ? GRID.biases[parseInt(bias.value, 10)] : null;
      const c = parseFloat(clip.value) >= 6 ? null : Math.pow(10, parseFloat(clip.value));
      act.disabled = gated; bias.disabled = !gated;
      const key = [cell.value, gated ? "-" : act.value, String(r), init.value, T.value, gated ? String(b) : "-"].join("|");
      return { key, cell: cell.value, activation: act.value, rho: r, init: init.value, T: parseInt(T.value, 10),
               memory_bias: b, clip: c };
    }

    function redraw() {
      const s = current();
      showRho(s.rho); showBias(s.memory_bias); showClip(s.clip); showCell(); showAct();
      const data = GRID.curves[s.key];
      if (!data) { readout.textContent = "no data for " + s.key; return; }
      const unclipped = data.g.map((lg) => (lg === null ? 0 : Math.pow(10, lg)));
      const norms = clipped(unclipped, s.clip);
      const hz = horizon(norms);
      const width = Math.min(root.clientWidth || 680, 760), height = Math.round(width * 0.42);
      const dpr = window.devicePixelRatio || 1;
      canvas.width = width * dpr; canvas.height = height * dpr;
      canvas.style.width = width + "px"; canvas.style.height = height + "px";
      const ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = "white"; ctx.fillRect(0, 0, width, height);
      const left = [58, 28, width * 0.55 - 58, height - 75];
      const right = [width * 0.55 + 58, 28, width * 0.45 - 70, height - 75];
      const floor = -12;
      const A = panel(ctx, left, s.T - 1, -12, 12, "gradient through time (red: 1e-3 and the horizon)",
                      "distance k = T − t (steps back)", "gradient norm");
      ctx.strokeStyle = COLORS.horizon; ctx.lineWidth = 0.8;
      ctx.beginPath(); ctx.moveTo(left[0], A.Y(-3)); ctx.lineTo(left[0] + left[2], A.Y(-3)); ctx.stroke();
      if (data.b) line(ctx, data.b.map((lg, k) => [A.X(k), lg === null ? A.Y(12) : A.Y(Math.max(lg, floor))]), COLORS.bound, 3);
      line(ctx, norms.map((n, k) => [A.X(k), A.Y(k * Math.log10(s.rho) > floor ? k * Math.log10(s.rho) : floor)]),
           COLORS.reference, 1.5, [6, 4]);
      line(ctx, norms.map((n, k) => [A.X(k), A.Y(n > 0 ? Math.max(Math.log10(n), floor) : floor)]), COLORS.measured, 2);
      if (hz !== null) { ctx.strokeStyle = COLORS.horizon; ctx.beginPath(); ctx.moveTo(A.X(hz), left[1]);
        ctx.lineTo(A.X(hz), left[1] + left[3]); ctx.stroke(); }
      legend(ctx, left[0] + 8, left[1] + left[3] - 8 - 15 * (data.b ? 2 : 1),
             [["measured ‖∂L_T / ∂h_(T−k)‖", COLORS.measured], ["reference ρ^k", COLORS.reference, [6, 4]]]
               .concat(data.b ? [["bound Π γ_i ‖W_hh‖₂ (RNN)", COLORS.bound]] : []));
      const B = panel(ctx, right, s.T - 1, -5, 2, "one-step Jacobians ∂h_t / ∂h_(t−1)", "time step t", "singular values");
      ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(right[0], B.Y(0)); ctx.lineTo(right[0] + right[2], B.Y(0)); ctx.stroke();
      ["largest", "median", "smallest"].forEach((name, j) => {
        const pts = data.sv.map((row) => [B.X(row[0]), row[j + 1] === null ? null : B.Y(row[j + 1])]);
        line(ctx, pts, COLORS.sv[j], 1.5);
        pts.forEach(([x, y]) => { if (y !== null) { ctx.fillStyle = COLORS.sv[j]; ctx.beginPath(); ctx.arc(x, y, 2.2, 0, 7); ctx.fill(); } });
      });
      legend(ctx, right[0] + right[2] - 95, right[1] + right[3] - 38, [["largest", COLORS.sv[0]], ["median", COLORS.sv[1]], ["smallest", COLORS.sv[2]]]);
      canvas.setAttribute("aria-label", "gradient norm against distance for " + s.key + (s.clip ? ", clip " + s.clip : ""));
      const fmt = (x) => x.toExponential(2);
      readout.innerHTML = "<b>information horizon: " + (hz === null ? "more than " + s.T + " steps" : hz + " steps") +
        "</b><br>(steps until the gradient is below 1e-3 of its start)<br>gradient after 10 steps: " +
        fmt(norms[Math.min(10, norms.length - 1)]) + "<br>after " + (s.T - 1) + " steps: " + fmt(norms[norms.length - 1]) +
        "<br>clipping: " + (s.clip === null ? "off" : s.clip.toPrecision(3));
      root.lastDrawn = { settings: s, norms: norms, horizon: hz };    // read by the browser test
    }
    root.redraw = redraw;
    redraw();
    window.addEventListener("resize", redraw);
  }

  function start() { document.querySelectorAll(".course-gradient-widget").forEach(build); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
