// The Heartbeat console: plain DOM, no framework, no build step. Every value from the API is put
// in the page as text (textContent, createTextNode), never as HTML.
"use strict";

(function () {
  const KEY = "heartbeat.key";
  const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const $ = (id) => document.getElementById(id);
  let selected = null; // the task whose detail is open
  let tasksCursor = null;

  // el("td", {className: "x"}, "text", child, ...): strings become text nodes.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (name === "onclick") node.addEventListener("click", value);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node[name] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = !message;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // One request at a time: answers arrive in the order the page asked, and a page with many
  // tasks does not burst the tenant's API concurrency.
  let queue = Promise.resolve();
  function api(method, path, body) {
    const call = queue.then(() => request(method, path, body));
    queue = call.catch(() => null);
    return call;
  }

  // Calls the API with the key; throws ApiError carrying the API's own words.
  async function request(method, path, body) {
    const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const words =
        (data && data.error && data.error.message) ||
        (data && data.message) ||
        response.statusText ||
        "request failed";
      throw new ApiError(response.status, `${method} ${path}: ${response.status} ${words}`);
    }
    return data;
  }

  async function guarded(action) {
    try {
      await action();
    } catch (error) {
      showError(error.message);
    }
  }

  function when(iso, zone) {
    if (!iso) return "—";
    const date = new Date(iso);
    return date.toLocaleString(undefined, {
      timeZone: zone,
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short",
    });
  }

  function taskZone(task) {
    return (task.schedule && task.schedule.timezone) || "UTC";
  }

  function seconds(ms) {
    if (ms === null || ms === undefined) return "—";
    return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
  }

  function status(value) {
    return el("span", { className: "status-" + (value || "none") }, value || "—");
  }

  // --- tasks ------------------------------------------------------------------------------------

  async function loadTasks(append) {
    const query = append && tasksCursor ? `?limit=50&cursor=${encodeURIComponent(tasksCursor)}` : "?limit=50";
    const page = await api("GET", "v1/tasks" + query);
    const rows = $("task-rows");
    if (!append) clear(rows);
    for (const task of page.tasks) rows.appendChild(taskRow(task));
    tasksCursor = page.next_cursor;
    $("more-tasks").hidden = !tasksCursor;
    $("tasks-empty").hidden = rows.childElementCount > 0;
    for (const task of page.tasks) describeSchedule(task);
  }

  function taskRow(task) {
    const words = el("span", { className: "muted" }, scheduleText(task.schedule));
    const errors = el(
      "td",
      {},
      String(task.state.consecutive_errors),
      task.state.last_error ? el("div", { className: "error-text" }, task.state.last_error) : null,
      task.state.disabled_reason ? el("div", { className: "error-text" }, task.state.disabled_reason) : null
    );
    const toggle = el("input", { type: "checkbox", checked: task.enabled, title: "enabled" });
    toggle.addEventListener("change", () =>
      guarded(async () => {
        try {
          await api("PATCH", `v1/tasks/${encodeURIComponent(task.id)}`, { enabled: toggle.checked });
          showError("");
        } finally {
          await loadTasks(false);
        }
      })
    );
    const row = el(
      "tr",
      { dataset: { taskId: task.id } },
      el("td", {}, el("strong", { className: "task-name" }, task.name), task.description ? el("div", { className: "muted" }, task.description) : null),
      el("td", { className: "schedule-words" }, words),
      el(
        "td",
        {},
        when(task.state.next_run_at, viewerZone),
        task.state.next_run_at && taskZone(task) !== viewerZone ? el("div", { className: "muted" }, `${when(task.state.next_run_at, taskZone(task))} ${taskZone(task)}`) : null
      ),
      el("td", {}, toggle),
      el("td", {}, status(task.state.last_status), el("div", { className: "muted" }, when(task.state.last_run_at, viewerZone))),
      errors,
      el(
        "td",
        {},
        el(
          "div",
          { className: "actions" },
          el("button", { type: "button", className: "run-now", onclick: () => guarded(() => runNow(task)) }, "Run now"),
          el("button", { type: "button", className: "open", onclick: () => guarded(() => openTask(task)) }, "Runs")
        )
      )
    );
    if (selected && selected.id === task.id) row.classList.add("selected");
    return row;
  }

  function scheduleText(schedule) {
    if (!schedule) return "";
    if (schedule.type === "cron") return schedule.expression;
    if (schedule.type === "at") return `at ${schedule.at}`;
    const unit = ["minutes", "hours", "days"].find((u) => u in schedule);
    return unit ? `every ${schedule[unit]} ${unit}` : JSON.stringify(schedule);
  }

  // The words and fire times come from the API (the same engine that schedules the task).
  async function describeSchedule(task) {
    try {
      const answer = await api("GET", `v1/tasks/${encodeURIComponent(task.id)}/schedule?count=5`);
      const cell = document.querySelector(`tr[data-task-id="${CSS.escape(task.id)}"] .schedule-words`);
      if (cell) {
        clear(cell).appendChild(el("span", {}, answer.description));
        cell.appendChild(el("div", { className: "muted" }, scheduleText(task.schedule)));
      }
      return answer;
    } catch (error) {
      if (error.status !== 404) showError(error.message);
      return null;
    }
  }

  async function runNow(task) {
    await api("POST", `v1/tasks/${encodeURIComponent(task.id)}/run`);
    showError("");
    await openTask(task);
    // Follow the run until it is final.
    for (let i = 0; i < 20; i++) {
      const runs = await loadRuns(task);
      if (!runs.length || !["queued", "running"].includes(runs[0].status)) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await loadTasks(false);
    await loadUsage(); // the run's tokens and cost count today
  }

  async function openTask(task) {
    selected = task;
    for (const row of document.querySelectorAll("#task-rows tr")) {
      row.classList.toggle("selected", row.dataset.taskId === task.id);
    }
    $("task-detail").hidden = false;
    $("detail-title").textContent = task.name;
    $("detail-schedule").textContent = scheduleText(task.schedule);
    $("zone-viewer").textContent = `Your time (${viewerZone})`;
    $("zone-task").textContent = `Task's time (${taskZone(task)})`;
    const answer = await describeSchedule(task);
    const rows = clear($("next-rows"));
    if (answer) {
      $("detail-schedule").textContent = `${answer.description} — ${answer.eventbridge.join(" + ")}`;
      for (const time of answer.next) {
        rows.appendChild(el("tr", {}, el("td", {}, when(time, viewerZone)), el("td", {}, when(time, answer.timezone))));
      }
      if (!answer.next.length) rows.appendChild(el("tr", {}, el("td", { colSpan: 2, className: "muted" }, task.enabled ? "never fires again" : "disabled: does not fire")));
    }
    await loadRuns(task);
  }

  async function loadRuns(task) {
    const page = await api("GET", `v1/tasks/${encodeURIComponent(task.id)}/runs?limit=20`);
    const rows = clear($("run-rows"));
    for (const run of page.runs) rows.appendChild(runRow(run));
    $("runs-empty").hidden = page.runs.length > 0;
    return page.runs;
  }

  function runRow(run) {
    const late =
      run.started_at && run.scheduled_at ? seconds(Math.max(0, new Date(run.started_at) - new Date(run.scheduled_at))) : "—";
    const usage = run.usage || {};
    const tokens =
      run.usage ? String((usage.input_tokens || 0) + (usage.output_tokens || 0)) + (usage.cached_tokens ? ` (${usage.cached_tokens} cached)` : "") : "—";
    const cost = typeof run.cost_usd === "number" ? `$${run.cost_usd.toFixed(4)}` : "—";
    const details = el("td", {});
    if (run.output) details.appendChild(el("pre", { className: "output" }, run.output));
    if (run.output_truncated) details.appendChild(el("div", { className: "muted" }, `output is ${run.output_bytes} bytes: the whole of it is in the run record`));
    if (Array.isArray(run.tool_calls) && run.tool_calls.length) {
      const list = el("ul", { className: "tool-calls" });
      for (const call of run.tool_calls) {
        list.appendChild(
          el("li", {}, `${call.name} ${call.ok ? "ok" : "failed"} ${seconds(call.ms)}`, call.error ? el("span", { className: "error-text" }, ` ${call.error}`) : null)
        );
      }
      details.appendChild(list);
    }
    if (run.error) details.appendChild(el("div", { className: "error-text" }, run.error));
    if (run.reason) details.appendChild(el("div", { className: "muted" }, run.reason));
    return el(
      "tr",
      { dataset: { runId: run.id } },
      el("td", {}, when(run.scheduled_at, viewerZone)),
      el("td", {}, status(run.status)),
      el("td", {}, run.trigger),
      el("td", {}, late),
      el("td", {}, seconds(run.duration_ms)),
      el("td", {}, tokens),
      el("td", {}, cost),
      details
    );
  }

  // --- memory -----------------------------------------------------------------------------------

  async function loadMemory() {
    const box = clear($("blocks"));
    try {
      const answer = await api("GET", "v1/memory/core");
      for (const block of answer.blocks) {
        box.appendChild(
          el(
            "div",
            { className: "block" },
            el("span", { className: "block-label" }, block.label),
            el("span", { className: "muted" }, ` ${block.value.length}/${block.limit} characters`),
            el("pre", {}, block.value)
          )
        );
      }
      if (!answer.blocks.length) box.appendChild(el("p", { className: "muted" }, "No core blocks."));
      await searchPassages();
    } catch (error) {
      box.appendChild(el("p", { className: "unavailable" }, error.message));
    }
  }

  async function searchPassages() {
    const query = $("query").value.trim();
    const path = "v1/memory/archival?limit=20" + (query ? `&query=${encodeURIComponent(query)}` : "");
    const list = clear($("passages"));
    const answer = await api("GET", path);
    for (const passage of answer.passages) {
      list.appendChild(
        el(
          "li",
          {},
          el("div", {}, passage.text),
          el("div", {}, ...passage.tags.map((tag) => el("span", { className: "tag" }, tag)), el("span", { className: "muted" }, when(passage.created_at, viewerZone)))
        )
      );
    }
    if (!answer.passages.length) list.appendChild(el("li", { className: "muted" }, "No passages."));
  }

  // --- webhooks and usage (their routes may not exist on this deployment) -----------------------

  function unavailable(box, error, what) {
    box.appendChild(el("p", { className: "unavailable" }, error.status === 404 ? `${what} are not available on this deployment.` : error.message));
  }

  async function loadWebhooks() {
    const box = clear($("webhooks-body"));
    try {
      const answer = await api("GET", "v1/webhooks");
      if (!answer.webhooks.length) box.appendChild(el("p", { className: "muted" }, "No webhooks."));
      for (const hook of answer.webhooks) {
        const deliveries = el("div", {});
        box.appendChild(
          el(
            "div",
            { className: "block" },
            el("span", { className: "block-label" }, hook.url),
            el(
              "span",
              { className: "muted" },
              ` ${(hook.events || []).join(", ")}` +
                (hook.task_ids ? ` (tasks ${hook.task_ids.join(", ")})` : "") +
                ` ${hook.format} ${hook.enabled ? "enabled" : "disabled"}`
            ),
            hook.disabled_reason ? el("div", { className: "error-text" }, hook.disabled_reason) : null,
            el("button", { type: "button", className: "deliveries", onclick: () => guarded(() => loadDeliveries(hook, deliveries)) }, "Deliveries"),
            deliveries
          )
        );
      }
    } catch (error) {
      unavailable(box, error, "Webhooks");
    }
  }

  async function loadDeliveries(hook, box) {
    const answer = await api("GET", `v1/webhooks/${encodeURIComponent(hook.id)}/deliveries`);
    clear(box);
    const body = el("tbody", {});
    for (const d of answer.deliveries) {
      body.appendChild(
        el(
          "tr",
          { dataset: { eventId: d.event_id } },
          el("td", {}, when(d.created_at, viewerZone)),
          el("td", {}, d.type),
          el("td", {}, status(d.status)),
          el("td", {}, String(d.attempts)),
          el("td", {}, d.status_code === null || d.status_code === undefined ? "—" : String(d.status_code)),
          el("td", {}, d.delivered_at ? when(d.delivered_at, viewerZone) : d.next_attempt_at ? `retry ${when(d.next_attempt_at, viewerZone)}` : "—"),
          el("td", { className: "error-text" }, d.error || "")
        )
      );
    }
    const head = el("tr", {}, ...["Created", "Event", "Result", "Attempts", "HTTP status", "Delivered", "Error"].map((h) => el("th", {}, h)));
    box.appendChild(el("table", {}, el("thead", {}, head), body));
    if (!answer.deliveries.length) box.appendChild(el("p", { className: "muted" }, "No deliveries yet."));
  }

  async function loadUsage() {
    const box = clear($("usage-body"));
    try {
      const answer = await api("GET", "v1/usage?days=30");
      box.appendChild(usageChart(answer.days.slice().reverse()));
      const b = answer.budget || {};
      if (b.daily_tokens) box.appendChild(el("p", { className: "muted" }, `Today: ${b.used_today} of ${b.daily_tokens} tokens used, ${b.remaining_today} left.`));
    } catch (error) {
      unavailable(box, error, "Usage figures");
    }
  }

  function usageChart(days) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "chart");
    svg.setAttribute("viewBox", "0 0 720 160");
    svg.setAttribute("role", "img");
    const total = (d) => (d.input_tokens || 0) + (d.output_tokens || 0);
    const top = Math.max(1, ...days.map(total));
    const width = 720 / Math.max(1, days.length);
    days.forEach((day, i) => {
      const height = Math.round((total(day) / top) * 130);
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", String(i * width + 1));
      rect.setAttribute("y", String(140 - height));
      rect.setAttribute("width", String(Math.max(1, width - 2)));
      rect.setAttribute("height", String(height));
      const title = document.createElementNS(ns, "title");
      const cost = typeof day.cost_usd === "number" ? `, $${day.cost_usd.toFixed(4)}` : "";
      title.textContent = `${day.date}: ${day.runs} ${day.runs === 1 ? "run" : "runs"}, ${total(day)} tokens${cost}`;
      rect.appendChild(title);
      svg.appendChild(rect);
      if (i % 7 === 0) {
        const label = document.createElementNS(ns, "text");
        label.setAttribute("x", String(i * width));
        label.setAttribute("y", "155");
        label.textContent = day.date;
        svg.appendChild(label);
      }
    });
    return svg;
  }

  // --- start --------------------------------------------------------------------------------------

  async function start() {
    const key = sessionStorage.getItem(KEY);
    $("main").hidden = !key;
    $("forget").hidden = !key;
    if (!key) return;
    showError("");
    await guarded(() => loadTasks(false));
    await Promise.all([loadMemory(), loadWebhooks(), loadUsage()]);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("key").value.trim();
      if (!key) return showError("Enter an API key.");
      sessionStorage.setItem(KEY, key);
      $("key").value = "";
      start();
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      location.reload();
    });
    $("refresh").addEventListener("click", () => guarded(() => loadTasks(false)));
    $("more-tasks").addEventListener("click", () => guarded(() => loadTasks(true)));
    $("refresh-runs").addEventListener("click", () => selected && guarded(() => loadRuns(selected)));
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      guarded(searchPassages);
    });
    start();
  });
})();
