// The role panel's view (anywidget ES module).
//
// It draws what the kernel syncs and runs the countdown itself, so the remaining lifetime keeps
// ticking while a long cell occupies the kernel and no kernel message is sent per tick. Clicks go
// to the kernel as custom messages ({action, seq, ...}); the kernel answers {type: "done", seq}
// once it has handled one, which may be long after the click if a cell is running. The view never
// sets a model trait: synced state is saved into the notebook, and an MFA code must never be.

// Its wording and formatting helpers are in panel_text.js, which ui/widgets/role_panel.py puts before
// this file (anywidget takes one ES module).

const TICK_MS = 1000;

function render({ model, el }) {
  const viewId = Math.random().toString(36).slice(2, 10);
  let counter = 0;
  const pending = new Set();  // clicks sent, until the kernel says it handled them ("done")
  const answered = new Set();  // of those, the ones whose call to AWS is over: the state shows how it went
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
  const login = loginPart(model, send, viewId);  // login_tab.js
  // Where the console's link shows if the browser kept its tab from opening (console_tab.js).
  const consolePlace = h("div", "tempcreds-console-place", { hidden: true });
  extra.append(consoleButton, ssoButton, login.button, consolePlace);

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
  // What the last action did, when a glance would not show it: "renewed, expires 15:42 UTC".
  const notice = h("div", "tempcreds-notice", { role: "status" });

  const cellRole = cellRoleBanner(model);  // cell_role.js
  root.append(header, cellRole.el, fields, actions, extra, login.prompt, mfa, identity, remaining, login.session, others,
    problem, notice, error);
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
    return seq;
  }

  function onCustom(msg) {
    consoleTab.onMessage(msg);
    if (msg && msg.type === "done" && pending.delete(msg.seq)) {
      answered.delete(msg.seq);
      drawControls();
    }
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
  const consoleTab = consoleOpener(consolePlace);  // console_tab.js
  consoleButton.addEventListener("click", () => consoleTab.request(() => send("console")));
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
    // The active credentials' own lifetime (a 15-minute role shows 15m), else the configured default,
    // unless the user picked one since they changed.
    const chosen = durationChosen ? Number(durationSelect.value) : (model.get("active_duration") || model.get("default_duration"));
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
      const described = describeIdentity(arn);
      // IAM Identity Center's role is named as the picker lists it ("analytics / Reader"), not by
      // the AWSReservedSSO_… role AWS made for it (that stays in the ARN below).
      const name = model.get("role_name") || described.name;
      const detail = described.detail;
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
      const full = `${left > 0 ? "Expires" : "Expired"} ${momentText(zone, label, expiresAt)}`;
      setAttr(remainingExpiry, "title", full);
      setAttr(remainingValue, "title", full);  // the countdown's tooltip says the same
      barFill.style.width = `${percent.toFixed(2)}%`;
      setAttr(bar, "aria-valuenow", Math.round(percent));
      setAttr(remaining, "data-level", level);
    }
    drawStatus(state);
    login.drawClock(now());
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
    const waiting = [...pending].some((seq) => !answered.has(seq));
    let text;
    let kind;
    // "working…" only while the kernel calls AWS for this panel (busy); before that (a click may
    // wait behind a running cell), "waiting for kernel…"; once AWS has answered, the state it
    // brought, while the kernel finishes (readers, pickers) with the buttons still held.
    if (busy) [text, kind] = ["working…", "busy"];
    else if (waiting) [text, kind] = ["waiting for kernel…", "busy"];
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
    const loginShown = login.draw(blocked);
    extra.hidden = !drawSsoPrompt(extra, model.get("sso_prompt")) && !model.get("show_console") && !model.get("show_sso")
      && !loginShown;
    consoleButton.hidden = !model.get("show_console");
    ssoButton.hidden = !model.get("show_sso");
    // The console opens as the active role: without one there is nothing to open.
    consoleButton.disabled = blocked || !active;
    setAttr(consoleButton, "title", active ? "Open the AWS console as this role"
      : "Assume a role first: the console opens as the active role");
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
    const noticeText = model.get("notice");
    setText(notice, noticeText);
    notice.hidden = !noticeText;
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
  cellRole.draw();

  const watched = {
    "change:role_options": () => { drawOptions(); drawRoleName(); },
    "change:duration_options": drawOptions,
    "change:default_duration": drawOptions,
    "change:identity": () => {
      durationChosen = false;  // other credentials: the picker shows their lifetime again
      consoleTab.clear();  // a link offered for the previous identity
      drawOptions();
      drawAll();
    },
    "change:active_duration": drawOptions,
    "change:role_name": drawIdentity,
    "change:notice": drawMessages,
    "change:account": drawIdentity,
    "change:role_label": drawIdentity,
    "change:auto_refresh": drawIdentity,
    "change:source": drawIdentity,
    "change:source_detail": drawIdentity,
    "change:delivery": drawIdentity,
    "change:time_zone": drawClock,
    "change:expires_zone": drawClock,
    "change:show_console": drawControls,
    "change:show_sso": drawControls, "change:sso_prompt": drawControls,
    "change:show_login": drawControls, "change:login_prompt": drawControls, "change:login_ends": drawClock,
    "change:expires_at": drawClock,
    "change:obtained_at": drawClock,
    "change:other_sessions": drawOthers, "change:cell_role": cellRole.draw,
    "change:error": drawMessages,
    "change:problem": drawMessages,
    "change:busy": () => {
      if (!model.get("busy")) for (const seq of pending) answered.add(seq);
      drawControls();
    },
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
