// The banner that says a cell is running as another role (%%as_role, ipy_tempcreds.as_role): the
// kernel syncs cell_role = {label, identity} while such a cell runs and {} after it, and the panel
// shows the kernel's own identity below it all along. Not a module of its own:
// ui/widgets/role_panel.py joins it before panel.js.
function cellRoleBanner(model) {
  const el = h("div", "tempcreds-cell-role", { role: "status" });
  const title = h("span", "tempcreds-cell-role-title", { text: "This cell runs as" });
  const name = h("span", "tempcreds-cell-role-name");
  el.append(title, name);

  function draw() {
    const cell = model.get("cell_role") || {};
    el.hidden = !cell.identity;
    if (el.hidden) return;
    const { name: role } = describeIdentity(cell.identity);
    setText(name, cell.label && cell.label !== cell.identity ? `${cell.label} (${role})` : role);
    setAttr(el, "title", cell.identity);
  }

  return { el, draw };
}
