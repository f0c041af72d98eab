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

  function moveCursor(step) {
    const all = rows();
    if (!all.length) return;
    const current = all.findIndex((r) => r.classList.contains("cursor"));
    const next = Math.max(0, Math.min(all.length - 1, current < 0 ? 0 : current + step));
    all.forEach((r) => r.classList.remove("cursor"));
    all[next].classList.add("cursor");
    all[next].scrollIntoView({ block: "nearest" });
  }

  function cursorRow() {
    return document.querySelector("table.queue tbody tr.cursor");
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
        window.location.href = row.dataset.href;
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

  // Keep the cursor on the same order after a row is swapped (claim, unclaim).
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (target && target.classList && target.classList.contains("cursor")) {
      document.body.dataset.cursorOrder = target.dataset.orderNo || "";
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    const no = document.body.dataset.cursorOrder;
    if (!no) return;
    const row = document.querySelector('tr[data-order-no="' + CSS.escape(no) + '"]');
    if (row) row.classList.add("cursor");
    delete document.body.dataset.cursorOrder;
  });
})();
