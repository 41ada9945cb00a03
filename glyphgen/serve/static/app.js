// glyphgen serve: the page. Plain JavaScript over the server's JSON API (glyphgen/serve/app.py).
// The workspace id lives in localStorage, so a reload finds the same samples and the jobs still running.
"use strict";

const $ = (selector) => document.querySelector(selector);
const state = { info: null, workspace: null, shown: null, streams: new Map(), fonts: new Map() };

// -- talking to the server ----------------------------------------------------------

async function api(method, path, body, headers = {}) {
  const response = await fetch(path, { method, body, headers });
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const error = new Error(data.error || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.needsChar = Boolean(data.needs_char);
    throw error;
  }
  return data;
}

const json = (value) => [JSON.stringify(value), { "Content-Type": "application/json" }];

function say(text, ok = false) {
  const message = $("#message");
  message.textContent = text;
  message.className = ok ? "ok" : "";
  message.hidden = !text;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// -- the workspace --------------------------------------------------------------

async function openWorkspace() {
  const saved = localStorage.getItem("glyphgen-workspace");
  if (saved) {
    try {
      return showWorkspace(await api("GET", `/api/w/${saved}`));
    } catch (error) {
      if (error.status !== 404) throw error;
    }
  }
  const made = await api("POST", "/api/workspaces");
  localStorage.setItem("glyphgen-workspace", made.id);
  return showWorkspace(await api("GET", `/api/w/${made.id}`));
}

async function refresh() {
  showWorkspace(await api("GET", `/api/w/${state.workspace.id}`));
}

function showWorkspace(workspace) {
  state.workspace = workspace;
  $("#charset").value = workspace.charset;
  showSamples(workspace);
  for (const job of workspace.jobs) showJob(job);
  const done = workspace.jobs.filter((job) => job.kind === "build" && job.state === "done");
  if (done.length && !state.shown) showFont(done[done.length - 1]);
}

function showSamples(workspace) {
  const given = new Set(workspace.samples.map((sample) => sample.char));
  const cards = workspace.samples.map((sample) => {
    const doubt = sample.doubt ? element("div", { class: "doubt" }, `looks like “${sample.doubt}”, not “${sample.char}”`) : null;
    const problem = sample.problem ? element("div", { class: "problem" }, sample.problem) : null;
    return element(
      "figure",
      { class: "card" + (sample.doubt ? " doubted" : ""), "data-char": sample.char, title: sample.doubt
          ? `This looks like “${sample.doubt}”; you labelled it “${sample.char}”.` : sample.name },
      sample.picture ? element("img", { src: sample.picture, alt: `your ${sample.char}` }) : null,
      element("div", { class: "char" }, `${sample.char} `, element("small", {}, sample.code)),
      element("div", { class: "name" }, sample.name),
      doubt,
      problem,
      element("button", { class: "remove", type: "button", title: "remove", onclick: () => removeSample(sample) }, "×"),
    );
  });
  $("#samples").replaceChildren(...cards);
  $("#sample-notes").replaceChildren(...workspace.notes.map((note) => element("li", {}, note)));
  const todo = [...workspace.recommended].filter((char) => !given.has(char));
  $("#todo").replaceChildren(...(todo.length
    ? todo.map((char) => element("button", { type: "button", onclick: () => chooseToDraw(char) }, char))
    : ["none; every recommended character is here, and any other you give is yours instead of the model's."]));
  if (!$("#draw-char").value || given.has($("#draw-char").value)) $("#draw-char").value = todo[0] || "";
  $("#zip").href = `/api/w/${workspace.id}/samples.zip?family=${encodeURIComponent(family())}`;
  $("#zip").hidden = !workspace.samples.length;
}

async function removeSample(sample) {
  await guarded(async () => {
    await api("DELETE", `/api/w/${state.workspace.id}/samples/${sample.code}`);
    await refresh();
  });
}

async function guarded(work) {
  try {
    say("");
    await work();
  } catch (error) {
    say(error.message);
  }
}

const family = () => $("#family").value.trim() || "My Hand";

// -- giving samples: files, a sheet, a drawing --------------------------------------

async function sendSample(blob, { name, char, em }) {
  const query = new URLSearchParams();
  if (name) query.set("name", name);
  if (char) query.set("char", char);
  if (em) query.set("em", em);
  return api("POST", `/api/w/${state.workspace.id}/samples?${query}`, blob);
}

async function giveFiles(files) {
  const refused = [];
  say(`Reading ${files.length} image${files.length === 1 ? "" : "s"}…`, true);
  for (const file of files) {
    try {
      await sendSample(file, { name: file.name });
    } catch (error) {
      if (error.needsChar) askForChar(file);
      else refused.push(error.message);
    }
  }
  await refresh();
  say(refused.join(" "));
}

function askForChar(file) {
  const input = element("input", { maxlength: "2", "aria-label": `character of ${file.name}` });
  const item = element("li", {}, `${file.name}: which character is it? `, input, " ",
    element("button", { type: "button", onclick: () => guarded(async () => {
      await sendSample(file, { name: file.name, char: input.value.trim() });
      item.remove();
      await refresh();
    }) }, "Keep"));
  $("#unnamed").append(item);
}

async function giveSheet(file) {
  await guarded(async () => {
    say(`Reading ${file.name}…`, true);
    const read = await api("POST", `/api/w/${state.workspace.id}/sheet?name=${encodeURIComponent(file.name)}`, file);
    await refresh();
    say(`${file.name}: ${read.chars.length} characters read from the sheet. ${read.notes.join(" ")}`, true);
  });
}

function dropZone(zone, input, take) {
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    take([...event.dataTransfer.files]);
  });
  input.addEventListener("change", () => { take([...input.files]); input.value = ""; });
}

