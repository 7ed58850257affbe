// The panel's Console action: the console opens in a new tab once the kernel has sent the sign-in
// URL, never before. Not a module of its own: ui/widgets/role_panel.py joins it before panel.js.
//
// A tab opened at the click and sent on later stayed blank when the sign-in failed, its
// explanation far away in the panel (issue 29). Now nothing opens until there is a URL; a failure
// shows only in the panel's error. A browser may refuse, as a popup, a tab opened this long after
// the click (the kernel may have been busy with a cell): the panel then shows a link, whose click
// opens it. The URL (a bearer secret for 15 minutes) comes in a custom message, which no frontend
// saves, and is never model state; it lives only in that tab, or in that link until it expires.
function consoleOpener(place) {
  let seq = null;
  let timer = null;

  function clear() {
    clearTimeout(timer);
    timer = null;
    place.replaceChildren();
    place.hidden = true;
  }

  function offerLink(url, expiresInMs) {
    const link = h("a", "tempcreds-console-open", {
      href: url, target: "_blank", rel: "noopener noreferrer", text: "Open the AWS console",
    });
    link.addEventListener("click", () => setTimeout(clear, 0));  // one use
    place.replaceChildren(link, h("span", "tempcreds-console-note", {
      text: " (the browser kept the new tab from opening by itself; the link signs in for 15 minutes)",
    }));
    place.hidden = false;
    timer = setTimeout(clear, Math.max(0, Number(expiresInMs) || 0));
  }

  return {
    request(sendAction) {
      clear();
      seq = sendAction();
    },
    onMessage(msg) {
      if (!msg || seq === null || msg.seq !== seq) return;
      if (msg.type === "console_url") {
        seq = null;
        const tab = window.open(msg.url, "_blank");
        if (tab) tab.opener = null;  // the console page must not reach back into the notebook's page
        else offerLink(msg.url, msg.expires_in_ms);
      } else if (msg.type === "done") {
        seq = null;  // no URL came: the panel's error says why, and no tab was opened
      }
    },
    clear,
  };
}
