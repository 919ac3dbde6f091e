// An item's page: choosing and recording a decision (keys, the revise box, Enter never submits), findings
// shown on the section plot, the keys dialog, and the reservation released on leaving.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("item-config").textContent);
  const claim = JSON.parse(document.getElementById("claim-text").textContent);
  const form = document.getElementById("decision-form");
  const dialog = document.getElementById("keys-dialog");

  // --- Findings: highlight the quoted words and show the finding's window on the plot -------------------
  const plot = document.querySelector("[data-section-plot]") || document.getElementById("section-plot");
  document.querySelectorAll(".finding-button").forEach((button) => {
    button.addEventListener("click", () => {
      const index = button.dataset.finding;
      document.querySelectorAll(".finding-mark.active, .finding.active").forEach((el) => el.classList.remove("active"));
      const mark = document.getElementById(`claim-span-${index}`);
      if (mark) mark.classList.add("active");
      button.closest(".finding").classList.add("active");
      const windows = JSON.parse(button.dataset.windows || "[]");
      if (plot && windows.length) {
        plot.dispatchEvent(new CustomEvent("section-plot:show-window",
          {detail: {windows: windows.map((w) => ({axis: w.axis, range: w.range})), finding: Number(index)}}));
      }
    });
  });

  // --- The decision form ----------------------------------------------------------------------------
  if (form) {
    const box = form.querySelector("[data-revise-box]");
    const revised = document.getElementById("revised_text");
    const radios = Array.from(form.querySelectorAll("input[name=decision]"));
    const chosen = () => (radios.find((r) => r.checked) || {}).value || "";
    // The revised text is only for a revision: hidden and not sent otherwise.
    const sync = () => {
      const revise = chosen() === "revise";
      box.hidden = !revise;
      revised.disabled = !revise;
    };
    radios.forEach((r) => r.addEventListener("change", sync));
    sync();
    document.getElementById("start-from-claim").addEventListener("click", () => {
      if (revised.value.trim() && !window.confirm("Replace what you typed with the claim?")) return;
      revised.value = claim;
      revised.focus();
    });
    // Enter in a one-line field never submits (the disabled default button stops it without scripts too).
    form.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && event.target.tagName === "INPUT") {
        event.preventDefault();
      }
    });
    form.addEventListener("submit", () => {
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.dataset.busy = "1"; });
    });
    const choose = (value) => {
      const radio = radios.find((r) => r.value === value);
      if (!radio) return;
      radio.checked = true;
      radio.focus();
      sync();
      if (value !== "approve") document.getElementById(value === "revise" ? "revised_text" : "comment").focus();
    };
    window.reviewItemChoose = choose;
  }

  // --- Keys -----------------------------------------------------------------------------------------
  const KEYS = {a: "approve", r: "reject", e: "revise", m: "needs_analysis"};
  const typing = (el) => el && (el.isContentEditable || ["TEXTAREA", "SELECT"].includes(el.tagName) ||
    (el.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(el.type)));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      if (form) {
        event.preventDefault();
        form.requestSubmit(document.getElementById("decide-next"));
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (dialog && dialog.open) return;
    if (event.key === "?") {
      event.preventDefault();
      dialog.showModal();
    } else if (event.key === "j" && config.nextUrl) {
      window.location.href = config.nextUrl;
    } else if (event.key === "k" && config.previousUrl) {
      window.location.href = config.previousUrl;
    } else if (form && KEYS[event.key]) {
      event.preventDefault();
      window.reviewItemChoose(KEYS[event.key]);
    }
  });
  document.getElementById("show-keys").addEventListener("click", () => dialog.showModal());

  // --- The reservation: given up when the reviewer leaves the page ---------------------------------
  if (config.releaseUrl && navigator.sendBeacon) {
    const token = form ? form.querySelector("input[name=csrfmiddlewaretoken]").value : "";
    let sent = false;
    window.addEventListener("pagehide", () => {
      if (sent || (form && form.querySelector("button[data-busy]"))) return;  // deciding releases it anyway
      const body = new FormData();
      body.append("csrfmiddlewaretoken", token);
      sent = navigator.sendBeacon(config.releaseUrl, body);
    });
    window.addEventListener("pageshow", (event) => { if (event.persisted) window.location.reload(); });
  }
})();
