// Hookline dashboard: live refresh, "select all" and confirmations. Plain JavaScript, no build;
// every page works without it (forms post, links navigate), this only makes them nicer.
(() => {
  const body = document.body;
  const live = document.getElementById("live");
  const liveText = live?.querySelector(".live-text");
  const seconds = Number(body.dataset.refresh || "0");

  // -- confirmations: buttons with data-confirm ask first ---------------------------------------
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm") || "Are you sure?")) {
      event.preventDefault();
    }
  });

  // -- selection: "select all" and the "Retry selected" button ----------------------------------
  const selection = () => {
    const form = document.getElementById("bulk");
    if (!form) return;
    const boxes = [...form.querySelectorAll('input[type="checkbox"][name="id"]')];
    const checked = boxes.filter((b) => b.checked).length;
    const all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    const button = form.querySelector("[data-retry-selected]");
    if (button) {
      button.disabled = checked === 0;
      button.textContent = checked ? `Retry ${checked} selected` : "Retry selected";
    }
    const note = form.querySelector("[data-selected-count]");
    if (note) {
      note.textContent = checked
        ? `${checked} of ${boxes.length} on this page selected.`
        : "Select deliveries to retry them together.";
    }
  };
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.matches("[data-select-all]")) {
      for (const box of document.querySelectorAll('#bulk input[type="checkbox"][name="id"]')) {
        box.checked = target.checked;
      }
    }
    selection();
  });
  selection();

  // -- live refresh: re-fetch this page and swap the parts marked data-live ---------------------
  if (!live || !seconds) return;
  let paused = false;
  let busy = false;

  const show = (state, text) => {
    live.classList.remove("on", "paused", "off");
    live.classList.add(state);
    if (liveText) liveText.textContent = text;
  };

  const clock = () =>
    new Date().toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    });

  const swap = (doc) => {
    for (const current of document.querySelectorAll("[data-live][id]")) {
      const fresh = doc.getElementById(current.id);
      if (!fresh) continue;
      // Keep what the person did: ticked boxes and opened details survive the refresh.
      const ticked = new Set(
        [...current.querySelectorAll('input[type="checkbox"][name="id"]:checked')].map((b) => b.value),
      );
      const opened = new Set([...current.querySelectorAll("details[open][id]")].map((d) => d.id));
      const node = document.importNode(fresh, true);
      for (const box of node.querySelectorAll('input[type="checkbox"][name="id"]')) {
        box.checked = ticked.has(box.value);
      }
      for (const details of node.querySelectorAll("details[id]")) {
        if (opened.has(details.id)) details.open = true;
      }
      current.replaceWith(node);
    }
    selection();
  };

  const tick = async () => {
    if (paused || busy || document.visibilityState !== "visible") return;
    busy = true;
    try {
      const response = await fetch(window.location.href, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "x-hookline-live": "1" },
      });
      if (response.status === 401) {
        show("off", "Signed out");
        paused = true;
        return;
      }
      if (!response.ok) {
        show("off", `Error ${response.status}`);
        return;
      }
      swap(new DOMParser().parseFromString(await response.text(), "text/html"));
      show("on", `Live · ${clock()}`);
    } catch {
      show("off", "Offline");
    } finally {
      busy = false;
    }
  };

  live.addEventListener("click", () => {
    paused = !paused;
    if (paused) show("paused", "Paused");
    else {
      show("on", "Live");
      void tick();
    }
  });
  show("on", "Live");
  window.setInterval(tick, seconds * 1000);
  document.addEventListener("visibilitychange", () => void tick());
})();