// The drawing pad: strokes in ink on a transparent layer, guides drawn beneath it by CSS-free
// canvas work on the same element only when exported is false.
const pad = { strokes: [], current: null };

function guides() {
  const script = state.info.guides[state.workspace.charset];
  const canvas = $("#pad");
  const em = canvas.height / (script.top - script.bottom); // pixels per em
  return { em, rowOf: (y) => (script.top - y) * em, script };
}

function drawPad(withGuides = true) {
  const canvas = $("#pad");
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (withGuides) {
    const { rowOf, script } = guides();
    context.strokeStyle = "#c9d6e3";
    context.lineWidth = 1;
    context.fillStyle = "#9db3c8";
    context.font = "11px sans-serif";
    for (const [name, y] of Object.entries(script.lines)) {
      context.setLineDash(name === "baseline" ? [] : [6, 5]);
      context.beginPath();
      context.moveTo(0, rowOf(y));
      context.lineTo(canvas.width, rowOf(y));
      context.stroke();
      context.fillText(name, 4, rowOf(y) - 3);
    }
    context.setLineDash([]);
    context.fillStyle = "black";
  }
  context.strokeStyle = "black";
  context.lineCap = "round";
  context.lineJoin = "round";
  for (const stroke of [...pad.strokes, pad.current].filter(Boolean)) {
    for (let i = 1; i < stroke.length; i++) {
      const [a, b] = [stroke[i - 1], stroke[i]];
      context.lineWidth = penWidth((a.p + b.p) / 2);
      context.beginPath();
      context.moveTo(a.x, a.y);
      context.lineTo(b.x, b.y);
      context.stroke();
    }
    if (stroke.length === 1) {
      context.beginPath();
      context.arc(stroke[0].x, stroke[0].y, penWidth(stroke[0].p) / 2, 0, 2 * Math.PI);
      context.fill();
    }
  }
}

// A mouse reports pressure 0.5 while pressed: the middle width. A pen or a finger press spans 0.3 to 1.7 times it.
const penWidth = (pressure) => ($("#pad").width / 36) * (0.3 + 1.4 * (pressure || 0.5));

function padPoint(event) {
  const canvas = $("#pad");
  const box = canvas.getBoundingClientRect();
  return { x: ((event.clientX - box.left) * canvas.width) / box.width, y: ((event.clientY - box.top) * canvas.height) / box.height, p: event.pressure };
}

function setUpPad() {
  const canvas = $("#pad");
  canvas.addEventListener("pointerdown", (event) => {
    try {
      canvas.setPointerCapture(event.pointerId); // the stroke goes on when the pen leaves the pad
    } catch {
      // a pointer the browser no longer tracks (or a synthetic one): draw without capture
    }
    pad.current = [padPoint(event)];
    drawPad();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!pad.current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) pad.current.push(padPoint(each));
    drawPad();
  });
  const end = () => {
    if (pad.current) pad.strokes.push(pad.current);
    pad.current = null;
    drawPad();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("#pad-clear").addEventListener("click", () => { pad.strokes = []; drawPad(); });
  $("#pad-save").addEventListener("click", () => guarded(saveDrawing));
}

async function saveDrawing() {
  const char = $("#draw-char").value.trim();
  if (!char) throw new Error("Say which character you drew: type it in the Character box.");
  if (!pad.strokes.length) throw new Error("The pad is empty: draw the character first.");
  drawPad(false); // the ink alone, on transparent paper (read as white)
  const blob = await new Promise((resolve) => $("#pad").toBlob(resolve, "image/png"));
  drawPad();
  await sendSample(blob, { char, em: guides().em });
  pad.strokes = [];
  drawPad();
  $("#draw-char").value = "";
  await refresh();
}

