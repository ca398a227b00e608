// The admin's autocomplete boxes (select2) name their text box by nothing until a value is chosen, so a screen
// reader hears an unnamed box: tie each box to its field's label. Runs after Django's autocomplete.js has built
// the boxes (it does so when the document is ready; "load" comes after).
"use strict";
window.addEventListener("load", () => {
  document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
    const label = document.querySelector(`label[for="${select.id}"]`);
    if (!label) {
      return;
    }
    label.id = label.id || `${select.id}-label`;
    const shown = document.getElementById(`select2-${select.id}-container`);
    if (shown) {
      shown.setAttribute("aria-labelledby", label.id);
    }
    const box = shown && shown.closest(".select2-selection");
    if (box) {
      box.setAttribute("aria-labelledby", `${label.id} ${shown.id}`);
    }
  });
});
