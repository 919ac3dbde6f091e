// The review queue: refresh the table when the server says the queue changed (websocket), or every
// 30 s when the websocket is not available.
(function () {
  const queue = document.getElementById("queue");
  const status = document.getElementById("live-status");
  if (!queue) return;
  let timer = null;

  async function refresh() {
    const response = await fetch(queue.dataset.fragmentUrl, {credentials: "same-origin"});
    if (response.ok) queue.innerHTML = await response.text();
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
    socket.onmessage = () => refresh();
    socket.onclose = () => { status.dataset.live = ""; poll(); setTimeout(connect, 5000); };
  }

  connect();
})();
