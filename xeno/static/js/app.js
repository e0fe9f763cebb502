// Behaviour every page has (CSP allows only same-origin scripts, no inline code). The shared
// helpers the page scripts import live in lib.js.

// <select data-autosubmit> submits its form as soon as it changes.
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => {
    if (select.form) select.form.submit();
  });
});
