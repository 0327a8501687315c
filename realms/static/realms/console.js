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
