// Live progress of briefs being compiled: each queued or running brief on the page asks the API for its
// status every second (the session cookie signs the request in) and moves its bar; once ready, its download
// links appear. Served from /static/, so the page keeps its script-src 'self' policy.
"use strict";

(function () {
  const WAITING = new Set(["queued", "running"]);

  function show(item, brief) {
    const bar = item.querySelector("progress");
    const status = item.querySelector(".brief-status");
    const files = item.querySelector(".brief-files");
    item.dataset.status = brief.status;
    bar.value = brief.progress;
    bar.textContent = brief.progress + " %";
    const labels = item.closest(".briefs").dataset;  // the status names in the page's language
    const label = labels["label" + brief.status.charAt(0).toUpperCase() + brief.status.slice(1)] || brief.status;
    status.textContent = WAITING.has(brief.status) ? label + " · " + brief.progress + " %" : label;
    files.hidden = brief.status !== "ready";
    if (brief.status === "failed" && brief.error) {
      let error = item.querySelector(".brief-error");
      if (!error) {
        error = document.createElement("span");
        error.className = "brief-error";
        item.appendChild(error);
      }
      error.textContent = brief.error;
    }
  }

  function follow(item) {
    fetch(item.dataset.briefUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (brief) {
        show(item, brief);
        if (WAITING.has(brief.status)) window.setTimeout(function () { follow(item); }, 1000);
      })
      .catch(function () { window.setTimeout(function () { follow(item); }, 5000); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".brief[data-brief-url]").forEach(function (item) {
      if (WAITING.has(item.dataset.status)) follow(item);
    });
    // One click compiles one brief: the button waits for the page that answers.
    document.querySelectorAll("form.compile").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelector("button").disabled = true;
      });
    });
  });
})();
