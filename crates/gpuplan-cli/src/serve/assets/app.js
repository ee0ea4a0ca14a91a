// gpuplan web UI: a form over POST /api/recommend, the ranked table, the Pareto plot from the
// server, the memory of the chosen configuration (POST /api/memory) and its launch command.
// Inputs live in the query string, so a URL shares a result; `run=1` plans on load.
"use strict";

(function () {
  const FIELDS = ["model", "input_len", "output_len", "concurrency", "max_ttft_ms", "max_itl_ms",
    "gpus", "engine", "objective", "emit"];
  const NUMBER_FIELDS = ["input_len", "output_len", "concurrency", "max_ttft_ms", "max_itl_ms"];
  // Largest config.json the page sends (the server's limit is gpuplan::MAX_INLINE_CONFIG_BYTES).
  const MAX_CONFIG_BYTES = 256 * 1024;
  const MEMORY_PARTS = [
    ["weights_gib_per_gpu", "Weights", "#0072B2"],
    ["kv_cache_gib_per_gpu", "KV cache pool", "#009E73"],
    ["activation_gib_per_gpu", "Activations", "#E69F00"],
    ["cuda_graph_gib_per_gpu", "CUDA graphs", "#CC79A7"],
    ["non_torch_gib_per_gpu", "CUDA context & buffers", "#56B4E9"],
  ];

  const $ = (id) => document.getElementById(id);
  let models = [];
  let lastResult = null;
  let memoryRequest = 0;
  // The inline config of the last plan, sent again for its memory plans.
  let lastConfig = null;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined || !Number.isFinite(value)) return "–";
    return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function compact(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return "–";
    if (Math.abs(value) >= 1e12) return fmt(value / 1e12, 2) + "T";
    if (Math.abs(value) >= 1e9) return fmt(value / 1e9, 1) + "B";
    if (Math.abs(value) >= 1e6) return fmt(value / 1e6, 1) + "M";
    return fmt(value, 0);
  }

  async function getJson(url, options) {
    const response = await fetch(url, options);
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = { error: "the server answered " + response.status + " without JSON", field: null };
    }
    if (!response.ok) {
      const error = new Error(body && body.error ? body.error : "HTTP " + response.status);
      error.field = body ? body.field : null;
      error.suggestions = (body && body.suggestions) || [];
      throw error;
    }
    return body;
  }

  // ---- form <-> query string ------------------------------------------------------------

  function readForm() {
    const values = {};
    for (const name of FIELDS) {
      const value = $(name).value.trim();
      if (value !== "") values[name] = value;
    }
    return values;
  }

  function fillForm(params) {
    for (const name of FIELDS) {
      const value = params.get(name);
      if (value !== null) $(name).value = value;
    }
  }

  function shareUrl(values) {
    const params = new URLSearchParams(values);
    params.set("run", "1");
    return location.origin + location.pathname + "?" + params.toString();
  }

  // The pasted or loaded config.json as an object, null when the box is empty.
  function inlineConfig() {
    const text = $("config").value.trim();
    if (text === "") return null;
    if (text.length > MAX_CONFIG_BYTES) {
      throw Object.assign(new Error("the config is " + text.length + " bytes; at most " + MAX_CONFIG_BYTES + " are accepted"), { field: "config" });
    }
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw Object.assign(new Error("not valid JSON: " + error.message), { field: "config" });
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw Object.assign(new Error("the config must be a JSON object (the contents of config.json)"), { field: "config" });
    }
    return parsed;
  }

  function requestBody(values) {
    const body = { model: values.model || "", top: 10, plot: true };
    const config = inlineConfig();
    if (config) body.config = config;
    for (const name of NUMBER_FIELDS) {
      if (values[name] === undefined) continue;
      const number = Number(values[name]);
      if (!Number.isFinite(number)) throw Object.assign(new Error(name + " must be a number"), { field: name });
      body[name] = number;
    }
    if (values.gpus) body.gpus = values.gpus.split(",").map((g) => g.trim()).filter((g) => g);
    if (values.engine) body.engine = [values.engine];
    if (values.objective) body.objective = values.objective;
    if (values.emit) body.emit = values.emit;
    return body;
  }

  // ---- errors and status ----------------------------------------------------------------

  function clearError() {
    $("error").hidden = true;
    $("error").replaceChildren();
    for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function showError(error) {
    const box = $("error");
    const children = [el("strong", { text: error.field ? error.field + ": " : "Error: " }), error.message];
    if (error.suggestions && error.suggestions.length) {
      const list = el("span", { class: "suggestions" }, [" Did you mean: "]);
      error.suggestions.forEach((suggestion, index) => {
        const value = suggestion.split(" (")[0];
        const link = el("a", { href: "#", text: suggestion });
        link.addEventListener("click", (event) => {
          event.preventDefault();
          const target = error.field === "gpus" ? "gpus" : error.field;
          if (target && $(target)) $(target).value = value;
          plan();
        });
        if (index > 0) list.append(", ");
        list.append(link);
      });
      children.push(list);
    }
    box.replaceChildren(...children);
    box.hidden = false;
    if (error.field && $(error.field)) $(error.field).setAttribute("aria-invalid", "true");
  }

  function setBusy(busy, text) {
    $("run").disabled = busy;
    $("status").textContent = text || "";
    document.body.dataset.state = busy ? "running" : document.body.dataset.state;
  }

  // ---- rendering ------------------------------------------------------------------------

  function describeLoad(load) {
    if (load && typeof load === "object") {
      if ("concurrency" in load) return "concurrency " + load.concurrency;
      if ("request_rate" in load) return load.request_rate + " requests/s";
    }
    return "best throughput";
  }

  function renderSummary(result) {
    const ok = result.outcome === "satisfied";
    const counts = result.counts || {};
    $("summary").replaceChildren(
      el("span", { class: ok ? "ok" : "no", text: ok ? "✓ SLOs met" : "✗ No configuration meets the SLOs" }),
      " · " + result.model + " · input " + result.input_len + " / output " + result.output_len + " tokens · " +
        describeLoad(result.load) + " · " + (counts.evaluated || 0) + " candidates, " + (counts.fit || 0) +
        " fit, " + (counts.met_slos || 0) + " met the SLOs",
    );
  }

  function configCell(config) {
    let label = config.gpus_per_replica + "× " + config.gpu_name + " · TP" + config.tp;
    if (config.pp > 1) label += " PP" + config.pp;
    if (config.dp > 1) label += " DP" + config.dp;
    if (config.ep > 1) label += " EP" + config.ep;
    label += " · " + config.weight_quant + (config.requantized ? " (requantized)" : "") + " / KV " + config.kv_dtype + " · " + config.engine;
    if (config.disagg) label += " · disagg " + config.disagg.prefill_instances + "P" + config.disagg.decode_instances + "D";
    if (config.replicas > 1) label += " · ×" + config.replicas + " replicas";
    return label;
  }

  function renderTable(result) {
    const rows = result.configurations.map((config, index) => {
      const cells = [
        el("td", { text: String(index + 1) }),
        el("td", { class: "config", text: configCell(config) }),
        el("td", { class: "num", text: String(config.num_gpus) }),
        el("td", { class: "num", text: fmt(config.time_to_first_token_ms, 0) + " ms" }),
        el("td", { class: "num", text: fmt(config.inter_token_latency_ms, 1) + " ms" }),
        el("td", { class: "num", text: fmt(config.output_throughput_tok_s, 0) }),
        el("td", { class: "num", text: fmt(config.output_throughput_tok_s_per_gpu, 0) }),
        el("td", { class: "num", text: fmt(config.output_tok_s_per_user, 1) }),
        el("td", { class: "num", text: config.usd_per_hour == null ? "–" : "$" + fmt(config.usd_per_hour, 2) }),
        el("td", { class: "num", text: config.usd_per_million_output_tokens == null ? "–" : "$" + fmt(config.usd_per_million_output_tokens, 3) }),
      ];
      const row = el("tr", { "data-index": String(index) }, cells);
      row.addEventListener("click", () => select(index));
      return row;
    });
    if (rows.length === 0) {
      rows.push(el("tr", {}, [el("td", { colspan: "10", text: "No configuration fits or meets the SLOs; see the closest misses below." })]));
    }
    $("ranked").tBodies[0].replaceChildren(...rows);
  }

  function renderPlot(result) {
    const container = $("pareto");
    if (!result.pareto_svg) {
      container.replaceChildren(el("p", { class: "hint", text: "No plot." }));
      return;
    }
    // The SVG is built by the server from numbers and escaped labels.
    const parsed = new DOMParser().parseFromString(result.pareto_svg, "image/svg+xml");
    const svg = parsed.documentElement;
    if (!svg || svg.nodeName !== "svg") {
      container.replaceChildren(el("p", { class: "hint", text: "The plot could not be read." }));
      return;
    }
    container.replaceChildren(document.importNode(svg, true));
  }

  function renderMisses(result) {
    const misses = result.near_misses || [];
    $("misses-section").hidden = misses.length === 0;
    $("misses").replaceChildren(...misses.map((miss) => {
      const why = (miss.violations || []).map((v) => {
        const sign = v.constraint.startsWith("min_") ? " < " : " > ";
        return v.constraint + " " + fmt(v.actual, 1) + sign + "limit " + fmt(v.limit, 1);
      }).join(", ");
      return el("li", {}, [el("code", { text: configCell(miss.configuration) }), " — " + why]);
    }));
    $("notes").replaceChildren(...(result.notes || []).map((note) => el("li", { text: note })));
  }

  function select(index) {
    if (!lastResult) return;
    const config = lastResult.configurations[index];
    for (const row of $("ranked").tBodies[0].rows) {
      row.classList.toggle("selected", row.dataset.index === String(index));
    }
    $("launch").textContent = (lastResult.launch_commands || [])[index] || "";
    if (config) loadMemory(config);
  }

  async function loadMemory(config) {
    const ticket = ++memoryRequest;
    $("memory-label").textContent = "· " + config.gpu_name + " TP" + config.tp + (config.pp > 1 ? " PP" + config.pp : "");
    const body = {
      model: lastResult.model,
      gpu: config.gpu,
      tp: config.tp,
      pp: config.pp,
      dp: config.dp,
      ep: config.ep,
      engine: config.engine,
      kv_dtype: config.kv_dtype === "f32" ? "auto" : config.kv_dtype,
      max_model_len: config.max_model_len,
    };
    if (config.requantized) body.weight_quant = config.weight_quant;
    if (lastConfig) body.config = lastConfig;
    try {
      const plan = await getJson("/api/memory", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (ticket === memoryRequest) renderMemory(plan);
    } catch (error) {
      if (ticket === memoryRequest) $("memory").replaceChildren(el("p", { class: "hint", text: "Memory plan unavailable: " + error.message }));
    }
  }

  function renderMemory(plan) {
    const total = plan.gpu_memory_gib || 1;
    const parts = MEMORY_PARTS.map(([key, name, color]) => [name, Math.max(0, plan[key] || 0), color]);
    const used = parts.reduce((sum, part) => sum + part[1], 0);
    parts.push(["Unused", Math.max(0, total - used), "#D9D9D9"]);
    const bar = el("div", { class: "bar", role: "img", "aria-label": "memory breakdown" },
      parts.map(([name, value, color]) => el("span", {
        title: name + ": " + fmt(value, 1) + " GiB",
        style: "width:" + (100 * value / total).toFixed(2) + "%;background:" + color,
      })));
    const legend = el("ul", { class: "legend" }, parts.map(([name, value, color]) =>
      el("li", {}, [el("i", { style: "background:" + color }), name, el("b", { text: fmt(value, 1) + " GiB" })])));
    const facts = el("p", {
      class: "memory-facts",
      text: fmt(plan.gpu_memory_gib, 0) + " GiB per GPU · " + compact(plan.kv_cache_tokens) + " KV tokens · " +
        fmt(plan.max_concurrent_requests, 1) + " requests of " + plan.max_model_len + " tokens fit" +
        (plan.fits ? "" : " · does not fit: " + (plan.advice || []).join("; ")),
    });
    $("memory").replaceChildren(bar, legend, facts);
  }

  function render(result) {
    lastResult = result;
    $("results").hidden = false;
    renderSummary(result);
    renderTable(result);
    renderPlot(result);
    renderMisses(result);
    $("launch").textContent = "";
    $("memory").replaceChildren();
    $("memory-label").textContent = "";
    if (result.configurations.length > 0) select(0);
  }

  // ---- actions --------------------------------------------------------------------------

  async function plan() {
    clearError();
    const values = readForm();
    let body;
    try {
      body = requestBody(values);
    } catch (error) {
      showError(error);
      return;
    }
    if (!values.model && !body.config) {
      showError({ field: "model", message: "pick a model from the list, paste a Hugging Face id, or paste a config.json" });
      return;
    }
    lastConfig = body.config || null;
    const url = shareUrl(values);
    history.replaceState(null, "", url);
    $("share-link").value = url;
    $("share-link").setAttribute("value", url);
    setBusy(true, "Planning…");
    const started = performance.now();
    try {
      const result = await getJson("/api/recommend", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      render(result);
      document.body.dataset.state = "done";
      setBusy(false, "Done in " + ((performance.now() - started) / 1000).toFixed(1) + " s");
    } catch (error) {
      document.body.dataset.state = "error";
      setBusy(false, "");
      showError(error);
    }
  }

  function showModelInfo() {
    const id = $("model").value.trim().toLowerCase();
    const model = models.find((m) => String(m.id).toLowerCase() === id);
    $("model-info").textContent = model
      ? compact(model.total_params) + " parameters" + (model.num_experts ? " (" + compact(model.active_params) + " active, " + model.num_experts + " experts)" : "") +
        " · " + model.attention + " · " + model.weight_format
      : (id.includes("/") ? "Not in the catalog: it will be looked up on the Hugging Face Hub." : "");
  }

  async function loadCatalogs() {
    try {
      models = await getJson("/api/models");
      $("model-list").replaceChildren(...models.map((m) => el("option", { value: m.id })));
      showModelInfo();
    } catch (_) {
      models = [];
    }
    try {
      const gpus = await getJson("/api/gpus");
      $("gpu-list").replaceChildren(...gpus.map((g) => el("option", { value: g.id, label: g.name || g.id })));
    } catch (_) {
      // The GPU field still accepts typed names.
    }
  }

  function copy(text, button) {
    const done = () => {
      const before = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = before; }, 1200);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, () => {});
    }
  }

  $("plan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    plan();
  });
  $("model").addEventListener("input", showModelInfo);
  $("config-file").addEventListener("change", () => {
    const file = $("config-file").files[0];
    if (!file) return;
    if (file.size > MAX_CONFIG_BYTES) {
      showError({ field: "config", message: file.name + " is " + file.size + " bytes; at most " + MAX_CONFIG_BYTES + " are accepted" });
      return;
    }
    file.text().then((text) => { $("config").value = text; $("config-box").open = true; });
  });
  $("emit").addEventListener("change", () => { if (lastResult) plan(); });
  $("copy-link").addEventListener("click", () => copy($("share-link").value, $("copy-link")));
  $("copy-launch").addEventListener("click", () => copy($("launch").textContent, $("copy-launch")));

  const params = new URLSearchParams(location.search);
  fillForm(params);
  loadCatalogs().then(() => {
    if (params.get("run") === "1" && $("model").value.trim() !== "") plan();
  });
})();
