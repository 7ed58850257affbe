// %aws_console's view (anywidget ES module): a sign-in link that exists only in this page.
//
// The URL never becomes model state (synced state is saved into the notebook): the view asks the
// kernel with a custom message when it is drawn, and the kernel answers with one. Each view has
// its own request id, since the kernel's answer reaches every view of the widget.

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function minutes(ms) {
  return Math.max(1, Math.round(ms / 60000));
}

function render({ model, el }) {
  const request = Math.random().toString(36).slice(2, 12);
  const root = h("div", "tempcreds-console-view");
  el.append(root);
  let timer = null;

  function show(...nodes) {
    root.replaceChildren(...nodes);
  }

  function ask() {
    show(h("span", "tempcreds-console-status", "Asking the kernel for a console sign-in link…"));
    model.send({ type: "console_url", request });
  }

  function retry(label) {
    const button = h("button", "tempcreds-console-renew", label);
    button.type = "button";
    button.addEventListener("click", ask);
    return button;
  }

  function expired() {
    timer = null;
    show(h("span", "tempcreds-console-status", "The sign-in link expired. "), retry("New link"));
  }

  function onMessage(message) {
    if (!message || message.request !== request) return;
    clearTimeout(timer);
    if (message.type === "console_error") {
      show(h("span", "tempcreds-console-error", message.message), retry("Try again"));
      return;
    }
    if (message.type !== "console_url") return;
    const link = h("a", "tempcreds-console-link", "Open the AWS console");
    link.href = message.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.title = message.destination;
    const who = h("span", "tempcreds-console-identity", ` as ${message.identity}`);
    const note = h("div", "tempcreds-console-note",
      `link expires in ${minutes(message.expires_in_ms)} min; whoever opens it is signed in as this identity`);
    show(link, who, note);
    timer = setTimeout(expired, message.expires_in_ms);
  }

  model.on("msg:custom", onMessage);
  ask();
  return () => {
    clearTimeout(timer);
    model.off("msg:custom", onMessage);
  };
}

export default { render };
