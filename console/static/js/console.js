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
      case "/": if (!focusSearch()) return; break;
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

  // "/" goes to the search box: the search page's own, else the top bar's (opening the menu on a
  // small screen first).
  function focusSearch() {
    const box = document.getElementById("search-q") || document.getElementById("global-q");
    if (!box) return false;
    const bar = box.closest(".topbar");
    if (bar && !bar.classList.contains("open") && box.offsetParent === null) toggleMenu(bar, true);
    box.focus();
    box.select();
    return true;
  }

  // ↓ from the search box moves to the first hit; j/k/Enter take over from there.
  document.addEventListener("keydown", function (event) {
    if (event.target.id !== "search-q" || event.key !== "ArrowDown") return;
    if (!rows().length) return;
    event.preventDefault();
    event.target.blur();
    cursorNo = null;
    moveCursor(1);
  });

  function toggleMenu(bar, open) {
    bar.classList.toggle("open", open);
    const button = document.getElementById("menu-toggle");
    if (button) button.setAttribute("aria-expanded", String(open));
  }

  document.addEventListener("click", function (event) {
    if (event.target.id !== "menu-toggle") return;
    const bar = event.target.closest(".topbar");
    toggleMenu(bar, !bar.classList.contains("open"));
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

  // Actions that move many orders or cut someone off ask first, naming how many (data-confirm on
  // the button that submits). A refusal sends nothing.
  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    const question = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

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

  // 撤销 of a bulk move counts down and goes away when the server would refuse it.
  function countDownUndo() {
    const form = document.getElementById("undo-move");
    if (!form) return;
    let left = parseInt(form.dataset.seconds, 10) || 0;
    const shown = form.querySelector(".undo-seconds");
    const timer = setInterval(function () {
      left -= 1;
      if (shown) shown.textContent = String(Math.max(left, 0));
      if (left <= 1) { clearInterval(timer); form.remove(); }
    }, 1000);
  }
  document.addEventListener("DOMContentLoaded", countDownUndo);

  // Toasts: a success fades after a few seconds (unless the pointer or focus is on it); any can be
  // closed.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .flash.success").forEach(function (toast) {
      setTimeout(function () {
        if (!toast.matches(":hover, :focus-within")) toast.remove();
      }, 8000);
    });
  });
  document.addEventListener("click", function (event) {
    if (event.target.classList && event.target.classList.contains("toast-close")) event.target.closest(".flash").remove();
  });

  // Rows are re-rendered after a claim or a filter change: paint the cursor again.
  document.addEventListener("htmx:afterSettle", paintCursor);

  // A request that failed (network, server error, refused CSRF token…) is said at the top of the
  // viewport with 重试, instead of an error page replacing a panel; what was typed stays.
  let failed = null;

  function showFailure(message, detail) {
    const box = document.getElementById("request-error");
    if (!box) return;
    failed = detail;
    box.querySelector(".message").textContent = message;
    box.hidden = false;
  }

  function messageOf(xhr) {
    const holder = document.createElement("div");
    holder.innerHTML = (xhr && xhr.responseText) || "";
    const text = (holder.querySelector("[role=alert]") || holder).textContent.replace(/\s+/g, " ").trim();
    return text && text.length < 200 ? text : "操作没有完成（服务器返回 " + (xhr ? xhr.status : "错误") + "）。";
  }

  document.addEventListener("htmx:responseError", function (event) {
    showFailure(messageOf(event.detail.xhr), event.detail);
  });
  document.addEventListener("htmx:sendError", function (event) {
    showFailure("网络连接中断，请求没有送达：内容仍在页面上，恢复后点「重试」。", event.detail);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && failed && failed.elt === event.detail.elt) {
      document.getElementById("request-error").hidden = true;
      failed = null;
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.id === "request-dismiss") {
      document.getElementById("request-error").hidden = true;
      failed = null;
    } else if (event.target.id === "request-retry" && failed) {
      const config = failed.requestConfig || {};
      const source = failed.elt;
      document.getElementById("request-error").hidden = true;
      if (source && document.body.contains(source) && config.verb && config.path) {
        htmx.ajax(config.verb.toUpperCase(), config.path, { source: source });
      } else {
        window.location.reload();
      }
    }
  });

  // Sessions that keep work. Unsent text of any form is kept in this tab (sessionStorage) while it is
  // typed and put back into the empty field when the page comes again (after signing in anew,
  // say); a form that was sent successfully forgets its drafts. Before the idle timeout a dialog
  // offers 保持登录.
  const DRAFT = "console-draft:";

  function draftable(field) {
    const form = field && field.form;
    return !!form && (form.getAttribute("method") || "").toLowerCase() === "post" && field.name &&
      field.name !== "csrf_token" && (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type === "text"));
  }

  function draftKey(field) {
    return DRAFT + location.pathname + "|" + (field.form.id || field.form.getAttribute("action")) + "|" + field.name;
  }

  function formKeys(form) {
    return Array.from(form.elements).filter(draftable).map(draftKey);
  }

  function restoreDrafts(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("form textarea, form input[type=text]").forEach((field) => {
      if (!draftable(field) || field.value) return;
      const saved = sessionStorage.getItem(draftKey(field));
      if (saved) { field.value = saved; field.classList.add("restored"); }
    });
  }

  document.addEventListener("input", function (event) {
    if (!draftable(event.target)) return;
    if (event.target.value) sessionStorage.setItem(draftKey(event.target), event.target.value);
    else sessionStorage.removeItem(draftKey(event.target));
  });
  document.addEventListener("submit", function (event) {
    // A full-page submit: forgotten once the next page confirms success (a .flash.success).
    if (!event.defaultPrevented && !event.target.hasAttribute("hx-post")) {
      sessionStorage.setItem(DRAFT + "pending", JSON.stringify(formKeys(event.target)));
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // Before the swap: the form may be replaced by it, and events on a removed form reach no one.
    const config = event.detail.requestConfig;
    const source = config && config.elt;
    const form = source && source.closest ? source.closest("form") : null;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (form && status >= 200 && status < 300) formKeys(form).forEach((key) => sessionStorage.removeItem(key));
  });
  document.addEventListener("DOMContentLoaded", function () {
    const pending = JSON.parse(sessionStorage.getItem(DRAFT + "pending") || "[]");
    sessionStorage.removeItem(DRAFT + "pending");
    if (document.querySelector(".flash.success")) pending.forEach((key) => sessionStorage.removeItem(key));
    restoreDrafts(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) { restoreDrafts(event.target); });

  const idleSeconds = Number(document.body.dataset.idleSeconds || 0);
  let lastActive = Date.now();
  let warned = false;

  document.addEventListener("htmx:beforeRequest", function (event) {
    const headers = (event.detail.requestConfig && event.detail.requestConfig.headers) || {};
    if (headers["X-Console-Poll"] !== "1") { lastActive = Date.now(); warned = false; }
  });
  if (idleSeconds) {
    setInterval(function () {
      const left = idleSeconds - (Date.now() - lastActive) / 1000;
      const dialog = document.getElementById("idle-warning");
      if (!dialog || warned || left > 120) return;
      warned = true;
      if (left <= 0) {
        document.getElementById("idle-title").textContent = "登录已失效";
        document.getElementById("idle-text").textContent = "因长时间未操作，登录已失效。未提交的内容已保存在此浏览器中，重新登录后会回到此页并恢复。";
        document.getElementById("idle-keep").textContent = "重新登录";
      }
      if (!dialog.open) dialog.showModal();
    }, 5000);
  }
  document.addEventListener("click", function (event) {
    if (event.target.id !== "idle-keep") return;
    const dialog = document.getElementById("idle-warning");
    if (event.target.textContent === "重新登录") {
      window.location.href = document.body.dataset.login + "?next=" + encodeURIComponent(location.pathname + location.search);
      return;
    }
    htmx.ajax("POST", document.body.dataset.keepalive, { source: document.body, swap: "none" }).then(function () {
      lastActive = Date.now();
      warned = false;
      dialog.close();
    });
  });

  // A row action (claim, give back) never loses to a filter refresh. Typing a search and then
  // clicking 领取 blurs the search box, which refreshes the list; an answer computed before the
  // claim would replace the claimed row with a stale one. So a list answer requested before the
  // latest row action is not swapped in; the list is asked for again once the row actions are
  // done (then it is computed after them).
  let counter = 0;
  let lastRowAction = 0;
  let rowActions = 0;
  let refreshWanted = false;

  function isRowAction(elt) {
    return !!(elt && elt.matches && elt.matches("button[hx-post]") && elt.closest("#results tbody"));
  }

  function refreshList() {
    const filters = document.getElementById("queue-filters");
    refreshWanted = false;
    if (filters) htmx.trigger(filters, "submit");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    if (elt && elt.id === "queue-filters") event.detail.xhr.consoleSeq = ++counter;
    else if (isRowAction(elt)) {
      lastRowAction = ++counter;
      rowActions += 1;
      // The row (and its button) is replaced by the answer, so htmx's afterRequest on the button
      // reaches no listener; the request's own end does, after htmx has swapped the row.
      event.detail.xhr.addEventListener("loadend", function () {
        rowActions = Math.max(0, rowActions - 1);
        if (rowActions === 0 && refreshWanted) refreshList();
      });
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    const config = event.detail.requestConfig;  // detail.elt is the swap target here
    const elt = config && config.elt;
    if (!(elt && elt.id === "queue-filters") || (event.detail.xhr.consoleSeq || 0) > lastRowAction) return;
    event.detail.shouldSwap = false;
    if (rowActions === 0) refreshList(); else refreshWanted = true;
  });

  // Live queue: every few seconds (data-poll-seconds) the visible page of the queue is asked for
  // again with the version the page shows (ETag); the server answers 304 without rendering when
  // nothing on it changed, so rows claimed or decided by others change within one interval. No
  // poll while the tab is hidden, rows are selected for a bulk move, more pages are loaded, the
  // user is working inside the list, or a row action is under way (the same rule as above).
  function pollQueue() {
    const results = document.getElementById("results");
    if (!results || !results.dataset.etag || document.visibilityState !== "visible") return;
    if (document.querySelector("input[form=bulk-form]:checked, #select-page:checked")) return;
    if (rows().length > parseInt(results.dataset.pageSize || "50", 10)) return;
    if (rowActions > 0 || document.querySelector("#queue-filters.htmx-request, #results .htmx-request")) return;
    const active = document.activeElement;
    if (active && active !== document.body && results.contains(active)) return;
    const seq = ++counter;
    fetch(window.location.href, {
      cache: "no-store", credentials: "same-origin",
      headers: { "HX-Request": "true", "X-Console-Poll": "1", "If-None-Match": results.dataset.etag },
    }).then(function (response) {
      if (response.status !== 200 || response.redirected || seq < lastRowAction || rowActions > 0) return null;
      const etag = response.headers.get("ETag");
      return response.text().then(function (html) {
        if (seq < lastRowAction || rowActions > 0) return;
        results.innerHTML = html;
        if (etag) results.dataset.etag = etag;
        htmx.process(results);
        paintCursor();
      });
    }).catch(function () { /* offline for a moment: the next interval tries again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const results = document.getElementById("results");
    const seconds = results && parseInt(results.dataset.pollSeconds || "0", 10);
    if (seconds > 0) setInterval(pollQueue, seconds * 1000);
  });
  // A filter change or "load more" answers with a new page: remember its version.
  document.addEventListener("htmx:afterRequest", function (event) {
    const results = document.getElementById("results");
    const etag = event.detail.xhr && event.detail.xhr.getResponseHeader("ETag");
    if (results && etag && event.detail.elt && event.detail.elt.id === "queue-filters") results.dataset.etag = etag;
  });

  // Desktop notification when new alerts arrive (opt-in on the alerts page; the badge's poll).
  let alertCount = null;
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "alert-badge-slot") return;
    const badge = document.getElementById("alert-badge");
    const count = badge ? parseInt(badge.dataset.count || "0", 10) : 0;
    if (alertCount !== null && count > alertCount && window.Notification &&
        Notification.permission === "granted" && localStorage.getItem("console.notify") === "1") {
      new Notification("备案审核台：新提醒", { body: "有 " + (count - alertCount) + " 条新提醒，共 " + count + " 条未确认", tag: "console-alerts" });
    }
    alertCount = count;
  });

  function paintNotifyButton() {
    const button = document.getElementById("notify-toggle");
    if (!button) return;
    const supported = !!window.Notification;
    const on = supported && Notification.permission === "granted" && localStorage.getItem("console.notify") === "1";
    button.textContent = !supported ? "此浏览器不支持桌面通知" : on ? "关闭桌面通知" : "开启桌面通知";
    button.disabled = !supported || Notification.permission === "denied";
    button.setAttribute("aria-pressed", String(on));
    const note = document.getElementById("notify-note");
    if (note && supported && Notification.permission === "denied") note.textContent = "浏览器已拒绝通知，请在浏览器的网站设置中允许。";
  }
  document.addEventListener("DOMContentLoaded", paintNotifyButton);
  document.addEventListener("click", function (event) {
    if (event.target.id !== "notify-toggle" || !window.Notification) return;
    if (localStorage.getItem("console.notify") === "1" && Notification.permission === "granted") {
      localStorage.removeItem("console.notify");
      paintNotifyButton();
      return;
    }
    Notification.requestPermission().then(function (permission) {
      if (permission === "granted") localStorage.setItem("console.notify", "1");
      paintNotifyButton();
    });
  });
})();