function chooseToDraw(char) {
  $("#draw-char").value = char;
  pad.strokes = [];
  drawPad();
}

// -- jobs: builds and comparisons --------------------------------------------------

function showJob(job) {
  const list = job.kind === "build" ? $("#build-jobs") : $("#compare-jobs");
  let card = list.querySelector(`[data-job="${job.id}"]`);
  if (!card) {
    card = element("article", { "data-job": job.id });
    list.prepend(card);
  }
  card.className = `job ${job.state}`;
  const waiting = job.state === "queued" ? ` (${job.position ? `${job.position} ahead` : "next"})` : "";
  const stateText = { queued: "waiting", running: "running", done: "done", failed: "failed", cancelled: "cancelled" }[job.state];
  const buttons = [];
  if (job.state === "queued" || job.state === "running") {
    buttons.push(element("button", { type: "button", onclick: () => api("POST", `/api/jobs/${job.id}/cancel`).catch((e) => say(e.message)) }, "Cancel"));
  }
  if (job.kind === "build" && job.state === "done") {
    buttons.push(element("button", { type: "button", onclick: () => showFont(job) }, "Show in the tester"));
  }
  card.replaceChildren(...[
    element("header", {}, element("span", {}, element("span", { class: "state" }, stateText + waiting), " · ", job.title,
      job.seconds ? ` · ${job.seconds.toFixed(0)} s` : ""), element("span", {}, ...buttons)),
    ...job.stages.filter((stage) => !stage.finished || job.state !== "done").slice(-4).map(stageRow),
    job.notes.length ? element("ul", { class: "notes" }, ...job.notes.map((note) => element("li", {}, note))) : null,
    job.lines.length ? element("ul", { class: "lines" }, ...job.lines.slice(-6).map((line) => element("li", {}, line))) : null,
    job.error ? element("p", { class: "error" }, job.error) : null,
    job.state === "done" && job.result.summary ? element("p", {}, job.result.summary) : null,
    job.state === "done" && job.kind === "compare" ? compareSummary(job) : null,
  ].filter(Boolean));
  if (job.state === "queued" || job.state === "running") follow(job);
}

function stageRow(stage) {
  const bar = element("progress", stage.total ? { max: stage.total, value: stage.done } : {});
  const fields = Object.entries(stage.fields).map(([key, value]) => `${key} ${typeof value === "number" && !Number.isInteger(value) ? value.toPrecision(3) : value}`);
  const count = stage.total ? `${stage.done}/${stage.total}` : stage.finished ? "done" : "";
  return element("div", { class: "stage" }, element("span", {}, stage.name), bar, element("span", {}, [count, ...fields].join("  ")));
}

// A job's server-sent events: a snapshot whenever it changes, until it finishes. A reload opens the stream again.
function follow(job) {
  if (state.streams.has(job.id)) return;
  const stream = new EventSource(`/api/jobs/${job.id}/events`);
  state.streams.set(job.id, stream);
  stream.onmessage = (event) => {
    const snapshot = JSON.parse(event.data);
    showJob(snapshot);
    if (["done", "failed", "cancelled"].includes(snapshot.state)) {
      stream.close();
      state.streams.delete(job.id);
      if (snapshot.kind === "build" && snapshot.state === "done") showFont(snapshot);
      if (snapshot.kind === "compare" && snapshot.state === "done") showReport(snapshot);
    }
  };
  stream.onerror = () => {
    if (stream.readyState === EventSource.CLOSED) state.streams.delete(job.id);
  };
}

async function startBuild() {
  await guarded(async () => {
    const asked = { backend: $("#backend").value, family: family(), designer: $("#designer").value.trim(), seed: Number($("#seed").value || 0) };
    const [body, headers] = json(asked);
    showJob(await api("POST", `/api/w/${state.workspace.id}/builds`, body, headers));
  });
}

async function startCompare() {
  await guarded(async () => {
    const backends = [...document.querySelectorAll("#compare-backends input:checked")].map((input) => input.value);
    const [body, headers] = json({ backends, folds: Number($("#folds").value) });
    showJob(await api("POST", `/api/w/${state.workspace.id}/compares`, body, headers));
  });
}

function compareSummary(job) {
  const rows = job.result.runs.map((run) => element("tr", {},
    element("th", {}, run.backend + (run.backend === job.result.best ? " ★" : "")),
    element("td", {}, run.ok ? run.iou?.toFixed(3) ?? "–" : `failed: ${run.error}`),
    element("td", {}, run.ok && run.content !== null ? run.content.toFixed(3) : "–"),
    element("td", {}, run.ok ? `${run.fit_seconds.toFixed(1)} s` : "")));
  return element("table", { class: "compared" },
    element("tr", {}, element("th", {}, "model"), element("th", {}, "IoU ↑"), element("th", {}, "reads right ↑"), element("th", {}, "fit")), ...rows,
    element("caption", {}, element("button", { type: "button", onclick: () => showReport(job) }, "Show the whole report")));
}

