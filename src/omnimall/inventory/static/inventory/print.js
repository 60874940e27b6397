// The Print button of the packing slips and the pick list. It shows only when scripts
// run: without them it could do nothing (the browser's own Print still works).
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
