// Console behaviour, self-contained (no CDN, works with no network).

// Copy buttons: <button data-copy-target="id"> copies the text of the element with that id.
function copyWithSelection(text) {
  // Fallback for browsers or contexts without the asynchronous clipboard API (or where it is refused).
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
  document.body.removeChild(area);
  return copied;
}

document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const target = document.getElementById(button.dataset.copyTarget);
  if (!target) return;
  const text = target.textContent.trim();
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const show = function (message) {
    button.textContent = message;
    button.setAttribute("aria-live", "polite");
    setTimeout(function () { button.textContent = label; }, 1500);
  };
  const fallback = function () {
    if (copyWithSelection(text)) { show("Copied"); return; }
    // Last resort: select the text so that Ctrl+C / Cmd+C copies it.
    const range = document.createRange();
    range.selectNodeContents(target);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    show("Press Ctrl+C");
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { show("Copied"); }, fallback);
  } else {
    fallback();
  }
});

// Filter bars: choosing a value in a <select> applies the filters at once.
document.addEventListener("change", function (event) {
  const select = event.target.closest("form.filters select");
  if (select && select.form) select.form.requestSubmit();
});

// Long URLs wrap at their slashes on narrow screens: a <wbr> after each "/" (it adds no character, so copying
// and the page's text are unchanged).
document.querySelectorAll("[data-wrap=url]").forEach(function (element) {
  if (element.children.length) return;
  const parts = element.textContent.split("/");
  element.textContent = "";
  parts.forEach(function (part, index) {
    if (index) {
      element.append("/");
      element.append(document.createElement("wbr"));
    }
    element.append(part);
  });
});

// Lists on a phone: each row of a table.list becomes a card, each cell labelled with its column's heading (the
// labels come from the header row, so templates stay plain tables). Tables that keep their columns (wider content)
// scroll inside their box, with a visible hint while there is more to the right.
document.querySelectorAll("table.list").forEach(function (table) {
  const head = table.rows.length ? table.rows[0] : null;
  if (!head || !head.querySelector("th") || head.querySelector("td")) return;
  const labels = Array.from(head.cells).map(function (cell) { return cell.textContent.trim(); });
  head.classList.add("list-head");
  Array.from(table.rows).slice(1).forEach(function (row) {
    Array.from(row.cells).forEach(function (cell, index) {
      if (labels[index] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", labels[index]);
    });
  });
  table.classList.add("cards");
});

function markScrollableBoxes() {
  document.querySelectorAll(".table-wrap").forEach(function (box) {
    const more = box.scrollWidth - box.clientWidth - box.scrollLeft > 2;
    box.classList.toggle("has-more", more);
    let hint = box.previousElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) {
      if (box.scrollWidth <= box.clientWidth + 2) return;
      hint = document.createElement("div");
      hint.className = "scroll-hint";
      hint.textContent = "Scroll sideways for more columns ›";
      box.parentNode.insertBefore(hint, box);
    }
    hint.hidden = box.scrollWidth <= box.clientWidth + 2;
  });
}
document.querySelectorAll(".table-wrap").forEach(function (box) {
  box.addEventListener("scroll", markScrollableBoxes, { passive: true });
});
window.addEventListener("resize", markScrollableBoxes);
markScrollableBoxes();
