// The review queue. Live: when the server says the queue changed (websocket; every 30 s without one) the
// counts and the rows on screen are refreshed in place, rows that left this view are marked rather than
// removed, and new items are announced ("3 new items — show") instead of reshuffling what the reviewer
// is reading. Also: due times in the viewer's time zone, and the bulk selection.
(function () {
  const queue = document.getElementById("queue");
  const status = document.getElementById("live-status");
  const notice = document.getElementById("new-items");
  const form = document.getElementById("bulk-form");
  if (!queue) return;
  let maxId = Number(queue.dataset.maxId || 0);
  let timer = null;
  let pending = null;
  // (dateStyle/timeStyle cannot be combined with timeZoneName: Chromium throws)
  const absolute = new Intl.DateTimeFormat(undefined, {weekday: "short", year: "numeric", month: "short", day: "numeric",
                                                       hour: "2-digit", minute: "2-digit", timeZoneName: "short"});

  function decorate(root) {
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) el.title = absolute.format(when);
    });
  }

  function counted() {
    const n = queue.querySelectorAll("input[name=ids]:checked").length;
    const label = document.getElementById("selected-count");
    if (label) label.textContent = n ? `(${n} selected)` : "(none selected)";
  }

  async function fetchFragment(since) {
    const url = queue.dataset.fragmentUrl + (since === null ? "" : `&since=${since}`);
    const response = await fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}});
    if (!response.ok) return null;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const counts = doc.getElementById("live-counts");
    if (counts) document.getElementById("queue-counts").innerHTML = counts.innerHTML;
    return doc;
  }

  // Update the rows on screen from the server's copy, keep their selection; never add or reorder rows.
  async function refresh() {
    const doc = await fetchFragment(maxId);
    if (!doc) return;
    queue.querySelectorAll("tbody tr[data-id]").forEach((row) => {
      const fresh = doc.getElementById(row.id);
      const box = row.querySelector("input[name=ids]");
      const checked = box && box.checked;
      if (fresh) {
        row.replaceWith(fresh);
        const again = fresh.querySelector("input[name=ids]");
        if (again) again.checked = checked;
      } else if (!row.classList.contains("gone")) {
        row.classList.add("gone");
        if (box) { box.checked = false; box.disabled = true; }
        const claim = row.querySelector(".q-claim");
        if (claim) claim.insertAdjacentHTML("beforeend", ' <span class="status">left this view</span>');
      }
    });
    decorate(queue);
    counted();
    const meta = doc.getElementById("live-meta");
    const fresh = meta ? Number(meta.dataset.newCount || 0) : 0;
    if (fresh > 0) {
      notice.innerHTML = "";
      const text = document.createElement("span");
      text.textContent = `${fresh} new item${fresh === 1 ? "" : "s"} `;
      const show = document.createElement("button");
      show.type = "button";
      show.id = "show-new";
      show.textContent = "show";
      show.addEventListener("click", showAll);
      notice.append(text, show);
      notice.classList.add("visible");
    }
  }

  // Re-read the whole page of the queue (the reviewer asked for it): new items take their places.
  async function showAll() {
    const doc = await fetchFragment(null);
    if (!doc) return;
    queue.innerHTML = doc.getElementById("live-rows").innerHTML;
    const meta = doc.getElementById("live-meta");
    if (meta) maxId = Number(meta.dataset.maxId || maxId);
    queue.dataset.maxId = String(maxId);
    notice.innerHTML = "";
    notice.classList.remove("visible");
    decorate(queue);
    counted();
    const first = queue.querySelector("tbody a.item-link");
    if (first) first.focus();
  }

  function soon() {  // a burst of changes (a bulk action) is one refresh
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 300);
  }

  function poll() {
    if (timer) return;
    status.textContent = "live updates unavailable: refreshing every 30 s";
    timer = setInterval(refresh, 30000);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/review/queue/`);
    socket.onopen = () => {
      status.textContent = "live";
      status.dataset.live = "1";
      if (timer) { clearInterval(timer); timer = null; }
    };
    socket.onmessage = soon;
    socket.onclose = () => { status.dataset.live = ""; poll(); setTimeout(connect, 5000); };
  }

  queue.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      const all = event.target.checked;
      queue.querySelectorAll("input[name=ids]:not(:disabled)").forEach((box) => { box.checked = all; });
    }
    counted();
  });
  if (form) form.addEventListener("submit", (event) => {
    const action = event.submitter && event.submitter.value;
    const reason = document.getElementById("bulk-reason");
    if (!queue.querySelector("input[name=ids]:checked")) {
      event.preventDefault();
      status.textContent = "Select items first.";
    } else if (action === "reject" && reason && !reason.value.trim()) {
      event.preventDefault();
      reason.setCustomValidity("Give the reason for rejecting: it is recorded with each item.");
      reason.reportValidity();
    }
  });
  const reason = document.getElementById("bulk-reason");
  if (reason) reason.addEventListener("input", () => reason.setCustomValidity(""));
  decorate(document);
  connect();
})();
