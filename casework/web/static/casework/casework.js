/* Casework page behaviour: idle warning, keeping typed text, one submit per click. No framework. */
(function () {
  "use strict";

  var DRAFT_PREFIX = "cw-draft:";
  var AUTH_PATHS = ["/login/", "/account/two-factor/"];

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function onAuthPage() {
    return AUTH_PATHS.some(function (p) { return window.location.pathname.indexOf(p) === 0; });
  }

  /* ---- Keep what was typed (sessionStorage: gone when the tab closes) ---- */
  function draftKey(form) { return DRAFT_PREFIX + (form.getAttribute("action") || window.location.pathname); }

  function readFields(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!keepable(el) || el.type === "submit") return;
      if (el.type === "checkbox" || el.type === "radio") { if (el.checked) data[el.name + "=" + el.value] = true; }
      else data[el.name] = el.value;
    });
    return data;
  }

  function writeFields(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!keepable(el)) return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = !!data[el.name + "=" + el.value];
      else if (Object.prototype.hasOwnProperty.call(data, el.name)) el.value = data[el.name];
    });
  }

  /* Hidden fields are kept too: the record version (so a stale edit is still caught after
     signing in again) and the submission key (so a resend cannot make a second record). */
  function keepable(el) {
    return el.name && el.type !== "password" && el.type !== "file" && el.name !== "csrfmiddlewaretoken";
  }

  function keepDrafts() {
    var me = document.body.dataset.user || "";
    for (var i = sessionStorage.length - 1; i >= 0; i--) {
      var key = sessionStorage.key(i);
      if (!key || key.indexOf(DRAFT_PREFIX) !== 0) continue;
      try {
        var saved = JSON.parse(sessionStorage.getItem(key));
        if (onAuthPage()) {
          // A submit that lands on sign-in was not saved: keep it to put back after signing in.
          if (saved.submitted && !saved.viaSignIn) {
            saved.viaSignIn = true;
            sessionStorage.setItem(key, JSON.stringify(saved));
          }
        }
        // Someone else's typing (a shared computer) is never shown to the next person.
        else if (saved.user !== me) sessionStorage.removeItem(key);
        // A submit that reached the server without a sign-in on the way was saved: forget it.
        else if (saved.submitted && (!saved.viaSignIn || saved.page !== window.location.pathname)) sessionStorage.removeItem(key);
      } catch (e) { sessionStorage.removeItem(key); }
    }
    document.querySelectorAll("form[data-keep-draft]").forEach(function (form) {
      var key = draftKey(form);
      var stored = sessionStorage.getItem(key);
      var hasErrors = !!form.querySelector(".error-text");
      if (stored && !hasErrors) {
        try {
          writeFields(form, JSON.parse(stored).fields);
          var note = document.createElement("p");
          note.className = "notice";
          note.setAttribute("role", "status");
          note.textContent = "We put back what you had typed before you were signed out. Check it, then save.";
          form.insertBefore(note, form.firstChild);
        } catch (e) { sessionStorage.removeItem(key); }
      }
      var save = function (submitted) {
        sessionStorage.setItem(key, JSON.stringify({ fields: readFields(form), page: window.location.pathname, submitted: submitted, user: me }));
      };
      form.addEventListener("input", function () { save(false); });
      form.addEventListener("change", function () { save(false); });
      form.addEventListener("submit", function () { save(true); });
    });
    document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
      form.addEventListener("submit", function () {
        for (var i = sessionStorage.length - 1; i >= 0; i--) {
          var key = sessionStorage.key(i);
          if (key && key.indexOf(DRAFT_PREFIX) === 0) sessionStorage.removeItem(key);
        }
      });
    });
  }

  /* ---- One submit per click ---- */
  function submitOnce() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.dataset.submitting === "1") { event.preventDefault(); return; }
      form.dataset.submitting = "1";
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form").forEach(function (form) {
        form.dataset.submitting = "";
        form.querySelectorAll("[type=submit]").forEach(function (b) { b.disabled = false; });
      });
    });
  }

  /* ---- Idle warning before the agency's sign-out time ---- */
  function idleWarning() {
    var body = document.body;
    var total = parseInt(body.dataset.idleSeconds || "0", 10);
    var dialog = document.getElementById("idle-warning");
    if (!total || !dialog) return;
    var warnAt = Math.max(total - 120, Math.floor(total * 0.8));
    var deadline, warnTimer, tick;
    var countdown = dialog.querySelector("[data-idle-countdown]");

    function schedule(secondsLeft) {
      window.clearTimeout(warnTimer); window.clearInterval(tick);
      deadline = Date.now() + secondsLeft * 1000;
      if (dialog.open) dialog.close();
      warnTimer = window.setTimeout(check, Math.max(0, secondsLeft - (total - warnAt)) * 1000);
    }
    function check() {
      fetch("/session/status", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
        if (!s.authenticated || s.seconds_left <= 0) return signedOut();
        if (s.seconds_left > total - warnAt + 5) return schedule(s.seconds_left); // another tab kept us alive
        deadline = Date.now() + s.seconds_left * 1000;
        if (!dialog.open) dialog.showModal();
        tick = window.setInterval(render, 1000); render();
      }).catch(function () { warnTimer = window.setTimeout(check, 15000); });
    }
    function render() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left <= 0) { window.clearInterval(tick); signedOut(); }
    }
    function signedOut() {
      var next = window.location.pathname + window.location.search;
      window.location.href = body.dataset.loginUrl + "?reason=idle&next=" + encodeURIComponent(next);
    }
    dialog.querySelector("[data-idle-stay]").addEventListener("click", function () {
      fetch("/session/keepalive", { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
        .then(function (r) { return r.json(); })
        .then(function (s) { if (s.authenticated) schedule(s.seconds_left); else signedOut(); });
    });
    document.body.addEventListener("htmx:afterRequest", function () { schedule(total); });
    schedule(total);
  }

  /* ---- Live search: announce the number of matches, not the whole table ---- */
  function announceSearchResults() {
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var status = document.getElementById("search-status");
      if (!status || !event.detail.target || event.detail.target.id !== "results") return;
      var summary = event.detail.target.querySelector("[data-search-summary]");
      status.textContent = summary ? summary.textContent.replace(/\s+/g, " ").trim() : "";
    });
  }

  /* ---- Service notes: autosave to the server, a running timer, quick phrases ---- */
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function noteDuration(form) {
    var out = form.querySelector("[data-duration]");
    var start = form.elements.start_time, end = form.elements.end_time;
    if (!out || !start || !end) return;
    var show = function () {
      if (!start.value || !end.value) { out.textContent = ""; return; }
      var a = start.value.split(":"), b = end.value.split(":");
      var minutes = (+b[0] * 60 + +b[1]) - (+a[0] * 60 + +a[1]);
      if (minutes <= 0) minutes += 24 * 60;  // past midnight, as the server reads it
      out.textContent = minutes + " minutes";
    };
    start.addEventListener("change", show);
    end.addEventListener("change", show);
    show();
  }

  function noteTimer(form) {
    var button = form.querySelector("[data-timer]");
    if (!button) return;
    // The agency's clock, not the device's: the server reads the times in the agency's zone.
    var clock = new Intl.DateTimeFormat("en-GB", { timeZone: form.getAttribute("data-time-zone") || undefined, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    var now = function () { return clock.format(new Date()); };
    var running = false;
    button.addEventListener("click", function () {
      var field = running ? form.elements.end_time : form.elements.start_time;
      field.value = now();
      if (!running) form.elements.end_time.value = "";
      field.dispatchEvent(new Event("change", { bubbles: true }));
      running = !running;
      button.textContent = running ? "Stop timer" : "Start timer";
      button.setAttribute("aria-pressed", running ? "true" : "false");
    });
  }

  function quickPhrases(form) {
    var picker = form.querySelector("[data-phrase-picker]");
    if (!picker) return;
    var last = form.querySelector("[data-phrase-target]");
    form.querySelectorAll("[data-phrase-target]").forEach(function (area) {
      area.addEventListener("focus", function () { last = area; });
    });
    picker.addEventListener("change", function () {
      if (!picker.value || !last) return;
      var at = last.selectionStart || last.value.length;
      var text = (at && last.value.charAt(at - 1) !== " " && last.value.charAt(at - 1) !== "\n" ? " " : "") + picker.value;
      last.value = last.value.slice(0, at) + text + last.value.slice(at);
      picker.value = "";
      last.focus();
      last.setSelectionRange(at + text.length, at + text.length);
      last.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  function noteAutosave(form) {
    var url = form.getAttribute("data-autosave");
    var status = form.querySelector("[data-autosave-status]");
    var quote = form.querySelector("[data-quote-target]");
    var timer = null, saving = false, again = false;
    var say = function (text) { if (status) status.textContent = text; };
    var save = function () {
      if (saving) { again = true; return; }
      saving = true;
      var data = new FormData(form);
      data.delete("action");
      fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
        .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
        .then(function (res) {
          if (res.body.saved) {
            form.elements.version.value = res.body.version;
            // The server has it now: a kept copy would bring back a stale version on reload.
            sessionStorage.removeItem(draftKey(form));
            var t = new Date(res.body.saved_at);
            say("Draft saved at " + pad(t.getHours()) + ":" + pad(t.getMinutes()) + ".");
            if (quote) fetch(form.getAttribute("data-quote"), { credentials: "same-origin" })
              .then(function (r) { return r.text(); }).then(function (html) { quote.innerHTML = html; });
          } else if (res.body.conflict) {
            say(res.body.message);
          } else {
            var first = res.body.errors ? Object.values(res.body.errors)[0] : null;
            say("Not saved yet: " + (res.body.message || (first && first[0]) || "please check the form.") + " Your text is kept in this browser.");
          }
        })
        .catch(function () { say("Offline: your text is kept in this browser and saved when you are back online."); })
        .then(function () { saving = false; if (again) { again = false; save(); } });
    };
    var soon = function () { window.clearTimeout(timer); timer = window.setTimeout(save, 1500); };
    // A Save or Sign submits everything itself; an autosave racing it would make it look stale.
    form.addEventListener("submit", function () { window.clearTimeout(timer); });
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    window.addEventListener("online", save);
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function saveOnChange(form) {
    form.querySelectorAll("[data-save-on-change]").forEach(function (el) {
      el.addEventListener("change", function () {
        var save = form.querySelector("button[name=action][value=save]");
        if (save) save.click();
      });
    });
  }

  function notes() {
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      saveOnChange(form);
      noteDuration(form);
      noteTimer(form);
      quickPhrases(form);
      noteAutosave(form);
    });
    confirmForms();
  }

  /* ---- A read-only address to copy is selected whole when focused ---- */
  function selectOnFocus() {
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    keepDrafts();
    selectOnFocus();
    announceSearchResults();
    submitOnce();
    idleWarning();
    notes();
  });
})();
