// The panel's console sign-in (%aws_login): the Sign in button, the prompt of a sign-in started
// here (its link; for a cross-device sign-in a field for the code the sign-in page shows), Cancel,
// and the login session's remaining lifetime. Not a module of its own: ui/widgets/role_panel.py
// joins it before panel.js. The code goes to the kernel in a custom message and is cleared from
// the page at once; it is never model state (which is saved into the notebook).
function loginPart(model, send, viewId) {
  const button = h("button", "tempcreds-button tempcreds-login", {
    type: "button", text: "Sign in", title: "Sign in with your AWS console credentials (as `aws login`)",
  });
  const prompt = h("div", "tempcreds-login-prompt", { role: "status" });
  const message = h("div", "tempcreds-login-message");
  const link = h("a", "tempcreds-login-link", { target: "_blank", rel: "noopener noreferrer", text: "Open the AWS sign-in page" });
  const codeId = `tempcreds-login-code-${viewId}`;
  const codeLabel = h("label", "tempcreds-label", { for: codeId, text: "Code from the sign-in page" });
  const code = h("input", "tempcreds-login-code tempcreds-input", {
    id: codeId, type: "password", autocomplete: "off", spellcheck: "false", placeholder: "paste the code",
  });
  const submit = h("button", "tempcreds-button tempcreds-primary tempcreds-login-submit", { type: "button", text: "Continue" });
  const cancel = h("button", "tempcreds-link tempcreds-login-cancel", { type: "button", text: "Cancel" });
  const row = h("div", "tempcreds-mfa-row tempcreds-login-row");
  row.append(code, submit);
  prompt.append(message, link, codeLabel, row, cancel);
  const session = h("div", "tempcreds-login-session");

  function submitCode() {
    if (submit.disabled || !code.value.trim()) return;
    const value = code.value;
    code.value = "";  // in the page only until it is sent
    send("login_code", { code: value });
  }
  button.addEventListener("click", () => send("login"));
  submit.addEventListener("click", submitCode);
  cancel.addEventListener("click", () => { code.value = ""; send("login_cancel"); });
  code.addEventListener("keydown", (event) => {
    event.stopPropagation();  // keystrokes here are not notebook shortcuts
    if (event.key === "Enter") submitCode();
    if (event.key === "Escape") cancel.click();
  });

  return {
    button,
    prompt,
    session,
    draw(blocked) {
      const state = model.get("login_prompt") || {};
      const waiting = state.state === "waiting";
      button.hidden = !model.get("show_login") || waiting;
      button.disabled = blocked;
      prompt.hidden = !state.message;
      setText(message, state.message || "");
      setAttr(prompt, "data-state", state.state || "");
      link.hidden = !state.link;
      setAttr(link, "href", state.link || null);
      for (const part of [codeLabel, row]) part.hidden = !(waiting && state.remote);
      cancel.hidden = !waiting;
      submit.disabled = blocked;
      return !button.hidden || !prompt.hidden;
    },
    drawClock(nowMs) {
      const ends = model.get("login_ends");
      session.hidden = !ends;
      if (ends) setText(session, `Login session: ${formatRemaining((ends - nowMs) / 1000)}${ends > nowMs ? " left at most" : ""}`);
    },
  };
}
