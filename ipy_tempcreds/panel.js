// The role panel's view (anywidget ES module).
//
// It draws what the kernel syncs and runs the countdown itself, so the remaining lifetime keeps
// ticking while a long cell occupies the kernel and no kernel message is sent per tick. Clicks go
// to the kernel as custom messages ({action, seq, ...}); the kernel answers {type: "done", seq}
// once it has handled one, which may be long after the click if a cell is running. The view never
// sets a model trait: synced state is saved into the notebook, and an MFA code must never be.

const TICK_MS = 1000;

// Colours of the lifetime bar. "warn" means: inside the last quarter or the last 10 minutes
// (botocore's mandatory refresh window); "danger": last tenth or last 3 minutes.
function levelOf(remainingS, lifetimeS) {
  if (remainingS <= 0) return "expired";
  if (remainingS < 180 || remainingS < lifetimeS * 0.1) return "danger";
  if (remainingS < 600 || remainingS < lifetimeS * 0.25) return "warn";
  return "ok";
}

// Same wording as the magics (display.format_remaining): "1h 2m 3s", "59m 58s", "42s".
function formatRemaining(seconds) {
  if (seconds < 0) return `expired ${formatRemaining(-seconds)} ago`;
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}h ${m}m ${s}s`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

// Times are shown in the zone the kernel names (TempCreds.time_zone, synced as time_zone), never
// the browser's, and worded as display.py words them: "14:59 UTC", "2026-11-30 09:59 EST" on
// another day, "2026-11-29 14:59:07 UTC" in full. The zone's abbreviation at that moment comes from
// the kernel too (expires_zone), so both sides print the same letters.
const formatters = new Map();
function partsIn(zone, ms) {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    formatters.set(zone, format);
  }
  const parts = {};
  for (const { type, value } of format.formatToParts(new Date(ms))) parts[type] = value;
  return parts;
}
function zoned(zone, label, ms) {
  try {
    return { parts: partsIn(zone || "UTC", ms), label: label || zone || "UTC", zone: zone || "UTC" };
  } catch (error) {
    // A zone this browser's Intl does not know: UTC, named, rather than a wrong time.
    return { parts: partsIn("UTC", ms), label: "UTC", zone: "UTC" };
  }
}
function clockText(zone, label, ms, nowMs) {
  const at = zoned(zone, label, ms);
  const { year, month, day, hour, minute } = at.parts;
  const today = partsIn(at.zone, nowMs);
  const sameDay = today.year === year && today.month === month && today.day === day;
  return `${sameDay ? "" : `${year}-${month}-${day} `}${hour}:${minute} ${at.label}`;
}
function momentText(zone, label, ms) {
  const { parts: p, label: named } = zoned(zone, label, ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${named}`;
}

// "arn:aws:iam::123456789012:role/team/Reader" -> {name: "Reader", account: "123456789012"}.
function parseRoleArn(text) {
  const match = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(text.trim());
  return match ? { account: match[1], name: match[2] } : null;
}

// Long ARNs wrap after ":" and "/" rather than anywhere, so each line stays readable.
function breakable(text) {
  const nodes = [];
  for (const piece of text.split(/(?<=[:/])/)) {
    nodes.push(document.createTextNode(piece), document.createElement("wbr"));
  }
  return nodes;
}

// "arn:aws:sts::123456789012:assumed-role/Reader/alice" -> Reader, "session alice".
function describeIdentity(arn) {
  const assumed = /^arn:[^:]+:sts::\d*:assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (assumed) return { name: assumed[1], detail: `session ${assumed[2]}` };
  const resource = arn.split(":").slice(5).join(":");
  return { name: resource || arn, detail: "" };
}

function h(tag, className, props = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value);
  }
  return node;
}

