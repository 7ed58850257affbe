// The panel's Console action: a browser tab opened on the click and sent to the sign-in URL
// when the kernel's answer arrives. Not a module of its own: ui/widgets/role_panel.py joins it before panel.js.
//
// The tab is opened at the click because browsers block, as a popup, a window opened later, when
// the answer arrives. The URL (a bearer secret for 15 minutes) comes in a custom message, which
// no frontend saves, and is never model state; it lives only in that tab's address bar.
function openingTab() {
  let tab = null;
  let seq = null;

  function close() {
    if (tab && !tab.closed) tab.close();
    tab = null;
    seq = null;
  }

  return {
    open(sendAction) {
      close();
      tab = window.open("", "_blank");
      if (tab) {
        tab.opener = null;  // the console page must not reach back into the notebook's page
        tab.document.title = "AWS console";
        tab.document.body.textContent = "Signing in to the AWS console…";
      }
      seq = sendAction();
    },
    onMessage(msg) {
      if (!msg || seq === null || msg.seq !== seq) return;
      if (msg.type === "console_url") {
        if (tab && !tab.closed) tab.location.replace(msg.url);
        else window.open(msg.url, "_blank", "noopener");  // the first tab was blocked or closed
        tab = null;
        seq = null;
      } else if (msg.type === "done") {
        close();  // no URL came: the panel's error says why
      }
    },
  };
}
