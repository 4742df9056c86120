// Accord's only script of its own: progressive enhancement. Every form works without it.
(function () {
  "use strict";

  // The proposal form shows the parts its agreement kind uses; hidden parts are disabled,
  // so they are not posted.
  function applyKind(form) {
    var select = form.querySelector("[data-kind-select]");
    if (!select) return;
    var kind = select.value;
    form.querySelectorAll("[data-kinds]").forEach(function (part) {
      var used = part.getAttribute("data-kinds").split(" ").indexOf(kind) >= 0;
      part.hidden = !used;
      part.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !used; });
    });
    // Suggest the usual roles for parties whose role the officer has not chosen: an empty
    // one, or one suggested for the kind chosen before.
    var roles = JSON.parse((document.getElementById("party-roles") || {}).textContent || "{}")[kind];
    if (!roles) return;
    form.querySelectorAll("[data-party-role]").forEach(function (el) {
      var index = parseInt(el.getAttribute("data-party-role"), 10);
      if ((!el.value || el.dataset.suggested) && index < roles.length) {
        el.value = roles[index];
        el.dataset.suggested = "1";
      }
    });
  }

  // "Add another …": copy the last row of a repeated group with the next row number.
  function addRow(button) {
    var group = button.closest("[data-rows]");
    var rows = group.querySelectorAll("[data-row]");
    var last = rows[rows.length - 1];
    var next = rows.length;
    var copy = last.cloneNode(true);
    var prefix = group.getAttribute("data-rows");
    var pattern = new RegExp("(" + prefix + "-)\\d+");
    copy.querySelectorAll("[id], [name], [for], [aria-describedby]").forEach(function (el) {
      ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(pattern, "$1" + next));
      });
      if (el.matches("input:not([type=checkbox]), textarea")) el.value = "";
      if (el.matches("input[type=checkbox]")) el.checked = false;
      if (el.matches("select")) el.selectedIndex = 0;
      if (el.hasAttribute("data-party-role")) el.setAttribute("data-party-role", String(next));
      delete el.dataset.suggested;
      el.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("label").forEach(function (label) {
      label.textContent = label.textContent.replace(/\d+/, String(next + 1));
    });
    last.after(copy);
    var first = copy.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-kind-form]").forEach(function (form) {
      applyKind(form);
      form.addEventListener("change", function (event) {
        if (event.target.matches("[data-party-role]")) delete event.target.dataset.suggested;
      });
      var select = form.querySelector("select[data-kind-select]");
      if (select) select.addEventListener("change", function () { applyKind(form); });
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-add-row]");
      if (button) { event.preventDefault(); addRow(button); }
    });
    // A page opened on a task scrolls to it and moves focus there for keyboard users; a
    // refusal takes focus first.
    var focused = document.getElementById("refused") || document.querySelector(".task.focused");
    if (focused) { focused.setAttribute("tabindex", "-1"); focused.focus(); }
  });
})();