function showReport(job) {
  const frame = $("#report");
  frame.src = `/api/jobs/${job.id}/files/report`;
  frame.hidden = false;
}

// -- the font: type tester, glyphs, downloads ---------------------------------------

// The tester's first text: the pangrams the font sets whole (until the writer types their own).
const PANGRAMS = [
  "The quick brown fox jumps over the lazy dog.",
  "Zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich.",
  "Pchnąć w tę łódź jeża lub ośm skrzyń fig.",
  "Příliš žluťoučký kůň úpěl ďábelské ódy.",
  "다람쥐 헌 쳇바퀴에 타고파.",
  "0123456789 & ?!",
];

function specimen(chars) {
  const covered = new Set([...chars, " "]);
  return PANGRAMS.filter((line) => [...line].every((char) => covered.has(char))).join(" ") || chars.slice(0, 60);
}

async function showFont(job) {
  const name = `glyphgen-${job.id}`; // a family name of the page's own: two builds of one name never mix
  if (!state.fonts.has(job.id)) {
    const face = new FontFace(name, `url(/api/jobs/${job.id}/files/woff2?inline=1)`);
    document.fonts.add(await face.load());
    state.fonts.set(job.id, face);
  }
  state.shown = job;
  const stack = `"${name}", sans-serif`;
  $("#tester").style.fontFamily = stack;
  $("#glyphs").style.fontFamily = stack;
  const samples = new Set(job.result.samples);
  $("#glyphs").replaceChildren(...[...job.result.chars].map((char) => element("span", { class: samples.has(char) ? "sample" : "", title: `U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}` }, char)));
  if (!state.edited) $("#tester").textContent = specimen(job.result.chars);
  $("#result-summary").textContent = job.result.summary;
  for (const kind of ["ttf", "otf", "woff2", "preview"]) {
    $(`#get-${kind}`).href = `/api/jobs/${job.id}/files/${kind}`;
    $(`#get-${kind}`).setAttribute("download", job.result.files[kind]);
  }
  $("#get-samples").href = `/api/w/${state.workspace.id}/samples.zip?family=${encodeURIComponent(job.result.family)}`;
  $("#preview").src = `/api/jobs/${job.id}/files/preview`;
  $("#result").hidden = false;
  $("#result").dataset.job = job.id;
}

// -- start -------------------------------------------------------------------------

async function start() {
  state.info = await api("GET", "/api/info");
  $("#charset").replaceChildren(...state.info.charsets.map((c) => element("option", { value: c.name }, `${c.name} (${c.size})`)));
  $("#backend").replaceChildren(...state.info.backends.map((b) => element("option", { value: b.name },
    `${b.name}: ${b.family}${b.pretrained ? ", pretrained" : ""}${b.name === state.info.default_backend ? " (default)" : ""}`)));
  $("#backend").value = state.info.default_backend;
  const compared = new Set(state.info.compared);
  $("#compare-backends").replaceChildren(...["reference", ...state.info.backends.map((b) => b.name)].map((name) =>
    element("label", { title: name === "reference" ? "the reference font as it is: the baseline to beat" : "" },
      element("input", Object.assign({ type: "checkbox", value: name }, compared.has(name) ? { checked: "" } : {})), ` ${name}`)));
  await openWorkspace();
  setUpPad();
  drawPad();
  dropZone($("#drop-files"), $("#files"), giveFiles);
  dropZone($("#drop-sheet"), $("#sheet"), (files) => files[0] && giveSheet(files[0]));
  $("#charset").addEventListener("change", () => guarded(async () => {
    const [body, headers] = json({ charset: $("#charset").value });
    await api("PUT", `/api/w/${state.workspace.id}/charset`, body, headers);
    await refresh();
    drawPad();
  }));
  $("#build-button").addEventListener("click", startBuild);
  $("#compare-button").addEventListener("click", startCompare);
  $("#size").addEventListener("input", () => {
    $("#tester").style.fontSize = `${$("#size").value}px`;
    $("#size-shown").textContent = `${$("#size").value} px`;
  });
  $("#tester").style.fontSize = `${$("#size").value}px`;
  $("#tester").addEventListener("input", () => { state.edited = true; });
  $("#family").addEventListener("input", () => showSamples(state.workspace));
  document.body.dataset.ready = "yes";
}

start().catch((error) => say(`The page could not start: ${error.message}`));
