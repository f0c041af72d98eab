// 备案审核台: keyboard shortcuts and small behaviours. No inline scripts (CSP), no build step.
(function () {
  "use strict";

  function typing(event) {
    const t = event.target;
    return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
  }

  function rows() {
    return Array.from(document.querySelectorAll("table.queue tbody tr[data-order-no]"));
  }

  // The cursor is remembered by order number, so it survives rows being re-rendered.
  let cursorNo = null;

  function paintCursor() {
    rows().forEach((r) => r.classList.toggle("cursor", r.dataset.orderNo === cursorNo));
  }

  function moveCursor(step) {
    const all = rows();
    if (!all.length) return;
    const current = all.findIndex((r) => r.dataset.orderNo === cursorNo);
    const next = Math.max(0, Math.min(all.length - 1, current < 0 ? 0 : current + step));
    cursorNo = all[next].dataset.orderNo;
    paintCursor();
    all[next].scrollIntoView({ block: "nearest" });
  }

  function cursorRow() {
    return rows().find((r) => r.dataset.orderNo === cursorNo) || null;
  }

  function click(selector, root) {
    const el = (root || document).querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  function toggleHelp() {
    const dialog = document.getElementById("keys-help");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    const inQueue = !!document.querySelector("table.queue, #queue-empty");
    const inWorkspace = !!document.getElementById("workspace-root");
    switch (event.key) {
      case "?": toggleHelp(); break;
      case "j": if (inQueue) moveCursor(1); else return; break;
      case "k": if (inQueue) moveCursor(-1); else return; break;
      case "Enter": {
        const row = inQueue && cursorRow();
        if (!row) return;
        window.location.href = row.querySelector("a").href;
        break;
      }
      case "c": {
        const row = inQueue && cursorRow();
        if (!row || !click("button.claim", row)) return;
        break;
      }
      case "n": if (!(inQueue && click("#claim-next"))) return; break;
      case "a": if (!(inWorkspace && focusDecision("approve"))) return; break;
      case "r": if (!(inWorkspace && focusDecision("reject"))) return; break;
      default: return;
    }
    event.preventDefault();
  });

  function focusDecision(kind) {
    const form = document.getElementById(kind + "-form");
    if (!form) return false;
    form.scrollIntoView({ block: "center" });
    const first = form.querySelector("textarea, input[type=checkbox]") || form.querySelector("button[type=submit]");
    if (first) first.focus();
    form.classList.add("focus-flash");
    setTimeout(() => form.classList.remove("focus-flash"), 800);
    return true;
  }

  // Long form posts (bulk moves) show that they are working and cannot be sent twice.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.hasAttribute("data-busy")) form.classList.add("busy");
  });

  // "Select all on this page" for supervisors' bulk moves.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "select-page") return;
    document.querySelectorAll('input[name=order][form=bulk-form]').forEach((box) => {
      box.checked = event.target.checked;
    });
  });

  // Rows are re-rendered after a claim or a filter change: paint the cursor again.
  document.addEventListener("htmx:afterSettle", paintCursor);
})();