// Writes only when the value differs: the clock redraws every second and must not disturb
// selection, focus or layout for nothing.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
function setAttr(node, name, value) {
  if (value === null || value === undefined || value === "") {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

function render({ model, el }) {
  const viewId = Math.random().toString(36).slice(2, 10);
  let counter = 0;
  const pending = new Set();
  // Kernel time minus this browser's time. The kernel's clock decides how long is left, as in
  // the magics: a browser talking to a remote kernel can be minutes off. Measured once, when the
  // view is drawn (never per tick); 0 until the kernel answers, or without a kernel.
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;

  // -- structure ---------------------------------------------------------------------------
  const root = h("div", "tempcreds-panel");

  const header = h("div", "tempcreds-header");
  const title = h("span", "tempcreds-title", { text: "AWS role" });
  const status = h("span", "tempcreds-status");
  header.append(title, status);

  const fields = h("div", "tempcreds-fields");
  const roleId = `tempcreds-role-${viewId}`;
  const listId = `tempcreds-roles-${viewId}`;
  const durationId = `tempcreds-duration-${viewId}`;
  const roleLabel = h("label", "tempcreds-label", { for: roleId, text: "Role" });
  const roleInput = h("input", "tempcreds-role tempcreds-input", {
    id: roleId, type: "text", list: listId, autocomplete: "off", spellcheck: "false",
    placeholder: "alias or arn:aws:iam::…:role/Name",
  });
  // While the field is not being edited, an ARN in it is shown as its role's name (or alias): a
  // field cut to "…role/analytics-rea" hides the part people read. The field keeps the ARN, which
  // is also its tooltip, and editing shows it whole.
  const roleName = h("div", "tempcreds-role-name", { "aria-hidden": "true" });
  const roleNameMain = h("span", "tempcreds-role-name-main");
  const roleNameAccount = h("span", "tempcreds-role-name-account");
  roleName.append(roleNameMain, roleNameAccount);
  const roleBox = h("div", "tempcreds-role-box");
  roleBox.append(roleInput, roleName);
  const roleList = h("datalist", "", { id: listId });
  const durationLabel = h("label", "tempcreds-label", { for: durationId, text: "Duration" });
  const durationSelect = h("select", "tempcreds-duration tempcreds-input", { id: durationId });
  fields.append(roleLabel, roleBox, roleList, durationLabel, durationSelect);

  const actions = h("div", "tempcreds-actions");
  const assumeButton = h("button", "tempcreds-button tempcreds-primary tempcreds-assume", {
    type: "button", text: "Assume", title: "Assume the role and put its credentials into the kernel",
  });
  const refreshButton = h("button", "tempcreds-button tempcreds-refresh", {
    type: "button", text: "Refresh", title: "Renew the active credentials now",
  });
  const releaseButton = h("button", "tempcreds-button tempcreds-release", {
    type: "button", text: "Release", title: "Drop the credentials and restore the kernel's environment",
  });
  actions.append(assumeButton, refreshButton, releaseButton);

  // Places for actions other modules add; hidden until the kernel sets show_console / show_sso.
  const extra = h("div", "tempcreds-extra");
  const consoleButton = h("button", "tempcreds-button tempcreds-console", {
    type: "button", text: "Console", title: "Open the AWS console as this role",
  });
  const ssoButton = h("button", "tempcreds-button tempcreds-sso", {
    type: "button", text: "Sign in", title: "Sign in to IAM Identity Center",
  });
  extra.append(consoleButton, ssoButton);

  const mfa = h("div", "tempcreds-mfa");
  const mfaId = `tempcreds-mfa-${viewId}`;
  const mfaLabel = h("label", "tempcreds-label", { for: mfaId, text: "MFA code" });
  const mfaInput = h("input", "tempcreds-mfa-code tempcreds-input", {
    id: mfaId, type: "text", inputmode: "numeric", autocomplete: "one-time-code",
    maxlength: "6", placeholder: "6 digits", spellcheck: "false",
  });
  const mfaSubmit = h("button", "tempcreds-button tempcreds-primary tempcreds-mfa-submit", { type: "button", text: "Continue" });
  const mfaCancel = h("button", "tempcreds-link tempcreds-mfa-cancel", { type: "button", text: "Cancel" });
  const mfaDevice = h("div", "tempcreds-mfa-device tempcreds-ellipsis");
  const mfaHead = h("div", "tempcreds-mfa-head");
  mfaHead.append(mfaLabel, mfaCancel);
  const mfaRow = h("div", "tempcreds-mfa-row");
  mfaRow.append(mfaInput, mfaSubmit);
  mfa.append(mfaHead, mfaDevice, mfaRow);

  const identity = h("div", "tempcreds-identity");
  const identityName = h("div", "tempcreds-identity-name");
  const identityDetail = h("div", "tempcreds-identity-detail");
  const identityArn = h("div", "tempcreds-identity-arn");
  // Where the credentials come from and how the kernel hands them on (environment, endpoint).
  const facts = h("div", "tempcreds-facts");
  const sourceValue = h("span", "tempcreds-source");
  const deliveryValue = h("span", "tempcreds-delivery");
  facts.append(h("span", "tempcreds-fact-label", { text: "Source" }), sourceValue,
    h("span", "tempcreds-fact-label", { text: "Delivery" }), deliveryValue);
  identity.append(identityName, identityDetail, identityArn, facts);

  const remaining = h("div", "tempcreds-remaining");
  const remainingRow = h("div", "tempcreds-remaining-row");
  const remainingValue = h("span", "tempcreds-remaining-value");
  const remainingExpiry = h("span", "tempcreds-remaining-expiry");
  remainingRow.append(remainingValue, remainingExpiry);
  const bar = h("div", "tempcreds-bar", { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" });
  const barFill = h("div", "tempcreds-bar-fill");
  bar.append(barFill);
  remaining.append(remainingRow, bar);

  // Sessions opened with ipy_tempcreds.session(ROLE): other roles in use beside the environment's.
  const others = h("div", "tempcreds-others");
  const othersTitle = h("div", "tempcreds-label", { text: "Other sessions" });
  const othersList = h("div", "tempcreds-others-list");
  others.append(othersTitle, othersList);

  const problem = h("div", "tempcreds-problem", { role: "status" });
  const error = h("div", "tempcreds-error", { role: "alert" });

  root.append(header, fields, actions, extra, mfa, identity, remaining, others, problem, error);
  // The panel measures its own width (a CSS container), so it has none of its own to give a
  // parent that sizes by content (an ipywidgets Box): the host takes the width it is offered.
  el.classList.add("tempcreds-host");
  el.appendChild(root);

  // -- talking to the kernel --------------------------------------------------------------
  function send(action, fields = {}) {
    counter += 1;
    const seq = `${viewId}:${counter}`;
    pending.add(seq);
    model.send({ action, seq, ...fields });
    drawControls();
  }

  function onCustom(msg) {
    if (msg && msg.type === "done" && pending.delete(msg.seq)) drawControls();
    if (msg && msg.type === "clock" && Number.isFinite(msg.now)) {
      // The kernel read its clock just before answering: the answer's travel time (ms) is the
      // error, even when the question waited behind a long cell.
      clockOffset = msg.now - Date.now();
      drawClock();
    }
  }

  function assume() {
    if (assumeButton.disabled) return;
    send("assume", { role: roleInput.value.trim(), duration: Number(durationSelect.value) });
  }
  function submitCode() {
    if (mfaSubmit.disabled) return;
    const code = mfaInput.value.trim();
    // The code lives in the page only until it is sent: one use, then gone.
    mfaInput.value = "";
    send("mfa", { code });
  }

  assumeButton.addEventListener("click", assume);
  refreshButton.addEventListener("click", () => send("refresh"));
  releaseButton.addEventListener("click", () => send("release"));
  consoleButton.addEventListener("click", () => send("console"));
  ssoButton.addEventListener("click", () => send("sso"));
  mfaSubmit.addEventListener("click", submitCode);
  mfaCancel.addEventListener("click", () => { mfaInput.value = ""; send("cancel_mfa"); });
  roleInput.addEventListener("input", drawControls);
  roleInput.addEventListener("focus", drawRoleName);
  roleName.addEventListener("click", () => roleInput.focus());
  roleInput.addEventListener("blur", drawRoleName);
  roleInput.addEventListener("keydown", (event) => { if (event.key === "Enter") assume(); });
  mfaInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") submitCode();
    if (event.key === "Escape") mfaCancel.click();
  });
  // Keystrokes in the panel are for the panel, not JupyterLab's notebook shortcuts.
  for (const input of [roleInput, mfaInput, durationSelect]) {
    input.addEventListener("keydown", (event) => event.stopPropagation());
  }
  let durationChosen = false;
  durationSelect.addEventListener("change", () => { durationChosen = true; });

  // -- drawing ----------------------------------------------------------------------------
  let filledRole = "";

  function drawOptions() {
    roleList.replaceChildren(...(model.get("role_options") || []).map(
      // The suggestion shows the ARN next to an alias; an ARN typed as its own label shows once.
      (option) => h("option", "", option.label === option.arn ? { value: option.label } : { value: option.label, label: option.arn }),
    ));
    const chosen = durationChosen ? Number(durationSelect.value) : model.get("default_duration");
    durationSelect.replaceChildren(...(model.get("duration_options") || []).map(
      (option) => h("option", "", { value: String(option.seconds), text: option.label }),
    ));
    durationSelect.value = String(chosen);
    if (durationSelect.value !== String(chosen)) durationSelect.value = String(model.get("default_duration"));
  }

  function drawIdentity() {
    const arn = model.get("identity");
    root.classList.toggle("tempcreds-active", Boolean(arn));
    let parts;
    if (!arn) {
      setText(identityName, "No role assumed");
      setAttr(identityName, "title", null);
      parts = ["The kernel uses its own credentials."];
      identityArn.replaceChildren();
      setAttr(identityArn, "title", null);
    } else {
      const { name, detail } = describeIdentity(arn);
      const account = model.get("account");
      parts = [detail, account && `account ${account}`, model.get("auto_refresh") ? "auto-refresh on" : "auto-refresh off"];
      setText(identityName, name);
      setAttr(identityName, "title", name);
      if (identityArn.textContent !== arn) identityArn.replaceChildren(...breakable(arn));
      setAttr(identityArn, "title", arn);
    }
    const source = model.get("source");
    facts.hidden = !arn;
    setText(sourceValue, source || "unknown");
    setAttr(sourceValue, "title", model.get("source_detail"));
    setText(deliveryValue, model.get("delivery") || "environment");
    parts = parts.filter(Boolean);
    if (identityDetail.textContent !== parts.join("")) {
      identityDetail.replaceChildren(...parts.map((part) => h("span", "tempcreds-meta", { text: part })));
    }
    // Show the active role in the picker unless the user is typing another one there.
    const label = model.get("role_label");
    const untouched = roleInput.value === "" || roleInput.value === filledRole;
    if (label && untouched && document.activeElement !== roleInput) {
      roleInput.value = label;
      filledRole = label;
    }
    drawRoleName();
  }

  function drawRoleName() {
    const value = roleInput.value.trim();
    const role = parseRoleArn(value);
    const show = Boolean(role) && document.activeElement !== roleInput;
    roleName.hidden = !show;
    roleInput.classList.toggle("tempcreds-role-masked", show);
    if (!show) return;
    const alias = (model.get("role_options") || []).find((option) => option.arn === value && option.label !== value);
    setText(roleNameMain, alias ? alias.label : role.name);
    setAttr(roleName, "title", value);
    setText(roleNameAccount, role.account);
  }

  function currentLevel() {
    const expiresAt = model.get("expires_at");
    if (!expiresAt) return null;
    const lifetime = Math.max(1, (expiresAt - model.get("obtained_at")) / 1000);
    const left = (expiresAt - now()) / 1000;
    return { left, lifetime, level: levelOf(left, lifetime) };
  }

  function drawClock() {
    const state = currentLevel();
    remaining.hidden = !state;
    if (state) {
      const { left, lifetime, level } = state;
      const percent = Math.max(0, Math.min(100, (left / lifetime) * 100));
      setText(remainingValue, left > 0 ? `${formatRemaining(left)} left` : formatRemaining(left));
      const expiresAt = model.get("expires_at");
      const [zone, label] = [model.get("time_zone"), model.get("expires_zone")];
      setText(remainingExpiry, `${left > 0 ? "expires" : "expired at"} ${clockText(zone, label, expiresAt, now())}`);
      setAttr(remainingExpiry, "title", `${left > 0 ? "Expires" : "Expired"} ${momentText(zone, label, expiresAt)}`);
      barFill.style.width = `${percent.toFixed(2)}%`;
      setAttr(bar, "aria-valuenow", Math.round(percent));
      setAttr(remaining, "data-level", level);
    }
    drawStatus(state);
    drawOthers();
  }

  function drawOthers() {
    const sessions = model.get("other_sessions") || [];
    others.hidden = sessions.length === 0;
    const rows = sessions.map(({ label, arn, expires_at: expiresAt }) => {
      const left = (expiresAt - now()) / 1000;
      const row = h("div", "tempcreds-others-row", { title: arn });
      row.append(
        h("span", "tempcreds-others-label tempcreds-ellipsis", { text: label }),
        h("span", "tempcreds-others-left", { text: left > 0 ? `${formatRemaining(left)} left` : formatRemaining(left) }),
      );
      return row;
    });
    const text = rows.map((row) => row.textContent).join("|");
    if (othersList.dataset.drawn !== text) {
      othersList.replaceChildren(...rows);
      othersList.dataset.drawn = text;
    }
  }

  function drawStatus(state) {
    const busy = model.get("busy");
    let text;
    let kind;
    if (busy) [text, kind] = ["working…", "busy"];
    else if (pending.size) [text, kind] = ["waiting for kernel…", "busy"];
    else if (model.get("needs_mfa")) [text, kind] = ["MFA code needed", "warn"];
    else if (!state) [text, kind] = ["no role", "none"];
    else if (state.level === "expired") [text, kind] = ["expired", "danger"];
    else if (state.level === "ok") [text, kind] = ["active", "ok"];
    else [text, kind] = ["expiring soon", state.level];
    setText(status, text);
    setAttr(status, "data-kind", kind);
  }

  function drawControls() {
    const blocked = model.get("busy") || pending.size > 0;
    const active = Boolean(model.get("identity"));
    root.classList.toggle("tempcreds-busy", blocked);
    assumeButton.disabled = blocked || roleInput.value.trim() === "";
    setAttr(roleInput, "title", roleInput.value);  // a long ARN is cut by the field's width
    drawRoleName();
    extra.hidden = !model.get("show_console") && !model.get("show_sso");
    consoleButton.hidden = !model.get("show_console");
    ssoButton.hidden = !model.get("show_sso");
    consoleButton.disabled = blocked;
    ssoButton.disabled = blocked;
    refreshButton.disabled = blocked || !active;
    releaseButton.disabled = blocked || !active;
    const askCode = model.get("needs_mfa");
    mfa.hidden = !askCode;
    mfaSubmit.disabled = blocked;
    mfaCancel.disabled = blocked;
    const device = model.get("mfa_device");
    setText(mfaDevice, device ? `from ${device}` : "");
    setAttr(mfaDevice, "title", device);
    drawStatus(currentLevel());
  }

  function drawMessages() {
    const errorText = model.get("error");
    setText(error, errorText);
    error.hidden = !errorText;
    const problemText = model.get("problem");
    setText(problem, problemText);
    problem.hidden = !problemText;
  }

  let askedForCode = false;
  function drawAll() {
    drawIdentity();
    drawClock();
    drawMessages();
    drawControls();
    // Move the cursor to the code field when it appears, so the code can be typed at once.
    const askCode = model.get("needs_mfa");
    if (askCode && !askedForCode) mfaInput.focus();
    askedForCode = askCode;
  }

  drawOptions();
  drawAll();

  const watched = {
    "change:role_options": () => { drawOptions(); drawRoleName(); },
    "change:duration_options": drawOptions,
    "change:default_duration": drawOptions,
    "change:identity": drawAll,
    "change:account": drawIdentity,
    "change:role_label": drawIdentity,
    "change:auto_refresh": drawIdentity,
    "change:source": drawIdentity,
    "change:source_detail": drawIdentity,
    "change:delivery": drawIdentity,
    "change:time_zone": drawClock,
    "change:expires_zone": drawClock,
    "change:show_console": drawControls,
    "change:show_sso": drawControls,
    "change:expires_at": drawClock,
    "change:obtained_at": drawClock,
    "change:other_sessions": drawOthers,
    "change:error": drawMessages,
    "change:problem": drawMessages,
    "change:busy": drawControls,
    "change:needs_mfa": drawAll,
    "change:mfa_device": drawControls,
    "msg:custom": onCustom,
  };
  for (const [event, handler] of Object.entries(watched)) model.on(event, handler);
  const timer = setInterval(drawClock, TICK_MS);
  model.send({ clock: true });

  return () => {
    clearInterval(timer);
    for (const [event, handler] of Object.entries(watched)) model.off(event, handler);
  };
}

export default { render };
