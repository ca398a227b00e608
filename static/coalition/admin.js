// What Django's admin widgets leave unnamed for a screen reader, named, on every admin page (axe-core, WCAG 2.1
// AA: tests/browser/test_admin_accessibility.py walks them all):
// - an autocomplete box (select2) names its text box by nothing until a value is chosen: tied to its field's label;
// - the split date and time inputs stand beside the plain words "Date:" and "Time:": those become their labels,
//   read with the field's own label ("Starts at: Date:");
// - the filter boxes of a two-list chooser (chairs, permissions) carry their help on an icon as an aria-label, not
//   allowed on a plain span: the icon becomes an image of that name;
// - an inline table that scrolls sideways on a narrow screen takes the keyboard's focus, so it can be scrolled.
// The widgets are built by Django's scripts at different moments (when the document is ready, when it has loaded,
// when a row is added), so each change of the page is looked at as it happens.
"use strict";

const named = (element, id) => {
  element.id = element.id || id;
  return element.id;
};

const nameAutocompleteBoxes = () => {
  document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
    const label = document.querySelector(`label[for="${select.id}"]`);
    const shown = document.getElementById(`select2-${select.id}-container`);
    if (!label || !shown || shown.hasAttribute("aria-labelledby")) {
      return;
    }
    const labelId = named(label, `${select.id}-label`);
    shown.setAttribute("aria-labelledby", labelId);
    const box = shown.closest(".select2-selection");
    if (box) {
      box.setAttribute("aria-labelledby", `${labelId} ${shown.id}`);
    }
  });
};

const labelDateAndTime = () => {
  document.querySelectorAll("p.datetime").forEach((line) => {
    const row = line.closest(".form-row");
    const fieldLabel = row && row.querySelector("label:not([for])");
    line.querySelectorAll("input").forEach((input) => {
      if (input.hasAttribute("aria-labelledby")) {
        return;
      }
      let words = input.previousSibling;
      while (words && words.nodeType === Node.TEXT_NODE && !words.textContent.trim()) {
        words = words.previousSibling;
      }
      if (!words || words.nodeType !== Node.TEXT_NODE) {
        return;
      }
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent = words.textContent.trim();
      words.replaceWith(label, document.createTextNode(" "));
      const ids = [named(label, `${input.id}-label`)];  // id_starts_at_0-label
      if (fieldLabel) {
        ids.unshift(named(fieldLabel, `${input.id.replace(/_\d+$/, "")}-label`));  // id_starts_at-label
      }
      input.setAttribute("aria-labelledby", ids.join(" "));
    });
  });
};

const nameFilterIcons = () => {
  document.querySelectorAll(".selector-filter .help-tooltip[aria-label]:not([role])").forEach((icon) => {
    icon.setAttribute("role", "img");
  });
};

const focusScrollingInlines = () => {
  document.querySelectorAll(".inline-group").forEach((group) => {
    if (group.scrollWidth > group.clientWidth) {
      group.tabIndex = 0;
      group.setAttribute("role", "region");
      const heading = group.querySelector("h2");
      if (heading) {
        group.setAttribute("aria-labelledby", named(heading, `${group.id}-heading`));
      }
    } else if (group.getAttribute("role") === "region") {
      group.removeAttribute("tabindex");
      group.removeAttribute("role");
      group.removeAttribute("aria-labelledby");
    }
  });
};

const nameEverything = () => {
  nameAutocompleteBoxes();
  labelDateAndTime();
  nameFilterIcons();
  focusScrollingInlines();
};

nameEverything();
new MutationObserver(nameEverything).observe(document.body, { childList: true, subtree: true });
window.addEventListener("load", nameEverything);
window.addEventListener("resize", focusScrollingInlines);
